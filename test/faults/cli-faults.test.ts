/**
 * The real CLI in a child process (through tsx) under faults of its own surroundings, as issue 10
 * found them: local AWS state that cannot be read, the aws target without credentials, a
 * rejected API key, an unreadable agreement. Each must end with a clear reason and a non-zero
 * exit, write nothing about the agreements to Data Mesh Manager, and lose nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startSimulator, type MeshData, type RunningSimulator } from '../../src/simulator/server.js';

const exec = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;
const API_KEY = 'cli-faults-key-0123456789';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

/** A working folder and a simulator serving `mesh`; `cli` runs dmm-aws in that folder against it. */
async function world(mesh: MeshData) {
  const cwd = await mkdtemp(join(tmpdir(), 'dmm-aws-cli-faults-'));
  const sim: RunningSimulator = await startSimulator({ port: 0, mesh, apiKey: API_KEY });
  cleanup.push(
    () => sim.close(),
    () => rm(cwd, { recursive: true, force: true }),
  );
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await exec(
        process.execPath,
        ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args],
        {
          cwd,
          timeout: 60_000,
          env: {
            ...process.env,
            LOG_LEVEL: 'warn',
            NO_COLOR: '1',
            DMM_BASE_URL: sim.url,
            DMM_API_KEY: API_KEY,
            ...env,
          },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  return { cwd, sim, cli };
}

const mesh = (agreements: Record<string, unknown>[]): MeshData =>
  ({
    dataProducts: [
      {
        dataProductSpecification: '0.0.1',
        id: 'orders',
        info: { title: 'Orders', owner: 'team-a' },
        outputPorts: [
          {
            id: 'orders-s3',
            name: 'orders (S3)',
            custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
          },
        ],
      },
      {
        dataProductSpecification: '0.0.1',
        id: 'consumer',
        info: { title: 'Consumer', owner: 'team-b' },
        custom: { 'aws-role-name': 'fault-consumer' },
      },
    ],
    agreements,
  }) as MeshData;

const activeAgreement = (id: string) => ({
  id,
  info: { purpose: `cli faults ${id}`, status: 'approved', active: true, startDate: '2020-01-01' },
  provider: { teamId: 'team-a', dataProductId: 'orders', outputPortId: 'orders-s3' },
  consumer: { teamId: 'team-b', dataProductId: 'consumer' },
  tags: [],
  custom: {},
});

/** The consumer role, and the provider bucket's ownership tag (ownership proof is on by default). */
const seedFile = [
  'roles:',
  '  - name: fault-consumer',
  'resourceTags:',
  '  buckets:',
  '    acme-orders: { "dmm:data-product": orders }',
  '',
].join('\n');

/** Failures the simulator has recorded for `id`: failure tags, or a failed provisioning status. */
function failureOf(sim: RunningSimulator, id: string): unknown[] {
  const view = sim.state.agreementView(id)!;
  const status = (view.provisioning as { status?: string } | undefined)?.status ?? '';
  return [
    ...((view.tags as string[]).includes('aws-integration-failed') ? ['aws-integration-failed'] : []),
    ...(status.endsWith('-failed') ? [status] : []),
    ...sim.state.events.filter((e) => /rovisioningFailedEvent$/.test(e.type)).map((e) => e.type),
  ];
}

describe('dmm-aws run under faults of its surroundings', () => {
  it('a corrupt local AWS state file: run --once exits non-zero naming the file, reports nothing, loses no event', async () => {
    const w = await world(mesh([activeAgreement('agr-1')]));
    await writeFile(join(w.cwd, 'seed.yaml'), seedFile);
    expect((await w.cli(['local-aws', 'seed', 'seed.yaml'])).code).toBe(0);
    expect((await w.cli(['run', '--once'])).code).toBe(0);
    expect((await w.cli(['local-aws', 'show', 'fault-consumer'])).stdout).toContain('acme-orders');

    const stateFile = join(w.cwd, '.dmm-aws', 'aws-account.json');
    const good = await readFile(stateFile, 'utf8');
    await writeFile(stateFile, good.slice(0, good.length / 2));
    w.sim.deactivate('agr-1');
    const failed = await w.cli(['run', '--once']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('aws-account.json');
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(failureOf(w.sim, 'agr-1')).toEqual([]);

    // Repaired: the deactivation was kept and is converged now.
    await writeFile(stateFile, good);
    expect((await w.cli(['run', '--once'])).code).toBe(0);
    expect((await w.cli(['local-aws', 'show', 'fault-consumer'])).stdout).not.toContain('acme-orders');
    expect(failureOf(w.sim, 'agr-1')).toEqual([]);
  }, 90_000);

  it('the aws target without credentials: run --once exits non-zero saying so, and reports nothing', async () => {
    const w = await world(mesh([activeAgreement('agr-1')]));
    const noCredentials = {
      DMM_AWS_TARGET: 'aws',
      DMM_AWS_ACCOUNT_ID: '123456789012',
      DMM_MANAGED_ROLE_PATH: '/cli-faults-no-credentials/',
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL: inject('motoEndpoint'),
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: join(w.cwd, 'no-credentials'),
      AWS_CONFIG_FILE: join(w.cwd, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const failed = await w.cli(['run', '--once'], noCredentials);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/credentials/i);
    expect(failureOf(w.sim, 'agr-1')).toEqual([]);
    expect(w.sim.state.agreementView('agr-1')!.tags).toEqual([]);
  }, 90_000);

  it('a rejected API key: run stops at once with the reason instead of retrying forever', async () => {
    const w = await world(mesh([activeAgreement('agr-1')]));
    const failed = await w.cli(['run'], { DMM_API_KEY: 'wrong-key-abcdefghijkl' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/rejects the API key .*retrying will not help/);
    expect(failed.stderr).not.toContain('wrong-key-abcdefghijkl');
  }, 90_000);

  it('an unreadable agreement: plan and apply finish the others and exit non-zero naming it', async () => {
    const w = await world(mesh([activeAgreement('agr-ok'), activeAgreement('agr-bad')]));
    await writeFile(join(w.cwd, 'seed.yaml'), seedFile);
    expect((await w.cli(['local-aws', 'seed', 'seed.yaml'])).code).toBe(0);
    w.sim.state.agreements.get('agr-bad')!.doc.tags = 'not-a-list';

    const plan = await w.cli(['plan', '--json']);
    expect(plan.code).not.toBe(0);
    const planned = JSON.parse(plan.stdout) as { changes: { agreementIds: string[] }[] };
    expect(planned.changes.flatMap((c) => c.agreementIds)).toEqual(['agr-ok']);
    expect(plan.stdout).toContain('agr-bad');

    const apply = await w.cli(['apply', '--no-progress']);
    expect(apply.code).not.toBe(0);
    expect(`${apply.stdout}${apply.stderr}`).toContain('agr-bad');
    const shown = (await w.cli(['local-aws', 'show', 'fault-consumer'])).stdout;
    expect(shown).toContain('acme-orders');
  }, 90_000);
});
