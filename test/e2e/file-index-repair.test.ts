/**
 * The CLI's agreement index file, damaged (a disk full, a hand edit): reading it fails, so the sync
 * finds roles without it, and the next full reconcile sets the damaged file aside and writes the
 * index again, after which deletions need no role scan again.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { memoryLogger } from '../../src/util/log.js';
import {
  ACCOUNT,
  ROLE,
  ROLE_ARN,
  agreement,
  consumerProduct,
  dpsProduct,
  grantsOn,
  ordersProduct,
  s3BucketPort,
  startWorld,
} from './harness.js';

const REPORTING = 'reporting-consumer';
const REPORTING_ARN = `arn:aws:iam::${ACCOUNT}:role/${REPORTING}`;
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('a garbled agreement index file', () => {
  it('is set aside and rebuilt by the next full reconcile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dmm-aws-index-'));
    dirs.push(dir);
    const file = join(dir, 'agreement-index.json');
    const indexLog = memoryLogger();
    const world = await startWorld({
      roles: [ROLE, REPORTING, 'bystander'],
      mesh: {
        dataProducts: [
          ordersProduct(),
          dpsProduct('billing', { ports: [s3BucketPort('billing-s3', 'acme-billing')] }),
          consumerProduct(),
          consumerProduct('reporting', { 'aws-role-name': REPORTING }),
        ],
        agreements: [
          agreement('agr-del', 'orders', 'orders-s3', { active: true }),
          agreement('agr-keep', 'billing', 'billing-s3', { active: true }),
          agreement('agr-report', 'orders', 'orders-s3', { active: true, consumer: 'reporting' }),
        ],
      },
    });
    world.ctx.agreementIndex = new FileAgreementIndex(file, { log: indexLog });
    await world.settle();
    const good = await readFile(file, 'utf8');

    // Cut off mid-write by something that is not us.
    const garbled = good.slice(0, good.length / 2);
    await writeFile(file, garbled);
    const index = new FileAgreementIndex(file, { log: indexLog });
    world.ctx.agreementIndex = index;
    await expect(index.list()).rejects.toThrow(`${file} is not valid JSON`);

    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.effect])).toEqual([
      ['agr-del', 'unchanged'],
      ['agr-keep', 'unchanged'],
      ['agr-report', 'unchanged'],
    ]);
    expect(await index.list()).toEqual(
      new Map([
        ['agr-del', [ROLE_ARN]],
        ['agr-keep', [ROLE_ARN]],
        ['agr-report', [REPORTING_ARN]],
      ]),
    );
    expect(await readFile(file, 'utf8')).toBe(good);
    const aside = (await readdir(dir)).filter((name) => name !== 'agreement-index.json');
    expect(aside).toEqual([expect.stringMatching(/^agreement-index\.json\.corrupt-/)]);
    expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe(garbled);
    expect(indexLog.entries.map((e) => [e.level, e.message])).toEqual([
      ['warn', 'agreement index: unreadable state file set aside; starting it afresh'],
    ]);

    // Repaired: a deletion is revoked through the index again, without listing roles.
    let listed = 0;
    const listRoles = world.iam.listRoles.bind(world.iam);
    world.iam.listRoles = () => {
      listed++;
      return listRoles();
    };
    world.sim.deleteAgreement('agr-report');
    await world.sync();
    expect(listed).toBe(0);
    expect(await grantsOn(world.iam, REPORTING)).toEqual(new Map());
    expect(await index.holdingsOf('agr-report')).toBeUndefined();
  });
});
