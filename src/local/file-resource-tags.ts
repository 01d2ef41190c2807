/**
 * The tags of provider resources for the local stand-in, so the ownership-proof guardrail can be
 * tried without AWS. Read from a YAML file:
 *
 * ```yaml
 * buckets:                       # bucket name → tags
 *   acme-orders: { dmm:data-product: orders }
 *   shared-lake: { dmm:data-product: "orders, returns" }   # several products share it
 * glueTables:                    # "<account>/<region>/<database>/<table>" or the table ARN → tags
 *   123456789012/eu-central-1/sales/orders: { dmm:data-product: orders }
 *   arn:aws:glue:eu-central-1:123456789012:table/sales/returns: { dmm:data-product: returns }
 * resources:                     # any resource by its ARN → tags
 *   arn:aws:s3:::acme-returns: { dmm:data-product: returns }
 *   arn:aws:kinesis:eu-central-1:123456789012:stream/clicks: { dmm:data-product: clicks }
 *   # An MSK cluster's tags prove its topics; a DynamoDB table's its stream.
 *   arn:aws:kafka:eu-central-1:123456789012:cluster/events/<uuid>-1: { dmm:data-product: "clicks, orders" }
 * ```
 *
 * A resource that is not listed does not exist (`undefined`); a listed one with `{}` has no tags.
 * As on AWS, S3 tags belong to the bucket: an S3 ARN is looked up by its bucket name, in any
 * partition.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  ARN_KINDS,
  canonicalArn,
  checkBucketName,
  checkGlueName,
  checkRegion,
  classifyArn,
  glueTableArn,
  normalizeAccount,
  parseArn,
  s3BucketArn,
  tagCarrierArn,
} from '../output-ports/arn.js';
import { PortFieldError, type ProviderResource, withPlainFieldErrors } from '../output-ports/port-type.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';

const tagsSchema = z.record(z.string(), z.string());

const fileSchema = z.strictObject({
  buckets: z.record(z.string(), tagsSchema).default({}),
  glueTables: z.record(z.string(), tagsSchema).default({}),
  resources: z.record(z.string(), tagsSchema).default({}),
});

/** The file's content, also the in-memory form for tests. */
export type ResourceTagsData = z.input<typeof fileSchema>;

type Tags = Record<string, string>;

export class FileResourceTags implements ResourceTagReader {
  /** S3 by bucket name: S3 tags belong to the bucket, and bucket names are unique. */
  private readonly buckets = new Map<string, Tags>();
  /** Everything else by ARN, in the one spelling every key form reduces to. */
  private readonly byArn = new Map<string, Tags>();

  /** From data in memory; `source` prefixes every error, as the file name does for a file. */
  constructor(data: ResourceTagsData = {}, source = 'resource tags') {
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new Error(`${source}: ${issues.join('; ')}`);
    }
    for (const [bucket, tags] of Object.entries(parsed.data.buckets)) {
      // A name S3 would refuse could never match a grant's bucket: say so instead of never matching.
      this.addBucket(
        withPlainFieldErrors(() => checkBucketName(`${source}: buckets.${bucket}`, bucket)),
        tags,
        `${source}: buckets.${bucket}`,
      );
    }
    for (const [key, tags] of Object.entries(parsed.data.glueTables)) {
      const arn = tableArnOf(key, source);
      if (this.byArn.has(arn))
        throw new Error(`${source}: glueTables.${key} names table ${arn}, which is already listed`);
      this.byArn.set(arn, tags);
    }
    for (const [key, tags] of Object.entries(parsed.data.resources))
      this.addResource(key, tags, `${source}: resources.${key}`);
  }

  /** Parse YAML text; `source` (usually the file name) prefixes every error. */
  static parse(text: string, source: string): FileResourceTags {
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (err) {
      throw new Error(`${source}: not valid YAML: ${(err as Error).message}`);
    }
    // An empty file lists no resources; anything but a mapping is left to the schema to name.
    return new FileResourceTags((value ?? {}) as ResourceTagsData, source);
  }

  static async fromFile(file: string): Promise<FileResourceTags> {
    return FileResourceTags.parse(await readFile(file, 'utf8'), file);
  }

  async tagsOf({ arn }: ProviderResource): Promise<Record<string, string> | undefined> {
    const parsed = parseArn('provider resource', arn);
    // As on AWS, a resource's tags may belong to another: an MSK topic's to its cluster, a DynamoDB stream's to its table.
    const tags =
      parsed.service === 's3'
        ? this.buckets.get(parsed.resource.split('/')[0] ?? '')
        : this.byArn.get(tagCarrierArn(arn));
    // A copy, so a caller cannot change what the next read sees.
    return tags === undefined ? undefined : { ...tags };
  }

  private addBucket(bucket: string, tags: Tags, field: string): void {
    if (this.buckets.has(bucket)) throw new Error(`${field} names bucket ${bucket}, which is already listed`);
    this.buckets.set(bucket, tags);
  }

  /** An ARN of any service; known kinds are checked and spelled as grants spell them (Glue names lower-cased). */
  private addResource(key: string, tags: Tags, field: string): void {
    const s3 = withPlainFieldErrors(() => {
      const arn = classifyArn(field, key);
      return arn?.kind === 's3' ? arn.location : undefined;
    });
    if (s3) {
      if (s3.prefix !== '')
        throw new Error(`${field} names an S3 folder, but S3 tags belong to the bucket: list ${s3BucketArn(s3)}`);
      this.addBucket(s3.bucket, tags, field);
      return;
    }
    const arn = withPlainFieldErrors(() => canonicalArn(field, key));
    if (this.byArn.has(arn)) throw new Error(`${field} names ${arn}, which is already listed`);
    this.byArn.set(arn, tags);
  }
}

/**
 * `<account>/<region>/<database>/<table>` (partition `aws`; other partitions use the ARN form) or
 * a Glue table ARN, as the table's ARN. The port modules' own checks apply, so names are
 * lower-cased as Glue stores them and as grants name them.
 */
function tableArnOf(key: string, source: string): string {
  const field = `${source}: glueTables.${key}`;
  return withPlainFieldErrors(() => {
    if (key.startsWith('arn:')) {
      const arn = classifyArn(field, key);
      if (arn?.kind !== 'glue-table') throw new PortFieldError(field, `is not ${ARN_KINDS['glue-table'].format}`);
      return glueTableArn(arn.table);
    }
    const parts = key.split('/');
    if (parts.length !== 4)
      throw new PortFieldError(field, 'is not "<account>/<region>/<database>/<table>" or a Glue table ARN');
    const [account = '', region = '', database = '', table = ''] = parts;
    return glueTableArn({
      partition: 'aws',
      account: normalizeAccount(field, account),
      region: checkRegion(field, region),
      database: checkGlueName(field, database),
      table: checkGlueName(field, table),
    });
  });
}
