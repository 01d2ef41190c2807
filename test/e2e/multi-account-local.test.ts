/**
 * A hub over member accounts on the local stand-in: the real HTTP client against the simulator
 * over loopback, and each member's state in its own files (src/local/local-accounts.ts), routed by
 * the AWS hub's own routing. A consumer role in C gets a bucket and a Glue table in P: the identity
 * policy in C, and statements naming the role in P's bucket and Glue catalog policies; a replay
 * changes nothing, revocation leaves nothing of ours on either side, and a pair of accounts the hub
 * does not allow is refused with nothing written anywhere.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAwsAccountFixture } from '../../src/local/aws-account-fixture.js';
import { localHub, openLocalAccount, seedLocalStandIn, type LocalStandIn } from '../../src/local/local-accounts.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import type { SyncContext } from '../../src/sync/context.js';
import { explainAgreement, explainRole } from '../../src/sync/explain.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { planJson } from '../../src/sync/plan-json.js';
import { reconcileAgreement, reconcileAll } from '../../src/sync/reconcile.js';
import { statementSid } from '../../src/targets/sid.js';
import { memoryLogger } from '../../src/util/log.js';
import { useTempDir } from '../local/helpers.js';
import { afterEach } from 'vitest';
import { agreement, consumerProduct, dpsProduct, fastClient, glueTablePort, REGION, s3BucketPort } from './harness.js';

const HUB = '111111111111';
const C = '222222222222';
const P = '333333333333';
const D = '444444444444';
const ROLE_ARN = `arn:aws:iam::${C}:role/analytics-reader`;
const OTHER_ROLE_ARN = `arn:aws:iam::${D}:role/finance-reader`;
const CATALOG = `arn:aws:glue:${REGION}:${P}:catalog`;
const OWNER = {
  Sid: 'OwnerKeepsAccess',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${P}:root` },
  Action: 's3:*',
  Resource: 'arn:aws:s3:::sales-orders',
};

const FIXTURE = `
accounts:
  "${C}": { roles: [{ name: analytics-reader }] }
  "${D}": { roles: [{ name: finance-reader }] }
  "${P}":
    buckets:
      sales-orders: { policy: ${JSON.stringify({ Version: '2012-10-17', Statement: [OWNER] })} }
      sales-lake: {}
    glueCatalogs: [${REGION}]
    resourceTags:
      buckets:
        sales-orders: { "dmm:data-product": orders }
        sales-lake: { "dmm:data-product": orders }
      glueTables:
        ${P}/${REGION}/sales/orders: { "dmm:data-product": orders }
`;

const newTempDir = useTempDir();
const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

async function world(options: { governedBy?: 'lake-formation' } = {}) {
  const dir = await newTempDir();
  const standIn: LocalStandIn = { stateFile: join(dir, 'aws-account.json'), hubAccountId: HUB };
  const settings = {
    members: [C, P, D],
    roleName: 'dmm-aws-member',
    rolePath: '/',
    allowedAccountPairs: [{ consumer: C, provider: P }],
  };
  await seedLocalStandIn(standIn, parseAwsAccountFixture(FIXTURE, 'fixture'), 'fixture', settings.members);
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        dpsProduct('orders', {
          ports: [
            s3BucketPort('orders-s3', 'sales-orders'),
            glueTablePort('orders-glue', 'sales', 'orders', 'sales-lake', P),
          ],
        }),
        consumerProduct('analytics', { 'aws-role-arn': ROLE_ARN }),
        consumerProduct('finance', { 'aws-role-arn': OTHER_ROLE_ARN }),
      ],
      agreements: [
        agreement('agr-s3', 'orders', 'orders-s3', { consumer: 'analytics' }),
        agreement('agr-glue', 'orders', 'orders-glue', { consumer: 'analytics' }),
        agreement('agr-finance', 'orders', 'orders-s3', { consumer: 'finance' }),
      ],
    },
  });
  sims.push(sim);
  // Ownership proof on (the default): P's tags are read from P's own tags file.
  const hub = await localHub({ ...standIn, settings, guardrails: {}, readTags: true });
  const ctx: SyncContext = {
    dmm: fastClient(sim.url, sim.apiKey),
    iam: openLocalAccount(standIn, HUB).iam,
    log: memoryLogger('debug'),
    guardrails: guardrailsFrom(HUB, { allowedResourceAccounts: settings.members }),
    resolve: {
      accountId: HUB,
      memberAccounts: settings.members,
      partition: 'aws',
      defaultRegion: REGION,
      defaultAthenaWorkgroup: 'primary',
      ...(options.governedBy ? { glueTablesGovernedBy: options.governedBy } : {}),
    },
    agreementIndex: new FileAgreementIndex(join(dir, 'agreement-index.json')),
    accounts: { directory: hub.directory, owners: hub.owners },
    resourcePolicies: hub.resourcePolicies,
    lakeFormation: hub.lakeFormation,
    ...(hub.resourceTags ? { resourceTags: hub.resourceTags } : {}),
  };
  const consumer = openLocalAccount(standIn, C);
  const provider = openLocalAccount(standIn, P);
  const statementsOf = async (arn: string) => {
    const entry = (await provider.resourcePolicies.snapshot()).find((r) => r.resource.arn === arn);
    return entry?.policy === undefined
      ? undefined
      : (JSON.parse(entry.policy) as { Statement: { Sid?: string; Principal?: unknown; Action?: unknown }[] })
          .Statement;
  };
  /** Every state file of the stand-in with its content, to show that nothing was written. */
  const files = async () =>
    Object.fromEntries(
      await Promise.all(
        (await readdir(dir))
          .filter((f) => f.startsWith('aws-account'))
          .map(async (f) => [f, await readFile(join(dir, f), 'utf8')]),
      ),
    );
  return { ctx, sim, consumer, provider, statementsOf, files, standIn };
}

