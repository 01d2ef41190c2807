import { describe, expect, it } from 'vitest';
import { PORT_TYPES, planPort, portTypeOf } from '../../src/output-ports/registry.js';
import { OPTS, port } from './fixtures.js';

describe('port type detection', () => {
  it('registers one module per type', () => {
    expect(PORT_TYPES.map((t) => t.type)).toEqual(['s3_bucket', 's3_prefix', 'glue_table']);
  });

  it.each([
    ['explicit s3_bucket', port({ custom: { 'output-port-type': 's3_bucket' } }), 's3_bucket'],
    ['explicit s3_prefix', port({ custom: { 'output-port-type': 's3_prefix' } }), 's3_prefix'],
    ['explicit glue_table', port({ custom: { 'output-port-type': 'glue_table' } }), 'glue_table'],
    ['explicit type wins over the server', port({ type: 's3', server: { location: 's3://acme-lake/x/' }, custom: { 'output-port-type': 's3_bucket' } }), 's3_bucket'],
    ['s3 with a prefix', port({ type: 's3', server: { location: 's3://acme-lake/sales/' } }), 's3_prefix'],
    ['s3 bucket only', port({ type: 'S3', server: { location: 's3://acme-lake' } }), 's3_bucket'],
    ['s3 with a folder ARN field', port({ type: 's3', custom: { 'aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales' } }), 's3_prefix'],
    ['server type s3 (ODCS-style server)', port({ server: { type: 's3', location: 's3://acme-lake/sales/' } }), 's3_prefix'],
    ['glue', port({ type: 'glue', server: { database: 'sales', table: 'orders' } }), 'glue_table'],
    ['server type glue', port({ server: { type: 'glue', account: '111122223333', database: 'sales', location: 's3://acme-lake/sales/' } }), 'glue_table'],
  ])('%s', (_name, p, expected) => {
    expect(portTypeOf(p, OPTS).type).toBe(expected);
  });

  it('fails on an unknown explicit type, naming it and the supported ones', () => {
    expect(planPort(port({ custom: { 'output-port-type': 'redshift_table' } }), OPTS)).toEqual({
      ok: false,
      field: 'custom.output-port-type',
      problem: 'custom.output-port-type is "redshift_table", which is not a supported output port type (supported: s3_bucket, s3_prefix, glue_table)',
    });
  });

  it('fails on a port type it cannot grant, naming it', () => {
    expect(planPort(port({ type: 'snowflake', server: { account: 'acme' } }), OPTS)).toEqual({
      ok: false,
      field: 'type',
      problem: 'type is "snowflake", which this tool cannot grant access to (supported: s3, glue, or custom.output-port-type s3_bucket, s3_prefix, glue_table)',
    });
  });

  it('fails on a port without any type', () => {
    expect(planPort(port({ custom: { 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-lake' } }), OPTS)).toMatchObject({
      ok: false,
      field: 'custom.output-port-type',
      problem: expect.stringContaining('is missing and the port has no type'),
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
    );
    expect(plan.ok && plan.providerResources).toEqual([
      { kind: 'glue-table', partition: 'aws', account: '123456789012', region: 'eu-central-1', database: 'sales', table: 'orders' },
      { kind: 's3', bucket: 'acme-lake', prefix: 'sales/orders/' },
    ]);
    const prefix = planPort({ id: 'p', name: 'p', type: 's3', server: { location: 's3://clicks/curated/v1/' }, custom: {} }, { accountId: '123456789012' });
    expect(prefix.ok && prefix.providerResources).toEqual([{ kind: 's3', bucket: 'clicks', prefix: 'curated/v1/' }]);
  });
});
