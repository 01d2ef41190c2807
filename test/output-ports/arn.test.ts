import { describe, expect, it } from 'vitest';
import {
  checkBucketName,
  checkPrefix,
  classifyArn,
  formatArn,
  glueTableArn,
  iamRoleArn,
  normalizeAccount,
  parseArn,
  parseRoleArn,
  parseS3Url,
} from '../../src/output-ports/arn.js';
import { PortFieldError } from '../../src/output-ports/port-type.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof PortFieldError) return error.message;
    throw error;
  }
  throw new Error('expected a PortFieldError');
}

describe('parseArn / formatArn', () => {
  it('round-trips an ARN through its parts; the resource keeps its colons and slashes', () => {
    const text = 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders';
    expect(parseArn('f', text)).toEqual({ partition: 'aws', service: 'glue', region: 'eu-central-1', account: '111122223333', resource: 'table/sales/orders' });
    expect(formatArn(parseArn('f', text))).toBe(text);
    expect(parseArn('f', 'arn:aws:logs:eu-west-1:111122223333:log-group:x').resource).toBe('log-group:x');
  });

  it.each([
    ['arn:aws:s3:::*', 'wildcards'],
    ['arn:aws:s3:::acme-?', 'wildcards'],
    ['arn:aws:s3:::acme/${aws:username}/', 'policy variables'],
    ['arn:aws:glue:eu-central-1:111122223333:table/sales/*', 'wildcards'],
    ['not-an-arn', 'is not an ARN'],
    ['arn:aws:s3', 'is not an ARN'],
    ['arn:aws:glue:eu-central-1:1111:catalog', 'invalid account id'],
    ['arn:aws:glue:Europe:111122223333:catalog', 'invalid region'],
    ['arn:amazon:s3:::acme', 'invalid partition'],
    ['arn:aws:s3:::acme orders', 'printable ASCII'],
  ])('rejects %s (%s)', (value, rule) => {
    expect(problem(() => parseArn('custom.aws-x-arn', value))).toContain(rule);
    expect(problem(() => parseArn('custom.aws-x-arn', value))).toMatch(/^custom\.aws-x-arn /);
  });
});

describe('S3 names', () => {
  it.each([
    ['ab', '3-63 characters'],
    ['a'.repeat(64), '3-63 characters'],
    ['Acme', 'lower-case'],
    ['acme_orders', 'lower-case'],
    ['-acme', 'begin and end'],
    ['acme..orders', 'adjacent periods'],
    ['192.168.1.1', 'IP address'],
    ['xn--acme', 'reserved prefix'],
    ['acme-s3alias', 'reserved suffix'],
  ])('rejects bucket %s (%s)', (bucket, rule) => {
    expect(problem(() => checkBucketName('server.location', bucket))).toContain(rule);
  });

  it('normalises prefixes to "a/b/" and rejects what could widen or break a grant', () => {
    expect(checkPrefix('f', '/a/b')).toBe('a/b/');
    expect(checkPrefix('f', 'a/b/')).toBe('a/b/');
    expect(checkPrefix('f', '/')).toBe('');
    expect(problem(() => checkPrefix('f', 'a//b'))).toContain('empty');
    expect(problem(() => checkPrefix('f', 'a/../b'))).toContain('".."');
    expect(problem(() => checkPrefix('f', 'data/{model}'))).toContain('template placeholder');
    expect(problem(() => checkPrefix('f', 'data/*.json'))).toContain('wildcards');
  });

  it('parses s3:// URLs', () => {
    expect(parseS3Url('server.location', 's3://acme-orders/data/orders', 'aws')).toEqual({ partition: 'aws', bucket: 'acme-orders', prefix: 'data/orders/' });
    expect(parseS3Url('server.location', 's3://acme-orders', 'aws')).toEqual({ partition: 'aws', bucket: 'acme-orders', prefix: '' });
    expect(problem(() => parseS3Url('server.location', 'https://acme-orders.s3.amazonaws.com/', 'aws'))).toContain('is not an S3 URL');
  });

  it('accepts the ODCS account spelling 1234-5678-9012', () => {
    expect(normalizeAccount('server.account', '1111-2222-3333')).toBe('111122223333');
    expect(problem(() => normalizeAccount('server.account', '11112222'))).toContain('12-digit');
  });
});

