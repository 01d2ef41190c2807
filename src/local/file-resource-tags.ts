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
 * ```
 *
 * A resource that is not listed does not exist (`undefined`); a listed one with `{}` has no tags.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ARN_KIND_FORMAT, checkBucketName, checkGlueName, checkRegion, classifyArn, glueTableArn, normalizeAccount } from '../output-ports/arn.js';
import { PortFieldError, type ProviderResource } from '../output-ports/port-type.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';

const tagsSchema = z.record(z.string(), z.string());

const fileSchema = z.strictObject({
  buckets: z.record(z.string(), tagsSchema).default({}),
  glueTables: z.record(z.string(), tagsSchema).default({}),
});

/** The file's content, also the in-memory form for tests. */
export type ResourceTagsData = z.input<typeof fileSchema>;

type Tags = Record<string, string>;

export class FileResourceTags implements ResourceTagReader {
  private readonly buckets: Map<string, Tags>;
  /** By table ARN, the one spelling both key forms reduce to. */
  private readonly tables: Map<string, Tags>;

  /** From data in memory; `source` prefixes every error, as the file name does for a file. */
  constructor(data: ResourceTagsData = {}, source = 'resource tags') {
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new Error(`${source}: ${issues.join('; ')}`);
    }
    this.buckets = new Map();
    for (const [bucket, tags] of Object.entries(parsed.data.buckets)) {
      // A name S3 would refuse could never match a grant's bucket: say so instead of never matching.
      this.buckets.set(plainErrors(() => checkBucketName(`${source}: buckets.${bucket}`, bucket)), tags);
    }
    this.tables = new Map();
    for (const [key, tags] of Object.entries(parsed.data.glueTables)) {
      const arn = tableArnOf(key, source);
      if (this.tables.has(arn)) throw new Error(`${source}: glueTables.${key} names table ${arn}, which is already listed`);
      this.tables.set(arn, tags);
    }
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

  async tagsOf(resource: ProviderResource): Promise<Record<string, string> | undefined> {
    const tags = resource.kind === 's3' ? this.buckets.get(resource.bucket) : this.tables.get(glueTableArn(resource));
    // A copy, so a caller cannot change what the next read sees.
    return tags === undefined ? undefined : { ...tags };
  }
}

/**
 * `<account>/<region>/<database>/<table>` (partition `aws`; other partitions use the ARN form) or
 * a Glue table ARN, as the table's ARN. The port modules' own checks apply, so names are
 * lower-cased as Glue stores them and as grants name them.
 */
function tableArnOf(key: string, source: string): string {
  const field = `${source}: glueTables.${key}`;
  return plainErrors(() => {
    if (key.startsWith('arn:')) {
      const arn = classifyArn(field, key);
      if (arn?.kind !== 'glue-table') throw new PortFieldError(field, `is not ${ARN_KIND_FORMAT['glue-table']}`);
      return glueTableArn(arn.table);
    }
    const parts = key.split('/');
    if (parts.length !== 4) throw new PortFieldError(field, 'is not "<account>/<region>/<database>/<table>" or a Glue table ARN');
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

/**
 * The port modules' checks throw PortFieldError, which the sync reports as bad metadata; a bad
 * fixture is a plain error (the field and value are in the message already).
 */
function plainErrors<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof PortFieldError) throw new Error(err.message);
    throw err;
  }
}
