/**
 * The agreement index (src/sync/agreement-index.ts) in S3: one small JSON object per agreement,
 * `<prefix><encodeURIComponent(agreement id)>.json` holding `{ agreementId, roleArns }`. One object
 * per agreement keeps each event's read and write to a single small request, and lets the two
 * writers (process-events and the full reconcile) touch different agreements without a
 * read-modify-write of a shared document.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { normalizeHoldings, type AgreementIndex } from '../sync/agreement-index.js';
import { mapLimit } from '../util/map-limit.js';
import { parseJson } from '../util/parse-json.js';
import { createS3Client } from './clients.js';
import { awsErrorCode, messageOf } from './errors.js';

/**
 * Object reads and writes under the prefix, and the listing of the prefix (ListObjectsV2 is
 * authorised as s3:ListBucket) for the full reconcile. S3 also answers a missing key with
 * NoSuchKey only to a caller that may list the bucket (otherwise 403).
 */
export const INDEX_ACTIONS_USED = ['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'] as const;

export const DEFAULT_INDEX_PREFIX = 'index/agreements/';

/**
 * `roleArns` holds the role holdings (the only kind before other grant targets existed, so old
 * entries read as they are); `holdings` the others (resource ARNs, Lake Formation holdings).
 */
const entrySchema = z.object({
  agreementId: z.string().min(1),
  roleArns: z.array(z.string().min(1)),
  holdings: z.array(z.string().min(1)).optional(),
});

const isRoleArn = (holding: string) => /^arn:[a-z-]+:iam::\d{12}:role\//.test(holding);

export interface S3AgreementIndexOptions {
  /** Default: createS3Client() from the standard AWS configuration. */
  client?: S3Client;
  bucket: string;
  /** Key prefix of the entries; default {@link DEFAULT_INDEX_PREFIX}. */
  prefix?: string;
}

export class S3AgreementIndex implements AgreementIndex {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(options: S3AgreementIndexOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? DEFAULT_INDEX_PREFIX;
    this.client = options.client ?? createS3Client();
  }

  /** The object key of an agreement's entry; ids may hold any character, keys stay plain. */
  keyOf(agreementId: string): string {
    return `${this.prefix}${encodeURIComponent(agreementId)}.json`;
  }

  async holdingsOf(agreementId: string): Promise<string[] | undefined> {
    const key = this.keyOf(agreementId);
    let text: string;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (awsErrorCode(error) === 'NoSuchKey') return undefined;
      throw new Error(
        `cannot read agreement index entry ${this.location(key)}: ${awsErrorCode(error) ?? 'error'}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const parsed = entrySchema.safeParse(parseJson(text));
    // An entry for another id would send a revoke to the wrong roles: treat it as damage.
    if (!parsed.success || parsed.data.agreementId !== agreementId) {
      throw new Error(
        `agreement index entry ${this.location(key)} is damaged: expected JSON {"agreementId": "${agreementId}", "roleArns": [...]}; delete it, the next full reconcile writes it again`,
      );
    }
    return normalizeHoldings([...parsed.data.roleArns, ...(parsed.data.holdings ?? [])]);
  }

  async record(agreementId: string, holdings: string[]): Promise<void> {
    const key = this.keyOf(agreementId);
    const entry = normalizeHoldings(holdings);
    const others = entry.filter((h) => !isRoleArn(h));
    try {
      const body = `${JSON.stringify({ agreementId, roleArns: entry.filter(isRoleArn), ...(others.length > 0 ? { holdings: others } : {}) })}\n`;
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
      );
    } catch (error) {
      throw new Error(
        `cannot write agreement index entry ${this.location(key)}: ${awsErrorCode(error) ?? 'error'}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  async forget(agreementId: string): Promise<void> {
    const key = this.keyOf(agreementId);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw new Error(
        `cannot delete agreement index entry ${this.location(key)}: ${awsErrorCode(error) ?? 'error'}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /** Lists the prefix (s3:ListBucket) and reads every entry. */
  async list(): Promise<Map<string, string[]>> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const { Key } of page.Contents ?? []) {
        if (Key?.endsWith('.json')) ids.push(decodeURIComponent(Key.slice(this.prefix.length, -'.json'.length)));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const entries = await mapLimit(ids, 8, async (id) => [id, await this.holdingsOf(id)] as const);
    return new Map(entries.filter((e): e is readonly [string, string[]] => e[1] !== undefined));
  }

  private location(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}
