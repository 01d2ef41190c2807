/**
 * ResourceTagReader on real AWS, for the ownership-proof guardrail (src/sync/ownership-proof.ts).
 * It reads tags per AWS service, whatever port type named the resource: an S3 ARN's bucket
 * tags with GetBucketTagging, a Glue ARN's tags (table, database, catalog) with GetTags, a KMS
 * key's with ListResourceTags.
 *
 * "Does not exist" and "may not read" both answer `undefined`: either way the resource proves
 * nothing, and the person fixing it learns that from the refusal. An ARN of any other service
 * answers `undefined` too, without a call or a log line: ownership proof then refuses it as
 * unreadable, so a port type naming a new service fails closed until this adapter reads its
 * tags. Everything else (throttling, network, an unexpected error) is thrown so the caller
 * retries rather than refuses.
 */
import { GetTagsCommand, type GlueClient } from '@aws-sdk/client-glue';
import { GetBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { type KMSClient, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { parseArn } from '../output-ports/arn.js';
import type { ProviderResource } from '../output-ports/port-type.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import { type AwsClientOptions, createGlueClient, createKmsClient, createProviderBucketS3Client } from './clients.js';
import { awsErrorCode } from './errors.js';

/** Per service, because test/aws/actions.test.ts checks each against that SDK's imported commands. */
export const RESOURCE_TAG_S3_ACTIONS_USED = ['s3:GetBucketTagging'] as const;
export const RESOURCE_TAG_GLUE_ACTIONS_USED = ['glue:GetTags'] as const;
export const RESOURCE_TAG_KMS_ACTIONS_USED = ['kms:ListResourceTags'] as const;
/** Every action this adapter calls: the processing and reconcile functions' policies need these. */
export const RESOURCE_TAG_ACTIONS_USED = [
  ...RESOURCE_TAG_S3_ACTIONS_USED,
  ...RESOURCE_TAG_GLUE_ACTIONS_USED,
  ...RESOURCE_TAG_KMS_ACTIONS_USED,
] as const;

/** Not there, or not ours to read: no proof, but nothing a retry would change. */
const UNREADABLE_S3 = new Set(['NoSuchBucket', 'AccessDenied', 'AllAccessDisabled']);
const UNREADABLE_GLUE = new Set(['EntityNotFound', 'AccessDenied']);
const UNREADABLE_KMS = new Set(['NotFound', 'AccessDenied', 'InvalidArn']);

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
  /** Region of the default S3 client; default: the SDK's own resolution (`AWS_REGION`, shared config). */
  region?: string;
  /** Base of the default clients (credentials of a member account, endpoint); default: the standard AWS configuration. */
  clientOptions?: AwsClientOptions;
}

export class AwsResourceTagReader implements ResourceTagReader {
  private readonly s3: S3Client;
  private readonly injectedGlue: GlueClient | undefined;
  private readonly glueByRegion = new Map<string, GlueClient>();
  private readonly injectedKms: KMSClient | undefined;
  private readonly kmsByRegion = new Map<string, KMSClient>();

  private readonly clientOptions: AwsClientOptions;

  constructor(options: AwsResourceTagReaderOptions = {}) {
    this.clientOptions = options.clientOptions ?? {};
    this.s3 =
      options.s3Client ??
      createProviderBucketS3Client({
        ...this.clientOptions,
        ...(options.region !== undefined ? { region: options.region } : {}),
      });
    this.injectedGlue = options.glueClient;
    this.injectedKms = options.kmsClient;
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
      const { Tags = {} } = await this.glueFor(region).send(new GetTagsCommand({ ResourceArn: arn }));
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
        const page = await this.kmsFor(region).send(
          new ListResourceTagsCommand({ KeyId: arn, ...(marker ? { Marker: marker } : {}) }),
        );
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

  private glueFor(region: string): GlueClient {
    return (
      this.injectedGlue ??
      perRegion(this.glueByRegion, region, (r) => createGlueClient({ ...this.clientOptions, region: r }))
    );
  }

  private kmsFor(region: string): KMSClient {
    return (
      this.injectedKms ??
      perRegion(this.kmsByRegion, region, (r) => createKmsClient({ ...this.clientOptions, region: r }))
    );
  }
}

/** One client per region, made on first use: a resource's tags are served only in its region. */
function perRegion<C>(cache: Map<string, C>, region: string, create: (region: string) => C): C {
  let client = cache.get(region);
  if (!client) {
    client = create(region);
    cache.set(region, client);
  }
  return client;
}
