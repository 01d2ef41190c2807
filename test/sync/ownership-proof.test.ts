import { describe, expect, it } from 'vitest';
import { FileResourceTags, type ResourceTagsData } from '../../src/local/file-resource-tags.js';
import type { ProviderResource } from '../../src/output-ports/port-type.js';
import { idsInTag, ownershipRefusal, sharedTagReads, type OwnershipProof } from '../../src/sync/ownership-proof.js';
import type { Grant } from '../../src/sync/resolve.js';
import type { ResourceTagReader } from '../../src/interfaces/resource-tags.js';

const KEY = 'dmm:data-product';

/** A bucket, or a folder in it (`arn:aws:s3:::bucket/prefix/`), as port types name what they open. */
const bucket = (name: string, prefix = ''): ProviderResource => ({
  arn: `arn:aws:s3:::${name}${prefix ? `/${prefix}` : ''}`,
});
const tagProof = (
  productTagKey: string,
  more: Partial<Extract<OwnershipProof, { mode: 'required' }>> = {},
): OwnershipProof => ({
  mode: 'required',
  productTagKey,
  allowList: [],
  ...more,
});
const table = (database: string, name: string, region = 'eu-central-1'): ProviderResource => ({
  arn: `arn:aws:glue:${region}:123456789012:table/${database}/${name}`,
});

