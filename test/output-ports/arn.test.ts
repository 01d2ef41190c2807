import { describe, expect, it } from 'vitest';
import {
  ARN_KINDS,
  canonicalArn,
  checkBucketName,
  checkPrefix,
  classifyArn,
  describeArn,
  formatArn,
  glueTableArn,
  kindOfKnownField,
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
    expect(parseArn('f', text)).toEqual({
      partition: 'aws',
      service: 'glue',
      region: 'eu-central-1',
      account: '111122223333',
      resource: 'table/sales/orders',
    });
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
    expect(parseS3Url('server.location', 's3://acme-orders/data/orders', 'aws')).toEqual({
      partition: 'aws',
      bucket: 'acme-orders',
      prefix: 'data/orders/',
    });
    expect(parseS3Url('server.location', 's3://acme-orders', 'aws')).toEqual({
      partition: 'aws',
      bucket: 'acme-orders',
      prefix: '',
    });
    expect(problem(() => parseS3Url('server.location', 'ftp://acme-orders/', 'aws'))).toContain('is not an S3 URL');
  });

  it('parses S3 HTTPS URLs of the partition, decoding the key', () => {
    const at = (value: string, partition = 'aws') => parseS3Url('server.location', value, partition);
    expect(at('https://acme-orders.s3.eu-central-1.amazonaws.com/data/x')).toEqual({
      partition: 'aws',
      bucket: 'acme-orders',
      prefix: 'data/x/',
    });
    expect(at('https://acme-orders.s3.amazonaws.com/')).toMatchObject({ bucket: 'acme-orders', prefix: '' });
    expect(at('https://s3.eu-west-1.amazonaws.com/acme/a/b/')).toMatchObject({ bucket: 'acme', prefix: 'a/b/' });
    expect(at('https://my.data.s3.us-east-1.amazonaws.com/dt%3D2026/')).toMatchObject({
      bucket: 'my.data',
      prefix: 'dt=2026/',
    });
    expect(at('https://acme.s3.cn-north-1.amazonaws.com.cn/x', 'aws-cn')).toMatchObject({
      bucket: 'acme',
      prefix: 'x/',
    });
    expect(problem(() => at('https://acme.s3.cn-north-1.amazonaws.com.cn/x'))).toContain('not an Amazon S3 endpoint');
    expect(problem(() => at('https://minio.example.com/acme/x'))).toContain('not an Amazon S3 endpoint');
    expect(problem(() => at('https://ap-1.s3-accesspoint.eu-central-1.amazonaws.com/x'))).toContain(
      'not an Amazon S3 endpoint',
    );
    expect(problem(() => at('https://acme.s3.mars-1.amazonaws.com/x'))).toContain('not an AWS region');
    expect(problem(() => at('https://s3.amazonaws.com/'))).toContain('without a bucket');
    expect(problem(() => at('https://acme.s3.amazonaws.com/a/%2e%2e/b'))).toContain('".."');
    expect(problem(() => at('https://acme.s3.amazonaws.com/a/%zz'))).toContain('percent-encoding');
  });

  it('takes the fixed folder of a pattern location, never the pattern', () => {
    const at = (value: string) => parseS3Url('server.location', value, 'aws');
    expect(at('s3://acme/v2/{model}/*.json')).toMatchObject({ bucket: 'acme', prefix: 'v2/' });
    expect(at('s3://acme/v2/data-*.parquet')).toMatchObject({ bucket: 'acme', prefix: 'v2/' });
    expect(at('s3://acme/a/b/?x')).toMatchObject({ bucket: 'acme', prefix: 'a/b/' });
    expect(problem(() => at('s3://acme/{model}/x'))).toContain('no fixed S3 prefix');
    expect(problem(() => at('s3://acme/*'))).toContain('no fixed S3 prefix');
    expect(problem(() => at('s3://acme-*/x/'))).toContain('invalid S3 bucket');
    expect(problem(() => at('s3://acme/x/${aws:userid}/'))).toContain('policy variables');
  });

  it('accepts the ODCS account spelling 1234-5678-9012', () => {
    expect(normalizeAccount('server.account', '1111-2222-3333')).toBe('111122223333');
    expect(problem(() => normalizeAccount('server.account', '11112222'))).toContain('12-digit');
  });
});

