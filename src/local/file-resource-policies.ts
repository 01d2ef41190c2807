/**
 * A stand-in for the resource policies of provider resources (S3 bucket policies, KMS key
 * policies, Glue Data Catalog resource policies), for the demo, the CLI daemon and tests. Keeps
 * the resources and their documents in one JSON file (or in memory) and refuses what the services
 * refuse, so that a document the resource-policy target writes here is one AWS would accept.
 *
 * Safe with several processes on one file: every call is one locked change (state-store.ts).
 *
 * Deliberate differences from AWS (all stricter, never more lenient):
 * - every service gets KMS's documented character set (tab, LF, CR, U+0020-U+00FF) and S3's
 *   unique-Sid rule;
 * - actions must belong to the resource's service (or be `*`), and resources must lie within the
 *   bucket (S3) or the catalog's account and region (Glue); only KMS key policies may say `*`;
 * - `Version` is required (AWS would default to 2008-10-17, whose policy variables do not work).
 */
import { z } from 'zod';
import { RESOURCE_POLICY_LIMITS, type ResourcePolicies } from '../interfaces/resource-policies.js';
import { TargetError } from '../interfaces/target-error.js';
import type { PolicyResource } from '../model/grants.js';
import {
  ARN_SHAPE,
  disallowedCharacter,
  isObject,
  POLICY_DOCUMENT_KEYS,
  POLICY_STATEMENT_KEYS,
  POLICY_VERSIONS,
} from '../model/iam-rules.js';
import { classifyArn, glueCatalogArn, kmsKeyArn, s3BucketArn } from '../output-ports/arn.js';
import { PortFieldError } from '../output-ports/port-type.js';
import { JsonFileStore, MemoryStore, type StateStore } from './state-store.js';

const resourceSchema = z.discriminatedUnion('service', [
  z.strictObject({ service: z.literal('s3'), arn: z.string(), bucket: z.string() }),
  z.strictObject({
    service: z.literal('kms'),
    arn: z.string(),
    region: z.string(),
    account: z.string(),
    keyId: z.string(),
  }),
  z.strictObject({ service: z.literal('glue'), arn: z.string(), region: z.string(), account: z.string() }),
]) satisfies z.ZodType<PolicyResource>;

const entrySchema = z.strictObject({
  resource: resourceSchema,
  /** Exactly as put; absent when the resource has no policy. */
  policy: z.string().optional(),
});

const stateSchema = z.object({
  format: z.literal(1),
  /** Keyed by resource ARN. */
  resources: z.record(z.string(), entrySchema),
});

type State = z.infer<typeof stateSchema>;
type Entry = z.infer<typeof entrySchema>;

export interface FileResourcePoliciesOptions {
  /** JSON state file; omitted = in memory, gone with the process. */
  file?: string;
}

/** One resource as `snapshot()` shows it. */
export interface PolicyResourceState {
  resource: PolicyResource;
  /** `undefined` when the resource has no policy. */
  policy: string | undefined;
}

export class FileResourcePolicies implements ResourcePolicies {
  private readonly store: StateStore<State>;

  constructor(options: FileResourcePoliciesOptions = {}) {
    const empty = (): State => ({ format: 1, resources: {} });
    this.store = options.file ? new JsonFileStore(options.file, stateSchema, empty) : new MemoryStore(empty());
  }

  /** Path of the state file, or undefined in memory mode. */
  get file(): string | undefined {
    return this.store instanceof JsonFileStore ? this.store.path : undefined;
  }

  async getPolicy(resource: PolicyResource): Promise<string | undefined> {
    checkResource(resource);
    return requireResource(await this.store.read(), resource).policy;
  }

  async putPolicy(resource: PolicyResource, document: string): Promise<void> {
    checkResource(resource);
    await this.store.update((state) => {
      const entry = requireResource(state, resource);
      validateResourcePolicy(resource, document);
      entry.policy = document;
    });
  }

  async deletePolicy(resource: PolicyResource): Promise<void> {
    checkResource(resource);
    // KMS has no API to delete a key policy, so the SDK adapter refuses without asking whether
    // the key exists; the stand-in answers the same.
    if (resource.service === 'kms') {
      throw new TargetError(
        'InvalidInput',
        `KMS key ${resource.arn} always has a key policy; it cannot be deleted, only replaced.`,
      );
    }
    await this.store.update((state) => {
      const entry = requireResource(state, resource);
      delete entry.policy;
    });
  }

  // ---- Administration, for the demo, fixtures and tests --------------------------------------------

  /**
   * Create a resource, with `policy` if given. A KMS key created without one gets AWS's default
   * key policy (the account's root may do everything), as CreateKey does.
   */
  async addResource(resource: PolicyResource, policy?: string): Promise<void> {
    checkResource(resource);
    await this.store.update((state) => {
      if (Object.hasOwn(state.resources, resource.arn)) {
        throw new TargetError('EntityAlreadyExists', `${describe(resource)} already exists.`);
      }
      const document = policy ?? (resource.service === 'kms' ? defaultKeyPolicy(resource) : undefined);
      if (document !== undefined) validateResourcePolicy(resource, document);
      const entry: Entry = { resource: copyResource(resource) };
      if (document !== undefined) entry.policy = document;
      state.resources[resource.arn] = entry;
    });
  }

