import { PortFieldError } from './port-type.js';

/**
 * ARNs and S3 locations from metadata, parsed into parts and validated. Policy resources are
 * only ever rebuilt from these parts (see the `…Arn` builders), so whatever a user typed can
 * never reach a policy verbatim: no wildcards, no policy variables, no stray characters.
 */

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth colon. */
  resource: string;
}

export interface S3Location {
  partition: string;
  bucket: string;
  /** `''` for the whole bucket, else a key prefix ending in `/`, without a leading `/`. */
  prefix: string;
}

interface Regional {
  partition: string;
  region: string;
  account: string;
}
export type GlueCatalog = Regional;
export interface GlueDatabase extends Regional {
  database: string;
}
export interface GlueTable extends GlueDatabase {
  table: string;
}
export interface AthenaWorkgroup extends Regional {
  name: string;
}
export interface KmsKey extends Regional {
  keyId: string;
}
export interface KinesisStream extends Regional {
  name: string;
}
export interface DynamoTable extends Regional {
  name: string;
}
/** One stream of a table; its label is the stream's creation time. */
export interface DynamoStream extends DynamoTable {
  label: string;
}
/** An MSK cluster: its ARN carries the name and a UUID (`cluster/<name>/<uuid>`). */
export interface MskCluster extends Regional {
  name: string;
  uuid: string;
}
export interface MskTopic extends MskCluster {
  topic: string;
}
export interface S3TableBucket extends Regional {
  bucket: string;
}
export interface IamRole {
  partition: string;
  account: string;
  /** `/` or `/a/b/`. */
  path: string;
  name: string;
}

/**
 * An ARN of a kind some port type uses, recognised by service and resource type:
 * `{kind: 'glue-table', table: GlueTable}`. The kinds are the entries of `ARN_KINDS` below.
 */
export type PortArn = { [K in PortArnKind]: { kind: K } & { [P in KeyOfKind<K>]: ValueOfKind<K> } }[PortArnKind];
export type PortArnKind = keyof typeof ARN_KINDS;
type KeyOfKind<K extends PortArnKind> = (typeof ARN_KINDS)[K]['key'];
type ValueOfKind<K extends PortArnKind> = ReturnType<(typeof ARN_KINDS)[K]['parse']>;

// ---------------------------------------------------------------------------------------------
// Rules for the parts

const PARTITION = /^aws(-[a-z]+)*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
// Glue stores names in lower case and IAM compares resource names case-sensitively, so names
// are lower-cased before they go into an ARN; the character set is Glue's documented one.
const GLUE_NAME = /^[a-z0-9_-]{1,255}$/;
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
const ROLE_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
// Documented name rules of each service.
const KINESIS_STREAM = /^[A-Za-z0-9_.-]{1,128}$/;
const DYNAMO_TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
// A stream label is its creation time, like 2026-01-31T12:34:56.789.
const DYNAMO_STREAM_LABEL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;
const MSK_CLUSTER = /^[A-Za-z0-9-]{1,64}$/;
// MSK cluster ARNs end in a UUID and a suffix: `…/<uuid>-<n>`, serverless `…/<uuid>-s<n>`.
const MSK_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-s?\d+$/;
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const S3_TABLE_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const S3_TABLE_NAME = /^[a-z0-9_]{1,255}$/;
const ROLE_PATH_SEGMENT = /^[A-Za-z0-9+=,.@_-]+$/;

function fail(field: string, problem: string, value?: string): never {
  const shown = value === undefined ? '' : `: got "${value.length > 200 ? `${value.slice(0, 200)}…` : value}"`;
  throw new PortFieldError(field, `${problem}${shown}`);
}

/**
 * IAM expands `*` and `?` as wildcards and `${…}` as policy variables anywhere in a resource,
 * so any of them in metadata could widen a grant far beyond the port.
 */
