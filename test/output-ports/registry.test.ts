import { describe, expect, it } from 'vitest';
import type { PortType } from '../../src/output-ports/port-type.js';
import { isAwsPort, PORT_TYPES, planPort, portTypeOf } from '../../src/output-ports/registry.js';
import { CONSUMER, OPTS, port } from './fixtures.js';

describe('port type detection', () => {
  it('registers one module per type', () => {
    expect(PORT_TYPES.map((t) => t.type)).toEqual([
      's3_bucket',
      's3_prefix',
      'glue_table',
      'kinesis_stream',
      'dynamodb_table',
      'msk_topic',
      's3_table',
    ]);
  });

  it.each([
    ['explicit s3_bucket', port({ custom: { 'output-port-type': 's3_bucket' } }), 's3_bucket'],
    ['explicit s3_prefix', port({ custom: { 'output-port-type': 's3_prefix' } }), 's3_prefix'],
    ['explicit glue_table', port({ custom: { 'output-port-type': 'glue_table' } }), 'glue_table'],
    [
      'explicit type wins over the server',
      port({ type: 's3', server: { location: 's3://acme-lake/x/' }, custom: { 'output-port-type': 's3_bucket' } }),
      's3_bucket',
    ],
    ['s3 with a prefix', port({ type: 's3', server: { location: 's3://acme-lake/sales/' } }), 's3_prefix'],
    ['s3 bucket only', port({ type: 'S3', server: { location: 's3://acme-lake' } }), 's3_bucket'],
    [
      's3 with a folder ARN field',
      port({ type: 's3', custom: { 'aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales' } }),
      's3_prefix',
    ],
    [
      'server type s3 (ODCS-style server)',
      port({ server: { type: 's3', location: 's3://acme-lake/sales/' } }),
      's3_prefix',
    ],
    ['glue', port({ type: 'glue', server: { database: 'sales', table: 'orders' } }), 'glue_table'],
    [
      'server type glue',
      port({ server: { type: 'glue', account: '111122223333', database: 'sales', location: 's3://acme-lake/sales/' } }),
      'glue_table',
    ],
  ])('%s', (_name, p, expected) => {
    expect(portTypeOf(p, OPTS).type).toBe(expected);
  });

  it('declares lower-case technical types; types sharing one tell themselves apart with fits', () => {
    for (const t of PORT_TYPES) {
      expect(t.technicalTypes.length, t.type).toBeGreaterThan(0);
      for (const technical of t.technicalTypes) expect(technical, t.type).toBe(technical.toLowerCase());
    }
    const technicals = new Set(PORT_TYPES.flatMap((t) => t.technicalTypes));
    for (const technical of technicals) {
      const sharing = PORT_TYPES.filter((t) => t.technicalTypes.includes(technical));
      // One without fits would take every port of that technical type from the ones after it.
      if (sharing.length > 1) for (const t of sharing) expect(t.fits, `${t.type} shares ${technical}`).toBeDefined();
    }
  });

  it.each([
    ['an explicit output port type', port({ type: 'snowflake', custom: { 'output-port-type': 's3_bucket' } }), true],
    ['a technical type', port({ type: 'S3' }), true],
    ['a server type', port({ server: { type: 'glue' } }), true],
    ['a port type name as its type', port({ type: 'glue_table' }), true],
    [
      'reference integration ARN fields',
      port({ type: 'kafka', custom: { 'aws-s3-bucket-arn': 'arn:aws:s3:::acme' } }),
      true,
    ],
    ['another platform', port({ type: 'snowflake', server: { type: 'snowflake' } }), false],
    ['an ODCS Athena server', port({ server: { type: 'athena', schema: 'sales' } }), true],
    ['an AWS service it cannot grant, to say why', port({ type: 'Redshift' }), true],
    ['a name only an object prototype has', port({ type: 'constructor' }), false],
  ])('isAwsPort: %s', (_name, p, expected) => {
    expect(isAwsPort(p)).toBe(expected);
  });

  it('fails on an unknown explicit type, naming it and the supported ones', () => {
    expect(planPort(port({ custom: { 'output-port-type': 'redshift_table' } }), OPTS, CONSUMER)).toEqual({
      ok: false,
      field: 'custom.output-port-type',
      problem:
        'custom.output-port-type is "redshift_table", which is not a supported output port type (supported: s3_bucket, s3_prefix, glue_table, kinesis_stream, dynamodb_table, msk_topic, s3_table)',
    });
  });

  it('fails on a port type it cannot grant, naming it', () => {
    expect(planPort(port({ type: 'snowflake', server: { account: 'acme' } }), OPTS, CONSUMER)).toEqual({
      ok: false,
      field: 'type',
      problem:
        'type is "snowflake", which this tool cannot grant access to (supported: s3, glue, athena, kinesis, dynamodb, kafka, s3tables, or custom.output-port-type s3_bucket, s3_prefix, glue_table, kinesis_stream, dynamodb_table, msk_topic, s3_table)',
    });
  });

  it('refuses Redshift with the reason, not as another platform', () => {
    expect(planPort(port({ server: { type: 'redshift', database: 'dev', schema: 'sales' } }), OPTS, CONSUMER)).toEqual({
      ok: false,
      field: 'server.type',
      problem:
        'server.type is "redshift": Amazon Redshift is not supported: read access to Redshift tables is a SQL GRANT inside the database (or a data share), which IAM policies cannot express, and dmm-aws grants through IAM only; grant it with Redshift itself',
    });
  });

  it('fails on a port without any type', () => {
    expect(planPort(port({ custom: { 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-lake' } }), OPTS, CONSUMER)).toMatchObject(
      {
        ok: false,
        field: 'custom.output-port-type',
        problem: expect.stringContaining('is missing and the port has no type'),
      },
    );
  });
});

describe('a port type of its own', () => {
  /** What a new type declares for the registry; its grants do not matter here. */
  const stream: PortType<string> = {
    type: 'sqs_queue',
    describe: 'Test only: read one SQS queue.',
    technicalTypes: ['sqs'],
    resourcesFrom: () => 'arn:aws:sqs:eu-central-1:111122223333:clicks',
    grants: (arn) => [
      { target: 'identity-policy', statements: [{ Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: arn }] },
    ],
    summary: (arn) => `Read ${arn}.`,
    providerResources: (arn) => [{ arn }],
  };
  const opts = { ...OPTS, portTypes: [...PORT_TYPES, stream] };

  it('is chosen by its technical type or its name, and listed in the messages', () => {
    expect(portTypeOf(port({ type: 'SQS' }), opts).type).toBe('sqs_queue');
    expect(portTypeOf(port({ custom: { 'output-port-type': 'sqs_queue' } }), opts).type).toBe('sqs_queue');
    expect(isAwsPort(port({ server: { type: 'sqs' } }), opts.portTypes)).toBe(true);
    expect(isAwsPort(port({ server: { type: 'sqs' } }))).toBe(false);
    expect(planPort(port({ type: 'snowflake' }), opts, CONSUMER)).toMatchObject({
      problem:
        'type is "snowflake", which this tool cannot grant access to (supported: s3, glue, athena, kinesis, dynamodb, kafka, s3tables, sqs, or custom.output-port-type s3_bucket, s3_prefix, glue_table, kinesis_stream, dynamodb_table, msk_topic, s3_table, sqs_queue)',
    });
    expect(planPort(port({}), opts, CONSUMER)).toMatchObject({
      problem: expect.stringContaining(
        'give the port type s3, glue, athena, kinesis, dynamodb, kafka, s3tables or sqs with a server block',
      ),
    });
  });
});

describe('provider resources', () => {
  it('names exactly the provider resources a grant opens, never the configured result location', () => {
    const glue = 'arn:aws:glue:eu-central-1:123456789012';
    const plan = planPort(
      {
        id: 'p',
        name: 'p',
        custom: {
          'output-port-type': 'glue_table',
          'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:123456789012:workgroup/analytics',
          'aws-glue-table-arn': `${glue}:table/sales/orders`,
          'aws-s3-aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales/orders',
        },
      },
      { accountId: '123456789012', athenaQueryResultsLocation: 's3://results/athena/' },
      CONSUMER,
    );
    expect(plan.ok && plan.providerResources).toEqual([
      { arn: `${glue}:table/sales/orders` },
      { arn: 'arn:aws:s3:::acme-lake/sales/orders/' },
    ]);
    const prefix = planPort(
      { id: 'p', name: 'p', type: 's3', server: { location: 's3://clicks/curated/v1/' }, custom: {} },
      { accountId: '123456789012' },
      CONSUMER,
    );
    // The folder itself (an allow-list may name it); its bucket carries the tags (tagCarrierArn).
    expect(prefix.ok && prefix.providerResources).toEqual([{ arn: 'arn:aws:s3:::clicks/curated/v1/' }]);
    const encrypted = planPort(
      port({
        custom: {
          'output-port-type': 's3_bucket',
          'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
          'aws-kms-key-arn': 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
      }),
      { accountId: '123456789012' },
      CONSUMER,
    );
    // The KMS key opens the data too, so it is proven like the bucket.
    expect(encrypted.ok && encrypted.providerResources).toEqual([
      { arn: 'arn:aws:s3:::acme-orders' },
      { arn: 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    ]);
  });
});