  /** Delete a resource with its policy (a bucket or key being deleted, a catalog going away). */
  async removeResource(arn: string): Promise<void> {
    await this.store.update((state) => {
      if (!Object.hasOwn(state.resources, arn)) {
        throw new TargetError('NoSuchEntity', `Resource ${arn} does not exist.`);
      }
      delete state.resources[arn];
    });
  }

  /** Every resource with its policy, by ARN; a copy, so changing it changes nothing. */
  async snapshot(): Promise<PolicyResourceState[]> {
    const state = await this.store.read();
    return Object.keys(state.resources)
      .sort()
      .map((arn) => {
        const entry = state.resources[arn]!;
        return { resource: entry.resource, policy: entry.policy };
      });
  }
}

/** AWS's default key policy for a key created without one. */
export function defaultKeyPolicy(key: Extract<PolicyResource, { service: 'kms' }>): string {
  const statement = {
    Sid: 'Enable IAM User Permissions',
    Effect: 'Allow',
    Principal: { AWS: `arn:${partitionOf(key.arn)}:iam::${key.account}:root` },
    Action: 'kms:*',
    Resource: '*',
  };
  return JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [statement] }, null, 2);
}

// ---- The resource ---------------------------------------------------------------------------------

/**
 * The API addresses a resource by its parts (bucket; key id and region; account and region),
 * while the target knows it by ARN: both must name the same resource, and a valid one, or the
 * stand-in and AWS would act on different things.
 */
function checkResource(resource: PolicyResource): void {
  const field = `${resource.service} resource ${resource.arn}`;
  const partition = partitionOf(resource.arn);
  const expected = (() => {
    switch (resource.service) {
      case 's3':
        return s3BucketArn({ partition, bucket: resource.bucket, prefix: '' });
      case 'kms':
        return kmsKeyArn({ partition, region: resource.region, account: resource.account, keyId: resource.keyId });
      case 'glue':
        return glueCatalogArn({ partition, region: resource.region, account: resource.account });
    }
  })();
  if (expected !== resource.arn) {
    throw new TargetError('InvalidInput', `${field}: its ARN should be ${expected} according to its other fields.`);
  }
  try {
    classifyArn(field, expected);
  } catch (err) {
    if (err instanceof PortFieldError) throw new TargetError('InvalidInput', err.message);
    throw err;
  }
}

/** Only the resource's own fields: anything else a caller's object carries would spoil the state file. */
function copyResource(r: PolicyResource): PolicyResource {
  switch (r.service) {
    case 's3':
      return { service: 's3', arn: r.arn, bucket: r.bucket };
    case 'kms':
      return { service: 'kms', arn: r.arn, region: r.region, account: r.account, keyId: r.keyId };
    case 'glue':
      return { service: 'glue', arn: r.arn, region: r.region, account: r.account };
  }
}

function partitionOf(arn: string): string {
  return /^arn:([^:]*):/.exec(arn)?.[1] ?? '';
}

function requireResource(state: State, resource: PolicyResource): Entry {
  if (Object.hasOwn(state.resources, resource.arn)) return state.resources[resource.arn]!;
  switch (resource.service) {
    case 's3':
      throw new TargetError('NoSuchEntity', `NoSuchBucket: The specified bucket does not exist (${resource.bucket}).`);
    case 'kms':
      throw new TargetError('NoSuchEntity', `NotFoundException: Key '${resource.arn}' does not exist.`);
    case 'glue':
      throw new TargetError(
        'NoSuchEntity',
        `EntityNotFoundException: The Data Catalog of account ${resource.account} in ${resource.region} does not exist.`,
      );
  }
}

function describe(resource: PolicyResource): string {
  switch (resource.service) {
    case 's3':
      return `Bucket ${resource.bucket}`;
    case 'kms':
      return `KMS key ${resource.arn}`;
    case 'glue':
      return `The Data Catalog of account ${resource.account} in ${resource.region}`;
  }
}

// ---- The document ---------------------------------------------------------------------------------

const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

const SERVICE_NAME: Record<PolicyResource['service'], string> = {
  s3: 'S3 bucket policies',
  kms: 'KMS key policies',
  glue: 'Glue Data Catalog resource policies',
};

/** Each service's name for a refused document, so local logs read like AWS's. */
const MALFORMED: Record<PolicyResource['service'], string> = {
  s3: 'MalformedPolicy',
  kms: 'MalformedPolicyDocumentException',
  glue: 'MalformedPolicyDocumentException',
};

/** A non-empty string or a non-empty array of them, as policies accept for most elements. */
function stringList(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (Array.isArray(list) && list.length > 0 && list.every((v) => typeof v === 'string' && v !== '')) {
    return list as string[];
  }
  return undefined;
}

