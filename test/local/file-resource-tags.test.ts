import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileResourceTags } from '../../src/local/file-resource-tags.js';
import type { ProviderResource } from '../../src/output-ports/port-type.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();

const FILE = `
buckets:
  acme-orders: { dmm:data-product: orders, team: sales }
  shared-lake:
    dmm:data-product: "orders, returns"
  untagged: {}
glueTables:
  123456789012/eu-central-1/Sales/Orders: { dmm:data-product: orders }
  arn:aws:glue:eu-west-1:123456789012:table/sales/returns: { dmm:data-product: returns }
  arn:aws-cn:glue:cn-north-1:123456789012:table/sales/orders: { dmm:data-product: orders-cn }
`;

const bucket = (name: string): ProviderResource => ({ arn: `arn:aws:s3:::${name}` });
const table = (
  partition: string,
  region: string,
  database: string,
  name: string,
  account = '123456789012',
): ProviderResource => ({
  arn: `arn:${partition}:glue:${region}:${account}:table/${database}/${name}`,
});

describe('FileResourceTags', () => {
  it('reads bucket and Glue table tags from a YAML file, tables by either key form', async () => {
    const file = join(await newTempDir(), 'resource-tags.yaml');
    await writeFile(file, FILE);
    const reader = await FileResourceTags.fromFile(file);

    expect(await reader.tagsOf(bucket('acme-orders'))).toEqual({ 'dmm:data-product': 'orders', team: 'sales' });
    expect(await reader.tagsOf(bucket('shared-lake'))).toEqual({ 'dmm:data-product': 'orders, returns' });
    expect(await reader.tagsOf(bucket('untagged'))).toEqual({});
    // Grants name Glue tables in lower case, as Glue stores them.
    expect(await reader.tagsOf(table('aws', 'eu-central-1', 'sales', 'orders'))).toEqual({
      'dmm:data-product': 'orders',
    });
    expect(await reader.tagsOf(table('aws', 'eu-west-1', 'sales', 'returns'))).toEqual({
      'dmm:data-product': 'returns',
    });
    expect(await reader.tagsOf(table('aws-cn', 'cn-north-1', 'sales', 'orders'))).toEqual({
      'dmm:data-product': 'orders-cn',
    });
  });

  it('answers undefined for a resource it does not list', async () => {
    const reader = FileResourceTags.parse(FILE, 'f.yaml');
    expect(await reader.tagsOf(bucket('other-bucket'))).toBeUndefined();
    // Same names, other region / partition / account: another table.
    expect(await reader.tagsOf(table('aws', 'eu-west-1', 'sales', 'orders'))).toBeUndefined();
    expect(await reader.tagsOf(table('aws-cn', 'eu-central-1', 'sales', 'orders'))).toBeUndefined();
    expect(await reader.tagsOf(table('aws', 'eu-central-1', 'sales', 'orders', '999999999999'))).toBeUndefined();
  });

  it('builds from data in memory, and hands out copies', async () => {
    const reader = new FileResourceTags({ buckets: { 'acme-orders': { owner: 'a' } } });
    const first = await reader.tagsOf(bucket('acme-orders'));
    first!.owner = 'changed';
    expect(await reader.tagsOf(bucket('acme-orders'))).toEqual({ owner: 'a' });
    expect(await new FileResourceTags().tagsOf(bucket('acme-orders'))).toBeUndefined();
  });

  it('treats an empty file as no resources', async () => {
    expect(await FileResourceTags.parse('', 'empty.yaml').tagsOf(bucket('acme-orders'))).toBeUndefined();
  });

  it('reads any resource by its ARN from resources, S3 by bucket and Glue names as grants spell them', async () => {
    const reader = FileResourceTags.parse(
      [
        'resources:',
        '  arn:aws:s3:::acme-returns: { dmm:data-product: returns }',
        '  arn:aws:glue:eu-central-1:123456789012:table/Sales/Payments: { dmm:data-product: payments }',
        '  arn:aws:kinesis:eu-central-1:123456789012:stream/clicks: { dmm:data-product: clicks }',
      ].join('\n'),
      'f.yaml',
    );
    expect(await reader.tagsOf(bucket('acme-returns'))).toEqual({ 'dmm:data-product': 'returns' });
    expect(await reader.tagsOf(table('aws', 'eu-central-1', 'sales', 'payments'))).toEqual({
      'dmm:data-product': 'payments',
    });
    expect(await reader.tagsOf({ arn: 'arn:aws:kinesis:eu-central-1:123456789012:stream/clicks' })).toEqual({
      'dmm:data-product': 'clicks',
    });
    expect(await reader.tagsOf({ arn: 'arn:aws:kinesis:eu-central-1:123456789012:stream/other' })).toBeUndefined();
  });

  it('reads an MSK topic by its cluster and a DynamoDB stream by its table, as on AWS', async () => {
    const cluster = 'arn:aws:kafka:eu-central-1:123456789012:cluster/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5';
    const table = 'arn:aws:dynamodb:eu-central-1:123456789012:table/Orders';
    const reader = new FileResourceTags({
      resources: { [cluster]: { 'dmm:data-product': 'clicks, orders' }, [table]: { 'dmm:data-product': 'orders' } },
    });
    const topic =
      'arn:aws:kafka:eu-central-1:123456789012:topic/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5/orders.v1';
    expect(await reader.tagsOf({ arn: topic })).toEqual({ 'dmm:data-product': 'clicks, orders' });
    expect(await reader.tagsOf({ arn: `${table}/stream/2026-01-31T12:34:56.789` })).toEqual({
      'dmm:data-product': 'orders',
    });
    expect(await reader.tagsOf({ arn: topic.replace('/events/', '/other/') })).toBeUndefined();
  });

  it('refuses resources entries that could never match or say the same twice', () => {
    const bad = (text: string) => () => FileResourceTags.parse(text, 'f.yaml');
    expect(bad('resources:\n  "arn:aws:s3:::acme-lake/sales": {}\n')).toThrow(
      /^f\.yaml: resources\.arn:aws:s3:::acme-lake\/sales names an S3 folder, but S3 tags belong to the bucket: list arn:aws:s3:::acme-lake$/,
    );
    expect(bad('resources:\n  "arn:aws:kinesis:eu-central-1:123456789012:stream/*": {}\n')).toThrow(
      /^f\.yaml: resources\.arn:aws:kinesis.* must not contain wildcards/,
    );
    expect(bad('resources:\n  not-an-arn: {}\n')).toThrow(/^f\.yaml: resources\.not-an-arn is not an ARN/);
    expect(bad('buckets:\n  acme-lake: {}\nresources:\n  "arn:aws:s3:::acme-lake": {}\n')).toThrow(
      /^f\.yaml: resources\.arn:aws:s3:::acme-lake names bucket acme-lake, which is already listed/,
    );
    expect(
      bad(
        'glueTables:\n  123456789012/eu-central-1/sales/orders: {}\nresources:\n  "arn:aws:glue:eu-central-1:123456789012:table/Sales/orders": {}\n',
      ),
    ).toThrow(/names arn:aws:glue:eu-central-1:123456789012:table\/sales\/orders, which is already listed/);
  });

  it('names the file and field of every error', async () => {
    const file = join(await newTempDir(), 'bad.yaml');
    await writeFile(file, 'buckets:\n  acme-orders: { dmm:data-product: 42 }\n');
    await expect(FileResourceTags.fromFile(file)).rejects.toThrow(`${file}: buckets.acme-orders.dmm:data-product: `);

    const bad = (text: string) => () => FileResourceTags.parse(text, 'f.yaml');
    expect(bad('buckets: [')).toThrow(/^f\.yaml: not valid YAML/);
    expect(bad('bucket: {}\n')).toThrow(/^f\.yaml: \(root\): .*bucket/);
    expect(bad('- a\n')).toThrow(/^f\.yaml: \(root\): /);
    expect(bad('buckets:\n  b1: [x]\n')).toThrow(/^f\.yaml: buckets\.b1: /);
    expect(bad('buckets:\n  Acme_Orders: {}\n')).toThrow(/^f\.yaml: buckets\.Acme_Orders names an invalid S3 bucket/);
    expect(bad('glueTables:\n  sales/orders: {}\n')).toThrow(
      /^f\.yaml: glueTables\.sales\/orders is not "<account>\/<region>\/<database>\/<table>"/,
    );
    expect(bad('glueTables:\n  12345/eu-central-1/sales/orders: {}\n')).toThrow(
      /^f\.yaml: glueTables\.12345\/eu-central-1\/sales\/orders is not a 12-digit AWS account id/,
    );
    expect(bad('glueTables:\n  123456789012/europe/sales/orders: {}\n')).toThrow(/is not an AWS region/);
    expect(bad('glueTables:\n  "arn:aws:glue:eu-central-1:123456789012:database/sales": {}\n')).toThrow(
      /^f\.yaml: glueTables\.arn:aws:glue:eu-central-1:123456789012:database\/sales is not a Glue table ARN/,
    );
    expect(bad('glueTables:\n  "arn:aws:s3:::bucket": {}\n')).toThrow(/is not a Glue table ARN/);
    expect(
      bad(
        'glueTables:\n  123456789012/eu-central-1/sales/orders: {}\n  arn:aws:glue:eu-central-1:123456789012:table/Sales/orders: {}\n',
      ),
    ).toThrow(
      /^f\.yaml: glueTables\.arn:aws:glue:eu-central-1:123456789012:table\/Sales\/orders names table arn:aws:glue:eu-central-1:123456789012:table\/sales\/orders, which is already listed/,
    );
    expect(() => new FileResourceTags({ buckets: { b: 'x' as never } }, 'memory')).toThrow(/^memory: buckets\.b: /);
  });
});
