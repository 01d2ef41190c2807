import { describe, expect, it } from 'vitest';
import { FileResourceTags, type ResourceTagsData } from '../../src/local/file-resource-tags.js';
import type { ProviderResource } from '../../src/output-ports/port-type.js';
import { ownershipRefusal, productIdsInTag } from '../../src/sync/ownership-proof.js';
import type { Grant } from '../../src/sync/resolve.js';
import type { ResourceTagReader } from '../../src/interfaces/resource-tags.js';

const KEY = 'dmm:data-product';

/** A bucket as a grant on `prefix` names it: by the bucket's ARN, since S3 tags belong to the bucket. */
const bucket = (name: string, _prefix = ''): ProviderResource => ({ arn: `arn:aws:s3:::${name}` });
const table = (database: string, name: string, region = 'eu-central-1'): ProviderResource => ({
  arn: `arn:aws:glue:${region}:123456789012:table/${database}/${name}`,
});

function grant(providerResources: ProviderResource[], providerDataProductId = 'orders'): Grant {
  return {
    agreementId: 'agr-1',
    role: { name: 'consumer', arn: 'arn:aws:iam::123456789012:role/consumer', accountId: '123456789012' },
    portType: 's3_bucket',
    outputPortId: 'port-1',
    providerDataProductId,
    consumerDataProductId: 'analytics',
    grants: [],
    summary: 'test grant',
    providerResources,
  };
}

const tags = (data: ResourceTagsData) => new FileResourceTags(data, 'test');

/** Counts reads per resource, and how many were in flight at once. */
class CountingReader implements ResourceTagReader {
  readonly reads: ProviderResource[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly inner: ResourceTagReader) {}
  async tagsOf(resource: ProviderResource) {
    this.reads.push(resource);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    return this.inner.tagsOf(resource);
  }
}