/** What the service would refuse about `document` as `resource`'s policy, as a TargetError. */
export function validateResourcePolicy(resource: PolicyResource, document: string): void {
  const malformed = (problem: string): TargetError =>
    new TargetError('MalformedPolicyDocument', `${MALFORMED[resource.service]}: ${problem}`);

  // The limit is on the document as sent, whitespace included (unlike IAM's).
  const size = Buffer.byteLength(document, 'utf8');
  const limit = RESOURCE_POLICY_LIMITS[resource.service];
  if (size > limit) {
    throw new TargetError(
      'LimitExceeded',
      `Policy of ${size} bytes exceeds the ${limit}-byte limit of ${SERVICE_NAME[resource.service]} (${resource.arn}).`,
    );
  }
  const bad = disallowedCharacter(document);
  if (bad) {
    throw malformed(
      `Policy contains U+${bad.code} at offset ${bad.offset}; only tab, LF, CR and U+0020-U+00FF are accepted.`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw malformed('Policies must be valid JSON.');
  }
  if (!isObject(parsed)) throw malformed('Policies must be a JSON object.');
  const unknownKey = Object.keys(parsed).find((k) => !POLICY_DOCUMENT_KEYS.has(k));
  if (unknownKey !== undefined) throw malformed(`Unknown field ${unknownKey}.`);
  if (typeof parsed.Version !== 'string' || !POLICY_VERSIONS.has(parsed.Version)) {
    throw malformed('Version must be "2012-10-17" (or "2008-10-17").');
  }
  if (parsed.Id !== undefined && typeof parsed.Id !== 'string') throw malformed('Id must be a string.');
  // A single statement object is accepted as a list of one, as the services do.
  const statements = isObject(parsed.Statement) ? [parsed.Statement] : parsed.Statement;
  if (!Array.isArray(statements) || statements.length === 0) {
    throw malformed('Policy must have a non-empty Statement list.');
  }

  const sids = new Set<string>();
  for (const [index, statement] of (statements as unknown[]).entries()) {
    validateStatement(resource, statement, `Statement ${index}`, sids, malformed);
  }
}

function validateStatement(
  resource: PolicyResource,
  statement: unknown,
  where: string,
  sids: Set<string>,
  malformed: (problem: string) => TargetError,
): void {
  if (!isObject(statement)) throw malformed(`${where} is not an object.`);
  const unknownField = Object.keys(statement).find((k) => !POLICY_STATEMENT_KEYS.has(k));
  if (unknownField !== undefined) throw malformed(`${where} has unknown field ${unknownField}.`);
  if (statement.Sid !== undefined) {
    if (typeof statement.Sid !== 'string') throw malformed(`${where}: Sid must be a string.`);
    if (sids.has(statement.Sid)) {
      throw malformed(`Statement IDs (SID) must be unique; "${statement.Sid}" is used twice.`);
    }
    sids.add(statement.Sid);
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw malformed(`${where}: Effect must be Allow or Deny.`);
  }
  // Each element may be given in its Not form instead, never both.
  const pair = (name: string, notName: string, missing: string): unknown => {
    const has = name in statement;
    const hasNot = notName in statement;
    if (!has && !hasNot) throw malformed(`${where}: ${missing}`);
    if (has && hasNot) throw malformed(`${where} has both ${name} and ${notName}.`);
    return has ? statement[name] : statement[notName];
  };
  if (!validPrincipal(pair('Principal', 'NotPrincipal', 'Resource policies must name a Principal.'))) {
    throw malformed(`${where}: Invalid principal in policy.`);
  }
  const actions = stringList(pair('Action', 'NotAction', 'Missing required field Action.'));
  if (!actions) throw malformed(`${where}: Action must be a string or a non-empty list of strings.`);
  for (const action of actions) {
    if (!validAction(resource.service, action)) throw malformed(`${where}: Policy has invalid action ${action}.`);
  }
  const resources = stringList(pair('Resource', 'NotResource', 'Missing required field Resource.'));
  if (!resources) throw malformed(`${where}: Resource must be a string or a non-empty list of strings.`);
  for (const r of resources) {
    if (!validResource(resource, r)) throw malformed(`${where}: Policy has invalid resource ${r}.`);
  }
  if (
    statement.Condition !== undefined &&
    !(isObject(statement.Condition) && Object.values(statement.Condition).every(isObject))
  ) {
    throw malformed(`${where}: Condition must map operators to objects.`);
  }
}

function validPrincipal(principal: unknown): boolean {
  if (principal === '*') return true;
  if (!isObject(principal) || Object.keys(principal).length === 0) return false;
  return Object.entries(principal).every(
    ([kind, value]) => PRINCIPAL_KEYS.has(kind) && stringList(value) !== undefined,
  );
}

function validAction(service: PolicyResource['service'], action: string): boolean {
  return action === '*' || new RegExp(`^${service}:[A-Za-z0-9*?]+$`).test(action);
}

function validResource(resource: PolicyResource, value: string): boolean {
  switch (resource.service) {
    case 's3':
      return value === resource.arn || value.startsWith(`${resource.arn}/`);
    case 'kms':
      return value === '*' || ARN_SHAPE.test(value);
    case 'glue':
      return (
        ARN_SHAPE.test(value) &&
        value.startsWith(`arn:${partitionOf(resource.arn)}:glue:${resource.region}:${resource.account}:`)
      );
  }
}
