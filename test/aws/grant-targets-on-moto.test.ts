/**
 * The grant targets beyond identity policies, end to end through the converging core on moto: a
 * port type (defined here, as no production port type uses these targets yet) whose grant is an
 * identity statement, a bucket-policy statement and a Lake Formation permission. Activation puts
 * all three, a replay writes nothing, deactivation and deletion remove exactly what this tool
 * put, and the bucket owner's statements and other principals' permissions stay untouched.
 */
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
} from '@aws-sdk/client-s3';
import { AwsResourceTagReader } from '../../src/aws/resource-tags.js';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { createLakeFormationClient } from '../../src/aws/clients.js';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { AwsLakeFormationPermissions } from '../../src/aws/lake-formation.js';
import { AwsResourcePolicies } from '../../src/aws/resource-policies.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { PortFieldError, type PortType } from '../../src/output-ports/port-type.js';
import { PORT_TYPES } from '../../src/output-ports/registry.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { planJson } from '../../src/sync/plan-json.js';
import { reconcileAgreement, reconcileAll } from '../../src/sync/reconcile.js';
import { statementSid } from '../../src/targets/sid.js';
import { memoryLogger } from '../../src/util/log.js';
import { agreement, consumerProduct, dpsProduct, fastClient } from '../e2e/harness.js';
import { MOTO_ACCOUNT, REGION, motoIam, motoOptions, motoS3, unique } from './moto.js';

interface SharedTable {
  bucket: string;
  table: LakeFormationResource;
}

/** Read a table shared through its bucket policy and Lake Formation (a test-only port type). */
const sharedTable: PortType<SharedTable> = {
  type: 'test_shared_table',
  describe: 'Test only: a table shared through its bucket policy and Lake Formation.',
  technicalTypes: [],
  resourcesFrom(port) {
    const bucket = port.custom['test-bucket'];
    const table = port.custom['test-table'];
    if (!bucket || !table) throw new PortFieldError('custom.test-bucket', 'and custom.test-table are required');
    return { bucket, table: { kind: 'table', catalogId: MOTO_ACCOUNT, region: REGION, database: 'sales', table } };
  },
  grants({ bucket, table }, consumer) {
    const objects = `arn:aws:s3:::${bucket}/*`;
    return [
      {
        target: 'identity-policy',
        statements: [{ Effect: 'Allow', Action: ['s3:GetObject', 'lakeformation:GetDataAccess'], Resource: objects }],
      },
      {
        target: 'resource-policy',
        resource: { service: 's3', arn: `arn:aws:s3:::${bucket}`, bucket },
        statements: [
          { Effect: 'Allow', Principal: { AWS: consumer.roleArn }, Action: 's3:GetObject', Resource: objects },
        ],
      },
      { target: 'lake-formation', resource: table, permissions: ['SELECT', 'DESCRIBE'] },
    ];
  },
  summary: ({ bucket, table }) => `Read ${bucket} and ${table.kind === 'table' ? table.table : ''}.`,
  providerResources: ({ bucket }) => [{ arn: `arn:aws:s3:::${bucket}`, description: `S3 bucket ${bucket}` }],
};

