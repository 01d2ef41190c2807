/** The customer-managed key of any port type: from a custom field or a server property, the same grant. */
import { describe, expect, it } from 'vitest';
import type { OutputPort } from '../../src/model/data-product.js';
import { identityStatements } from '../../src/model/grants.js';
import { planPort } from '../../src/output-ports/registry.js';
import { CONSUMER, OPTS, port } from './fixtures.js';

const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:eu-central-1:111122223333:key/99999999-12ab-34cd-56ef-1234567890ab';
const WITH_WORKGROUP = { ...OPTS, defaultAthenaWorkgroup: 'primary' };

/** A port of each type that reads a key, by its server block; `via` is the service the key is used through. */
const PORTS: [string, Record<string, unknown>, string][] = [
  ['s3_bucket', { type: 's3', location: 's3://acme-orders/' }, 's3'],
  ['s3_prefix', { type: 's3', location: 's3://acme-orders/curated/' }, 's3'],
  ['glue_table', { type: 'glue', database: 'sales', table: 'orders', location: 's3://acme-lake/sales/orders/' }, 's3'],
  ['kinesis_stream', { type: 'kinesis', stream: 'clicks' }, 'kinesis'],
  ['dynamodb_table', { type: 'dynamodb', table: 'Orders' }, 'dynamodb'],
  ['s3_table', { type: 's3tables', tableBucket: 'analytics', namespace: 'sales', table: 'orders' }, 's3'],
];

const withServer = (server: Record<string, unknown>, custom: Record<string, string> = {}): OutputPort =>
  port({ server, custom });

describe('KMS keys on every port type', () => {
  it.each(PORTS)(
    '%s: server.kmsKeyArn grants exactly what custom.aws-kms-key-arn does, through its service',
    (type, server, via) => {
      const fromServer = planPort(withServer({ ...server, kmsKeyArn: KEY }), WITH_WORKGROUP, CONSUMER);
      const fromField = planPort(withServer(server, { 'aws-kms-key-arn': KEY }), WITH_WORKGROUP, CONSUMER);
      expect(fromServer.ok && fromServer.portType).toBe(type);
      expect(fromServer).toEqual(fromField);
      const kms = fromServer.ok
        ? identityStatements(fromServer.grants).filter((s) => JSON.stringify(s.Action).includes('kms:'))
        : [];
      expect(kms).toHaveLength(1);
      expect(kms[0]?.Resource).toBe(KEY);
      expect(kms[0]?.Condition).toEqual({ StringEquals: { 'kms:ViaService': `${via}.eu-central-1.amazonaws.com` } });
      expect(fromServer.ok && fromServer.providerResources.map((r) => r.arn)).toContain(KEY);
      // Without a key, no KMS statement at all.
      const none = planPort(withServer(server), WITH_WORKGROUP, CONSUMER);
      expect(none.ok && JSON.stringify(none.grants)).not.toContain('kms:');
    },
  );

  it.each([
    [
      'two different keys',
      { kmsKeyArn: OTHER_KEY },
      { 'aws-kms-key-arn': KEY },
      'custom.aws-kms-key-arn',
      'name different resources',
    ],
    [
      'an alias',
      { kmsKeyArn: 'arn:aws:kms:eu-central-1:111122223333:alias/orders' },
      {},
      'server.kmsKeyArn',
      'aliases cannot be used',
    ],
    ['a bare key id', { kmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }, {}, 'server.kmsKeyArn', 'is not an ARN'],
    [
      'a wildcard key',
      { kmsKeyArn: 'arn:aws:kms:eu-central-1:111122223333:key/*' },
      {},
      'server.kmsKeyArn',
      'wildcards',
    ],
    [
      'another resource type',
      { kmsKeyArn: 'arn:aws:s3:::acme-orders' },
      {},
      'server.kmsKeyArn',
      'must be a KMS key ARN',
    ],
    ['another partition', { kmsKeyArn: KEY.replace('arn:aws:', 'arn:aws-cn:') }, {}, 'server.kmsKeyArn', 'partition'],
  ])('refuses %s', (_name, server, custom, field, problem) => {
    const p = withServer({ type: 's3', location: 's3://acme-orders/', ...server }, custom as Record<string, string>);
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('has no port type of its own: a key alone is not data', () => {
    expect(
      planPort(port({ custom: { 'output-port-type': 'kms_key', 'aws-kms-key-arn': KEY } }), OPTS, CONSUMER),
    ).toMatchObject({
      ok: false,
      field: 'custom.output-port-type',
      problem: expect.stringContaining('is "kms_key", which is not a supported output port type'),
    });
  });
});
