/**
 * Properties of the policy compiler for ANY port metadata, valid or not (fast-check).
 *
 * The allowed action sets below are written from docs/port-types.md, independently of the code:
 * if a port module ever grants an action that document does not promise, these tests fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutputPort } from '../../src/model/data-product.js';
import { identityStatements } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import type { ProviderResource, ResolveOptions } from '../../src/output-ports/port-type.js';
import { PORT_TYPES, planPort } from '../../src/output-ports/registry.js';
import { constrainStatements, defaultGuardrails, type Guardrails } from '../../src/sync/guardrails.js';
import { agreementIdFromSid, statementSid } from '../../src/targets/sid.js';
import { actionsOf, listOf, resourcesOf } from './helpers.js';

const ACCOUNT = '123456789012';
const OTHER = '999999999999';
const RESULTS_BUCKET = 'acme-athena-results';
const RESULTS_PREFIX = 'consumers/';
const NUM_RUNS = 400;
const CONSUMER = { roleArn: `arn:aws:iam::${ACCOUNT}:role/consumer`, account: ACCOUNT };

// ---- The promise, from docs/port-types.md ---------------------------------------------------------

const S3_READ = ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'];
const KMS = ['kms:Decrypt'];
const ALLOWED_ACTIONS: Record<string, ReadonlySet<string>> = {
  s3_bucket: new Set([...S3_READ, ...KMS]),
  s3_prefix: new Set([...S3_READ, ...KMS]),
  glue_table: new Set([
    'athena:StartQueryExecution',
    'athena:GetQueryExecution',
    'athena:GetQueryResults',
    'athena:StopQueryExecution',
    'athena:GetWorkGroup',
    'glue:GetDatabase',
    'glue:GetTable',
    'glue:GetPartition',
    'glue:GetPartitions',
    'glue:BatchGetPartition',
    ...S3_READ,
    // Only on the configured query-result location (checked separately).
    's3:PutObject',
    's3:AbortMultipartUpload',
    ...KMS,
  ]),
  kinesis_stream: new Set([
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:ListShards',
    'kinesis:GetShardIterator',
    'kinesis:GetRecords',
    'kinesis:RegisterStreamConsumer',
    'kinesis:ListStreamConsumers',
    'kinesis:DescribeStreamConsumer',
    'kinesis:SubscribeToShard',
    ...KMS,
  ]),
  dynamodb_table: new Set([
    'dynamodb:DescribeTable',
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    // Only with a stream ARN the port names.
    'dynamodb:DescribeStream',
    'dynamodb:GetShardIterator',
    'dynamodb:GetRecords',
    ...KMS,
    'kms:DescribeKey',
  ]),
  msk_topic: new Set([
    'kafka-cluster:Connect',
    'kafka-cluster:DescribeCluster',
    'kafka-cluster:DescribeTopic',
    'kafka-cluster:ReadData',
    // Only on groups named with the consumer role's prefix (the SCHEME_WILDCARDS entry).
    'kafka-cluster:DescribeGroup',
    'kafka-cluster:AlterGroup',
  ]),
  s3_table: new Set([
    's3tables:GetTableBucket',
    's3tables:GetNamespace',
    's3tables:GetTable',
    's3tables:GetTableMetadataLocation',
    's3tables:GetTableData',
    ...KMS,
  ]),
};
/**
 * The wildcards a service's ARN scheme requires, added by the tool after names from metadata:
 * S3 objects (`/*`), Kinesis consumers (name and creation time), DynamoDB indexes,
 * S3 Tables tables (by id), MSK consumer groups named with the consumer's prefix.
 */