const OWNER_STATEMENT = {
  Sid: 'OwnerKeepsAccess',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:root` },
  Action: 's3:*',
  Resource: 'arn:aws:s3:::placeholder',
};

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

describe('grant targets on moto, through the core', () => {
  it('puts and removes a bucket-policy statement and a Lake Formation permission with the identity grant', async () => {
    const role = unique('consumer');
    // moto is shared by parallel test files: the full reconcile below manages this path only.
    const path = `/${unique('grant-targets')}/`;
    const roleArn = `arn:aws:iam::${MOTO_ACCOUNT}:role${path}${role}`;
    const bucket = unique('shared');
    const table = unique('orders').replace(/-/g, '_');
    const s3 = motoS3();
    await motoIam().send(
      new CreateRoleCommand({
        RoleName: role,
        Path: path,
        AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    );
    for (const name of [bucket, `${bucket}-state`])
      await s3.send(
        new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
      );
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: 'orders' }] },
      }),
    );
    const owner = { ...OWNER_STATEMENT, Resource: `arn:aws:s3:::${bucket}` };
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [owner] }),
      }),
    );
    const lf = new AwsLakeFormationPermissions({ client: createLakeFormationClient(motoOptions()) });
    // Someone else's permission for the same role on another table: never ours to touch.
    const otherTable: LakeFormationResource = {
      kind: 'table',
      catalogId: MOTO_ACCOUNT,
      region: REGION,
      database: 'sales',
      table: `${table}_other`,
    };
    await lf.grant(roleArn, otherTable, ['SELECT']);

    const port = {
      id: 'shared',
      name: 'shared',
      type: 'test',
      custom: { 'output-port-type': 'test_shared_table', 'test-bucket': bucket, 'test-table': table },
    };
    const sim = await startSimulator({
      port: 0,
      mesh: {
        dataProducts: [
          dpsProduct('orders', { ports: [port] }),
          consumerProduct('consumer', { 'aws-role-arn': roleArn }),
        ],
        agreements: [agreement('agr-lf', 'orders', 'shared')],
      },
    });
    sims.push(sim);
    const iam = new AwsIamAccount({ client: motoIam(), accountId: MOTO_ACCOUNT, managedRolePath: path });
    const index = new S3AgreementIndex({ client: s3, bucket: `${bucket}-state` });
    const ctx: SyncContext = {
      dmm: fastClient(sim.url, sim.apiKey),
      iam,
      log: memoryLogger('debug'),
      guardrails: guardrailsFrom(MOTO_ACCOUNT, { managedRolePath: path }),
      resolve: {
        accountId: MOTO_ACCOUNT,
        partition: 'aws',
        defaultRegion: REGION,
        portTypes: [...PORT_TYPES, sharedTable],
      },
      resourcePolicies: new AwsResourcePolicies({ s3Client: s3 }),
      lakeFormation: lf,
      agreementIndex: index,
      resourceTags: new AwsResourceTagReader({ s3Client: s3 }),
    };
    const bucketPolicy = async () => {
      const { Policy } = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      return JSON.parse(Policy!) as { Statement: { Sid: string }[] };
    };
    const tablePermissions = () =>
      lf.listPermissions(roleArn, sharedTable.resourcesFrom(port as never, { accountId: MOTO_ACCOUNT }).table);
    const ours = {
      Sid: statementSid('agr-lf', 1),
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
    };

    sim.approve('agr-lf');
    const granted = await reconcileAgreement(ctx, 'agr-lf');
    expect([granted.decision, granted.effect]).toEqual(['grant', 'granted']);
    expect(granted.changes.map((c) => [c.target, c.action])).toEqual([
      ['identity-policy', 'put'],
      ['resource-policy', 'put'],
      ['lake-formation', 'grant'],
    ]);
    expect((await bucketPolicy()).Statement).toEqual([owner, ours]);
    expect(await tablePermissions()).toEqual(['DESCRIBE', 'SELECT']);
    expect((await iam.listInlinePolicies(role)).map((p) => p.name)).toEqual(['dmm-aws-pack-1']);
    const holdings = await index.holdingsOf('agr-lf');
    expect(holdings).toContain(roleArn);
    expect(holdings).toContain(`arn:aws:s3:::${bucket}`);
    expect(holdings?.some((h) => h.startsWith('lakeformation:') && h.includes(table) && h.includes('SELECT'))).toBe(
      true,
    );

    // Converged: a replay and a full plan change nothing on any target.
    expect((await reconcileAgreement(ctx, 'agr-lf')).changes).toEqual([]);
    const plan = await reconcileAll(ctx, { dryRun: true });
    expect(plan.changes).toEqual([]);
    expect(planJson(plan, false).agreements.find((a) => a.agreementId === 'agr-lf')?.heldOnResources).toEqual(
      holdings?.filter((h) => h !== roleArn),
    );

    sim.deactivate('agr-lf');
    const revoked = await reconcileAgreement(ctx, 'agr-lf');
    expect([revoked.decision, revoked.effect]).toEqual(['revoke', 'revoked']);
    expect((await bucketPolicy()).Statement).toEqual([owner]);
    expect(await tablePermissions()).toEqual([]);
    expect(await iam.listInlinePolicies(role)).toEqual([]);
    expect(await index.holdingsOf('agr-lf')).toEqual([]);
    expect(await lf.listPermissions(roleArn, otherTable)).toEqual(['SELECT']);

    // Granted again, then deleted without any event: the full reconcile's sweep finds it through the index.
    sim.activate('agr-lf');
    await reconcileAgreement(ctx, 'agr-lf');
    expect(await tablePermissions()).toEqual(['DESCRIBE', 'SELECT']);
    sim.deleteAgreement('agr-lf');
    const swept = await reconcileAll(ctx);
    expect(swept.outcomes.find((o) => o.agreementId === 'agr-lf')).toMatchObject({
      decision: 'revoke',
      effect: 'revoked',
    });
    expect(swept.changes.map((c) => [c.target, c.action])).toEqual([
      ['identity-policy', 'delete'],
      ['resource-policy', 'put'],
      ['lake-formation', 'revoke'],
    ]);
    expect((await bucketPolicy()).Statement).toEqual([owner]);
    expect(await tablePermissions()).toEqual([]);
    expect(await index.holdingsOf('agr-lf')).toBeUndefined();
    expect(await lf.listPermissions(roleArn, otherTable)).toEqual(['SELECT']);
  });
});