export function rejectWildcards(field: string, value: string): void {
  if (/[*?]|\$\{/.test(value)) {
    fail(field, 'must not contain wildcards or policy variables (*, ?, ${…})', value);
  }
  // Policy documents only allow a narrow character set, and control characters or spaces in
  // an ARN are always a copy-paste accident.
  if (/[^\x21-\x7e]/.test(value)) fail(field, 'must contain only printable ASCII characters without spaces', value);
}

export function checkPartition(field: string, partition: string, expected: string): void {
  if (partition !== expected) {
    fail(field, `is in AWS partition "${partition}", but this tool manages an account in partition "${expected}"`);
  }
}

export function checkRegion(field: string, region: string): string {
  if (!REGION.test(region)) fail(field, 'is not an AWS region (like eu-central-1)', region);
  return region;
}

/** Accepts the ODCS spelling `1234-5678-9012` too. */
export function normalizeAccount(field: string, account: string): string {
  const digits = /^\d{4}-\d{4}-\d{4}$/.test(account) ? account.replaceAll('-', '') : account;
  if (!ACCOUNT.test(digits)) fail(field, 'is not a 12-digit AWS account id', account);
  return digits;
}

export function checkGlueName(field: string, name: string): string {
  const lower = name.toLowerCase();
  rejectWildcards(field, name);
  if (!GLUE_NAME.test(lower)) {
    fail(field, 'is not a valid Glue name (1-255 letters, digits, underscores or hyphens)', name);
  }
  return lower;
}

/** A name checked against a service's rule after the common wildcard check. */
export function checkName(field: string, name: string, rule: RegExp, what: string): string {
  rejectWildcards(field, name);
  if (!rule.test(name)) fail(field, `is not a valid ${what}`, name);
  return name;
}

export const checkStreamName = (field: string, name: string): string =>
  checkName(
    field,
    name,
    KINESIS_STREAM,
    'Kinesis stream name (1-128 letters, digits, periods, underscores or hyphens)',
  );
export const checkDynamoTableName = (field: string, name: string): string =>
  checkName(field, name, DYNAMO_TABLE, 'DynamoDB table name (3-255 letters, digits, periods, underscores or hyphens)');
export const checkTopicName = (field: string, name: string): string => {
  checkName(field, name, KAFKA_TOPIC, 'Kafka topic name (1-249 letters, digits, periods, underscores or hyphens)');
  if (name === '.' || name === '..') fail(field, 'is not a valid Kafka topic name', name);
  return name;
};
export const checkS3TableBucketName = (field: string, name: string): string =>
  checkName(field, name, S3_TABLE_BUCKET, 'S3 table bucket name (3-63 lower-case letters, digits or hyphens)');
/** S3 Tables namespaces and table names: lower-case letters, digits and underscores. */
export const checkS3TableName = (field: string, name: string): string =>
  checkName(field, name, S3_TABLE_NAME, 'S3 Tables namespace or table name (lower-case letters, digits, underscores)');

export function checkWorkgroupName(field: string, name: string): string {
  rejectWildcards(field, name);
  if (!WORKGROUP.test(name)) {
    fail(field, 'is not a valid Athena workgroup name (1-128 letters, digits, periods, underscores or hyphens)', name);
  }
  return name;
}

/** S3 general purpose bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
export function checkBucketName(field: string, bucket: string): string {
  const rule = (() => {
    if (bucket.length < 3 || bucket.length > 63) return 'must be 3-63 characters long';
    if (!/^[a-z0-9.-]+$/.test(bucket)) return 'may contain only lower-case letters, digits, periods and hyphens';
    if (!/^[a-z0-9].*[a-z0-9]$/.test(bucket)) return 'must begin and end with a letter or digit';
    if (bucket.includes('..')) return 'must not contain two adjacent periods';
    if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'must not be formatted as an IP address';
    if (/^(xn--|sthree-|amzn-s3-demo-)/.test(bucket))
      return 'must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)';
    if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(bucket))
      return 'must not end with a reserved suffix (it names an access point or a special bucket)';
    return undefined;
  })();
  if (rule) fail(field, `names an invalid S3 bucket: a bucket name ${rule}`, bucket);
  return bucket;
}

/** Normalises a key prefix to `''` or `a/b/`; rejects what could widen or break the grant. */
export function checkPrefix(field: string, raw: string): string {
  rejectWildcards(field, raw);
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    fail(field, 'has an empty, "." or ".." path segment in its S3 prefix', raw);
  }
  // An unresolved template such as ODCS's `{model}` would grant a path that does not exist.
  if (/[{}]/.test(trimmed)) fail(field, 'contains a template placeholder ({…}) instead of a concrete S3 prefix', raw);
  if (/[\\"]/.test(trimmed)) fail(field, 'contains a backslash or quote in its S3 prefix', raw);
  return `${trimmed}/`;
}

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseArn(field: string, value: string): Arn {
  rejectWildcards(field, value);
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(value);
  if (!m) fail(field, 'is not an ARN (expected arn:<partition>:<service>:<region>:<account>:<resource>)', value);
  const [, partition = '', service = '', region = '', account = '', resource = ''] = m;
  if (!PARTITION.test(partition)) fail(field, `has an invalid partition "${partition}"`, value);
  if (region !== '' && !REGION.test(region)) fail(field, `has an invalid region "${region}"`, value);
  if (account !== '' && !ACCOUNT.test(account))
    fail(field, `has an invalid account id "${account}" (expected 12 digits)`, value);
  return { partition, service, region, account, resource };
}

export function formatArn(a: Arn): string {
  return `arn:${a.partition}:${a.service}:${a.region}:${a.account}:${a.resource}`;
}

/**
 * An S3 location as metadata writes it: `s3://bucket/prefix/` (ODCS, DPS), or an S3 HTTPS URL in
 * virtual-hosted (`https://bucket.s3.eu-central-1.amazonaws.com/prefix/`) or path style
 * (`https://s3.eu-central-1.amazonaws.com/bucket/prefix/`). A location that ends in a pattern
 * (ODCS `s3://b/v2/{model}/*.json`) is granted at its fixed folder, the part before the first
 * `{`, `*` or `?` up to the last `/`: never the pattern itself, and never a whole bucket that the
 * location only matched through a pattern.
 */
export function parseS3Url(field: string, value: string, partition: string): S3Location {
  // Policy variables are never a template: refused, not cut off.
  if (/\$\{/.test(value)) fail(field, 'must not contain policy variables (${…})', value);
  if (/[^\x21-\x7e]/.test(value)) fail(field, 'must contain only printable ASCII characters without spaces', value);
  const { bucket, key } = s3UrlParts(field, value, partition);
  const pattern = key.search(/[{*?]/);
  if (pattern < 0) return { partition, bucket: checkBucketName(field, bucket), prefix: checkPrefix(field, key) };
  const fixed = key.slice(0, key.lastIndexOf('/', pattern) + 1);
  const prefix = checkPrefix(field, fixed);
  if (prefix === '') {
    fail(
      field,
      'has a wildcard or placeholder ({…}, *, ?) in its first folder, so it has no fixed S3 prefix; granting the whole bucket would be wider than the location: name the folder',
      value,
    );
  }
  return { partition, bucket: checkBucketName(field, bucket), prefix };
}

const S3_DNS_SUFFIX: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
};

/** Bucket and key (`/a/b`, possibly with a pattern) of an `s3://` or S3 HTTPS URL. */
function s3UrlParts(field: string, value: string, partition: string): { bucket: string; key: string } {
  const s3 = /^s3a?:\/\/([^/]*)(\/.*)?$/.exec(value);
  if (s3) return { bucket: s3[1] ?? '', key: s3[2] ?? '' };
  const https = /^https:\/\/([^/]+)(\/.*)?$/.exec(value);
  const suffix = S3_DNS_SUFFIX[partition];
  if (!https || !suffix)
    fail(
      field,
      'is not an S3 URL (expected s3://<bucket>/<prefix>/ or https://<bucket>.s3.<region>.amazonaws.com/<prefix>/)',
      value,
    );
  const host = (https[1] ?? '').toLowerCase();
  let path: string;
  try {
    // HTTPS paths are percent-encoded; the key is what they decode to (so `%2e%2e` is `..`).
    path = decodeURIComponent(https[2] ?? '');
  } catch {
    fail(field, 'has an invalid percent-encoding in its path', value);
  }
  const escaped = suffix.replaceAll('.', '\\.');
  // `s3.<region>`, `s3-<region>` (older regions) or global `s3`, then the partition's DNS suffix.
  const endpoint = new RegExp(`^(?:(.+)\\.)?s3(?:[.-]([a-z0-9-]+))?\\.${escaped}$`).exec(host);
  if (!endpoint) {
    fail(
      field,
      `is not an S3 URL: ${host} is not an Amazon S3 endpoint of partition ${partition} (access points and S3-compatible servers are not supported)`,
      value,
    );
  }
  const [, virtualBucket, region] = endpoint;
  if (region !== undefined) checkRegion(field, region);
  if (virtualBucket !== undefined) return { bucket: virtualBucket, key: path };
  const [, bucket = '', key = ''] = /^\/([^/]*)(\/.*)?$/.exec(path) ?? [];
  if (bucket === '') fail(field, 'is a path-style S3 URL without a bucket', value);
  return { bucket, key };
}

export function parseRoleArn(field: string, value: string): IamRole {
  const arn = parseArn(field, value);
  if (arn.service !== 'iam' || !arn.resource.startsWith('role/')) {
    fail(field, 'is not an IAM role ARN (arn:<partition>:iam::<account>:role/[<path>/]<name>)', value);
  }
  if (arn.region !== '') fail(field, 'must not have a region (IAM is global)', value);
  if (arn.account === '') fail(field, 'has no account id', value);
  const segments = arn.resource.slice('role/'.length).split('/');
  const name = segments.pop() ?? '';
  if (segments.some((s) => !ROLE_PATH_SEGMENT.test(s))) fail(field, 'has an invalid role path', value);
  return {
    partition: arn.partition,
    account: arn.account,
    path: segments.length === 0 ? '/' : `/${segments.join('/')}/`,
    name: checkRoleName(field, name),
  };
}

export function checkRoleName(field: string, name: string): string {
  rejectWildcards(field, name);
  if (!ROLE_NAME.test(name)) {
    const hint = name.startsWith('arn:') ? ' (this is an ARN; put it in custom.aws-role-arn instead)' : '';
    fail(field, `is not a valid IAM role name (1-64 letters, digits or +=,.@_-)${hint}`, name);
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Builders: the only way policy resources are made

export const s3BucketArn = (l: S3Location): string =>
  formatArn({ partition: l.partition, service: 's3', region: '', account: '', resource: l.bucket });
/** Objects in the location: `bucket/*` or `bucket/prefix/*`. */
export const s3ObjectsArn = (l: S3Location): string =>
  formatArn({ partition: l.partition, service: 's3', region: '', account: '', resource: `${l.bucket}/${l.prefix}*` });
export const s3Url = (l: S3Location): string => `s3://${l.bucket}/${l.prefix}`;

const regional = (service: string, r: Regional, resource: string): string =>
  formatArn({ partition: r.partition, service, region: r.region, account: r.account, resource });
export const glueCatalogArn = (c: GlueCatalog): string => regional('glue', c, 'catalog');
export const glueDatabaseArn = (d: GlueDatabase): string => regional('glue', d, `database/${d.database}`);
export const glueTableArn = (t: GlueTable): string => regional('glue', t, `table/${t.database}/${t.table}`);
export const athenaWorkgroupArn = (w: AthenaWorkgroup): string => regional('athena', w, `workgroup/${w.name}`);
export const kmsKeyArn = (k: KmsKey): string => regional('kms', k, `key/${k.keyId}`);
export const kinesisStreamArn = (k: KinesisStream): string => regional('kinesis', k, `stream/${k.name}`);
/**
 * The stream's enhanced fan-out consumers. Their ARNs end in `<name>:<creation timestamp>`, which
 * nobody can know ahead, so the service's ARN scheme needs the wildcard.
 */
export const kinesisConsumersArn = (k: KinesisStream): string => `${kinesisStreamArn(k)}/consumer/*`;
export const dynamoTableArn = (t: DynamoTable): string => regional('dynamodb', t, `table/${t.name}`);
export const dynamoIndexesArn = (t: DynamoTable): string => `${dynamoTableArn(t)}/index/*`;
export const dynamoStreamArn = (s: DynamoStream): string => `${dynamoTableArn(s)}/stream/${s.label}`;
export const mskClusterArn = (c: MskCluster): string => regional('kafka', c, `cluster/${c.name}/${c.uuid}`);
export const mskTopicArn = (t: MskTopic): string => regional('kafka', t, `topic/${t.name}/${t.uuid}/${t.topic}`);
/** Consumer groups of the cluster whose names start with `prefix` (IAM has no other way to name a group set). */
export const mskGroupsArn = (c: MskCluster, prefix: string): string =>
  regional('kafka', c, `group/${c.name}/${c.uuid}/${prefix}*`);
export const s3TableBucketArn = (b: S3TableBucket): string => regional('s3tables', b, `bucket/${b.bucket}`);
/** The bucket's tables: a table's ARN ends in its id, unknown ahead; conditions on namespace and name pick the one table. */
export const s3TablesArn = (b: S3TableBucket): string => `${s3TableBucketArn(b)}/table/*`;
export const iamRoleArn = (r: IamRole): string =>
  formatArn({
    partition: r.partition,
    service: 'iam',
    region: '',
    account: r.account,
    resource: `role${r.path}${r.name}`,
  });

/** The location as an ARN: `bucket` or `bucket/prefix/`. It names the location; policies use the two builders above. */
export const s3LocationArn = (l: S3Location): string =>
  formatArn({
    partition: l.partition,
    service: 's3',
    region: '',
    account: '',
    resource: `${l.bucket}${l.prefix === '' ? '' : `/${l.prefix}`}`,
  });

/**
 * The ARN whose tags speak for a resource: an S3 folder's bucket (S3 tags belong to the bucket),
 * a DynamoDB stream's or index's table (they are the table's), an MSK topic's cluster (Kafka
 * topics cannot be tagged), anything else itself.
 */
export function tagCarrierArn(arn: string): string {
  const s3 = /^(arn:[^:]+:s3:::[^/]+)\//.exec(arn);
  if (s3) return s3[1]!;
  const dynamo = /^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+)\//.exec(arn);
  if (dynamo) return dynamo[1]!;
  const topic = /^(arn:[^:]+:kafka:[^:]*:[^:]*:)topic\/([^/]+\/[^/]+)\/[^/]+$/.exec(arn);
  return topic ? `${topic[1]}cluster/${topic[2]}` : arn;
}

// ---------------------------------------------------------------------------------------------
// ARN kinds: every ARN a port type may take from metadata. Adding a kind is one entry in ARN_KINDS.

/**
 * What an ARN kind declares. `V` is its parsed value, which carries its partition (checked against
 * the managed account's); `P` the PortArn property holding it.
 */
interface ArnKind<P extends string, V extends { partition: string }> {
  service: string;
  /** `global` ARNs name no region and no account (S3 buckets); `regional` ones need both. */
  scope: 'global' | 'regional';
  /** The shape of the ARN's resource part; its capture groups go to `parse`. */
  resource: RegExp;
  /** Validates the captured parts into the value; throws PortFieldError naming `field`. */
  parse(field: string, groups: readonly string[], arn: Arn): V;
  key: P;
  /** The ARN rebuilt from the value: one spelling for every way metadata may write it. */
  arnOf(value: V): string;
  /** How people read the resource in diagnostics. */
  describe(value: V): string;
  /**
   * For "is not …" messages: the service's nouns are joined (`a Glue catalog, database or table
   * ARN`), followed by the hints.
   */
  noun: string;
  hint?: string;
  /** The whole form, for "must be …" messages. */
  format: string;
  /** The reference integration's custom field that must hold this kind (`aws-glue-table-arn`). */
  knownField?: string;
}
type AnyArnKind = ArnKind<string, { partition: string }>;

/** Only infers `P` and `V` for each entry. */
const arnKind = <P extends string, V extends { partition: string }>(kind: ArnKind<P, V>): ArnKind<P, V> => kind;
const regionalOf = (arn: Arn): Regional => ({ partition: arn.partition, region: arn.region, account: arn.account });
const accountAndRegion = (r: Regional): string => `(account ${r.account}, ${r.region})`;

export const ARN_KINDS = {
  s3: arnKind({
    service: 's3',
    scope: 'global',
    resource: /^(?!accesspoint\/)([^/]*)(\/.*)?$/,
    parse: (field, [bucket = '', prefix = ''], arn) => ({
      partition: arn.partition,
      bucket: checkBucketName(field, bucket),
      prefix: checkPrefix(field, prefix),
    }),
    key: 'location',
    arnOf: s3LocationArn,
    describe: (l) => (l.prefix === '' ? `S3 bucket ${l.bucket}` : `S3 folder ${s3Url(l)}`),
    noun: 'an S3 bucket',
    hint: '(access points and other S3 resources are not supported)',
    format: 'an S3 bucket or folder ARN (arn:<partition>:s3:::<bucket>[/<prefix>])',
    knownField: 'aws-s3-bucket-arn',
  }),
  'glue-catalog': arnKind({
    service: 'glue',
    scope: 'regional',
    resource: /^catalog$/,
    parse: (_field, _groups, arn): GlueCatalog => regionalOf(arn),
    key: 'catalog',
    arnOf: glueCatalogArn,
    describe: (c) => `Glue catalog ${accountAndRegion(c)}`,
    noun: 'a Glue catalog',
    format: 'a Glue catalog ARN (arn:<partition>:glue:<region>:<account>:catalog)',
    knownField: 'aws-glue-catalog-arn',
  }),
  'glue-database': arnKind({
    service: 'glue',
    scope: 'regional',
    resource: /^database\/([^/]*)$/,
    parse: (field, [database = ''], arn): GlueDatabase => ({
      ...regionalOf(arn),
      database: checkGlueName(field, database),
    }),
    key: 'database',
    arnOf: glueDatabaseArn,
    describe: (d) => `Glue database ${d.database} ${accountAndRegion(d)}`,
    noun: 'a Glue database',
    format: 'a Glue database ARN (arn:<partition>:glue:<region>:<account>:database/<database>)',
    knownField: 'aws-glue-database-arn',
  }),
  'glue-table': arnKind({
    service: 'glue',
    scope: 'regional',
    resource: /^table\/([^/]*)\/([^/]*)$/,
    parse: (field, [database = '', table = ''], arn): GlueTable => ({
      ...regionalOf(arn),
      database: checkGlueName(field, database),
      table: checkGlueName(field, table),
    }),
    key: 'table',
    arnOf: glueTableArn,
    describe: (t) => `Glue table ${t.database}.${t.table} ${accountAndRegion(t)}`,
    noun: 'a Glue table',
    format: 'a Glue table ARN (arn:<partition>:glue:<region>:<account>:table/<database>/<table>)',
    knownField: 'aws-glue-table-arn',
  }),
  'athena-workgroup': arnKind({
    service: 'athena',
    scope: 'regional',
    resource: /^workgroup\/([^/]*)$/,
    parse: (field, [name = ''], arn): AthenaWorkgroup => ({
      ...regionalOf(arn),
      name: checkWorkgroupName(field, name),
    }),
    key: 'workgroup',
    arnOf: athenaWorkgroupArn,
    describe: (w) => `Athena workgroup ${w.name} ${accountAndRegion(w)}`,
    noun: 'an Athena workgroup',
    format: 'an Athena workgroup ARN (arn:<partition>:athena:<region>:<account>:workgroup/<name>)',
    knownField: 'aws-athena-workgroup-arn',
  }),
  'kinesis-stream': arnKind({
    service: 'kinesis',
    scope: 'regional',
    resource: /^stream\/([^/]*)$/,
    parse: (field, [name = ''], arn): KinesisStream => ({ ...regionalOf(arn), name: checkStreamName(field, name) }),
    key: 'stream',
    arnOf: kinesisStreamArn,
    describe: (k) => `Kinesis stream ${k.name} ${accountAndRegion(k)}`,
    noun: 'a Kinesis stream',
    hint: '(stream/<name>; consumer ARNs are not a port)',
    format: 'a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)',
    knownField: 'aws-kinesis-stream-arn',
  }),
  'dynamodb-table': arnKind({
    service: 'dynamodb',
    scope: 'regional',
    resource: /^table\/([^/]*)$/,
    parse: (field, [name = ''], arn): DynamoTable => ({ ...regionalOf(arn), name: checkDynamoTableName(field, name) }),
    key: 'table',
    arnOf: dynamoTableArn,
    describe: (t) => `DynamoDB table ${t.name} ${accountAndRegion(t)}`,
    noun: 'a DynamoDB table',
    hint: '(table/<name> or table/<name>/stream/<label>; index and backup ARNs are not a port)',
    format: 'a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)',
    knownField: 'aws-dynamodb-table-arn',
  }),
  'dynamodb-stream': arnKind({
    service: 'dynamodb',
    scope: 'regional',
    resource: /^table\/([^/]*)\/stream\/([^/]*)$/,
    parse: (field, [name = '', label = ''], arn): DynamoStream => ({
      ...regionalOf(arn),
      name: checkDynamoTableName(field, name),
      label: checkName(
        field,
        label,
        DYNAMO_STREAM_LABEL,
        'DynamoDB stream label (its creation time, 2026-01-31T12:34:56.789)',
      ),
    }),
    key: 'stream',
    arnOf: dynamoStreamArn,
    describe: (s) => `DynamoDB stream ${s.label} of table ${s.name} ${accountAndRegion(s)}`,
    noun: 'a DynamoDB stream',
    format: 'a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)',
    knownField: 'aws-dynamodb-stream-arn',
  }),
  'msk-cluster': arnKind({
    service: 'kafka',
    scope: 'regional',
    resource: /^cluster\/([^/]*)\/([^/]*)$/,
    parse: (field, [name = '', uuid = ''], arn): MskCluster => ({
      ...regionalOf(arn),
      name: checkName(field, name, MSK_CLUSTER, 'MSK cluster name'),
      uuid: checkName(field, uuid, MSK_UUID, 'MSK cluster UUID (<uuid>-<n>)'),
    }),
    key: 'cluster',
    arnOf: mskClusterArn,
    describe: (c) => `MSK cluster ${c.name} ${accountAndRegion(c)}`,
    noun: 'an MSK cluster',
    hint: '(cluster/<name>/<uuid> or topic/<cluster>/<uuid>/<topic>; group ARNs are not a port)',
    format: 'an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>)',
    knownField: 'aws-msk-cluster-arn',
  }),
  'msk-topic': arnKind({
    service: 'kafka',
    scope: 'regional',
    resource: /^topic\/([^/]*)\/([^/]*)\/([^/]*)$/,
    parse: (field, [name = '', uuid = '', topic = ''], arn): MskTopic => ({
      ...regionalOf(arn),
      name: checkName(field, name, MSK_CLUSTER, 'MSK cluster name'),
      uuid: checkName(field, uuid, MSK_UUID, 'MSK cluster UUID (<uuid>-<n>)'),
      topic: checkTopicName(field, topic),
    }),
    key: 'topic',
    arnOf: mskTopicArn,
    describe: (t) => `Kafka topic ${t.topic} of MSK cluster ${t.name} ${accountAndRegion(t)}`,
    noun: 'an MSK topic',
    format: 'an MSK topic ARN (arn:<partition>:kafka:<region>:<account>:topic/<cluster>/<uuid>/<topic>)',
    knownField: 'aws-msk-topic-arn',
  }),
  's3tables-bucket': arnKind({
    service: 's3tables',
    scope: 'regional',
    resource: /^bucket\/([^/]*)$/,
    parse: (field, [bucket = ''], arn): S3TableBucket => ({
      ...regionalOf(arn),
      bucket: checkS3TableBucketName(field, bucket),
    }),
    key: 'tableBucket',
    arnOf: s3TableBucketArn,
    describe: (b) => `S3 table bucket ${b.bucket} ${accountAndRegion(b)}`,
    noun: 'an S3 table bucket',
    hint: '(bucket/<name>; name the table in server.namespace and server.table)',
    format: 'an S3 table bucket ARN (arn:<partition>:s3tables:<region>:<account>:bucket/<name>)',
    knownField: 'aws-s3tables-bucket-arn',
  }),
  'kms-key': arnKind({
    service: 'kms',
    scope: 'regional',
    // Key policies and grants authorise the key itself; an alias ARN in kms:Decrypt matches nothing.
    resource: /^key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/,
    parse: (_field, [keyId = ''], arn): KmsKey => ({ ...regionalOf(arn), keyId }),
    key: 'key',
    arnOf: kmsKeyArn,
    describe: (k) => `KMS key ${k.keyId} ${accountAndRegion(k)}`,
    noun: 'a KMS key',
    hint: '(key/<key-id>; aliases cannot be used)',
    format: 'a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key-id>)',
    knownField: 'aws-kms-key-arn',
  }),
};

const KINDS = Object.entries(ARN_KINDS) as [PortArnKind, AnyArnKind][];
const kindOf = (kind: PortArnKind): AnyArnKind => ARN_KINDS[kind] as AnyArnKind;
/** The parsed value inside a PortArn (`arn.table` for a glue-table), for code that handles every kind alike. */
const partsOf = (arn: PortArn): { partition: string } =>
  (arn as unknown as Record<string, { partition: string }>)[kindOf(arn.kind).key] as { partition: string };

/**
 * Recognises an ARN of a kind some port type uses. Returns `undefined` for other services (the
 * caller decides whether that is an error); a known service with an unusable resource throws.
 */
export function classifyArn(field: string, value: string): PortArn | undefined {
  const arn = parseArn(field, value);
  const kinds = KINDS.filter(([, kind]) => kind.service === arn.service);
  if (kinds.length === 0) return undefined;
  for (const [name, kind] of kinds) {
    if (kind.scope === 'regional') {
      if (arn.region === '') fail(field, 'has no region', value);
      if (arn.account === '') fail(field, 'has no account id', value);
    } else if (arn.region !== '' || arn.account !== '') {
      continue;
    }
    const match = kind.resource.exec(arn.resource);
    if (match)
      return {
        kind: name,
        [kind.key]: kind.parse(
          field,
          match.slice(1).map((g) => g ?? ''),
          arn,
        ),
      } as PortArn;
  }
  const hints = kinds.flatMap(([, kind]) => (kind.hint ? [` ${kind.hint}`] : [])).join('');
  return fail(field, `is not ${oneOf(kinds.map(([, kind]) => kind.noun))} ARN${hints}`, value);
}

/** `a Glue catalog`, `a Glue table` → `a Glue catalog or table`: the words all nouns share are said once. */
function oneOf(nouns: readonly string[]): string {
  const words = nouns.map((n) => n.split(' '));
  const first = words[0] ?? [];
  let shared = 0;
  while (words.every((w) => w.length > shared + 1 && w[shared] === first[shared])) shared++;
  const rests = words.map((w) => w.slice(shared).join(' '));
  const listed = rests.length > 1 ? `${rests.slice(0, -1).join(', ')} or ${rests.at(-1)}` : rests.join('');
  return [...first.slice(0, shared), listed].join(' ');
}

/** The kind the reference integration's field `key` (`aws-glue-table-arn`) must hold, if it is one of its well-known names. */
export function kindOfKnownField(key: string): PortArnKind | undefined {
  return KINDS.find(([, kind]) => kind.knownField === key)?.[0];
}

export const arnPartition = (arn: PortArn): string => partsOf(arn).partition;

/** One spelling of an ARN: a known kind rebuilt from its checked parts (Glue names lower-cased), any other one as parsed. */
export function canonicalArn(field: string, value: string): string {
  const arn = classifyArn(field, value);
  return arn ? kindOf(arn.kind).arnOf(partsOf(arn)) : formatArn(parseArn(field, value));
}

/** How people read a resource named by its ARN (`Glue table sales.orders (account …, eu-central-1)`); other ARNs as they are. */
export function describeArn(value: string): string {
  try {
    const arn = classifyArn('ARN', value);
    return arn ? kindOf(arn.kind).describe(partsOf(arn)) : value;
  } catch (error) {
    if (error instanceof PortFieldError) return value;
    throw error;
  }
}
