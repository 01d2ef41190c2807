/**
 * The policies the sync really writes, evaluated by an IAM policy simulator
 * (@cloud-copilot/iam-simulate): ALLOWED exactly where the agreements say, DENIED everywhere
 * else. The documents are read back from the role after an end-to-end sync, so packing, Sids
 * and the guardrails' account condition are all part of what is evaluated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  REGION,
  ROLE,
  agreement,
  consumerProduct,
  dpsProduct,
  startWorld,
  type World,
} from '../e2e/harness.js';
import { OTHER_ACCOUNT, evaluatePolicies, type Decision, type Request } from './helpers.js';

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const GLUE = `arn:aws:glue:${REGION}:${ACCOUNT}`;
const WORKGROUP = `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/primary`;

const mesh = {
  dataProducts: [
    dpsProduct('orders', {
      ports: [
        {
          id: 'orders-s3',
          name: 'orders',
          custom: {
            'output-port-type': 's3_bucket',
            'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
            'aws-kms-key-arn': KEY,
          },
        },
      ],
    }),
    dpsProduct('clicks', {
      ports: [
        {
          id: 'clicks-s3',
          name: 'clicks',
          type: 's3',
          server: { type: 's3', location: 's3://acme-clickstream/curated/v1/' },
        },
      ],
    }),
    dpsProduct('sales', {
      ports: [
        {
          id: 'sales-glue',
          name: 'sales',
          type: 'glue',
          server: {
            type: 'glue',
            account: ACCOUNT,
            database: 'sales',
            table: 'orders',
            location: 's3://acme-lake/sales/orders/',
          },
        },
      ],
    }),
    consumerProduct(),
  ],
  agreements: [
    agreement('agr-bucket', 'orders', 'orders-s3', { active: true }),
    agreement('agr-prefix', 'clicks', 'clicks-s3', { active: true }),
    agreement('agr-glue', 'sales', 'sales-glue', { active: true }),
  ],
};

async function policiesOf(world: World): Promise<{ name: string; policy: unknown }[]> {
  const inline = (await world.iam.listInlinePolicies(ROLE)).map((p) => ({
    name: p.name,
    policy: JSON.parse(p.document) as unknown,
  }));
  const managed = await Promise.all(
    (await world.iam.listAttachedPolicies(ROLE)).map(async (p) => ({
      name: p.name,
      policy: JSON.parse(await world.iam.getManagedPolicyDocument(p.arn)) as unknown,
    })),
  );
  return [...inline, ...managed];
}

const s3 = (action: string, resource: string, extra: Partial<Request> = {}): Request => ({
  action,
  resource: `arn:aws:s3:::${resource}`,
  ...extra,
});
const list = (bucket: string, prefix: string | undefined, extra: Partial<Request> = {}): Request => ({
  action: 's3:ListBucket',
  resource: `arn:aws:s3:::${bucket}`,
  ...(prefix === undefined ? {} : { context: { 's3:prefix': prefix } }),
  ...extra,
});

const ALLOWED: Record<string, Request[]> = {
  s3_bucket: [
    list('acme-orders', ''),
    list('acme-orders', 'any/where/'),
    list('acme-orders', undefined),
    s3('s3:GetObject', 'acme-orders/2026/01/orders.parquet'),
    s3('s3:GetBucketLocation', 'acme-orders'),
    { action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
  ],
  s3_prefix: [
    list('acme-clickstream', 'curated/v1/'),
    list('acme-clickstream', 'curated/v1/2026/'),
    s3('s3:GetObject', 'acme-clickstream/curated/v1/2026/part-0.json'),
    s3('s3:GetBucketLocation', 'acme-clickstream'),
  ],
  glue_table: [
    ...[
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StopQueryExecution',
      'athena:GetWorkGroup',
    ].map((action) => ({ action, resource: WORKGROUP })),
    { action: 'glue:GetTable', resource: `${GLUE}:table/sales/orders` },
    { action: 'glue:GetTable', resource: `${GLUE}:database/sales` },
    { action: 'glue:GetTable', resource: `${GLUE}:catalog` },
    { action: 'glue:GetDatabase', resource: `${GLUE}:database/sales` },
    { action: 'glue:GetPartitions', resource: `${GLUE}:table/sales/orders` },
    { action: 'glue:BatchGetPartition', resource: `${GLUE}:table/sales/orders` },
    list('acme-lake', 'sales/orders/'),
    list('acme-lake', 'sales/orders/dt=2026-01-01/'),
    s3('s3:GetObject', 'acme-lake/sales/orders/dt=2026-01-01/part-0.parquet'),
    s3('s3:GetBucketLocation', 'acme-lake'),
    s3('s3:PutObject', 'acme-athena-results/consumers/analytics-consumer/q-1.csv'),
    s3('s3:GetObject', 'acme-athena-results/consumers/analytics-consumer/q-1.csv'),
    s3('s3:AbortMultipartUpload', 'acme-athena-results/consumers/analytics-consumer/q-1.csv'),
    list('acme-athena-results', 'consumers/analytics-consumer/'),
    s3('s3:GetBucketLocation', 'acme-athena-results'),
  ],
};

const DENIED: Request[] = [
  // Other buckets and other prefixes.
  s3('s3:GetObject', 'acme-secrets/passwords.txt'),
  list('acme-secrets', ''),
  list('acme-clickstream', ''),
  list('acme-clickstream', undefined),
  list('acme-clickstream', 'raw/'),
  list('acme-clickstream', 'curated/'),
  list('acme-clickstream', 'curated/v10/'),
  list('acme-clickstream', 'curated/v1'),
  s3('s3:GetObject', 'acme-clickstream/raw/events.json'),
  s3('s3:GetObject', 'acme-clickstream/curated/v10/events.json'),
  s3('s3:GetObject', 'acme-clickstream/curated/v1'),
  list('acme-lake', ''),
  list('acme-lake', 'sales/'),
  list('acme-lake', 'sales/customers/'),
  s3('s3:GetObject', 'acme-lake/sales/customers/part-0.parquet'),
  s3('s3:GetObject', 'acme-lake/hr/salaries.csv'),
  // The right bucket names, owned by someone else: the account condition refuses.
  s3('s3:GetObject', 'acme-orders/2026/01/orders.parquet', { resourceAccount: OTHER_ACCOUNT }),
  list('acme-orders', '', { resourceAccount: OTHER_ACCOUNT }),
  s3('s3:GetObject', 'acme-lake/sales/orders/part-0.parquet', { resourceAccount: OTHER_ACCOUNT }),
  // Writes and deletes on data.
  s3('s3:PutObject', 'acme-orders/evil.parquet'),
  s3('s3:DeleteObject', 'acme-orders/2026/01/orders.parquet'),
  s3('s3:PutObject', 'acme-clickstream/curated/v1/evil.json'),
  s3('s3:DeleteObject', 'acme-clickstream/curated/v1/2026/part-0.json'),
  s3('s3:PutObject', 'acme-lake/sales/orders/evil.parquet'),
  s3('s3:DeleteObject', 'acme-lake/sales/orders/part-0.parquet'),
  s3('s3:PutObjectAcl', 'acme-orders/2026/01/orders.parquet'),
  s3('s3:GetObjectAcl', 'acme-orders/2026/01/orders.parquet'),
  s3('s3:PutBucketPolicy', 'acme-orders'),
  s3('s3:DeleteBucket', 'acme-orders'),
  s3('s3:GetBucketPolicy', 'acme-orders'),
  s3('s3:PutBucketAcl', 'acme-lake'),
  // Query results: only under this role's folder of the configured prefix, and never deleted.
  s3('s3:GetObject', 'acme-athena-results/consumers/other-consumer/q-1.csv'),
  s3('s3:PutObject', 'acme-athena-results/consumers/q-1.csv'),
  list('acme-athena-results', 'consumers/'),
  s3('s3:PutObject', 'acme-athena-results/admins/q-1.csv'),
  s3('s3:GetObject', 'acme-athena-results/admins/q-1.csv'),
  s3('s3:DeleteObject', 'acme-athena-results/consumers/q-1.csv'),
  list('acme-athena-results', ''),
  list('acme-athena-results', 'admins/'),
  // Glue: another table in the same database, another database, any change.
  { action: 'glue:GetTable', resource: `${GLUE}:table/sales/customers` },
  { action: 'glue:GetTable', resource: `${GLUE}:table/hr/salaries` },
  { action: 'glue:GetDatabase', resource: `${GLUE}:database/hr` },
  { action: 'glue:GetTables', resource: `${GLUE}:database/sales` },
  { action: 'glue:DeleteTable', resource: `${GLUE}:table/sales/orders` },
  { action: 'glue:UpdateTable', resource: `${GLUE}:table/sales/orders` },
  { action: 'glue:CreateTable', resource: `${GLUE}:database/sales` },
  {
    action: 'glue:GetTable',
    resource: `arn:aws:glue:${REGION}:${OTHER_ACCOUNT}:table/sales/orders`,
    resourceAccount: OTHER_ACCOUNT,
  },
  { action: 'glue:GetTable', resource: `arn:aws:glue:us-east-1:${ACCOUNT}:table/sales/orders` },
  // Athena: another workgroup, workgroup administration.
  { action: 'athena:StartQueryExecution', resource: `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/admins` },
  { action: 'athena:GetQueryResults', resource: `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/admins` },
  { action: 'athena:UpdateWorkGroup', resource: WORKGROUP },
  { action: 'athena:DeleteWorkGroup', resource: WORKGROUP },
  // KMS: only through S3, only decrypt, only that key.
  { action: 'kms:Decrypt', resource: KEY },
  { action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
  {
    action: 'kms:Decrypt',
    resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab`,
    context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` },
  },
  { action: 'kms:Encrypt', resource: KEY, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
  { action: 'kms:CreateGrant', resource: KEY, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
  // Identity and everything else.
  { action: 'iam:PutRolePolicy', resource: `arn:aws:iam::${ACCOUNT}:role/${ROLE}` },
  { action: 'iam:AttachRolePolicy', resource: `arn:aws:iam::${ACCOUNT}:role/${ROLE}` },
  { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole` },
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/evil` },
  { action: 'sts:AssumeRole', resource: `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole` },
  {
    action: 'secretsmanager:GetSecretValue',
    resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:dmm-api-key-AbCdEf`,
  },
  { action: 'lakeformation:GetDataAccess', resource: '*' },
];

async function decide(world: World, requests: Request[]): Promise<Record<string, Decision>> {
  const policies = await policiesOf(world);
  const out: Record<string, Decision> = {};
  for (const r of requests) {
    const key = `${r.action} ${r.resource}${r.context ? ` ${JSON.stringify(r.context)}` : ''}${r.resourceAccount ? ` (owner ${r.resourceAccount})` : ''}`;
    out[key] = await evaluatePolicies(policies, r);
  }
  return out;
}

const all = (decisions: Record<string, Decision>, d: Decision) =>
  Object.fromEntries(Object.keys(decisions).map((k) => [k, d]));

describe('the written policies, evaluated', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ mesh, athenaQueryResultsLocation: 's3://acme-athena-results/consumers/' });
    await world.sync();
    // Sanity: all three agreements are on the role.
    expect((await policiesOf(world)).length).toBeGreaterThan(0);
  });

  for (const [type, requests] of Object.entries(ALLOWED)) {
    it(`${type}: every request the agreement promises is Allowed`, async () => {
      const decisions = await decide(world, requests);
      expect(decisions).toEqual(all(decisions, 'Allowed'));
    });
  }

  it('everything else is denied: other buckets, prefixes, tables, workgroups, keys, writes, iam:*', async () => {
    const decisions = await decide(world, DENIED);
    expect(decisions).toEqual(all(decisions, 'ImplicitlyDenied'));
  });

  it('a role without agreements is allowed nothing (the simulator is not permissive)', async () => {
    const decisions: Record<string, Decision> = {};
    for (const r of Object.values(ALLOWED).flat())
      decisions[`${r.action} ${r.resource}`] = await evaluatePolicies([], r);
    expect(decisions).toEqual(all(decisions, 'ImplicitlyDenied'));
  });
});

describe('revocation, evaluated', () => {
  it('after one of several agreements ends, its resources are denied and the others still allowed', async () => {
    const world = await startWorld({ mesh, athenaQueryResultsLocation: 's3://acme-athena-results/consumers/' });
    await world.sync();
    expect(Object.values(await decide(world, ALLOWED.s3_prefix!))).toEqual(ALLOWED.s3_prefix!.map(() => 'Allowed'));

    world.sim.deactivate('agr-prefix');
    await world.sync();
    const revoked = await decide(world, ALLOWED.s3_prefix!);
    expect(revoked).toEqual(all(revoked, 'ImplicitlyDenied'));
    for (const type of ['s3_bucket', 'glue_table']) {
      const kept = await decide(world, ALLOWED[type]!);
      expect(kept, type).toEqual(all(kept, 'Allowed'));
    }

    // Deleting the Glue agreement removes query access and the result location with it.
    world.sim.deleteAgreement('agr-glue');
    await world.sync();
    const gone = await decide(world, ALLOWED.glue_table!);
    expect(gone).toEqual(all(gone, 'ImplicitlyDenied'));
    const still = await decide(world, ALLOWED.s3_bucket!);
    expect(still).toEqual(all(still, 'Allowed'));
    const denied = await decide(world, DENIED);
    expect(denied).toEqual(all(denied, 'ImplicitlyDenied'));
  });
});
