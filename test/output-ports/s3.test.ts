import { describe, expect, it } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import { planPort } from '../../src/output-ports/registry.js';
import { s3Bucket } from '../../src/output-ports/s3-bucket.js';
import { s3Prefix } from '../../src/output-ports/s3-prefix.js';
import { CONSUMER, document, iamSize, OPTS, port } from './fixtures.js';

const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('s3_bucket', () => {
  it('lists and reads the whole bucket (reference integration metadata)', () => {
    const p = port({ custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' } });
    const resources = s3Bucket.resourcesFrom(p, OPTS);
    expect(document(identityStatements(s3Bucket.grants(resources, CONSUMER)))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
          Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
        },
      ],
    });
    expect(s3Bucket.summary(resources)).toBe('List and read all objects in s3://acme-orders/.');
    expect(iamSize(identityStatements(s3Bucket.grants(resources, CONSUMER)))).toBe(191);
  });

  it('adds kms:Decrypt through S3 only when the port names a KMS key', () => {
    const p = port({ type: 's3', server: { location: 's3://acme-orders' }, custom: { 'aws-kms-key-arn': KEY } });
    const plan = planPort(p, OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('s3_bucket');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
          Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEY,
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
        },
      ],
    });
  });

  it('builds resources in the configured partition', () => {
    const p = port({ type: 's3', server: { location: 's3://acme-orders/' } });
    const plan = planPort(p, { ...OPTS, partition: 'aws-cn' }, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants).map((s) => s.Resource)).toEqual([
      ['arn:aws-cn:s3:::acme-orders', 'arn:aws-cn:s3:::acme-orders/*'],
    ]);
  });

  it('refuses a folder ARN rather than widening it to the whole bucket', () => {
    const p = port({
      custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders/data' },
    });
    expect(planPort(p, OPTS, CONSUMER)).toEqual({
      ok: false,
      field: 'custom.aws-s3-bucket-arn',
      problem:
        'custom.aws-s3-bucket-arn names the folder s3://acme-orders/data/, but output port type s3_bucket grants the whole bucket; use output-port-type s3_prefix or name the bucket only',
    });
  });

  it('fails without a bucket', () => {
    const plan = planPort(port({ custom: { 'output-port-type': 's3_bucket' } }), OPTS, CONSUMER);
    expect(plan).toMatchObject({ ok: false, field: 'custom.aws-s3-bucket-arn' });
  });

  it('fails when the ARN field and server.location disagree', () => {
    const p = port({
      type: 's3',
      server: { location: 's3://other-bucket/' },
      custom: { 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
    });
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-s3-bucket-arn',
      problem: expect.stringContaining('different S3 locations'),
    });
  });

  it('fails on an S3 ARN of another partition', () => {
    const p = port({ custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws-cn:s3:::acme-orders' } });
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-s3-bucket-arn',
      problem: expect.stringContaining('partition "aws-cn"'),
    });
  });

  it('fails on a Glue ARN in the bucket field (wrong service)', () => {
    const p = port({
      custom: {
        'output-port-type': 's3_bucket',
        'aws-s3-bucket-arn': 'arn:aws:glue:eu-central-1:111122223333:catalog',
      },
    });
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-s3-bucket-arn',
      problem: expect.stringContaining('must be an S3 bucket or folder ARN'),
    });
  });

  it('ignores aws-…-arn fields of services the port type does not use, as the reference integration did', () => {
    const p = port({
      custom: {
        'output-port-type': 's3_bucket',
        'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
        'aws-sns-topic-arn': 'arn:aws:sns:eu-central-1:111122223333:updates',
      },
    });
    expect(planPort(p, OPTS, CONSUMER).ok).toBe(true);
  });

  it('ignores a Glue ARN on an s3_bucket port, but still refuses it when malformed', () => {
    const p = port({
      custom: {
        'output-port-type': 's3_bucket',
        'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
        'aws-extra-arn': 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
      },
    });
    expect(planPort(p, OPTS, CONSUMER).ok).toBe(true);
    p.custom['aws-extra-arn'] = 'arn:aws:glue:eu-central-1:111122223333:table/sales/*';
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-extra-arn',
      problem: expect.stringContaining('wildcards'),
    });
  });
});