describe('a local hub over member accounts', () => {
  it('grants a consumer role in C a bucket and a Glue table in P on both sides, converges, and revokes both', async () => {
    const w = await world();
    w.sim.approve('agr-s3');
    w.sim.approve('agr-glue');

    // The plan names each change's side and account.
    const planned = planJson(await reconcileAll(w.ctx, { dryRun: true }), false).changes;
    expect(
      planned.map((c) => `${c.action} ${'role' in c ? `role ${c.role}` : c.resource} in ${c.account}`).sort(),
    ).toEqual([
      `put ${CATALOG} in ${P}`,
      `put arn:aws:s3:::sales-lake in ${P}`,
      `put arn:aws:s3:::sales-orders in ${P}`,
      `put role analytics-reader in ${C}`,
    ]);

    for (const id of ['agr-s3', 'agr-glue']) {
      const granted = await reconcileAgreement(w.ctx, id);
      expect([granted.decision, granted.effect], granted.diagnostic).toEqual(['grant', 'granted']);
    }
    // Identity side: the role in C holds both agreements' statements.
    const identity = (await w.consumer.iam.listInlinePolicies('analytics-reader')).map((p) => p.document).join();
    expect(identity).toContain(statementSid('agr-s3', 1));
    expect(identity).toContain(statementSid('agr-glue', 1));
    // Resource side: P's bucket policy keeps the owner's statement and names the role in C.
    expect(await w.statementsOf('arn:aws:s3:::sales-orders')).toEqual([
      OWNER,
      {
        Sid: statementSid('agr-s3', 1),
        Effect: 'Allow',
        Principal: { AWS: ROLE_ARN },
        Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
        Resource: ['arn:aws:s3:::sales-orders', 'arn:aws:s3:::sales-orders/*'],
      },
    ]);
    const catalog = await w.statementsOf(CATALOG);
    expect(catalog).toHaveLength(1);
    expect(catalog?.[0]).toMatchObject({ Sid: statementSid('agr-glue', 1), Principal: { AWS: ROLE_ARN } });
    expect(catalog?.[0]?.Action).toContain('glue:GetTable');
    expect(JSON.stringify(await w.statementsOf('arn:aws:s3:::sales-lake'))).toContain(ROLE_ARN);

    // explain shows both sides with their accounts.
    const explained = await explainAgreement(w.ctx, 'agr-glue');
    expect(explained.inSync).toBe(true);
    expect(explained.holdings.map((h) => [h.role, h.account])).toEqual([[ROLE_ARN, C]]);
    expect(explained.resourceHoldings.map((r) => [r.resource, r.account]).sort()).toEqual([
      [CATALOG, P],
      ['arn:aws:s3:::sales-lake', P],
    ]);

    // A member's role is explained by its ARN.
    const role = await explainRole(w.ctx, ROLE_ARN);
    expect(role.exists).toBe(true);
    expect(role.agreements.map((a) => [a.agreementId, a.effect])).toEqual([
      ['agr-glue', 'unchanged'],
      ['agr-s3', 'unchanged'],
    ]);

    // A replay and a full plan change nothing on either side.
    const before = await w.files();
    for (const id of ['agr-s3', 'agr-glue']) expect((await reconcileAgreement(w.ctx, id)).changes).toEqual([]);
    expect((await reconcileAll(w.ctx, { dryRun: true })).changes).toEqual([]);
    expect(await w.files()).toEqual(before);

    w.sim.deactivate('agr-s3');
    w.sim.deactivate('agr-glue');
    const revoked = await reconcileAll(w.ctx);
    expect(revoked.outcomes.filter((o) => o.effect === 'revoked').map((o) => o.agreementId)).toEqual([
      'agr-glue',
      'agr-s3',
    ]);
    expect(revoked.changes.map((c) => `${c.action} in ${c.account}`).sort()).toEqual([
      `delete in ${C}`,
      `delete in ${P}`,
      `delete in ${P}`,
      `put in ${P}`,
    ]);
    // Nothing of ours on either side: the role has no policy, P has only the owner's statement.
    expect(await w.consumer.iam.listInlinePolicies('analytics-reader')).toEqual([]);
    expect(await w.consumer.iam.listAttachedPolicies('analytics-reader')).toEqual([]);
    expect(await w.statementsOf('arn:aws:s3:::sales-orders')).toEqual([OWNER]);
    expect(await w.statementsOf(CATALOG)).toBeUndefined();
    expect(await w.statementsOf('arn:aws:s3:::sales-lake')).toBeUndefined();
    expect((await reconcileAll(w.ctx, { dryRun: true })).changes).toEqual([]);
  });

  it('refuses a pair of accounts the hub does not allow, and writes nothing on either side', async () => {
    const w = await world();
    const before = await w.files();
    w.sim.approve('agr-finance');
    const refused = await reconcileAgreement(w.ctx, 'agr-finance');
    expect(refused.decision).toBe('failed');
    expect(refused.refusedBy).toBe('multiAccount');
    expect(refused.diagnostic).toContain(`consumer account ${D} may not receive data from account ${P}`);
    expect(refused.changes).toEqual([]);
    expect(await w.files()).toEqual(before);
    expect(await w.statementsOf('arn:aws:s3:::sales-orders')).toEqual([OWNER]);
  });

  it("grants a Lake Formation-governed table in P's Lake Formation, to the role in C, and revokes it", async () => {
    const w = await world({ governedBy: 'lake-formation' });
    await w.provider.lakeFormation.addDatabase(P, REGION, 'sales');
    await w.provider.lakeFormation.addTable(P, REGION, 'sales', 'orders');
    w.sim.approve('agr-glue');
    const granted = await reconcileAgreement(w.ctx, 'agr-glue');
    expect([granted.decision, granted.effect], granted.diagnostic).toEqual(['grant', 'granted']);
    const lakeFormation = granted.changes.filter((c) => c.target === 'lake-formation');
    expect(lakeFormation.length).toBeGreaterThan(0);
    expect(new Set(lakeFormation.map((c) => c.account))).toEqual(new Set([P]));
    const table = { kind: 'table', catalogId: P, region: REGION, database: 'sales', table: 'orders' } as const;
    expect(await w.provider.lakeFormation.listPermissions(ROLE_ARN, table)).toEqual(['DESCRIBE', 'SELECT']);
    // Nothing in C's own Lake Formation: the grant is the catalog owner's.
    expect((await w.consumer.lakeFormation.snapshot()).grants).toEqual([]);
    expect((await explainAgreement(w.ctx, 'agr-glue')).lakeFormationHoldings.map((l) => l.account)).toContain(P);

    w.sim.deactivate('agr-glue');
    const revoked = await reconcileAgreement(w.ctx, 'agr-glue');
    expect([revoked.decision, revoked.effect]).toEqual(['revoke', 'revoked']);
    expect((await w.provider.lakeFormation.snapshot()).grants).toEqual([]);
    expect(await w.consumer.iam.listInlinePolicies('analytics-reader')).toEqual([]);
  });
});