const SCHEME_WILDCARDS = [
  /^arn:aws:s3:::.+\/\*$/,
  /^arn:aws:kinesis:[^:]+:\d{12}:stream\/[^/*]+\/consumer\/\*$/,
  /^arn:aws:dynamodb:[^:]+:\d{12}:table\/[^/*]+\/index\/\*$/,
  /^arn:aws:s3tables:[^:]+:\d{12}:bucket\/[^/*]+\/table\/\*$/,
  /^arn:aws:kafka:[^:]+:\d{12}:group\/[^/*]+\/[^/*]+\/[^/*]+\*$/,
];
/** Write actions: only ever on objects under the tool's configured query-result location. */
const WRITE_ACTIONS = new Set(['s3:PutObject', 's3:AbortMultipartUpload']);

/** IAM policy documents may contain only tab, LF, CR and U+0020–U+00FF (REFERENCE-FACTS). */
const IAM_DOCUMENT_CHARS = /^[\t\n\r\u0020-\u00ff]*$/;
const MANAGED_POLICY_MAX = 6_144;

// ---- Generators ------------------------------------------------------------------------------------

const hostileBits = fc.constantFrom(
  '*',
  '?',
  '${aws:username}',
  '${',
  '..',
  '.',
  '',
  '/',
  '//',
  'a"b',
  'a\\b',
  '\n',
  ' ',
  '\u0430',
  '\uff0a',
  '\u200b',
  '{model}',
  '%2e%2e',
  ':',
  'ACME',
  '-',
  'xn--a',
  'a'.repeat(70),
);
const nameish = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}[a-z0-9]$/);
const anyText = fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 12 }));
/** Names that are sometimes valid, sometimes subtly not. */
const part = fc.oneof(
  { weight: 14, arbitrary: nameish },
  { weight: 1, arbitrary: hostileBits },
  { weight: 1, arbitrary: anyText },
  {
    weight: 1,
    arbitrary: fc.tuple(nameish, hostileBits, nameish).map(([a, b, c]) => `${a}${b}${c}`),
  },
);
const prefix = fc.array(part, { minLength: 0, maxLength: 4 }).map((segments) => segments.join('/'));
const partition = fc.oneof(
  { weight: 12, arbitrary: fc.constant('aws') },
  { weight: 1, arbitrary: fc.constantFrom('aws-cn', 'aws-us-gov', 'AWS', '', 'aws*') },
);
const region = fc.oneof(
  { weight: 12, arbitrary: fc.constant('eu-central-1') },
  { weight: 1, arbitrary: fc.constantFrom('us-east-1', '', 'mars-1', 'eu-central-*', 'EU-CENTRAL-1') },
);
const account = fc.oneof(
  { weight: 12, arbitrary: fc.constant(ACCOUNT) },
  { weight: 1, arbitrary: fc.constantFrom(OTHER, '', '1234', '*', '1234-5678-9012', '12345678901a') },
);
const kmsKeyId = fc.oneof(
  fc.uuid().map((u) => u.toLowerCase()),
  fc.constant('mrk-0123456789abcdef0123456789abcdef'),
  part,
);

const s3Arn = fc
  .tuple(partition, part, fc.option(prefix, { nil: undefined }))
  .map(([p, b, pre]) => `arn:${p}:s3:::${b}${pre === undefined ? '' : `/${pre}`}`);
const glueArn = fc
  .tuple(partition, region, account, fc.constantFrom('catalog', 'database', 'table', 'tables', ''), part, part)
  .map(
    ([p, r, a, kind, db, t]) =>
      `arn:${p}:glue:${r}:${a}:${kind === 'catalog' ? 'catalog' : kind === 'database' ? `database/${db}` : kind === 'table' ? `table/${db}/${t}` : `${kind}/${db}`}`,
  );
const athenaArn = fc
  .tuple(partition, region, account, part)
  .map(([p, r, a, w]) => `arn:${p}:athena:${r}:${a}:workgroup/${w}`);
const kmsArn = fc
  .tuple(partition, region, account, fc.constantFrom('key', 'alias'), kmsKeyId)
  .map(([p, r, a, k, id]) => `arn:${p}:kms:${r}:${a}:${k}/${id}`);
