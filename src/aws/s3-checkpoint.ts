/**
 * The poller's checkpoint as an S3 object `{ lastEventId, updatedAt }`, written with S3's
 * conditional writes: a write succeeds only if the object is still the one this instance last
 * read or wrote. Two pollers that overlap (a slow Lambda and the next scheduled one) therefore
 * cannot move the checkpoint back: the slower one gets CheckpointConflictError and must stop.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Checkpoint } from '../interfaces/event-queue.js';
import { parseJson } from '../util/parse-json.js';
import { createS3Client } from './clients.js';
import { awsErrorCode, httpStatusOf, messageOf } from './errors.js';

export const S3_ACTIONS_USED = ['s3:GetObject', 's3:PutObject'] as const;

const checkpointSchema = z.object({
  lastEventId: z.string().min(1),
  updatedAt: z.string(),
});

/** Another writer changed the checkpoint since this instance read it: stop, do not overwrite. */
export class CheckpointConflictError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {
    super(
      `checkpoint s3://${bucket}/${key} was changed by another poller since it was read; stopping without overwriting it`,
    );
    this.name = 'CheckpointConflictError';
  }
}

export interface S3CheckpointOptions {
  /** Default: createS3Client() from the standard AWS configuration. */
  client?: S3Client;
  bucket: string;
  key: string;
  /** Clock for `updatedAt`; injectable for tests. */
  now?: () => Date;
}

/**
 * What this instance knows of the object: its ETag, that it does not exist, or nothing yet. A
 * write before any read assumes a new checkpoint: overwriting one it never saw is the very
 * thing the conditional write prevents.
 */
type Known = { etag: string } | 'absent' | 'unknown';

export class S3Checkpoint implements Checkpoint {
  readonly bucket: string;
  readonly key: string;
  private readonly client: S3Client;
  private readonly now: () => Date;
  private known: Known = 'unknown';

  constructor(options: S3CheckpointOptions) {
    this.bucket = options.bucket;
    this.key = options.key;
    this.client = options.client ?? createS3Client();
    this.now = options.now ?? (() => new Date());
  }

  async read(): Promise<string | undefined> {
    let text: string;
    let etag: string | undefined;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      text = (await object.Body?.transformToString('utf8')) ?? '';
      etag = object.ETag;
    } catch (error) {
      if (awsErrorCode(error) === 'NoSuchKey') {
        this.known = 'absent';
        return undefined;
      }
      throw new Error(
        `cannot read checkpoint ${this.location}: ${awsErrorCode(error) ?? 'error'}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (!etag) throw new Error(`checkpoint ${this.location} has no ETag; conditional writes need one`);
    // Starting over from the beginning would replay the whole feed: a damaged checkpoint is an
    // error for a person to look at, never "no checkpoint".
    const parsed = checkpointSchema.safeParse(parseJson(text));
    if (!parsed.success) {
      throw new Error(
        `checkpoint ${this.location} is damaged: expected JSON {"lastEventId": "...", "updatedAt": "..."}`,
      );
    }
    this.known = { etag };
    return parsed.data.lastEventId;
  }

  async write(lastEventId: string): Promise<void> {
    if (lastEventId.length === 0) throw new Error('checkpoint: lastEventId must not be empty');
    const body = `${JSON.stringify({ lastEventId, updatedAt: this.now().toISOString() })}\n`;
    const condition = typeof this.known === 'object' ? { IfMatch: this.known.etag } : { IfNoneMatch: '*' };
    try {
      const { ETag } = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: body,
          ContentType: 'application/json',
          ...condition,
        }),
      );
      // Without an ETag the next write could not be conditional; read() learns it again.
      this.known = ETag ? { etag: ETag } : 'unknown';
    } catch (error) {
      const code = awsErrorCode(error);
      // 412: the object is not the one we knew. 409 ConditionalRequestConflict: another
      // conditional write to it is in progress. Either way someone else is moving the checkpoint.
      if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || httpStatusOf(error) === 412) {
        throw new CheckpointConflictError(this.bucket, this.key);
      }
      throw new Error(`cannot write checkpoint ${this.location}: ${code ?? 'error'}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  private get location(): string {
    return `s3://${this.bucket}/${this.key}`;
  }
}