function grant(
  providerResources: ProviderResource[],
  providerDataProductId = 'orders',
  providerTeamId?: string,
): Grant {
  return {
    ...(providerTeamId ? { providerTeamId } : {}),
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
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), reader)).toBeUndefined();
  });

  it('refuses a bucket without the tag, naming bucket, tag key and product', async () => {
    const reader = tags({ buckets: { 'acme-orders': { team: 'sales' } } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), reader)).toBe(
      'ownership proof failed: S3 bucket acme-orders has no tag dmm:data-product (it must name the provider data product orders)',
    );
    // No tags at all is the same as no such tag.
    expect(
      await ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), tags({ buckets: { 'acme-orders': {} } })),
    ).toMatch(/has no tag dmm:data-product/);
  });

  it('refuses a bucket whose tag names another product, showing the value found', async () => {
    const reader = tags({ buckets: { 'payments-data': { [KEY]: 'payments' } } });
    expect(await ownershipRefusal(grant([bucket('payments-data')]), tagProof(KEY), reader)).toBe(
      'ownership proof failed: S3 bucket payments-data has tag dmm:data-product = "payments", which does not name the provider data product orders',
    );
  });

  it('matches exactly and case-sensitively, on the configured key only', async () => {
    for (const value of ['Orders', 'orders-v2', 'order', ' orders x']) {
      const reader = tags({ buckets: { 'acme-orders': { [KEY]: value } } });
      expect(await ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), reader), value).toMatch(
        /which does not name the provider data product orders$/,
      );
    }
    const otherKey = tags({ buckets: { 'acme-orders': { 'dmm:Data-Product': 'orders', owner: 'orders' } } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), otherKey)).toMatch(
      /has no tag dmm:data-product/,
    );
  });

  it('accepts a comma-separated list of products in the tag, trimmed', async () => {
    const reader = tags({ buckets: { 'shared-lake': { [KEY]: ' returns ,orders,  ' } } });
    expect(await ownershipRefusal(grant([bucket('shared-lake', 'orders/')]), tagProof(KEY), reader)).toBeUndefined();
    expect(
      await ownershipRefusal(grant([bucket('shared-lake', 'returns/')], 'returns'), tagProof(KEY), reader),
    ).toBeUndefined();
    expect(await ownershipRefusal(grant([bucket('shared-lake', 'payments/')], 'payments'), tagProof(KEY), reader)).toBe(
      'ownership proof failed: S3 bucket shared-lake has tag dmm:data-product = " returns ,orders,  ", which does not name the provider data product payments',
    );
  });

  it('reads product ids from a tag value', () => {
    expect(idsInTag('orders')).toEqual(['orders']);
    expect(idsInTag(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(idsInTag(' , ')).toEqual([]);
  });

  it('refuses a bucket that does not exist or cannot be read', async () => {
    expect(await ownershipRefusal(grant([bucket('other-teams-bucket')]), tagProof(KEY), tags({}))).toBe(
      'ownership proof failed: S3 bucket other-teams-bucket does not exist or its tags cannot be read by this tool, so it cannot show a tag dmm:data-product naming the provider data product orders',
    );
  });

  it('checks the Glue table and its data bucket, naming each failure', async () => {
    const glueGrant = grant([table('sales', 'orders'), bucket('acme-lake', 'orders/')]);
    const both = tags({
      buckets: { 'acme-lake': { [KEY]: 'orders' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': { [KEY]: 'orders' } },
    });
    expect(await ownershipRefusal(glueGrant, tagProof(KEY), both)).toBeUndefined();

    const tableUntagged = tags({
      buckets: { 'acme-lake': { [KEY]: 'orders' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': {} },
    });
    expect(await ownershipRefusal(glueGrant, tagProof(KEY), tableUntagged)).toBe(
      'ownership proof failed: Glue table sales.orders (account 123456789012, eu-central-1) has no tag dmm:data-product (it must name the provider data product orders)',
    );

    // The table is the provider's, but the data location it points at is someone else's bucket.
    const foreignData = tags({
      buckets: { 'acme-lake': { [KEY]: 'payments' } },
      glueTables: { '123456789012/eu-central-1/sales/orders': { [KEY]: 'orders' } },
    });
    expect(await ownershipRefusal(glueGrant, tagProof(KEY), foreignData)).toMatch(
      /^ownership proof failed: S3 bucket acme-lake has tag dmm:data-product = "payments"/,
    );

    const neither = await ownershipRefusal(glueGrant, tagProof(KEY), tags({}));
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
    expect(await ownershipRefusal(grant(resources), tagProof(KEY), reader)).toBeUndefined();
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
    expect(
      await ownershipRefusal(grant(Object.keys(buckets).map((b) => bucket(b))), tagProof(KEY), reader),
    ).toBeUndefined();
    expect(reader.reads).toHaveLength(12);
    expect(reader.maxInFlight).toBeGreaterThan(1);
    expect(reader.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('checks a resource of any service by its ARN, naming it by the ARN when no ARN kind describes it', async () => {
    const stream = { arn: 'arn:aws:sns:eu-central-1:123456789012:clicks' };
    expect(
      await ownershipRefusal(
        grant([stream]),
        tagProof(KEY),
        tags({ resources: { [stream.arn]: { [KEY]: 'orders' } } }),
      ),
    ).toBeUndefined();
    expect(await ownershipRefusal(grant([stream]), tagProof(KEY), tags({}))).toBe(
      'ownership proof failed: arn:aws:sns:eu-central-1:123456789012:clicks does not exist or its tags cannot be read by this tool, so it cannot show a tag dmm:data-product naming the provider data product orders',
    );
    // A port type may name it for people itself.
    expect(
      await ownershipRefusal(grant([{ ...stream, description: 'Kinesis stream clicks' }]), tagProof(KEY), tags({})),
    ).toMatch(/^ownership proof failed: Kinesis stream clicks does not exist/);
  });

  it('passes other reader errors through, so the caller retries instead of refusing', async () => {
    const throttled: ResourceTagReader = {
      tagsOf: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    await expect(ownershipRefusal(grant([bucket('acme-orders')]), tagProof(KEY), throttled)).rejects.toThrow(
      'Rate exceeded',
    );
  });

  it('has nothing to prove for a grant that opens no provider resources, and needs a tag key', async () => {
    const reader = new CountingReader(tags({}));
    expect(await ownershipRefusal(grant([]), tagProof(KEY), reader)).toBeUndefined();
    expect(reader.reads).toEqual([]);
    await expect(ownershipRefusal(grant([bucket('acme-orders')]), tagProof(''), reader)).rejects.toThrow(
      /needs a tag key/,
    );
  });

  it('does not find a tag through the object prototype', async () => {
    const reader = tags({ buckets: { 'acme-orders': {} } });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), tagProof('constructor'), reader)).toMatch(
      /has no tag constructor/,
    );
  });
});

describe('ownership proof by team tag, allow-list, or explicitly off', () => {
  const TEAM_KEY = 'dmm:team';
  const KMS = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('accepts a team tag naming the provider product’s owner team, only when the operator set the team key', async () => {
    const reader = tags({ buckets: { 'sales-lake': { [TEAM_KEY]: 'sales, finance' } } });
    const sales = grant([bucket('sales-lake')], 'orders', 'sales');
    expect(await ownershipRefusal(sales, tagProof(KEY, { teamTagKey: TEAM_KEY }), reader)).toBeUndefined();
    // Without the team key configured, a team tag proves nothing.
    expect(await ownershipRefusal(sales, tagProof(KEY), reader)).toBe(
      'ownership proof failed: S3 bucket sales-lake has no tag dmm:data-product (it must name the provider data product orders)',
    );
    // Another team's product, or a product whose owner team is unknown, is not proven by it.
    expect(
      await ownershipRefusal(
        grant([bucket('sales-lake')], 'payments', 'payments'),
        tagProof(KEY, { teamTagKey: TEAM_KEY }),
        reader,
      ),
    ).toBe(
      'ownership proof failed: S3 bucket sales-lake has tag dmm:team = "sales, finance", which does not name the provider data product payments or its team payments',
    );
    expect(
      await ownershipRefusal(grant([bucket('sales-lake')], 'orders'), tagProof(KEY, { teamTagKey: TEAM_KEY }), reader),
    ).toMatch(/does not name the provider data product orders$/);
  });

  it('accepts resources an allow-list entry for the product or its team covers, without reading tags', async () => {
    const reader = new CountingReader(tags({}));
    const proof = tagProof(KEY, {
      allowList: [
        { dataProduct: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*', KMS] },
        { team: 'sales', resources: ['arn:aws:glue:eu-central-1:123456789012:table/sales/*'] },
      ],
    });
    const ok = grant(
      [bucket('shared-lake', 'orders/2026/'), { arn: KMS }, table('sales', 'orders')],
      'orders',
      'sales',
    );
    expect(await ownershipRefusal(ok, proof, reader)).toBeUndefined();
    expect(reader.reads).toEqual([]);
    // The folder next door, the bucket itself, another team's table: not covered, so tags are read (and missing).
    const refusal = await ownershipRefusal(
      grant([bucket('shared-lake', 'returns/'), table('finance', 'ledger')], 'orders', 'sales'),
      proof,
      reader,
    );
    expect(refusal).toMatch(/^ownership proof failed: S3 bucket shared-lake does not exist or its tags cannot be read/);
    expect(refusal).toContain('Glue table finance.ledger');
    // An entry for another product or team vouches for nothing here.
    expect(
      await ownershipRefusal(grant([bucket('shared-lake', 'orders/')], 'returns', 'logistics'), proof, reader),
    ).toMatch(/^ownership proof failed: S3 bucket shared-lake/);
  });

  it('treats a bucket pattern as covering the folders in it, and ? as one character', async () => {
    const proof = tagProof(KEY, { allowList: [{ dataProduct: 'orders', resources: ['arn:aws:s3:::acme-orders-??'] }] });
    const none = tags({});
    expect(await ownershipRefusal(grant([bucket('acme-orders-eu', 'daily/v1/')]), proof, none)).toBeUndefined();
    expect(await ownershipRefusal(grant([bucket('acme-orders-eu1')]), proof, none)).toMatch(
      /S3 bucket acme-orders-eu1/,
    );
    // A folder pattern does not cover the bucket above it.
    const folder = tagProof(KEY, { allowList: [{ dataProduct: 'orders', resources: ['arn:aws:s3:::lake/orders/*'] }] });
    expect(await ownershipRefusal(grant([bucket('lake')]), folder, none)).toMatch(/S3 bucket lake/);
    expect(await ownershipRefusal(grant([bucket('lake', 'orders-old/')]), folder, none)).toMatch(/S3 bucket lake/);
  });

  it('proves a KMS key by its own tags', async () => {
    const reader = tags({ resources: { [KMS]: { [KEY]: 'orders' } } });
    expect(await ownershipRefusal(grant([{ arn: KMS }]), tagProof(KEY), reader)).toBeUndefined();
    expect(await ownershipRefusal(grant([{ arn: KMS }], 'payments'), tagProof(KEY), reader)).toMatch(
      /^ownership proof failed: KMS key .* does not name the provider data product payments$/,
    );
  });

  it('refuses without a tag reader unless the allow-list covers everything', async () => {
    const proof = tagProof(KEY, { allowList: [{ dataProduct: 'orders', resources: ['arn:aws:s3:::acme-orders'] }] });
    expect(await ownershipRefusal(grant([bucket('acme-orders')]), proof, undefined)).toBeUndefined();
    expect(await ownershipRefusal(grant([bucket('acme-orders'), bucket('acme-other')]), proof, undefined)).toBe(
      'ownership proof failed: S3 bucket acme-other must be shown to belong to the provider data product orders, but no resource tag reader is configured and no allow-list entry covers it',
    );
  });

  it('grants unproven when the operator turned proof off', async () => {
    expect(await ownershipRefusal(grant([bucket('anything')]), { mode: 'off' }, undefined)).toBeUndefined();
  });
});

describe('sharedTagReads', () => {
  it('reads each tag carrier once per unit of work (a bucket and its folders are one), and asks again after a failure', async () => {
    const inner = new CountingReader(tags({ buckets: { 'acme-lake': { [KEY]: 'orders' } } }));
    const shared = sharedTagReads(inner);
    const first = await shared.tagsOf(bucket('acme-lake'));
    await shared.tagsOf(bucket('acme-lake', 'orders/'));
    await ownershipRefusal(grant([bucket('acme-lake', 'returns/')]), tagProof(KEY), shared);
    expect(inner.reads).toEqual([bucket('acme-lake')]);
    // Each caller gets its own copy.
    first![KEY] = 'changed';
    expect(await shared.tagsOf(bucket('acme-lake'))).toEqual({ [KEY]: 'orders' });

    let fail = true;
    const flaky = sharedTagReads({
      tagsOf: async () => {
        if (fail) throw new Error('Rate exceeded');
        return {};
      },
    });
    await expect(flaky.tagsOf(bucket('x'))).rejects.toThrow('Rate exceeded');
    fail = false;
    expect(await flaky.tagsOf(bucket('x'))).toEqual({});
  });
});