const otherArn = fc
  .tuple(partition, fc.constantFrom('iam', 'sts', 'dynamodb', '*'), region, account, part)
  .map(([p, s, r, a, x]) => `arn:${p}:${s}:${r}:${a}:${x}`);
const kinesisArn = fc
  .tuple(
    partition,
    region,
    account,
    fc.constantFrom('stream', 'stream', 'channel'),
    part,
    fc.option(part, { nil: undefined }),
  )
  .map(
    ([p, r, a, kind, name, sub]) =>
      `arn:${p}:kinesis:${r}:${a}:${kind}/${name}${sub === undefined ? '' : `/consumer/${sub}`}`,
  );
const dynamoArn = fc
  .tuple(
    partition,
    region,
    account,
    part,
    fc.constantFrom('', '/stream/2026-01-31T12:34:56.789', '/index/x', '/stream/*'),
  )
  .map(([p, r, a, name, tail]) => `arn:${p}:dynamodb:${r}:${a}:table/${name}${tail}`);
const mskUuid = fc.oneof(fc.constant('6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5'), part);
const kafkaArn = fc
  .tuple(partition, region, account, fc.constantFrom('cluster', 'topic', 'group'), part, mskUuid, part)
  .map(
    ([p, r, a, kind, name, uuid, last]) =>
      `arn:${p}:kafka:${r}:${a}:${kind}/${name}/${uuid}${kind === 'cluster' ? '' : `/${last}`}`,
  );
const arn = fc.oneof(
  s3Arn,
  s3Arn,
  glueArn,
  glueArn,
  athenaArn,
  kmsArn,
  kinesisArn,
  dynamoArn,
  kafkaArn,
  otherArn,
  anyText,
);

const arnFieldName = fc.constantFrom(
  'aws-s3-bucket-arn',
  'aws-s3-folder-arn',
  'aws-s3-aws-s3-folder-arn',
  'aws-glue-table-arn',
  'aws-glue-database-arn',
  'aws-glue-catalog-arn',
  'aws-athena-workgroup-arn',
  'aws-kms-key-arn',
  'aws-kinesis-stream-arn',
  'aws-dynamodb-table-arn',
  'aws-dynamodb-stream-arn',
  'aws-msk-cluster-arn',
  'aws-msk-topic-arn',
  'aws-s3tables-bucket-arn',
  'aws-extra-arn',
  'awsarn',
  'not-an-arn-field',
);
const portType = fc.constantFrom(
  's3_bucket',
  's3_prefix',
  'glue_table',
  's3_bucket',
  'glue_table',
  'kinesis_stream',
  'dynamodb_table',
  'msk_topic',
  's3_table',
  'kafka',
  '',
  ' s3_bucket ',
);
const s3Url = fc
  .tuple(fc.constantFrom('s3://', 's3a://', 'https://', 's3:/'), part, fc.option(prefix, { nil: undefined }))
  .map(([scheme, b, pre]) => `${scheme}${b}/${pre ?? ''}`);
const serverValue = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 6, arbitrary: arb as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: fc.constantFrom(42, null, true, ['x'], { $ref: 'x' }) },
  );
const server = fc.record(
  {
    type: serverValue(
      fc.constantFrom('s3', 'glue', 'S3', 'kafka', 'athena', 'kinesis', 'dynamodb', 's3tables', 'redshift'),
    ),
    location: serverValue(fc.oneof(s3Url, anyText)),
    database: serverValue(part),
    table: serverValue(part),
    account: serverValue(account),
    region: serverValue(region),
    workgroup: serverValue(part),
    stream: serverValue(part),
    topic: serverValue(part),
    namespace: serverValue(part),
    kmsKeyArn: serverValue(kmsArn),
    tableBucket: serverValue(part),
    host: serverValue(
      fc.oneof(
        fc.constant('b-1.events.abc.c2.kafka.eu-central-1.amazonaws.com:9098'),
        fc.constant('kafka.acme:9092'),
        part,
      ),
    ),
    schema: serverValue(part),
  },
  { requiredKeys: [] },
);

