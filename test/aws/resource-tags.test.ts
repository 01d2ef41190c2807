import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTagsCommand,
  TagResourceCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { createGlueClient, createKmsClient, createProviderBucketS3Client } from '../../src/aws/clients.js';
import { AwsResourceTagReader } from '../../src/aws/resource-tags.js';
import type { ProviderResource } from '../../src/output-ports/port-type.js';
import { ownershipRefusal } from '../../src/sync/ownership-proof.js';
import type { Grant } from '../../src/sync/resolve.js';
import { MOTO_ACCOUNT, REGION, motoOptions, motoS3, recordCommands, unique } from './moto.js';

const motoGlue = () => createGlueClient(motoOptions());

async function bucket(client: S3Client, tags?: Record<string, string>): Promise<string> {
  const name = unique('provider');
  await client.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  if (tags) {
    await client.send(
      new PutBucketTaggingCommand({
        Bucket: name,
        Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  }
  return name;
}

/** A database and table; tags are set with TagResource, as moto's CreateTable ignores `Tags`. */
async function glueTable(
  client: GlueClient,
  tags?: Record<string, string>,
  region = REGION,
): Promise<ProviderResource & { database: string; table: string }> {
  const database = unique('sales');
  const table = unique('orders');
  await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await client.send(new CreateTableCommand({ DatabaseName: database, TableInput: { Name: table } }));
  const resource = { arn: `arn:aws:glue:${region}:${MOTO_ACCOUNT}:table/${database}/${table}`, database, table };
  if (tags) {
    await client.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:glue:${region}:${MOTO_ACCOUNT}:table/${database}/${table}`,
        TagsToAdd: tags,
      }),
    );
  }
  return resource;
}

const s3 = (name: string): ProviderResource => ({ arn: `arn:aws:s3:::${name}` });

/** A client whose every call fails with `error`, for the answers moto cannot give. */
function failing<C extends S3Client | GlueClient>(client: C, error: Error): C {
  client.send = (async () => {
    throw error;
  }) as never;
  return client;
}
const awsError = (name: string, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

describe('AwsResourceTagReader on moto', () => {
  it("reads an S3 bucket's tags with GetBucketTagging", async () => {
    const client = motoS3();
    const name = await bucket(client, { 'dmm:data-product': 'orders', team: 'sales' });
    const reader = new AwsResourceTagReader({ s3Client: client, glueClient: motoGlue() });
    const sent = recordCommands(client);

    expect(await reader.tagsOf(s3(name))).toEqual({ 'dmm:data-product': 'orders', team: 'sales' });
    expect(sent.inputs('GetBucketTaggingCommand')).toEqual([{ Bucket: name }]);
  });

  it('a bucket without tags has none; a missing bucket is unreadable', async () => {
    const client = motoS3();
    const untagged = await bucket(client);
    const reader = new AwsResourceTagReader({ s3Client: client, glueClient: motoGlue() });

    expect(await reader.tagsOf(s3(untagged))).toEqual({});
    expect(await reader.tagsOf(s3(unique('no-such-bucket')))).toBeUndefined();
  });

  it("reads a Glue table's tags with GetTags on the table ARN", async () => {
    const glue = motoGlue();
    const table = await glueTable(glue, { 'dmm:data-product': 'orders' });
    const untagged = await glueTable(glue);
    const reader = new AwsResourceTagReader({ s3Client: motoS3(), glueClient: glue });
    const sent = recordCommands(glue);

    expect(await reader.tagsOf(table)).toEqual({ 'dmm:data-product': 'orders' });
    expect(await reader.tagsOf(untagged)).toEqual({});
    expect(sent.inputs('GetTagsCommand')[0]).toEqual({
      ResourceArn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:table/${table.database}/${table.table}`,
    });
  });

  it('proves ownership end to end: tagged bucket and table grant, the other team’s bucket is refused', async () => {
    const client = motoS3();
    const glue = motoGlue();
    const ours = await bucket(client, { 'dmm:data-product': 'orders' });
    const theirs = await bucket(client, { 'dmm:data-product': 'payments' });
    const table = await glueTable(glue, { 'dmm:data-product': 'orders, returns' });
    const reader = new AwsResourceTagReader({ s3Client: client, glueClient: glue });
    const grant = (providerResources: ProviderResource[]): Grant => ({
      agreementId: 'agr-1',
      role: { name: 'consumer', arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/consumer`, accountId: MOTO_ACCOUNT },
      portType: 'glue_table',
      outputPortId: 'port-1',
      providerDataProductId: 'orders',
      consumerDataProductId: 'analytics',
      grants: [],
      summary: 'test',
      providerResources,
    });

    expect(
      await ownershipRefusal(
        grant([table, s3(ours)]),
        { mode: 'required', productTagKey: 'dmm:data-product', allowList: [] },
        reader,
      ),
    ).toBeUndefined();
    expect(
      await ownershipRefusal(
        grant([table, s3(theirs)]),
        { mode: 'required', productTagKey: 'dmm:data-product', allowList: [] },
        reader,
      ),
    ).toBe(
      `ownership proof failed: S3 bucket ${theirs} has tag dmm:data-product = "payments", which does not name the provider data product orders`,
    );
  });
});

describe('AwsResourceTagReader error mapping', () => {
  // moto answers GetTags on a table that does not exist with no tags, and never denies access,
  // so AWS's own answers are simulated here.
  it.each(['EntityNotFoundException', 'AccessDeniedException'])('Glue %s: unreadable', async (name) => {
    const reader = new AwsResourceTagReader({ s3Client: motoS3(), glueClient: failing(motoGlue(), awsError(name)) });
    expect(await reader.tagsOf({ arn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:table/db/t` })).toBeUndefined();
  });

  it.each(['AccessDenied', 'AllAccessDisabled'])('S3 %s: unreadable', async (name) => {
    const reader = new AwsResourceTagReader({ s3Client: failing(motoS3(), awsError(name)), glueClient: motoGlue() });
    expect(await reader.tagsOf(s3('someone-elses-bucket'))).toBeUndefined();
  });

  it('answers undefined, without a call, for ARNs whose tags it cannot read: other services, S3 access points', async () => {
    const unreachable = new Error('no call expected');
    const reader = new AwsResourceTagReader({
      s3Client: failing(motoS3(), unreachable),
      glueClient: failing(motoGlue(), unreachable),
    });
    expect(await reader.tagsOf({ arn: `arn:aws:kinesis:${REGION}:${MOTO_ACCOUNT}:stream/clicks` })).toBeUndefined();
    expect(await reader.tagsOf({ arn: `arn:aws:s3:${REGION}:${MOTO_ACCOUNT}:accesspoint/ap` })).toBeUndefined();
  });

  it('throttling and other errors are thrown, to be retried', async () => {
    const s3Throttled = new AwsResourceTagReader({
      s3Client: failing(motoS3(), awsError('SlowDown', 'Please reduce your request rate.')),
      glueClient: motoGlue(),
    });
    await expect(s3Throttled.tagsOf(s3('acme-orders'))).rejects.toThrow('Please reduce your request rate.');
    const glueThrottled = new AwsResourceTagReader({
      s3Client: motoS3(),
      glueClient: failing(motoGlue(), awsError('ThrottlingException', 'Rate exceeded')),
    });
    await expect(glueThrottled.tagsOf({ arn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:table/db/t` })).rejects.toThrow(
      'Rate exceeded',
    );
  });
});

describe('resource tag clients', () => {
  it('the S3 client follows buckets into other regions and uses path-style addressing with an emulator', async () => {
    const client = createProviderBucketS3Client({ region: REGION, endpoint: 'http://127.0.0.1:1' }, {});
    expect(client.config.followRegionRedirects).toBe(true);
    expect(client.config.forcePathStyle).toBe(true);
    expect(createProviderBucketS3Client({ region: REGION }, {}).config.forcePathStyle).toBe(false);
    expect(
      createProviderBucketS3Client({ region: REGION }, { AWS_ENDPOINT_URL: 'http://localhost:4566' }).config
        .forcePathStyle,
    ).toBe(true);
  });

  it('the Glue client retries adaptively and talks to the given endpoint', async () => {
    const client = createGlueClient({ ...motoOptions(), maxAttempts: 3 });
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await client.config.maxAttempts()).toBe(3);
    // It really reaches moto: GetTags on an ARN nobody tagged answers no tags.
    expect(
      (await client.send(new GetTagsCommand({ ResourceArn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:table/none/none` })))
        .Tags,
    ).toEqual({});
  });

  it('without an injected Glue client, each table is read in its own region', async () => {
    const frankfurt = await glueTable(motoGlue(), { 'dmm:data-product': 'orders' });
    const oregon = await glueTable(
      createGlueClient({ ...motoOptions(), region: 'us-west-2' }),
      { 'dmm:data-product': 'returns' },
      'us-west-2',
    );
    // The per-region clients come from the standard configuration, as in a deployment.
    vi.stubEnv('AWS_ENDPOINT_URL', motoOptions().endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      const reader = new AwsResourceTagReader({ s3Client: motoS3() });
      expect(await reader.tagsOf(frankfurt)).toEqual({ 'dmm:data-product': 'orders' });
      expect(await reader.tagsOf(oregon)).toEqual({ 'dmm:data-product': 'returns' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('AwsResourceTagReader: KMS keys', () => {
  it("reads a key's tags in the key's region; a key that does not exist proves nothing", async () => {
    const kms = createKmsClient(motoOptions());
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ Tags: [{ TagKey: 'dmm:data-product', TagValue: 'orders' }] }),
    );
    const reader = new AwsResourceTagReader({ kmsClient: kms });
    expect(await reader.tagsOf({ arn: KeyMetadata!.Arn! })).toEqual({ 'dmm:data-product': 'orders' });
    const missing = `arn:aws:kms:${REGION}:${MOTO_ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
    expect(await reader.tagsOf({ arn: missing })).toBeUndefined();
  });
});
