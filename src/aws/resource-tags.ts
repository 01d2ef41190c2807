/**
 * ResourceTagReader on real AWS, for the ownership-proof guardrail (src/sync/ownership-proof.ts).
 * It reads tags per AWS service, whatever port type named the resource, from the resource that
 * carries them (tagCarrierArn): an S3 ARN's bucket tags with GetBucketTagging, a Glue ARN's tags
 * (table, database, catalog) with GetTags, a KMS key's with ListResourceTags, a Kinesis stream's
 * with ListTagsForStream, a DynamoDB table's (for its streams and indexes too) with
 * ListTagsOfResource, an MSK cluster's (for its topics too) with the Kafka ListTagsForResource.
 *
 * "Does not exist" and "may not read" both answer `undefined`: either way the resource proves
 * nothing, and the person fixing it learns that from the refusal. An ARN of any other service
 * answers `undefined` too, without a call or a log line: ownership proof then refuses it as
 * unreadable, so a port type naming a new service fails closed until this adapter reads its
 * tags. Everything else (throttling, network, an unexpected error) is thrown so the caller
 * retries rather than refuses.
 */
import { type DynamoDBClient, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { GetTagsCommand, type GlueClient } from '@aws-sdk/client-glue';
import { type KafkaClient, ListTagsForResourceCommand } from '@aws-sdk/client-kafka';
import { type KinesisClient, ListTagsForStreamCommand } from '@aws-sdk/client-kinesis';
import { GetBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { type KMSClient, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { parseArn, tagCarrierArn } from '../output-ports/arn.js';
import type { ProviderResource } from '../output-ports/port-type.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import {
  type AwsClientOptions,
  createDynamoDbClient,
  createGlueClient,
  createKafkaClient,
  createKinesisClient,
  createKmsClient,
  createProviderBucketS3Client,
} from './clients.js';
import { awsErrorCode } from './errors.js';

/** Per service, because test/aws/actions.test.ts checks each against that SDK's imported commands. */
export const RESOURCE_TAG_S3_ACTIONS_USED = ['s3:GetBucketTagging'] as const;
export const RESOURCE_TAG_GLUE_ACTIONS_USED = ['glue:GetTags'] as const;
export const RESOURCE_TAG_KMS_ACTIONS_USED = ['kms:ListResourceTags'] as const;
export const RESOURCE_TAG_KINESIS_ACTIONS_USED = ['kinesis:ListTagsForStream'] as const;
export const RESOURCE_TAG_DYNAMODB_ACTIONS_USED = ['dynamodb:ListTagsOfResource'] as const;
export const RESOURCE_TAG_KAFKA_ACTIONS_USED = ['kafka:ListTagsForResource'] as const;
/** Every action this adapter calls: the processing and reconcile functions' policies need these. */
export const RESOURCE_TAG_ACTIONS_USED = [
  ...RESOURCE_TAG_S3_ACTIONS_USED,
  ...RESOURCE_TAG_GLUE_ACTIONS_USED,
  ...RESOURCE_TAG_KMS_ACTIONS_USED,
  ...RESOURCE_TAG_KINESIS_ACTIONS_USED,
  ...RESOURCE_TAG_DYNAMODB_ACTIONS_USED,
  ...RESOURCE_TAG_KAFKA_ACTIONS_USED,
] as const;

/** Not there, or not ours to read: no proof, but nothing a retry would change. */
const UNREADABLE_S3 = new Set(['NoSuchBucket', 'AccessDenied', 'AllAccessDisabled']);
const UNREADABLE_GLUE = new Set(['EntityNotFound', 'AccessDenied']);
const UNREADABLE_KMS = new Set(['NotFound', 'AccessDenied', 'InvalidArn']);
// Codes as awsErrorCode spells them (without the `Exception` suffix).
const UNREADABLE_KINESIS = new Set(['ResourceNotFound', 'AccessDenied', 'InvalidArgument']);
const UNREADABLE_DYNAMODB = new Set(['ResourceNotFound', 'AccessDenied']);
const UNREADABLE_KAFKA = new Set(['NotFound', 'Forbidden', 'BadRequest']);

export interface AwsResourceTagReaderOptions {
  /** Default: a client for the standard AWS configuration that follows buckets into their region. */
  s3Client?: S3Client;
  /**
   * Default: one client per table region (a Glue table's tags are served only in its region).
   * An injected client is used for every table, whatever its region: for tests and single-region setups.
   */
  glueClient?: GlueClient;
  /** Default: one client per key region, like Glue. */
  kmsClient?: KMSClient;
  /** Default: one client per region, like Glue; likewise for DynamoDB and Kafka (MSK). */
  kinesisClient?: KinesisClient;
  dynamoDbClient?: DynamoDBClient;
  kafkaClient?: KafkaClient;
  /** Region of the default S3 client; default: the SDK's own resolution (`AWS_REGION`, shared config). */
  region?: string;
  /** Base of the default clients (credentials of a member account, endpoint); default: the standard AWS configuration. */
  clientOptions?: AwsClientOptions;
}

export class AwsResourceTagReader implements ResourceTagReader {
  private readonly s3: S3Client;
  private readonly regional: {
    glue: PerRegion<GlueClient>;
    kms: PerRegion<KMSClient>;
    kinesis: PerRegion<KinesisClient>;
    dynamodb: PerRegion<DynamoDBClient>;
    kafka: PerRegion<KafkaClient>;
  };

  private readonly clientOptions: AwsClientOptions;

  constructor(options: AwsResourceTagReaderOptions = {}) {
    this.clientOptions = options.clientOptions ?? {};
    this.s3 =
      options.s3Client ??
      createProviderBucketS3Client({
        ...this.clientOptions,
        ...(options.region !== undefined ? { region: options.region } : {}),
      });
    this.regional = {
      glue: new PerRegion((region) => createGlueClient({ ...this.clientOptions, region }), options.glueClient),
      kms: new PerRegion((region) => createKmsClient({ ...this.clientOptions, region }), options.kmsClient),
      kinesis: new PerRegion((region) => createKinesisClient({ ...this.clientOptions, region }), options.kinesisClient),
      dynamodb: new PerRegion(
        (region) => createDynamoDbClient({ ...this.clientOptions, region }),
        options.dynamoDbClient,
      ),
      kafka: new PerRegion((region) => createKafkaClient({ ...this.clientOptions, region }), options.kafkaClient),
    };
  }

  async tagsOf({ arn }: ProviderResource): Promise<Record<string, string> | undefined> {
    const parsed = parseArn('provider resource', arn);
    switch (parsed.service) {
      case 's3':
        // A bucket ARN has neither region nor account; anything else (an access point) has no bucket tags.
        if (parsed.region !== '' || parsed.account !== '') return undefined;
        return this.bucketTags(parsed.resource.split('/')[0] ?? '');
      case 'glue':
        return this.glueTags(arn, parsed.region);
      case 'kms':
        return this.keyTags(arn, parsed.region);
      case 'kinesis':
        // Streams only: consumers and video channels are no port's data.
        if (!/^stream\/[^/]+$/.test(parsed.resource)) return undefined;
        return this.streamTags(arn, parsed.region);
      case 'dynamodb':
        return this.dynamoTags(tagCarrierArn(arn), parsed.region);
      case 'kafka':
        return this.clusterTags(tagCarrierArn(arn), parsed.region);
      default:
        return undefined;
    }
  }

  private async bucketTags(bucket: string): Promise<Record<string, string> | undefined> {
    try {
      const { TagSet = [] } = await this.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
      return Object.fromEntries(TagSet.map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    } catch (error) {
      const code = awsErrorCode(error);
      // S3 answers "no tags at all" with an error rather than an empty set.
      if (code === 'NoSuchTagSet') return {};
      if (code !== undefined && UNREADABLE_S3.has(code)) return undefined;
      throw error;
    }
  }

  /** Glue serves a resource's tags only in the resource's region. */
  private async glueTags(arn: string, region: string): Promise<Record<string, string> | undefined> {
    try {
      const { Tags = {} } = await this.regional.glue.for(region).send(new GetTagsCommand({ ResourceArn: arn }));
      return { ...Tags };
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && UNREADABLE_GLUE.has(code)) return undefined;
      throw error;
    }
  }

  /** A key's tags, all pages (a key has at most 50). */
  private async keyTags(arn: string, region: string): Promise<Record<string, string> | undefined> {
    const tags: Record<string, string> = {};
    try {
      let marker: string | undefined;
      do {
        const page = await this.regional.kms
          .for(region)
          .send(new ListResourceTagsCommand({ KeyId: arn, ...(marker ? { Marker: marker } : {}) }));
        for (const tag of page.Tags ?? []) tags[tag.TagKey ?? ''] = tag.TagValue ?? '';
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
      return tags;
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && UNREADABLE_KMS.has(code)) return undefined;
      throw error;
    }
  }

  /** A stream's tags, all pages. */
  private async streamTags(arn: string, region: string): Promise<Record<string, string> | undefined> {
    return readTags(UNREADABLE_KINESIS, async () => {
      const tags: Record<string, string> = {};
      let start: string | undefined;
      let more = true;
      while (more) {
        const page = await this.regional.kinesis
          .for(region)
          .send(new ListTagsForStreamCommand({ StreamARN: arn, ...(start ? { ExclusiveStartTagKey: start } : {}) }));
        for (const tag of page.Tags ?? []) tags[tag.Key ?? ''] = tag.Value ?? '';
        start = page.Tags?.at(-1)?.Key;
        more = page.HasMoreTags === true && start !== undefined;
      }
      return tags;
    });
  }

  /** A table's tags, all pages. */
  private async dynamoTags(arn: string, region: string): Promise<Record<string, string> | undefined> {
    return readTags(UNREADABLE_DYNAMODB, async () => {
      const tags: Record<string, string> = {};
      let next: string | undefined;
      do {
        const page = await this.regional.dynamodb
          .for(region)
          .send(new ListTagsOfResourceCommand({ ResourceArn: arn, ...(next ? { NextToken: next } : {}) }));
        for (const tag of page.Tags ?? []) tags[tag.Key ?? ''] = tag.Value ?? '';
        next = page.NextToken;
      } while (next);
      return tags;
    });
  }

  /** An MSK cluster's tags (one answer, no paging). */
  private async clusterTags(arn: string, region: string): Promise<Record<string, string> | undefined> {
    if (!/:cluster\//.test(arn)) return undefined;
    return readTags(UNREADABLE_KAFKA, async () => {
      const { Tags = {} } = await this.regional.kafka
        .for(region)
        .send(new ListTagsForResourceCommand({ ResourceArn: arn }));
      return { ...Tags };
    });
  }
}

/**
 * Clients made per region on first use (a resource's tags are served only in its region), or one
 * injected client for every region (tests).
 */
class PerRegion<C> {
  private readonly byRegion = new Map<string, C>();
  constructor(
    private readonly create: (region: string) => C,
    private readonly injected: C | undefined,
  ) {}
  for(region: string): C {
    if (this.injected) return this.injected;
    let client = this.byRegion.get(region);
    if (!client) {
      client = this.create(region);
      this.byRegion.set(region, client);
    }
    return client;
  }
}

/** `read()`'s tags; `undefined` when the service answers with one of `unreadable`'s codes, else its error is thrown. */
async function readTags(
  unreadable: ReadonlySet<string>,
  read: () => Promise<Record<string, string>>,
): Promise<Record<string, string> | undefined> {
  try {
    return await read();
  } catch (error) {
    const code = awsErrorCode(error);
    if (code !== undefined && unreadable.has(code)) return undefined;
    throw error;
  }
}