const port: fc.Arbitrary<OutputPort> = fc
  .record({
    type: fc.option(fc.constantFrom('s3', 'glue', 'S3', 'glue_table', 'kafka', 'athena', 'kinesis'), {
      nil: undefined,
    }),
    server: fc.option(server, { nil: undefined }),
    portType: fc.option(portType, { nil: undefined }),
    arns: fc.array(fc.tuple(arnFieldName, arn), { maxLength: 3 }),
  })
  .map(({ type, server: srv, portType: pt, arns }) => ({
    id: 'p',
    name: 'p',
    ...(type === undefined ? {} : { type }),
    ...(srv === undefined ? {} : { server: srv as Record<string, unknown> }),
    custom: { ...(pt === undefined ? {} : { 'output-port-type': pt }), ...Object.fromEntries(arns) },
  }));

const options: fc.Arbitrary<ResolveOptions> = fc
  .record({
    withResults: fc.boolean(),
    workgroup: fc.option(fc.constantFrom('primary', 'analytics', 'wg.one'), { nil: undefined }),
  })
  .map(({ withResults, workgroup }) => ({
    accountId: ACCOUNT,
    partition: 'aws',
    defaultRegion: 'eu-central-1',
    ...(workgroup ? { defaultAthenaWorkgroup: workgroup } : {}),
    ...(withResults ? { athenaQueryResultsLocation: `s3://${RESULTS_BUCKET}/${RESULTS_PREFIX}` } : {}),
  }));

// ---- Checks ----------------------------------------------------------------------------------------

/** Metadata strings a resource may be built from, lower-cased (Glue names are lower-cased). */
function metadataText(p: OutputPort): string {
  return JSON.stringify(p).toLowerCase();
}

/** The parts of a resource ARN that must come from the metadata (or the tool's configuration). */
function namesIn(resource: string): {
  partition: string;
  service: string;
  names: string[];
  account: string;
  region: string;
} {
  const [, p = '', service = '', r = '', a = '', ...rest] = resource.split(':');
  const res = rest.join(':');
  let names: string[] = [];
  if (service === 's3') {
    const objects = res.endsWith('/*') ? res.slice(0, -2) : res;
    names = objects.split('/').filter((s) => s !== '');
  } else if (service === 'glue') names = res.split('/').slice(1);
  else if (service === 'athena') names = res.split('/').slice(1);
  else if (service === 'kms') names = res.split('/').slice(1);
  else if (['kinesis', 'dynamodb', 's3tables'].includes(service)) names = [res.split('/')[1] ?? ''];
  // Cluster name, UUID and topic; a group ARN's last part is the consumer's own prefix.
  else if (service === 'kafka') names = res.split('/').slice(1, res.startsWith('group/') ? 3 : 4);
  return { partition: p, service, names, account: a, region: r };
}

/**
 * Whether ownership proof covers `resource`: an S3 ARN lies in a proven bucket or folder, a Glue
 * table or KMS key is proven itself. Glue catalog and database (metadata only, no data) and the
 * Athena workgroup (the consumer's) are not the provider's to prove.
 */
