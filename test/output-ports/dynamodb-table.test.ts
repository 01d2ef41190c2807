import { describe, expect, it } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { tagCarrierArn } from '../../src/output-ports/arn.js';
import { planPort } from '../../src/output-ports/registry.js';
import { expectAccess } from './access.js';
import { CONSUMER, document, OPTS, port } from './fixtures.js';

const TABLE = 'arn:aws:dynamodb:eu-central-1:111122223333:table/Orders';
const STREAM = `${TABLE}/stream/2026-01-31T12:34:56.789`;
const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TABLE_READ = [
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const GRANT: PolicyStatement[] = [
  { Effect: 'Allow', Action: TABLE_READ, Resource: TABLE },
  { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:Scan'], Resource: `${TABLE}/index/*` },
];
const STREAM_READ: PolicyStatement = {
  Effect: 'Allow',
  Action: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
  Resource: STREAM,
};

const referencePort = (extra: Record<string, string> = {}) =>
  port({ custom: { 'output-port-type': 'dynamodb_table', 'aws-dynamodb-table-arn': TABLE, ...extra } });

describe('dynamodb_table', () => {
  it('grants reading items, queries and scans of the table and its indexes', () => {
    const plan = planPort(referencePort(), OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('dynamodb_table');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual(document(GRANT));
    expect(plan.ok && plan.providerResources).toEqual([{ arn: TABLE }]);
    expect(plan.ok && plan.summary).toBe(
      'Read DynamoDB table Orders (eu-central-1, account 111122223333): describe it, get items, query and scan it and its indexes.',
    );
  });

  it('reads the named stream of the table too, and decrypts through DynamoDB only', () => {
    const plan = planPort(referencePort({ 'aws-dynamodb-stream-arn': STREAM, 'aws-kms-key-arn': KEY }), OPTS, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants)).toEqual([
      ...GRANT,
      STREAM_READ,
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-central-1.amazonaws.com' } },
      },
    ]);
    // The stream is the table's: the table's tags prove it.
    expect(plan.ok && plan.providerResources).toEqual([{ arn: TABLE }, { arn: KEY }]);
    expect(tagCarrierArn(STREAM)).toBe(TABLE);
    expect(plan.ok && plan.summary).toContain('; read its stream 2026-01-31T12:34:56.789; decrypt with KMS key');
  });

  it('takes the table from a server block, or from its stream ARN alone', () => {
    const fromServer = port({
      type: 'dynamodb',
      server: { type: 'dynamodb', table: 'Orders', region: 'eu-central-1' },
    });
    expect(planPort(fromServer, OPTS, CONSUMER)).toEqual(planPort(referencePort(), OPTS, CONSUMER));
    const streamOnly = port({ type: 'dynamodb', custom: { 'aws-dynamodb-stream-arn': STREAM } });
    const plan = planPort(streamOnly, OPTS, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants)).toEqual([...GRANT, STREAM_READ]);
  });

  it.each([
    [
      'no table',
      port({ type: 'dynamodb', server: { region: 'eu-central-1' } }),
      'custom.aws-dynamodb-table-arn',
      'needs its table',
    ],
    ['a wildcard table', port({ type: 'dynamodb', server: { table: 'Ord*' } }), 'server.table', 'wildcards'],
    [
      'a too short name',
      port({ type: 'dynamodb', server: { table: 'ab' } }),
      'server.table',
      'not a valid DynamoDB table name',
    ],
    [
      'an index ARN',
      referencePort({ 'aws-dynamodb-table-arn': `${TABLE}/index/by-date` }),
      'custom.aws-dynamodb-table-arn',
      'is not a DynamoDB table or stream ARN (table/<name> or table/<name>/stream/<label>; index and backup ARNs are not a port)',
    ],
    [
      'the stream of another table',
      referencePort({ 'aws-dynamodb-stream-arn': STREAM.replace('Orders', 'Payments') }),
      'custom.aws-dynamodb-table-arn',
      'name different resources',
    ],
    [
      'a wildcard stream label',
      referencePort({ 'aws-dynamodb-stream-arn': `${TABLE}/stream/*` }),
      'custom.aws-dynamodb-stream-arn',
      'wildcards',
    ],
    [
      'another service in the field',
      referencePort({ 'aws-dynamodb-table-arn': 'arn:aws:kinesis:eu-central-1:111122223333:stream/Orders' }),
      'custom.aws-dynamodb-table-arn',
      'must be a DynamoDB table ARN',
    ],
    [
      'a key in another region',
      referencePort({ 'aws-kms-key-arn': KEY.replace('eu-central-1', 'eu-west-1') }),
      'custom.aws-kms-key-arn',
      'but the table is in eu-central-1',
    ],
  ])('refuses %s', (_name, p, field, problem) => {
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('access matrix: reads of the table, its indexes and its stream allowed; writes, admin and other tables denied', async () => {
    const via = { 'kms:ViaService': 'dynamodb.eu-central-1.amazonaws.com' };
    const other = 'arn:aws:dynamodb:eu-central-1:111122223333:table/Payments';
    await expectAccess(
      referencePort({ 'aws-dynamodb-stream-arn': STREAM, 'aws-kms-key-arn': KEY }),
      [
        ...TABLE_READ.map((action) => ({ action, resource: TABLE })),
        { action: 'dynamodb:Query', resource: `${TABLE}/index/by-date` },
        { action: 'dynamodb:Scan', resource: `${TABLE}/index/by-customer` },
        { action: 'dynamodb:GetRecords', resource: STREAM },
        { action: 'dynamodb:GetShardIterator', resource: STREAM },
        { action: 'dynamodb:DescribeStream', resource: STREAM },
        { action: 'kms:Decrypt', resource: KEY, context: via },
      ],
      [
        ...[
          'PutItem',
          'UpdateItem',
          'DeleteItem',
          'BatchWriteItem',
          'UpdateTable',
          'DeleteTable',
          'CreateBackup',
          'ExportTableToPointInTime',
          'PutResourcePolicy',
          'TagResource',
          'PartiQLInsert',
          'PartiQLUpdate',
          'PartiQLDelete',
          'RestoreTableFromBackup',
        ].map((a) => ({ action: `dynamodb:${a}`, resource: TABLE })),
        { action: 'dynamodb:GetItem', resource: other },
        { action: 'dynamodb:Scan', resource: `${other}/index/by-date` },
        { action: 'dynamodb:GetItem', resource: `${TABLE}-archive` },
        { action: 'dynamodb:Scan', resource: 'arn:aws:dynamodb:eu-west-1:111122223333:table/Orders' },
        { action: 'dynamodb:GetRecords', resource: `${TABLE}/stream/2025-01-01T00:00:00.000` },
        { action: 'dynamodb:GetRecords', resource: `${other}/stream/2026-01-31T12:34:56.789` },
        { action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
        { action: 'kms:Decrypt', resource: KEY },
        { action: 'kms:GenerateDataKey', resource: KEY, context: via },
      ],
    );
  });
});
