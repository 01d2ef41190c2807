/**
 * Target leases (src/interfaces/target-leases.ts) as small S3 objects in the state bucket,
 * `<prefix><sha256 of the target key>.json` holding `{ target, holder, expiresAt }`, taken and
 * given back with S3's conditional writes: `If-None-Match: *` creates a lease nobody ever took,
 * `If-Match: <ETag>` takes over a released or expired one and releases one's own. S3 lets exactly
 * one of several concurrent conditional writes to a key succeed (the others get 412, or 409
 * while another is in flight), which is what makes a lease exclusive. Lease objects are reused,
 * never deleted: a target's lease is one object for good.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { HeldLease, LeaseClaim, TakeResult, TargetLeases } from '../interfaces/target-leases.js';
import { parseJson } from '../util/parse-json.js';
import { createS3Client } from './clients.js';
import { awsErrorCode, httpStatusOf } from './errors.js';

/** Object reads and conditional writes under the prefix; nothing is listed or deleted. */
export const LEASE_ACTIONS_USED = ['s3:GetObject', 's3:PutObject'] as const;

export const DEFAULT_LEASE_PREFIX = 'leases/';

const leaseSchema = z.object({
  target: z.string(),
  holder: z.string(),
  /** ms since the epoch; 0 once released. */
  expiresAt: z.number(),
});

export interface S3TargetLeasesOptions {
  /** Default: createS3Client() from the standard AWS configuration. */
  client?: S3Client;
  bucket: string;
  /** Default {@link DEFAULT_LEASE_PREFIX}. */
  prefix?: string;
}

/** Released leases remembered for a one-write take (an ETag and a key each: about 150 bytes). */
const REMEMBERED_RELEASES = 10_000;

/** How often one take retries after losing a race for the same object, before reporting it held. */
const RACES = 3;

export class S3TargetLeases implements TargetLeases {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  /** The ETag of each lease this process gave back last, per object key. */
  private readonly releasedHere = new Map<string, string>();

  constructor(options: S3TargetLeasesOptions) {
    this.client = options.client ?? createS3Client();
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? DEFAULT_LEASE_PREFIX;
  }

  /** The object of a target's lease: hashed, since a target key (an ARN) may be longer than S3 allows. */
  objectKey(target: string): string {
    return `${this.prefix}${createHash('sha256').update(target).digest('hex')}.json`;
  }

  async tryTake(target: string, claim: LeaseClaim, now: number): Promise<TakeResult> {
    const key = this.objectKey(target);
    const body = JSON.stringify({ target, holder: claim.holder, expiresAt: claim.expiresAt });
    // Given back by this process and untouched since: that version is free, so one write takes it.
    const ours = this.releasedHere.get(key);
    if (ours !== undefined) {
      this.releasedHere.delete(key);
      const retaken = await this.put(key, body, { IfMatch: ours });
      if (retaken) return this.taken(key, target, claim, retaken);
    }
    let seen: LeaseClaim = { holder: '(unknown)', expiresAt: claim.expiresAt };
    for (let race = 0; race < RACES; race++) {
      const created = await this.put(key, body, { IfNoneMatch: '*' });
      if (created) return this.taken(key, target, claim, created);
      const current = await this.read(key);
      // Released and gone meanwhile cannot happen (nothing deletes), but a read racing a
      // create can miss it: try again.
      if (!current) continue;
      seen = current.lease;
      if (current.lease.expiresAt > now) return { taken: false, ...current.lease };
      const tookOver = await this.put(key, body, { IfMatch: current.etag });
      if (tookOver) return this.taken(key, target, claim, tookOver);
    }
    return { taken: false, ...seen };
  }

  private rememberRelease(key: string, etag: string): void {
    // Bounded: a process that touched more targets than this forgets the oldest (they cost 3 calls then).
    if (this.releasedHere.size >= REMEMBERED_RELEASES) {
      const oldest = this.releasedHere.keys().next().value;
      if (oldest !== undefined) this.releasedHere.delete(oldest);
    }
    this.releasedHere.set(key, etag);
  }

  private taken(key: string, target: string, claim: LeaseClaim, etag: string): TakeResult {
    const lease: HeldLease = {
      release: async () => {
        const released = JSON.stringify({ target, holder: claim.holder, expiresAt: 0 });
        // Not ours any more (taken over after it expired): nothing to give back.
        const version = await this.put(key, released, { IfMatch: etag });
        if (version !== undefined) this.rememberRelease(key, version);
      },
    };
    return { taken: true, lease };
  }

  /** The new ETag, or undefined when the condition failed (someone else wrote the object). */
  private async put(
    key: string,
    body: string,
    condition: { IfNoneMatch: string } | { IfMatch: string },
  ): Promise<string | undefined> {
    try {
      const { ETag } = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...condition,
        }),
      );
      if (!ETag) throw new Error(`lease s3://${this.bucket}/${key} was written without an ETag; leases need one`);
      return ETag;
    } catch (error) {
      const code = awsErrorCode(error);
      // 412: not the object the condition named. 409: another conditional write to it is in
      // flight. NoSuchKey: If-Match on an object that is not there.
      if (
        code === 'PreconditionFailed' ||
        code === 'ConditionalRequestConflict' ||
        code === 'NoSuchKey' ||
        httpStatusOf(error) === 412 ||
        httpStatusOf(error) === 409
      )
        return undefined;
      throw error;
    }
  }

  private async read(key: string): Promise<{ lease: LeaseClaim; etag: string } | undefined> {
    let text: string;
    let etag: string | undefined;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await object.Body?.transformToString('utf8')) ?? '';
      etag = object.ETag;
    } catch (error) {
      if (awsErrorCode(error) === 'NoSuchKey') return undefined;
      throw error;
    }
    const parsed = leaseSchema.safeParse(parseJson(text));
    // Something else under the lease prefix: a person must look; taking it over could break
    // whatever wrote it.
    if (!parsed.success || !etag)
      throw new Error(
        `s3://${this.bucket}/${key} is not a lease of this tool (expected JSON {"target", "holder", "expiresAt"} with an ETag)`,
      );
    return { lease: { holder: parsed.data.holder, expiresAt: parsed.data.expiresAt }, etag };
  }
}