describe('classifyArn checks service and resource type', () => {
  it('recognises each kind a port type uses', () => {
    expect(classifyArn('f', 'arn:aws:s3:::acme-orders/data')).toEqual({ kind: 's3', location: { partition: 'aws', bucket: 'acme-orders', prefix: 'data/' } });
    expect(classifyArn('f', 'arn:aws:glue:eu-central-1:111122223333:catalog')?.kind).toBe('glue-catalog');
    expect(classifyArn('f', 'arn:aws:glue:eu-central-1:111122223333:database/Sales')).toEqual({
      kind: 'glue-database',
      database: { partition: 'aws', region: 'eu-central-1', account: '111122223333', database: 'sales' },
    });
    expect(classifyArn('f', 'arn:aws:athena:eu-central-1:111122223333:workgroup/analysts')?.kind).toBe('athena-workgroup');
    expect(classifyArn('f', 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')?.kind).toBe('kms-key');
    expect(classifyArn('f', 'arn:aws:sns:eu-central-1:111122223333:topic')).toBeUndefined();
  });

  it.each([
    ['arn:aws:s3:eu-central-1:111122223333:accesspoint/ap', 'access points'],
    ['arn:aws:glue:eu-central-1:111122223333:table/sales', 'not a Glue catalog, database or table ARN'],
    ['arn:aws:glue:eu-central-1:111122223333:userDefinedFunction/sales/f', 'not a Glue catalog, database or table ARN'],
    ['arn:aws:glue::111122223333:catalog', 'has no region'],
    ['arn:aws:glue:eu-central-1:111122223333:table/sales/or.ders', 'not a valid Glue name'],
    ['arn:aws:athena:eu-central-1:111122223333:datacatalog/x', 'not an Athena workgroup ARN'],
    ['arn:aws:kms:eu-central-1:111122223333:alias/data', 'aliases cannot be used'],
  ])('rejects %s', (value, rule) => {
    expect(problem(() => classifyArn('custom.aws-x-arn', value))).toContain(rule);
  });

  it('builds ARNs from parts, lower-casing Glue names as Glue stores them', () => {
    const t = classifyArn('f', 'arn:aws:glue:eu-central-1:111122223333:table/Sales/Orders');
    expect(t?.kind === 'glue-table' && glueTableArn(t.table)).toBe('arn:aws:glue:eu-central-1:111122223333:table/sales/orders');
  });
});

describe('IAM role ARNs', () => {
  it('parses names and paths', () => {
    const role = parseRoleArn('custom.aws-role-arn', 'arn:aws:iam::111122223333:role/data/consumers/analytics');
    expect(role).toEqual({ partition: 'aws', account: '111122223333', path: '/data/consumers/', name: 'analytics' });
    expect(iamRoleArn(role)).toBe('arn:aws:iam::111122223333:role/data/consumers/analytics');
  });

  it.each([
    ['arn:aws:iam::111122223333:user/alice', 'not an IAM role ARN'],
    ['arn:aws:iam::111122223333:role/*', 'wildcards'],
    ['arn:aws:iam:eu-central-1:111122223333:role/x', 'must not have a region'],
    ['arn:aws:iam:::role/x', 'has no account id'],
    ['arn:aws:iam::111122223333:role/' + 'x'.repeat(65), 'not a valid IAM role name'],
  ])('rejects %s', (value, rule) => {
    expect(problem(() => parseRoleArn('custom.aws-role-arn', value))).toContain(rule);
  });
});