function provenBy(resource: string, proven: readonly ProviderResource[]): boolean {
  const arns = proven.map((r) => r.arn);
  if (resource.startsWith('arn:aws:s3:::')) {
    const path = resource.slice('arn:aws:s3:::'.length).replace(/\*$/, '');
    return arns.some((arn) => {
      const location = arn.startsWith('arn:aws:s3:::') ? arn.slice('arn:aws:s3:::'.length) : undefined;
      if (location === undefined) return false;
      // The bucket ARN itself (ListBucket, GetBucketLocation) belongs to a proven bucket or folder of it.
      return path === location.split('/')[0] || path.startsWith(location.includes('/') ? location : `${location}/`);
    });
  }
  if (/^arn:aws:glue:[^:]*:[^:]*:table\//.test(resource) || /^arn:aws:kms:/.test(resource))
    return arns.includes(resource);
  // A stream's consumers, a table's indexes and streams, a table bucket's tables: under a proven resource.
  if (/^arn:aws:(kinesis|dynamodb|s3tables):/.test(resource))
    return arns.some((arn) => resource === arn || resource.startsWith(`${arn}/`));
  // MSK: the topic is proven; the cluster (Connect) is its container; groups are the consumer's own.
  if (/^arn:aws:kafka:/.test(resource)) return !resource.includes(':topic/') || arns.includes(resource);
  return /^arn:aws:glue:[^:]*:[^:]*:(catalog|database\/)/.test(resource) || /^arn:aws:athena:/.test(resource);
}

function checkPlan(p: OutputPort, opts: ResolveOptions): void {
  const plan = planPort(p, opts, CONSUMER);
  if (!plan.ok) {
    // Refused: always with the field and a message that names it.
    expect(plan.field).toMatch(/\S/);
    expect(plan.problem.startsWith(plan.field)).toBe(true);
    return;
  }
  const allowed = ALLOWED_ACTIONS[plan.portType];
  expect(allowed, `port type ${plan.portType}`).toBeDefined();
  const statements = identityStatements(plan.grants);
  expect(statements.length).toBeGreaterThan(0);
  const text = metadataText(p);
  const resultsObjects = `arn:aws:s3:::${RESULTS_BUCKET}/${RESULTS_PREFIX}*`;

  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    expect(Object.keys(s).sort()).toEqual(
      s.Condition ? ['Action', 'Condition', 'Effect', 'Resource'] : ['Action', 'Effect', 'Resource'],
    );
    const actions = actionsOf(s);
    for (const action of actions) expect(allowed!.has(action), `${plan.portType} may not grant ${action}`).toBe(true);
    // No statement mixes S3 with other services, so the account condition covers every S3 action.
    const s3 = actions.filter((a) => a.startsWith('s3:'));
    expect(s3.length === 0 || s3.length === actions.length).toBe(true);
    if (actions.some((a) => WRITE_ACTIONS.has(a))) {
      expect(opts.athenaQueryResultsLocation).toBeDefined();
      expect(resourcesOf(s)).toEqual([resultsObjects]);
    }
    for (const resource of resourcesOf(s)) {
      // The only wildcards are the tool's own, where the service's ARN scheme needs them.
      const body = SCHEME_WILDCARDS.some((w) => w.test(resource)) ? resource.replace(/\/?\*$/, '') : resource;
      expect(body).not.toMatch(/[*?]|\$\{/);
      expect(body).toMatch(/^[\x21-\x7e]+$/);
      const n = namesIn(resource);
      expect(n.partition).toBe('aws');
      if (
        resource.startsWith(`arn:aws:s3:::${RESULTS_BUCKET}`) &&
        opts.athenaQueryResultsLocation &&
        !text.includes(RESULTS_BUCKET)
      ) {
        expect([`arn:aws:s3:::${RESULTS_BUCKET}`, resultsObjects]).toContain(resource);
        continue;
      }
      for (const name of n.names) {
        // Every bucket, prefix segment, database, table, key and workgroup name comes from the metadata;
        // a workgroup may also be the operator's configured default (there is no implicit one).
        const fromConfig = n.service === 'athena' && name === opts.defaultAthenaWorkgroup;
        if (!fromConfig) expect(text, `${name} of ${resource}`).toContain(name.toLowerCase());
      }
      if (n.account !== '')
        expect(
          n.account === ACCOUNT ||
            text.includes(n.account) ||
            text.includes(`${n.account.slice(0, 4)}-${n.account.slice(4, 8)}-${n.account.slice(8)}`),
        ).toBe(true);
      if (n.region !== '') expect(n.region === opts.defaultRegion || text.includes(n.region)).toBe(true);
      // Ownership proof sees everything the grant opens from the provider's side: data, tables, keys.
      expect(provenBy(resource, plan.providerResources), `${resource} is not among the proven resources`).toBe(true);
    }
    for (const [, values] of Object.entries(s.Condition ?? {})) {
      for (const [key, value] of Object.entries(values)) {
        for (const v of listOf(value)) {
          const bare = key === 's3:prefix' && v.endsWith('*') ? v.slice(0, -1) : v;
          expect(bare).not.toMatch(/[*?]|\$\{/);
        }
      }
    }
  }
  // The minified document with Sids fits IAM's character rules and one managed policy.
  const document = JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s, i) => ({ Sid: statementSid('a7d0c2f4-1b8e-4c3a-9e5d-0f6b7a8c9d01', i), ...s })),
  });
  expect(document).toMatch(IAM_DOCUMENT_CHARS);
  expect(document.length).toBeLessThanOrEqual(MANAGED_POLICY_MAX);
}