describe('s3_prefix', () => {
  it('lists and reads under the prefix only (server block)', () => {
    const p = port({ type: 's3', server: { location: 's3://acme-lake/sales/orders/' } });
    const plan = planPort(p, OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('s3_prefix');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::acme-lake',
          Condition: { StringLike: { 's3:prefix': ['sales/orders/', 'sales/orders/*'] } },
        },
        {
          Effect: 'Allow',
          Action: ['s3:GetBucketLocation', 's3:GetObject'],
          Resource: ['arn:aws:s3:::acme-lake', 'arn:aws:s3:::acme-lake/sales/orders/*'],
        },
      ],
    });
    expect(plan.ok && plan.summary).toBe('List and read the objects under s3://acme-lake/sales/orders/.');
  });

  it('reads a folder ARN from a custom field (explicit type)', () => {
    const p = port({
      custom: { 'output-port-type': 's3_prefix', 'aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales/orders' },
    });
    const resources = s3Prefix.resourcesFrom(p, OPTS);
    expect(resources).toEqual({ location: { partition: 'aws', bucket: 'acme-lake', prefix: 'sales/orders/' } });
  });

  it('refuses a bare bucket', () => {
    const p = port({ custom: { 'output-port-type': 's3_prefix' }, server: { location: 's3://acme-lake/' } });
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'server.location',
      problem: expect.stringContaining('needs a prefix'),
    });
  });

  it('grants a pattern location (ODCS s3://b/v2/{model}/*.json) at its fixed folder, never the pattern', () => {
    for (const location of [
      's3://acme-lake/sales/v2/{model}/*.json',
      's3://acme-lake/sales/v2/*',
      's3://acme-lake/sales/v2/part-*.parquet',
    ]) {
      const plan = planPort(port({ type: 's3', server: { type: 's3', location } }), OPTS, CONSUMER);
      expect(plan.ok && plan.portType, location).toBe('s3_prefix');
      expect(plan.ok && plan.summary, location).toBe('List and read the objects under s3://acme-lake/sales/v2/.');
      expect(plan, location).toEqual(
        planPort(port({ type: 's3', server: { type: 's3', location: 's3://acme-lake/sales/v2/' } }), OPTS, CONSUMER),
      );
    }
  });

  it('refuses a pattern in the first folder rather than granting the whole bucket', () => {
    for (const location of ['s3://acme-lake/*', 's3://acme-lake/{model}/data.json', 's3://acme-lake/*.json']) {
      expect(planPort(port({ type: 's3', server: { location } }), OPTS, CONSUMER), location).toMatchObject({
        ok: false,
        field: 'server.location',
        problem: expect.stringContaining('no fixed S3 prefix'),
      });
    }
  });

  it('refuses policy variables in the location', () => {
    const p = port({ type: 's3', server: { location: 's3://acme-lake/home/${aws:username}/' } });
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'server.location',
      problem: expect.stringContaining('policy variables'),
    });
  });

  it('reads S3 HTTPS URLs, virtual-hosted and path style', () => {
    for (const location of [
      'https://acme-lake.s3.eu-central-1.amazonaws.com/sales/v2/',
      'https://acme-lake.s3.amazonaws.com/sales/v2',
      'https://s3.eu-central-1.amazonaws.com/acme-lake/sales/v2/',
      'https://acme-lake.s3-eu-west-1.amazonaws.com/sales/v2/',
    ]) {
      const plan = planPort(port({ type: 's3', server: { type: 's3', location } }), OPTS, CONSUMER);
      expect(plan.ok && plan.summary, location).toBe('List and read the objects under s3://acme-lake/sales/v2/.');
    }
  });
});