describe('ownershipRefusal', () => {
  it('grants when the bucket carries the tag naming the provider data product', async () => {
    const reader = tags({ buckets: { 'acme-orders': { [KEY]: 'orders', team: 'sales' } } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), KEY, reader)).toBeUndefined();
  });

  it('refuses a bucket without the tag, naming bucket, tag key and product', async () => {
    const reader = tags({ buckets: { 'acme-orders': { team: 'sales' } } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), KEY, reader)).toBe(
      'ownership proof failed: S3 bucket acme-orders has no tag dmm:data-product (it must name the provider data product orders)',
    );
    // No tags at all is the same as no such tag.
    expect(
      await ownershipRefusal(grant([bucket('acme-orders')]), KEY, tags({ buckets: { 'acme-orders': {} } })),
    ).toMatch(/has no tag dmm:data-product/);
  });

  it('refuses a bucket whose tag names another product, showing the value found', async () => {
    const reader = tags({ buckets: { 'payments-data': { [KEY]: 'payments' } } });
    expect(await ownershipRefusal(grant([bucket('payments-data')]), KEY, reader)).toBe(
      'ownership proof failed: S3 bucket payments-data has tag dmm:data-product = "payments", which does not name the provider data product orders',
    );
  });

  it('matches exactly and case-sensitively, on the configured key only', async () => {
    for (const value of ['Orders', 'orders-v2', 'order', ' orders x']) {
      const reader = tags({ buckets: { 'acme-orders': { [KEY]: value } } });
      expect(await ownershipRefusal(grant([bucket('acme-orders')]), KEY, reader), value).toMatch(
        /which does not name the provider data product orders$/,
      );
    }
    const otherKey = tags({ buckets: { 'acme-orders': { 'dmm:Data-Product': 'orders', owner: 'orders' } } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), KEY, otherKey)).toMatch(
      /has no tag dmm:data-product/,
    );
  });

  it('accepts a comma-separated list of products in the tag, trimmed', async () => {
    const reader = tags({ buckets: { 'shared-lake': { [KEY]: ' returns ,orders,  ' } } });
    expect(await ownershipRefusal(grant([bucket('shared-lake', 'orders/')]), KEY, reader)).toBeUndefined();
    expect(await ownershipRefusal(grant([bucket('shared-lake', 'returns/')], 'returns'), KEY, reader)).toBeUndefined();
    expect(await ownershipRefusal(grant([bucket('shared-lake', 'payments/')], 'payments'), KEY, reader)).toBe(
      'ownership proof failed: S3 bucket shared-lake has tag dmm:data-product = " returns ,orders,  ", which does not name the provider data product payments',
    );
  });

  it('reads product ids from a tag value', () => {
    expect(productIdsInTag('orders')).toEqual(['orders']);
    expect(productIdsInTag(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(productIdsInTag(' , ')).toEqual([]);
  });

  it('refuses a bucket that does not exist or cannot be read', async () => {
    expect(await ownershipRefusal(grant([bucket('other-teams-bucket')]), KEY, tags({}))).toBe(
      'ownership proof failed: S3 bucket other-teams-bucket does not exist or its tags cannot be read by this tool, so it cannot show a tag dmm:data-product naming the provider data product orders',
    );
  });

  it('checks the Glue table and its data bucket, naming each failure', async () => {
    const glueGrant = grant([table('sales', 'orders'), bucket('acme-lake', 'orders/')]);
    const both = tags({
      buckets: { 'acme-lake': { [KEY]: 'orders' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': { [KEY]: 'orders' } },
    });
    expect(await ownershipRefusal(glueGrant, KEY, both)).toBeUndefined();

    const tableUntagged = tags({
      buckets: { 'acme-lake': { [KEY]: 'orders' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': {} },
    });
    expect(await ownershipRefusal(glueGrant, KEY, tableUntagged)).toBe(
      'ownership proof failed: Glue table sales.orders (account 123456789012, eu-central-1) has no tag dmm:data-product (it must name the provider data product orders)',
    );

    // The table is the provider's, but the data location it points at is someone else's bucket.
    const foreignData = tags({
      buckets: { 'acme-lake': { [KEY]: 'payments' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': { [KEY]: 'orders' } },
    });
    expect(await ownershipRefusal(glueGrant, KEY, foreignData)).toMatch(
      /^ownership proof failed: S3 bucket acme-lake has tag dmm:data-product = "payments"/,
    );

    const neither = await ownershipRefusal(glueGrant, KEY, tags({}));
    expect(neither).toMatch(
      /^ownership proof failed: Glue table sales\.orders .* cannot be read .*; S3 bucket acme-lake does not exist/,
    );
  });

  it('reads each distinct resource once: one read per bucket whatever the prefixes, one per table', async () => {
    const reader = new CountingReader(
      tags({
        buckets: { 'acme-lake': { [KEY]: 'orders' }, 'acme-extra': { [KEY]: 'orders' } },
        glueTables: {
          '123456789012/eu-central-1/sales/orders': { [KEY]: 'orders' },
          '123456789012/eu-west-1/sales/orders': { [KEY]: 'orders' },
        },
      }),
    );
    const resources = [
      table('sales', 'orders'),
      bucket('acme-lake', 'orders/'),
      bucket('acme-lake', 'orders/2026/'),
      bucket('acme-lake', ''),
      table('sales', 'orders'),
      table('sales', 'orders', 'eu-west-1'),
      bucket('acme-extra'),
    ];
    expect(await ownershipRefusal(grant(resources), KEY, reader)).toBeUndefined();
    expect(reader.reads).toEqual([
      table('sales', 'orders'),
      bucket('acme-lake', 'orders/'),
      table('sales', 'orders', 'eu-west-1'),
      bucket('acme-extra'),
    ]);
  });

  it('reads in parallel, but only a few at a time', async () => {
    const buckets = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`bucket-${i}`, { [KEY]: 'orders' }]));
    const reader = new CountingReader(tags({ buckets }));
    expect(await ownershipRefusal(grant(Object.keys(buckets).map((b) => bucket(b))), KEY, reader)).toBeUndefined();
    expect(reader.reads).toHaveLength(12);
    expect(reader.maxInFlight).toBeGreaterThan(1);
    expect(reader.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('checks a resource of any service by its ARN, naming it by the ARN when no ARN kind describes it', async () => {
    const stream = { arn: 'arn:aws:kinesis:eu-central-1:123456789012:stream/clicks' };
    expect(
      await ownershipRefusal(grant([stream]), KEY, tags({ resources: { [stream.arn]: { [KEY]: 'orders' } } })),
    ).toBeUndefined();
    expect(await ownershipRefusal(grant([stream]), KEY, tags({}))).toBe(
      'ownership proof failed: arn:aws:kinesis:eu-central-1:123456789012:stream/clicks does not exist or its tags cannot be read by this tool, so it cannot show a tag dmm:data-product naming the provider data product orders',
    );
    // A port type may name it for people itself.
    expect(await ownershipRefusal(grant([{ ...stream, description: 'Kinesis stream clicks' }]), KEY, tags({}))).toMatch(
      /^ownership proof failed: Kinesis stream clicks does not exist/,
    );
  });

  it('passes other reader errors through, so the caller retries instead of refusing', async () => {
    const throttled: ResourceTagReader = {
      tagsOf: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    await expect(ownershipRefusal(grant([bucket('acme-orders')]), KEY, throttled)).rejects.toThrow('Rate exceeded');
  });

  it('has nothing to prove for a grant that opens no provider resources, and needs a tag key', async () => {
    const reader = new CountingReader(tags({}));
    expect(await ownershipRefusal(grant([]), KEY, reader)).toBeUndefined();
    expect(reader.reads).toEqual([]);
    await expect(ownershipRefusal(grant([bucket('acme-orders')]), '', reader)).rejects.toThrow(/needs a tag key/);
  });

  it('does not find a tag through the object prototype', async () => {
    const reader = tags({ buckets: { 'acme-orders': {} } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), 'constructor', reader)).toMatch(
      /has no tag constructor/,
    );
  });
});
