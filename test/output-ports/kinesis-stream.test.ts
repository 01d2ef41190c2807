import { describe, expect, it } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { planPort } from '../../src/output-ports/registry.js';
import { expectAccess } from './access.js';
import { CONSUMER, document, OPTS, port } from './fixtures.js';

const STREAM = 'arn:aws:kinesis:eu-central-1:111122223333:stream/clicks';
const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const READ = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:ListShards',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
  'kinesis:RegisterStreamConsumer',
  'kinesis:ListStreamConsumers',
];
const GRANT: PolicyStatement[] = [
  { Effect: 'Allow', Action: READ, Resource: STREAM },
  {
    Effect: 'Allow',
    Action: ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'],
    Resource: `${STREAM}/consumer/*`,
  },
];

const referencePort = (extra: Record<string, string> = {}) =>
  port({ custom: { 'output-port-type': 'kinesis_stream', 'aws-kinesis-stream-arn': STREAM, ...extra } });

describe('kinesis_stream', () => {
  it('grants KCL polling and enhanced fan-out reads on the stream and its consumers, nothing else', () => {
    const plan = planPort(referencePort(), OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('kinesis_stream');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual(document(GRANT));
    expect(plan.ok && plan.providerResources).toEqual([{ arn: STREAM }]);
    expect(plan.ok && plan.summary).toBe(
      'Read Kinesis stream clicks (eu-central-1, account 111122223333): describe it, list its shards, get records, and register and use enhanced fan-out consumers on it.',
    );
  });

  it('adds kms:Decrypt through Kinesis only, and proves the key too', () => {
    const plan = planPort(referencePort({ 'aws-kms-key-arn': KEY }), OPTS, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants)).toEqual([
      ...GRANT,
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'kinesis.eu-central-1.amazonaws.com' } },
      },
    ]);
    expect(plan.ok && plan.providerResources).toEqual([{ arn: STREAM }, { arn: KEY }]);
    expect(plan.ok && plan.summary).toContain(`; decrypt with KMS key ${KEY} through Kinesis`);
  });

  it('reads the same stream from a server block (DPS, or an ODCS kinesis server with stream)', () => {
    const fromServer = port({ type: 'kinesis', server: { type: 'kinesis', stream: 'clicks', region: 'eu-central-1' } });
    expect(planPort(fromServer, OPTS, CONSUMER)).toEqual(planPort(referencePort(), OPTS, CONSUMER));
    const odcs = port({
      server: { type: 'kinesis', stream: 'clicks', regionName: 'eu-west-1', account: '4444-5555-6666', format: 'json' },
    });
    const plan = planPort(odcs, OPTS, CONSUMER);
    expect(plan.ok && plan.providerResources).toEqual([
      { arn: 'arn:aws:kinesis:eu-west-1:444455556666:stream/clicks' },
    ]);
    expect(plan.ok && plan.summary).toContain(
      "Cross-account: account 444455556666 must also allow this role in the stream's resource policy",
    );
  });

  it.each([
    [
      'no stream',
      port({ type: 'kinesis', server: { type: 'kinesis', region: 'eu-central-1' } }),
      'custom.aws-kinesis-stream-arn',
      'needs its stream',
    ],
    ['a wildcard stream', port({ type: 'kinesis', server: { stream: 'clicks*' } }), 'server.stream', 'wildcards'],
    [
      'a policy variable',
      port({ type: 'kinesis', server: { stream: '${aws:username}' } }),
      'server.stream',
      'wildcards',
    ],
    [
      'an invalid name',
      port({ type: 'kinesis', server: { stream: 'clicks/consumer' } }),
      'server.stream',
      'not a valid Kinesis stream name',
    ],
    [
      'a consumer ARN instead of a stream',
      referencePort({ 'aws-kinesis-stream-arn': `${STREAM}/consumer/app:1700000000` }),
      'custom.aws-kinesis-stream-arn',
      'is not a Kinesis stream ARN (stream/<name>; consumer ARNs are not a port)',
    ],
    [
      'another resource type in the field',
      referencePort({ 'aws-kinesis-stream-arn': 'arn:aws:dynamodb:eu-central-1:111122223333:table/clicks' }),
      'custom.aws-kinesis-stream-arn',
      'must be a Kinesis stream ARN',
    ],
    [
      'an ARN and a server naming different streams',
      port({ type: 'kinesis', server: { stream: 'orders' }, custom: { 'aws-kinesis-stream-arn': STREAM } }),
      'custom.aws-kinesis-stream-arn',
      'name different resources',
    ],
    [
      'a key in another region',
      referencePort({ 'aws-kms-key-arn': KEY.replace('eu-central-1', 'us-east-1') }),
      'custom.aws-kms-key-arn',
      'is in region us-east-1, but the stream is in eu-central-1',
    ],
    [
      'another partition',
      referencePort({ 'aws-kinesis-stream-arn': STREAM.replace('aws', 'aws-cn') }),
      'custom.aws-kinesis-stream-arn',
      'partition',
    ],
  ])('refuses %s', (_name, p, field, problem) => {
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('access matrix: the KCL reads are allowed; writes, admin, other streams and other uses of the key are denied', async () => {
    const consumer = `${STREAM}/consumer/orders-app:1700000000`;
    const via = { 'kms:ViaService': 'kinesis.eu-central-1.amazonaws.com' };
    await expectAccess(
      referencePort({ 'aws-kms-key-arn': KEY }),
      [
        ...READ.map((action) => ({ action, resource: STREAM })),
        { action: 'kinesis:SubscribeToShard', resource: consumer },
        { action: 'kinesis:DescribeStreamConsumer', resource: consumer },
        { action: 'kms:Decrypt', resource: KEY, context: via },
      ],
      [
        ...[
          'PutRecord',
          'PutRecords',
          'DeleteStream',
          'AddTagsToStream',
          'MergeShards',
          'SplitShard',
          'StartStreamEncryption',
          'StopStreamEncryption',
          'PutResourcePolicy',
          'IncreaseStreamRetentionPeriod',
        ].map((a) => ({ action: `kinesis:${a}`, resource: STREAM })),
        { action: 'kinesis:DeregisterStreamConsumer', resource: consumer },
        { action: 'kinesis:GetRecords', resource: 'arn:aws:kinesis:eu-central-1:111122223333:stream/payments' },
        { action: 'kinesis:GetRecords', resource: 'arn:aws:kinesis:eu-central-1:111122223333:stream/clicks-raw' },
        { action: 'kinesis:GetRecords', resource: 'arn:aws:kinesis:us-east-1:111122223333:stream/clicks' },
        {
          action: 'kinesis:SubscribeToShard',
          resource: 'arn:aws:kinesis:eu-central-1:111122223333:stream/payments/consumer/orders-app:1700000000',
        },
        { action: 'kinesis:ListStreams', resource: '*' },
        { action: 'kinesis:UpdateShardCount', resource: '*' },
        { action: 'kms:Decrypt', resource: KEY },
        { action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
        { action: 'kms:Encrypt', resource: KEY, context: via },
        { action: 'kms:GenerateDataKey', resource: KEY, context: via },
      ],
    );
  });
});
