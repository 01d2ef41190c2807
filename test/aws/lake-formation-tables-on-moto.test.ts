/**
 * Lake Formation-governed Glue tables (glue_table with glue.tablesGovernedBy: lake-formation),
 * through the converging core on moto's IAM, S3 (agreement index) and Lake Formation: each
 * agreement gets SELECT and DESCRIBE on its table and DESCRIBE on the database; the identity
 * statements Athena with Lake Formation needs are stored once on the role, and both go with the
 * last agreement that needs them. The access matrix evaluates the policies the sync wrote.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { createLakeFormationClient } from '../../src/aws/clients.js';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { AwsLakeFormationPermissions } from '../../src/aws/lake-formation.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';
import { memoryLogger } from '../../src/util/log.js';
import { agreement, consumerProduct, dpsProduct, fastClient } from '../e2e/harness.js';
import { evaluatePolicies } from '../security/helpers.js';
import { MOTO_ACCOUNT, REGION, motoIam, motoOptions, motoS3, unique } from './moto.js';

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

const governedPort = (id: string, database: string, table: string) => ({
  id,
  name: id,
  type: 'glue',
  // No data location: Lake Formation reads the data, the consumer never does.
  server: { type: 'glue', account: MOTO_ACCOUNT, region: REGION, database, table, workgroup: 'analysts' },
});

describe('Lake Formation-governed Glue tables on moto, through the core', () => {
  it('grants SELECT/DESCRIBE per table, the generic identity statements once per role, and revokes exactly', async () => {
    const role = unique('lf-consumer');
    const path = `/${unique('lf-tables')}/`;
    const roleArn = `arn:aws:iam::${MOTO_ACCOUNT}:role${path}${role}`;
    const database = unique('sales').replace(/-/g, '_');
    const state = unique('lf-state');
    const s3 = motoS3();
    await motoIam().send(
      new CreateRoleCommand({
        RoleName: role,
        Path: path,
        AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    );
    await s3.send(
      new CreateBucketCommand({ Bucket: state, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    const lf = new AwsLakeFormationPermissions({ client: createLakeFormationClient(motoOptions()) });
    const sim = await startSimulator({
      port: 0,
      mesh: {
        dataProducts: [
          dpsProduct('sales', {
            ports: [governedPort('orders', database, 'orders'), governedPort('returns', database, 'returns')],
          }),
          consumerProduct('consumer', { 'aws-role-arn': roleArn }),
        ],
        agreements: [agreement('agr-orders', 'sales', 'orders'), agreement('agr-returns', 'sales', 'returns')],
      },
    });
    sims.push(sim);
    const iam = new AwsIamAccount({ client: motoIam(), accountId: MOTO_ACCOUNT, managedRolePath: path });
    const catalog = `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}`;
    const ctx: SyncContext = {
      dmm: fastClient(sim.url, sim.apiKey),
      iam,
      log: memoryLogger('debug'),
      // The provider team's tables are on the operator's allow-list (ownership proof stays on).
      guardrails: guardrailsFrom(MOTO_ACCOUNT, {
        managedRolePath: path,
        ownershipAllowList: [{ team: 'team-a', resources: [`${catalog}:table/${database}/*`] }],
      }),
      resolve: {
        accountId: MOTO_ACCOUNT,
        partition: 'aws',
        defaultRegion: REGION,
        athenaQueryResultsLocation: 's3://acme-athena-results/consumers/',
        glueTablesGovernedBy: 'lake-formation',
      },
      lakeFormation: lf,
      agreementIndex: new S3AgreementIndex({ client: s3, bucket: state }),
    };
    const on = (kind: 'table' | 'database', table?: string): LakeFormationResource =>
      kind === 'table'
        ? { kind, catalogId: MOTO_ACCOUNT, region: REGION, database, table: table! }
        : { kind, catalogId: MOTO_ACCOUNT, region: REGION, database };
    const policies = async () =>
      (await iam.listInlinePolicies(role)).map((p) => ({ name: p.name, policy: JSON.parse(p.document) as unknown }));
    const decide = async (action: string, resource: string, context: Record<string, string> = {}) =>
      evaluatePolicies(await policies(), { action, resource, context, resourceAccount: MOTO_ACCOUNT }, roleArn);

    sim.approve('agr-orders');
    sim.approve('agr-returns');
    for (const id of ['agr-orders', 'agr-returns'])
      expect(await reconcileAgreement(ctx, id)).toMatchObject({ decision: 'grant', effect: 'granted' });
    expect(await lf.listPermissions(roleArn, on('table', 'orders'))).toEqual(['DESCRIBE', 'SELECT']);
    expect(await lf.listPermissions(roleArn, on('table', 'returns'))).toEqual(['DESCRIBE', 'SELECT']);
    expect(await lf.listPermissions(roleArn, on('database'))).toEqual(['DESCRIBE']);
    // One pack, the generic statements once: a member record naming both agreements and the body.
    const [pack] = await iam.listInlinePolicies(role);
    const statements = (JSON.parse(pack!.document) as { Statement: { Sid: string; Action: unknown }[] }).Statement;
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('lakeformation:GetDataAccess'))).toHaveLength(1);
    expect(statements.map((s) => s.Sid.replace(/^DmmB[0-9a-f]{12}/, ''))).toEqual([
      'N1H6167722d6f7264657273H6167722d72657475726e73',
      'P2',
      'P3',
      'P4',
      'P5',
    ]);

    // The access matrix of the identity side: ask Lake Formation, read the catalog's metadata
    // (Lake Formation filters it), query in the named workgroup, use the role's result folder.
    const results = `arn:aws:s3:::acme-athena-results/consumers/${role}`;
    for (const [action, resource] of [
      ['lakeformation:GetDataAccess', '*'],
      ['glue:GetTable', `${catalog}:table/${database}/orders`],
      ['glue:GetDatabase', `${catalog}:database/${database}`],
      ['athena:StartQueryExecution', `arn:aws:athena:${REGION}:${MOTO_ACCOUNT}:workgroup/analysts`],
      ['s3:PutObject', `${results}/q1.csv`],
    ] as const)
      expect(await decide(action, resource), `${action} ${resource}`).toBe('Allowed');
    // No data, no writes to the catalog, no other workgroup, catalog or results folder.
    for (const [action, resource] of [
      ['s3:GetObject', 'arn:aws:s3:::acme-lake/sales/orders/part-0.parquet'],
      ['glue:UpdateTable', `${catalog}:table/${database}/orders`],
      ['glue:DeleteTable', `${catalog}:table/${database}/orders`],
      ['glue:GetTable', `arn:aws:glue:${REGION}:999999999999:table/${database}/orders`],
      ['glue:GetTable', `arn:aws:glue:us-east-1:${MOTO_ACCOUNT}:table/${database}/orders`],
      ['athena:StartQueryExecution', `arn:aws:athena:${REGION}:${MOTO_ACCOUNT}:workgroup/primary`],
      ['s3:GetObject', 'arn:aws:s3:::acme-athena-results/consumers/other-role/q1.csv'],
      ['lakeformation:GrantPermissions', '*'],
    ] as const)
      expect(await decide(action, resource), `${action} ${resource}`).toBe('ImplicitlyDenied');

    // A replay changes nothing anywhere.
    expect((await reconcileAgreement(ctx, 'agr-orders')).changes).toEqual([]);

    // Ending one agreement: its table permission goes; the database permission and the shared
    // statements stay for the other.
    sim.deactivate('agr-orders');
    const first = await reconcileAgreement(ctx, 'agr-orders');
    expect([first.decision, first.effect]).toEqual(['revoke', 'revoked']);
    expect(await lf.listPermissions(roleArn, on('table', 'orders'))).toEqual([]);
    expect(await lf.listPermissions(roleArn, on('table', 'returns'))).toEqual(['DESCRIBE', 'SELECT']);
    expect(await lf.listPermissions(roleArn, on('database'))).toEqual(['DESCRIBE']);
    expect(await decide('lakeformation:GetDataAccess', '*')).toBe('Allowed');

    // Ending the last: nothing of ours is left, on the role or in Lake Formation.
    sim.deactivate('agr-returns');
    await reconcileAgreement(ctx, 'agr-returns');
    expect(await lf.listPermissions(roleArn, on('table', 'returns'))).toEqual([]);
    expect(await lf.listPermissions(roleArn, on('database'))).toEqual([]);
    expect(await iam.listInlinePolicies(role)).toEqual([]);
  });
});