describe('planPort for any metadata', () => {
  it('has a promised action set for every registered port type', () => {
    // A new port type is only covered by the properties below once its promise is written here.
    expect(PORT_TYPES.map((t) => t.type).filter((t) => ALLOWED_ACTIONS[t] === undefined)).toEqual([]);
  });

  it('refuses with a field, or grants only the documented read actions on resources named by the metadata', () => {
    fc.assert(fc.property(port, options, checkPlan), { numRuns: NUM_RUNS });
  });

  it('the same, for metadata that is mostly well-formed (more grants get checked)', () => {
    const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,20}[a-z0-9]$/);
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_=-]{0,10}$/);
    const wellFormed: fc.Arbitrary<OutputPort> = fc.oneof(
      fc.tuple(bucket, fc.array(segment, { maxLength: 3 })).map(([b, segs]) => ({
        id: 'p',
        name: 'p',
        type: 's3',
        server: { type: 's3', location: `s3://${b}/${segs.map((x) => `${x}/`).join('')}` },
        custom: {},
      })),
      fc
        .tuple(bucket, fc.array(segment, { maxLength: 3 }), fc.option(kmsKeyId, { nil: undefined }))
        .map(([b, segs, key]) => ({
          id: 'p',
          name: 'p',
          custom: {
            'output-port-type': segs.length > 0 ? 's3_prefix' : 's3_bucket',
            'aws-s3-bucket-arn': `arn:aws:s3:::${b}${segs.length ? `/${segs.join('/')}` : ''}`,
            ...(key ? { 'aws-kms-key-arn': `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${key}` } : {}),
          },
        })),
      fc
        .tuple(
          segment,
          segment,
          bucket,
          fc.array(segment, { maxLength: 3 }),
          fc.option(segment, { nil: undefined }),
          fc.constantFrom(ACCOUNT, OTHER),
        )
        .map(([db, t, b, segs, wg, acct]) => ({
          id: 'p',
          name: 'p',
          type: 'glue',
          server: {
            type: 'glue',
            account: acct,
            database: db,
            table: t,
            location: `s3://${b}/${segs.join('/')}`,
            ...(wg ? { workgroup: wg } : {}),
          },
          custom: {},
        })),
      fc
        .tuple(segment, fc.constantFrom(ACCOUNT, OTHER), fc.option(kmsKeyId, { nil: undefined }))
        .map(([stream, acct, key]) => ({
          id: 'p',
          name: 'p',
          type: 'kinesis',
          server: { type: 'kinesis', stream, account: acct },
          custom: (key ? { 'aws-kms-key-arn': `arn:aws:kms:eu-central-1:${acct}:key/${key}` } : {}) as Record<
            string,
            string
          >,
        })),
      fc
        .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{2,20}$/), fc.constantFrom(ACCOUNT, OTHER), fc.boolean())
        .map(([table, acct, stream]) => ({
          id: 'p',
          name: 'p',
          type: 'dynamodb',
          server: { table, account: acct },
          custom: (stream
            ? {
                'aws-dynamodb-stream-arn': `arn:aws:dynamodb:eu-central-1:${acct}:table/${table}/stream/2026-01-31T12:34:56.789`,
              }
            : {}) as Record<string, string>,
        })),
      fc.tuple(segment, fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)).map(([topic, cluster]) => ({
        id: 'p',
        name: 'p',
        type: 'kafka',
        server: { host: `b-1.${cluster}.abc.c2.kafka.eu-central-1.amazonaws.com:9098`, topic },
        custom: {
          'aws-msk-cluster-arn': `arn:aws:kafka:eu-central-1:${ACCOUNT}:cluster/${cluster}/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5`,
        },
      })),
      fc
        .tuple(
          fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,20}[a-z0-9]$/),
          fc.stringMatching(/^[a-z0-9_]{1,20}$/),
          fc.stringMatching(/^[a-z0-9_]{1,20}$/),
        )
        .map(([bucket, namespace, table]) => ({
          id: 'p',
          name: 'p',
          type: 's3tables',
          server: { tableBucket: bucket, namespace, table },
          custom: {},
        })),
    );
    let granted = 0;
    fc.assert(
      fc.property(wellFormed, options, (p, opts) => {
        checkPlan(p, opts);
        if (planPort(p, opts, CONSUMER).ok) granted++;
      }),
      { numRuns: NUM_RUNS },
    );
    // Guard against a generator that only ever produces refusals.
    expect(granted).toBeGreaterThan(NUM_RUNS / 2);

    // One hostile edit to an otherwise good port: a wildcard, a quote, a look-alike, a "..",
    // inserted anywhere into one of its values.
    const mutated = fc.tuple(wellFormed, fc.nat(), fc.nat(), hostileBits).map(([p, which, at, bit]) => {
      const copy = structuredClone(p);
      const slots: [Record<string, unknown>, string][] = [
        ...Object.keys(copy.custom)
          .filter((k) => k !== 'output-port-type')
          .map((k) => [copy.custom, k] as [Record<string, unknown>, string]),
        ...Object.keys(copy.server ?? {})
          .filter((k) => k !== 'type')
          .map((k) => [copy.server!, k] as [Record<string, unknown>, string]),
      ];
      const [target, key] = slots[which % slots.length]!;
      const value = String(target[key]);
      const i = at % (value.length + 1);
      target[key] = `${value.slice(0, i)}${bit}${value.slice(i)}`;
      return copy;
    });
    fc.assert(fc.property(mutated, options, checkPlan), { numRuns: NUM_RUNS });
  });
});

