/**
 * ResourceTagReader on real AWS: S3 bucket tags and Glue table tags, for the ownership-proof
 * guardrail (src/sync/ownership-proof.ts).
 *
 * "Does not exist" and "may not read" both answer `undefined`: either way the resource proves
 * nothing, and the person fixing it learns that from the refusal. Everything else (throttling,
 * network, an unexpected error) is thrown so the caller retries rather than refuses.
 */
import { GetTagsCommand, type GlueClient } from '@aws-sdk/client-glue';
import { GetBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { glueTableArn } from '../output-ports/arn.js';
import type { ProviderResource } from '../output-ports/port-type.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import { createGlueClient, createResourceTagS3Client } from './clients.js';
import { awsErrorCode } from './errors.js';

/** Their home is clients.ts (with the other factories); exported here too for existing importers. */
export { createGlueClient, createResourceTagS3Client } from './clients.js';

/** Per service, because test/aws/actions.test.ts checks each against that SDK's imported commands. */
export const RESOURCE_TAG_S3_ACTIONS_USED = ['s3:GetBucketTagging'] as const;
export const RESOURCE_TAG_GLUE_ACTIONS_USED = ['glue:GetTags'] as const;
/** Every action this adapter calls: the processing and reconcile functions' policies need these. */
export const RESOURCE_TAG_ACTIONS_USED = [...RESOURCE_TAG_S3_ACTIONS_USED, ...RESOURCE_TAG_GLUE_ACTIONS_USED] as const;

/** Not there, or not ours to read: no proof, but nothing a retry would change. */
const UNREADABLE_S3 = new Set(['NoSuchBucket', 'AccessDenied', 'AllAccessDisabled']);
const UNREADABLE_GLUE = new Set(['EntityNotFound', 'AccessDenied']);

export interface AwsResourceTagReaderOptions {
  /** Default: a client for the standard AWS configuration that follows buckets into their region. */
  s3Client?: S3Client;
  /**
   * Default: one client per table region (a Glue table's tags are served only in its region).
   * An injected client is used for every table, whatever its region: for tests and single-region setups.
   */
  glueClient?: GlueClient;
  /** Region of the default S3 client; default: the SDK's own resolution (`AWS_REGION`, shared config). */
  region?: string;
}

export class AwsResourceTagReader implements ResourceTagReader {
  private readonly s3: S3Client;
  private readonly injectedGlue: GlueClient | undefined;
  private readonly glueByRegion = new Map<string, GlueClient>();

  constructor(options: AwsResourceTagReaderOptions = {}) {
    this.s3 = options.s3Client ?? createResourceTagS3Client(options.region !== undefined ? { region: options.region } : {});
    this.injectedGlue = options.glueClient;
  }

  async tagsOf(resource: ProviderResource): Promise<Record<string, string> | undefined> {
    return resource.kind === 's3' ? this.bucketTags(resource.bucket) : this.tableTags(resource);
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

  private async tableTags(table: Extract<ProviderResource, { kind: 'glue-table' }>): Promise<Record<string, string> | undefined> {
    try {
      const { Tags = {} } = await this.glueFor(table.region).send(new GetTagsCommand({ ResourceArn: glueTableArn(table) }));
      return { ...Tags };
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && UNREADABLE_GLUE.has(code)) return undefined;
      throw error;
    }
  }

  private glueFor(region: string): GlueClient {
    if (this.injectedGlue) return this.injectedGlue;
    let client = this.glueByRegion.get(region);
    if (!client) {
      client = createGlueClient({ region });
      this.glueByRegion.set(region, client);
    }
    return client;
  }
}
