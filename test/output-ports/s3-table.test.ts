import { describe, expect, it } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { planPort } from '../../src/output-ports/registry.js';
import { expectAccess } from './access.js';
import { CONSUMER, document, OPTS, port } from './fixtures.js';

const BUCKET = 'arn:aws:s3tables:eu-central-1:111122223333:bucket/analytics';
const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TABLE_ACTIONS = ['s3tables:GetTable', 's3tables:GetTableMetadataLocation', 's3tables:GetTableData'];
const GRANT: PolicyStatement[] = [
  { Effect: 'Allow', Action: 's3tables:GetTableBucket', Resource: BUCKET },
  {
    Effect: 'Allow',
    Action: 's3tables:GetNamespace',
    Resource: BUCKET,
    Condition: { StringEquals: { 's3tables:namespace': 'sales' } },
  },
  {
    Effect: 'Allow',
    Action: TABLE_ACTIONS,
    Resource: `${BUCKET}/table/*`,
    Condition: { StringEquals: { 's3tables:namespace': 'sales', 's3tables:tableName': 'orders' } },
  },
];

const referencePort = (extra: Record<string, string> = {}, server: Record<string, unknown> = {}) =>
  port({
    custom: { 'output-port-type': 's3_table', 'aws-s3tables-bucket-arn': BUCKET, ...extra },
    server: { namespace: 'sales', table: 'orders', ...server },
  });

describe('s3_table', () => {
  it('grants the bucket, the namespace and the one table by namespace and name', () => {
    const plan = planPort(referencePort(), OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('s3_table');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual(document(GRANT));
    expect(plan.ok && plan.providerResources).toEqual([{ arn: BUCKET }]);
    expect(plan.ok && plan.summary).toBe(
      'Read Iceberg table sales.orders in S3 table bucket analytics (eu-central-1, account 111122223333) through the S3 Tables API.',
    );
  });

  it('reads a server block alone, and adds the key', () => {
    const p = port({ type: 's3tables', server: { tableBucket: 'analytics', namespace: 'sales', table: 'orders' } });
    expect(planPort(p, OPTS, CONSUMER)).toEqual(planPort(referencePort(), OPTS, CONSUMER));
    const plan = planPort(referencePort({ 'aws-kms-key-arn': KEY }), OPTS, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants).at(-1)).toEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
    });
  });

  it.each([
    [
      'no bucket',
      port({ type: 's3tables', server: { namespace: 'sales', table: 'orders' } }),
      'custom.aws-s3tables-bucket-arn',
      'needs its table bucket',
    ],
    ['no namespace', referencePort({}, { namespace: undefined }), 'server.namespace', 'is missing'],
    ['no table', referencePort({}, { table: undefined }), 'server.table', 'is missing'],
    ['a wildcard table', referencePort({}, { table: 'ord*' }), 'server.table', 'wildcards'],
    [
      'an upper-case name (S3 Tables names are lower case)',
      referencePort({}, { namespace: 'Sales' }),
      'server.namespace',
      'not a valid S3 Tables',
    ],
    [
      'a table ARN instead of the bucket',
      referencePort({ 'aws-s3tables-bucket-arn': `${BUCKET}/table/0123-4567` }),
      'custom.aws-s3tables-bucket-arn',
      'is not an S3 table bucket ARN (bucket/<name>; name the table in server.namespace and server.table)',
    ],
    [
      'a bucket and server naming different buckets',
      referencePort({}, { tableBucket: 'finance' }),
      'custom.aws-s3tables-bucket-arn',
      'name different resources',
    ],
  ])('refuses %s', (_name, p, field, problem) => {
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('access matrix: the one table and its namespace allowed; other tables, namespaces and writes denied', async () => {
    const table = `${BUCKET}/table/0f8a6e5c-1234-4d5e-9abc-0123456789ab`;
    const ctx = (namespace: string, tableName?: string) => ({
      's3tables:namespace': namespace,
      ...(tableName ? { 's3tables:tableName': tableName } : {}),
    });
    await expectAccess(
      referencePort(),
      [
        { action: 's3tables:GetTableBucket', resource: BUCKET },
        { action: 's3tables:GetNamespace', resource: BUCKET, context: ctx('sales') },
        ...TABLE_ACTIONS.map((action) => ({ action, resource: table, context: ctx('sales', 'orders') })),
      ],
      [
        { action: 's3tables:GetNamespace', resource: BUCKET, context: ctx('hr') },
        { action: 's3tables:GetTableData', resource: table, context: ctx('sales', 'customers') },
        { action: 's3tables:GetTableData', resource: table, context: ctx('hr', 'orders') },
        { action: 's3tables:GetTableData', resource: table },
        {
          action: 's3tables:GetTableData',
          resource:
            'arn:aws:s3tables:eu-central-1:111122223333:bucket/finance/table/0f8a6e5c-1234-4d5e-9abc-0123456789ab',
          context: ctx('sales', 'orders'),
        },
        { action: 's3tables:PutTableData', resource: table, context: ctx('sales', 'orders') },
        { action: 's3tables:UpdateTableMetadataLocation', resource: table, context: ctx('sales', 'orders') },
        { action: 's3tables:DeleteTable', resource: table, context: ctx('sales', 'orders') },
        { action: 's3tables:PutTablePolicy', resource: table, context: ctx('sales', 'orders') },
        { action: 's3tables:CreateTable', resource: BUCKET, context: ctx('sales') },
        { action: 's3tables:DeleteTableBucket', resource: BUCKET },
        { action: 's3tables:PutTableBucketPolicy', resource: BUCKET },
        { action: 's3tables:ListTables', resource: BUCKET, context: ctx('sales') },
      ],
    );
  });
});