describe('classifyArn checks service and resource type', () => {
  it('recognises each kind a port type uses', () => {
    expect(classifyArn('f', 'arn:aws:s3:::acme-orders/data')).toEqual({
      kind: 's3',
      location: { partition: 'aws', bucket: 'acme-orders', prefix: 'data/' },
    });
    expect(classifyArn('f', 'arn:aws:glue:eu-central-1:111122223333:catalog')?.kind).toBe('glue-catalog');
    expect(classifyArn('f', 'arn:aws:glue:eu-central-1:111122223333:database/Sales')).toEqual({
      kind: 'glue-database',
      database: { partition: 'aws', region: 'eu-central-1', account: '111122223333', database: 'sales' },
    });
    expect(classifyArn('f', 'arn:aws:athena:eu-central-1:111122223333:workgroup/analysts')?.kind).toBe(
      'athena-workgroup',
    );
    expect(
      classifyArn('f', 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')?.kind,
    ).toBe('kms-key');
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
    expect(t?.kind === 'glue-table' && glueTableArn(t.table)).toBe(
      'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
    );
  });

  it("names what each service's ARNs may be, from the kinds of that service", () => {
    const refusal = (value: string) => problem(() => classifyArn('f', value));
    expect(refusal('arn:aws:s3:eu-central-1:111122223333:accesspoint/ap')).toBe(
      'f is not an S3 bucket ARN (access points and other S3 resources are not supported): got "arn:aws:s3:eu-central-1:111122223333:accesspoint/ap"',
    );
    expect(refusal('arn:aws:glue:eu-central-1:111122223333:table/sales')).toBe(
      'f is not a Glue catalog, database or table ARN: got "arn:aws:glue:eu-central-1:111122223333:table/sales"',
    );
    expect(refusal('arn:aws:athena:eu-central-1:111122223333:datacatalog/x')).toBe(
      'f is not an Athena workgroup ARN: got "arn:aws:athena:eu-central-1:111122223333:datacatalog/x"',
    );
    expect(refusal('arn:aws:kinesis:eu-central-1:111122223333:stream/clicks/consumer/app:1700000000')).toContain(
      'is not a Kinesis stream ARN (stream/<name>; consumer ARNs are not a port)',
    );
    expect(refusal('arn:aws:dynamodb:eu-central-1:111122223333:table/orders/index/by-date')).toContain(
      'is not a DynamoDB table or stream ARN',
    );
    expect(
      refusal('arn:aws:kafka:eu-central-1:111122223333:group/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5/g'),
    ).toContain('is not an MSK cluster or topic ARN');
    expect(refusal('arn:aws:kafka:eu-central-1:111122223333:cluster/events/not-a-uuid')).toContain(
      'is not a valid MSK cluster UUID',
    );
    expect(refusal('arn:aws:s3tables:eu-central-1:111122223333:bucket/analytics/table/0123')).toContain(
      'is not an S3 table bucket ARN',
    );
    expect(refusal('arn:aws:kms:eu-central-1:111122223333:alias/data')).toBe(
      'f is not a KMS key ARN (key/<key-id>; aliases cannot be used): got "arn:aws:kms:eu-central-1:111122223333:alias/data"',
    );
  });
});

describe('the ARN kinds', () => {
  const EXAMPLES: Record<keyof typeof ARN_KINDS, string> = {
    s3: 'arn:aws:s3:::acme-orders',
    'glue-catalog': 'arn:aws:glue:eu-central-1:111122223333:catalog',
    'glue-database': 'arn:aws:glue:eu-central-1:111122223333:database/sales',
    'glue-table': 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
    'athena-workgroup': 'arn:aws:athena:eu-central-1:111122223333:workgroup/analysts',
    'kinesis-stream': 'arn:aws:kinesis:eu-central-1:111122223333:stream/clicks',
    'dynamodb-table': 'arn:aws:dynamodb:eu-central-1:111122223333:table/Orders',
    'dynamodb-stream': 'arn:aws:dynamodb:eu-central-1:111122223333:table/Orders/stream/2026-01-31T12:34:56.789',
    'msk-cluster': 'arn:aws:kafka:eu-central-1:111122223333:cluster/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5',
    'msk-topic':
      'arn:aws:kafka:eu-central-1:111122223333:topic/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5/orders.v1',
    's3tables-bucket': 'arn:aws:s3tables:eu-central-1:111122223333:bucket/analytics',
    'kms-key': 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  };

  it.each(Object.entries(EXAMPLES))(
    '%s: recognised, rebuilt unchanged, and its format names its service',
    (kind, example) => {
      expect(classifyArn('f', example)?.kind).toBe(kind);
      expect(canonicalArn('f', example)).toBe(example);
      expect(ARN_KINDS[kind as keyof typeof ARN_KINDS].format).toContain(
        `:${ARN_KINDS[kind as keyof typeof ARN_KINDS].service}:`,
      );
    },
  );

  it("holds the reference integration's well-known fields to their kinds", () => {
    expect(kindOfKnownField('aws-s3-bucket-arn')).toBe('s3');
    expect(kindOfKnownField('aws-athena-workgroup-arn')).toBe('athena-workgroup');
    expect(kindOfKnownField('aws-glue-catalog-arn')).toBe('glue-catalog');
    expect(kindOfKnownField('aws-glue-database-arn')).toBe('glue-database');
    expect(kindOfKnownField('aws-glue-table-arn')).toBe('glue-table');
    expect(kindOfKnownField('aws-kms-key-arn')).toBe('kms-key');
    expect(kindOfKnownField('aws-kinesis-stream-arn')).toBe('kinesis-stream');
    expect(kindOfKnownField('aws-dynamodb-table-arn')).toBe('dynamodb-table');
    expect(kindOfKnownField('aws-msk-topic-arn')).toBe('msk-topic');
    expect(kindOfKnownField('aws-s3-aws-s3-folder-arn')).toBeUndefined();
  });

  it('spells an ARN one way: known kinds from their checked parts, others as parsed', () => {
    expect(canonicalArn('f', 'arn:aws:glue:eu-central-1:111122223333:table/Sales/Orders')).toBe(
      'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
    );
    expect(canonicalArn('f', 'arn:aws:s3:::acme-lake/sales/orders')).toBe('arn:aws:s3:::acme-lake/sales/orders/');
    expect(canonicalArn('f', 'arn:aws:kinesis:eu-central-1:111122223333:stream/clicks')).toBe(
      'arn:aws:kinesis:eu-central-1:111122223333:stream/clicks',
    );
    expect(problem(() => canonicalArn('f', 'arn:aws:kinesis:eu-central-1:111122223333:stream/*'))).toContain(
      'wildcards',
    );
  });

  it('describes resources for people, and shows any other ARN as it is', () => {
    expect(describeArn('arn:aws:s3:::acme-orders')).toBe('S3 bucket acme-orders');
    expect(describeArn('arn:aws:s3:::acme-lake/sales/orders')).toBe('S3 folder s3://acme-lake/sales/orders/');
    expect(describeArn(EXAMPLES['glue-table'])).toBe('Glue table sales.orders (account 111122223333, eu-central-1)');
    expect(describeArn(EXAMPLES['glue-database'])).toBe('Glue database sales (account 111122223333, eu-central-1)');
    expect(describeArn(EXAMPLES['glue-catalog'])).toBe('Glue catalog (account 111122223333, eu-central-1)');
    expect(describeArn(EXAMPLES['athena-workgroup'])).toBe(
      'Athena workgroup analysts (account 111122223333, eu-central-1)',
    );
    expect(describeArn(EXAMPLES['kms-key'])).toBe(
      'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab (account 111122223333, eu-central-1)',
    );
    expect(describeArn(EXAMPLES['kinesis-stream'])).toBe('Kinesis stream clicks (account 111122223333, eu-central-1)');
    expect(describeArn('arn:aws:sqs:eu-central-1:111122223333:clicks')).toBe(
      'arn:aws:sqs:eu-central-1:111122223333:clicks',
    );
    expect(describeArn('not an ARN')).toBe('not an ARN');
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
    [`arn:aws:iam::111122223333:role/${'x'.repeat(65)}`, 'not a valid IAM role name'],
  ])('rejects %s', (value, rule) => {
    expect(problem(() => parseRoleArn('custom.aws-role-arn', value))).toContain(rule);
  });
});