// ---- constrainStatements -----------------------------------------------------------------------------

const conditionArb = fc.option(
  fc.dictionary(
    fc.constantFrom('StringLike', 'StringEquals', 'ArnLike', 'Bool'),
    fc.dictionary(
      fc.constantFrom('s3:prefix', 'kms:ViaService', 'aws:SecureTransport', 'aws:PrincipalTag/team'),
      fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
    ),
    { maxKeys: 3 },
  ),
  { nil: undefined },
);
const statementArb: fc.Arbitrary<PolicyStatement> = fc
  .record({
    actions: fc.array(
      fc.constantFrom(
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'kms:Decrypt',
        'glue:GetTable',
        'athena:StartQueryExecution',
      ),
      { minLength: 1, maxLength: 4 },
    ),
    asString: fc.boolean(),
    resources: fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
    condition: conditionArb,
  })
  .map(({ actions, asString, resources, condition }) => ({
    Effect: 'Allow' as const,
    Action: asString && actions.length === 1 ? actions[0]! : actions,
    Resource: resources.length === 1 ? resources[0]! : resources,
    ...(condition && Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  }));
const accountsArb = fc.oneof(
  fc.constant<'any'>('any'),
  fc.uniqueArray(fc.stringMatching(/^\d{12}$/), { minLength: 1, maxLength: 4 }),
);

describe('constrainStatements', () => {
  it('adds s3:ResourceAccount = the allowed accounts to every S3-only statement and removes nothing', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { maxLength: 8 }), accountsArb, (statements, accounts) => {
        const guardrails: Guardrails = { ...defaultGuardrails(ACCOUNT), allowedResourceAccounts: accounts };
        const before = structuredClone(statements);
        const after = constrainStatements(statements, guardrails);
        // Pure: the input is not changed.
        expect(statements).toEqual(before);
        expect(after).toHaveLength(statements.length);
        for (const [i, s] of after.entries()) {
          const original = statements[i]!;
          // Effect, Action and Resource are never touched.
          expect(s.Effect).toBe(original.Effect);
          expect(s.Action).toEqual(original.Action);
          expect(s.Resource).toEqual(original.Resource);
          // Every original condition is still there, unchanged.
          for (const [operator, values] of Object.entries(original.Condition ?? {})) {
            for (const [key, value] of Object.entries(values)) expect(s.Condition?.[operator]?.[key]).toEqual(value);
          }
          const s3Only = actionsOf(original).every((a) => a.startsWith('s3:'));
          if (accounts === 'any' || !s3Only) {
            expect(s).toEqual(original);
          } else {
            expect(listOf(s.Condition?.StringEquals?.['s3:ResourceAccount']).sort()).toEqual([...accounts].sort());
            // Exactly one key added.
            const count = (st: PolicyStatement) =>
              Object.values(st.Condition ?? {}).reduce((n, v) => n + Object.keys(v).length, 0);
            expect(count(s)).toBe(count(original) + 1);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('on real port statements: after constraining, every statement with an S3 action carries the account condition', () => {
    fc.assert(
      fc.property(
        port,
        options,
        fc.uniqueArray(fc.stringMatching(/^\d{12}$/), { minLength: 1, maxLength: 3 }),
        (p, opts, accounts) => {
          const plan = planPort(p, opts, CONSUMER);
          if (!plan.ok) return;
          const constrained = constrainStatements(identityStatements(plan.grants), {
            ...defaultGuardrails(ACCOUNT),
            allowedResourceAccounts: accounts,
          });
          for (const s of constrained) {
            if (actionsOf(s).some((a) => a.startsWith('s3:')))
              expect(s.Condition?.StringEquals?.['s3:ResourceAccount']).toBeDefined();
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---- Ownership Sids --------------------------------------------------------------------------------

describe('statement Sids', () => {
  it('statementSid / agreementIdFromSid round-trip for arbitrary agreement ids, and Sids are [A-Za-z0-9] only', () => {
    const id = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
      fc.constantFrom('S', 'S0', 'DmmU', '0', 'agr-1S2', 'unknown', '00000000-0000-0000-0000-000000000000'),
    );
    fc.assert(
      fc.property(id, fc.nat({ max: 10_000 }), (agreementId, n) => {
        const sid = statementSid(agreementId, n);
        expect(sid).toMatch(/^[A-Za-z0-9]+$/);
        expect(agreementIdFromSid(sid)).toBe(agreementId);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('different agreements never share a Sid', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
        fc.nat(50),
        fc.nat(50),
        (a, b, i, j) => {
          fc.pre(a !== b);
          expect(statementSid(a, i)).not.toBe(statementSid(b, j));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('hand-written Sids that are not ours are never read as an agreement', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (sid) => {
        const id = agreementIdFromSid(sid);
        if (id !== undefined) expect(sid.replace(/S\d+$/, '')).toBe(statementSid(id, 0).replace(/S0$/, ''));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
