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
import { CreateTableCommand as CreateDynamoTableCommand } from '@aws-sdk/client-dynamodb';
import { TagResourceCommand as TagResourceKafkaCommand } from '@aws-sdk/client-kafka';
import { AddTagsToStreamCommand, CreateStreamCommand } from '@aws-sdk/client-kinesis';
import {
  createDynamoDbClient,
  createGlueClient,
  createKafkaClient,
  createKinesisClient,
  createKmsClient,
  createProviderBucketS3Client,
} from '../../src/aws/clients.js';
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
    expect(await reader.tagsOf({ arn: `arn:aws:sqs:${REGION}:${MOTO_ACCOUNT}:clicks` })).toBeUndefined();
    expect(await reader.tagsOf({ arn: `arn:aws:s3tables:${REGION}:${MOTO_ACCOUNT}:bucket/analytics` })).toBeUndefined();
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

describe('AwsResourceTagReader: Kinesis, DynamoDB and MSK', () => {
  it("reads a Kinesis stream's tags with ListTagsForStream, across pages; consumers and missing streams prove nothing", async () => {
    const kinesis = createKinesisClient(motoOptions());
    const name = unique('clicks');
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, '0')}`, `v${i}`]));
    await kinesis.send(
      new AddTagsToStreamCommand({ StreamName: name, Tags: { 'dmm:data-product': 'clicks', ...many } }),
    );
    const reader = new AwsResourceTagReader({ kinesisClient: kinesis });
    const sent = recordCommands(kinesis);
    const arn = `arn:aws:kinesis:${REGION}:${MOTO_ACCOUNT}:stream/${name}`;
    expect(await reader.tagsOf({ arn })).toEqual({ 'dmm:data-product': 'clicks', ...many });
    expect(sent.inputs('ListTagsForStreamCommand')[0]).toEqual({ StreamARN: arn });
    expect(
      await reader.tagsOf({ arn: `arn:aws:kinesis:${REGION}:${MOTO_ACCOUNT}:stream/${unique('none')}` }),
    ).toBeUndefined();
    expect(await reader.tagsOf({ arn: `${arn}/consumer/app:1700000000` })).toBeUndefined();
  });

  it("reads a DynamoDB table's tags, also for its stream (the table carries them)", async () => {
    const dynamo = createDynamoDbClient(motoOptions());
    const name = unique('Orders');
    await dynamo.send(
      new CreateDynamoTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: [{ Key: 'dmm:data-product', Value: 'orders' }],
      }),
    );
    const reader = new AwsResourceTagReader({ dynamoDbClient: dynamo });
    const sent = recordCommands(dynamo);
    const table = `arn:aws:dynamodb:${REGION}:${MOTO_ACCOUNT}:table/${name}`;
    expect(await reader.tagsOf({ arn: table })).toEqual({ 'dmm:data-product': 'orders' });
    expect(await reader.tagsOf({ arn: `${table}/stream/2026-01-31T12:34:56.789` })).toEqual({
      'dmm:data-product': 'orders',
    });
    expect(sent.inputs('ListTagsOfResourceCommand')).toEqual([{ ResourceArn: table }, { ResourceArn: table }]);
    expect(
      await reader.tagsOf({ arn: `arn:aws:dynamodb:${REGION}:${MOTO_ACCOUNT}:table/${unique('none')}` }),
    ).toBeUndefined();
  });

  it("reads an MSK cluster's tags for its topics (topics cannot be tagged)", async () => {
    const kafka = createKafkaClient(motoOptions());
    // moto's own cluster ARNs lack the real `cluster/<name>/<uuid>` form, so the tags go onto an
    // ARN of the real form (moto tags any ARN, as the real service's own clusters are tagged).
    const ClusterArn = `arn:aws:kafka:${REGION}:${MOTO_ACCOUNT}:cluster/${unique('events')}/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5`;
    await kafka.send(
      new TagResourceKafkaCommand({ ResourceArn: ClusterArn, Tags: { 'dmm:data-product': 'orders, returns' } }),
    );
    const reader = new AwsResourceTagReader({ kafkaClient: kafka });
    const sent = recordCommands(kafka);
    const [, clusterPath] = /:cluster\/(.+)$/.exec(ClusterArn) ?? [];
    const topic = `arn:aws:kafka:${REGION}:${MOTO_ACCOUNT}:topic/${clusterPath}/orders.v1`;
    expect(await reader.tagsOf({ arn: topic })).toEqual({ 'dmm:data-product': 'orders, returns' });
    expect(sent.inputs('ListTagsForResourceCommand')).toEqual([{ ResourceArn: ClusterArn }]);
    expect(await reader.tagsOf({ arn: ClusterArn.replace('events', 'nothing') })).toEqual({});
    // A group ARN is nobody's data: no call, no proof.
    expect(await reader.tagsOf({ arn: topic.replace(':topic/', ':group/') })).toBeUndefined();
  });

  it.each([
    ['Kinesis', 'ResourceNotFoundException'],
    ['Kinesis', 'AccessDeniedException'],
    ['DynamoDB', 'AccessDeniedException'],
    ['Kafka', 'ForbiddenException'],
    ['Kafka', 'NotFoundException'],
  ])('%s %s: unreadable; throttling is thrown', async (service, code) => {
    const fail = (error: Error) => ({ send: async () => Promise.reject(error) }) as never;
    const arns: Record<string, string> = {
      Kinesis: `arn:aws:kinesis:${REGION}:${MOTO_ACCOUNT}:stream/clicks`,
      DynamoDB: `arn:aws:dynamodb:${REGION}:${MOTO_ACCOUNT}:table/Orders`,
      Kafka: `arn:aws:kafka:${REGION}:${MOTO_ACCOUNT}:cluster/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5`,
    };
    const clients = (error: Error) => ({
      kinesisClient: fail(error),
      dynamoDbClient: fail(error),
      kafkaClient: fail(error),
    });
    expect(await new AwsResourceTagReader(clients(awsError(code))).tagsOf({ arn: arns[service]! })).toBeUndefined();
    await expect(
      new AwsResourceTagReader(clients(awsError('ThrottlingException', 'Rate exceeded'))).tagsOf({
        arn: arns[service]!,
      }),
    ).rejects.toThrow('Rate exceeded');
  });
});
