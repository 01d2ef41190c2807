/**
 * The resource-policy grant target: statements in a provider resource's own policy (S3 bucket
 * policy, KMS key policy, Glue Data Catalog resource policy) that name the consumer role as their
 * principal. The policy belongs to the resource's owner: this tool only ever adds, changes or
 * removes statements whose `Sid` names an agreement (src/targets/sid.ts) and leaves every other
 * statement, and the document's other keys, exactly as they are.
 */
import { TargetError } from '../interfaces/target-error.js';
import { RESOURCE_POLICY_LIMITS, type ResourcePolicies } from '../interfaces/resource-policies.js';
import type { PolicyResource } from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import { canonicalJson } from '../util/canonical-json.js';
import { type AgreementEffect, effectOf, inPlanScope, type PlanScope, type TargetPlan } from './effects.js';
import { agreementIdFromSid, withSids } from './sid.js';

/** A resource's policy as this tool sees it: our statements per agreement, and everyone else's. */
export interface ResourcePolicyState {
  resource: PolicyResource;
  /** Whether the resource has a policy at all. */
  exists: boolean;
  /** The document's keys other than `Statement` (`Version`, `Id`), kept as they are. */
  header: Record<string, unknown>;
  /** Statements that are not ours, in document order: never changed. */
  foreign: unknown[];
  /** Our statements per agreement id, Sids included. */
  blocks: Map<string, PolicyStatement[]>;
}

/** One write to a resource policy: the whole new document, or the removal of a policy that only held ours. */
export interface ResourcePolicyChange {
  target: 'resource-policy';
  action: 'put' | 'delete';
  resource: PolicyResource;
  /** A hub's member account that owns the resource (set by the core); absent for one account. */
  account?: string;
  document?: Record<string, unknown>;
  agreementIds: string[];
  note?: string;
}

const SERVICE_NAME: Record<PolicyResource['service'], string> = {
  s3: 'bucket policy',
  kms: 'key policy',
  glue: 'Glue catalog resource policy',
};

/** How a resource policy is named for people: "bucket policy of arn:aws:s3:::acme". */
export function describePolicyResource(resource: PolicyResource): string {
  return `${SERVICE_NAME[resource.service]} of ${resource.arn}`;
}

export async function readResourcePolicy(
  policies: ResourcePolicies,
  resource: PolicyResource,
): Promise<ResourcePolicyState> {
  const text = await policies.getPolicy(resource);
  const state: ResourcePolicyState = {
    resource,
    exists: text !== undefined,
    header: {},
    foreign: [],
    blocks: new Map(),
  };
  if (text === undefined) return state;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    // Rewriting a document we cannot read would lose its owner's statements.
    throw new TargetError(
      'MalformedPolicyDocument',
      `the ${describePolicyResource(resource)} is not a JSON object, so dmm-aws will not rewrite it`,
    );
  }
  const { Statement, ...header } = parsed as Record<string, unknown>;
  state.header = header;
  const statements = Array.isArray(Statement) ? Statement : Statement === undefined ? [] : [Statement];
  for (const statement of statements) {
    const id =
      typeof statement === 'object' && statement !== null
        ? agreementIdFromSid((statement as { Sid?: unknown }).Sid)
        : undefined;
    if (id === undefined) {
      state.foreign.push(statement);
      continue;
    }
    state.blocks.set(id, [...(state.blocks.get(id) ?? []), statement as PolicyStatement]);
  }
  return state;
}

/**
 * The write that makes the policy hold exactly the desired statements of the agreements in scope.
 * Our statements follow the owner's, ordered by agreement, so an unchanged policy is never
 * rewritten. An agreement that would push the document over the service's size limit is not
 * placed (and reported), rather than failing the write for everyone.
 */
export function planResourcePolicy(
  state: ResourcePolicyState,
  desired: ReadonlyMap<string, PolicyStatement[]>,
  scope: PlanScope,
): TargetPlan<ResourcePolicyChange> {
  const inScope = (id: string) => inPlanScope(scope, id);
  const after = new Map<string, PolicyStatement[]>();
  for (const [id, statements] of state.blocks) if (!inScope(id)) after.set(id, statements);
  const unplaced = new Map<string, string>();
  const limit = RESOURCE_POLICY_LIMITS[state.resource.service];
  for (const [id, statements] of [...desired].sort(([a], [b]) => a.localeCompare(b))) {
    if (!inScope(id)) continue;
    after.set(id, withSids(id, statements));
    const size = Buffer.byteLength(JSON.stringify(documentOf(state, after)));
    if (size > limit) {
      after.delete(id);
      unplaced.set(
        id,
        `the ${describePolicyResource(state.resource)} has no room for this agreement's statements: it would take ${size} of ${limit} bytes`,
      );
    }
  }

  const effects = new Map<string, AgreementEffect>();
  const touched: string[] = [];
  for (const id of new Set([...state.blocks.keys(), ...after.keys(), ...desired.keys()])) {
    if (!inScope(id)) continue;
    const before = state.blocks.get(id);
    const now = after.get(id);
    const changed = canonicalJson(before ?? null) !== canonicalJson(now ?? null);
    effects.set(id, effectOf(before !== undefined, now !== undefined, changed));
    if (changed) touched.push(id);
  }
  for (const id of unplaced.keys()) if (!effects.has(id)) effects.set(id, 'absent');

  const changes: ResourcePolicyChange[] = [];
  if (touched.length > 0) {
    const agreementIds = touched.sort();
    if (after.size === 0 && state.foreign.length === 0 && state.resource.service !== 'kms') {
      changes.push({
        target: 'resource-policy',
        action: 'delete',
        resource: state.resource,
        agreementIds,
        note: 'the policy held only statements of dmm-aws',
      });
    } else {
      changes.push({
        target: 'resource-policy',
        action: 'put',
        resource: state.resource,
        document: documentOf(state, after),
        agreementIds,
      });
    }
  }
  return { holding: state.resource.arn, changes, effects, holders: new Set(after.keys()), unplaced };
}

export async function applyResourcePolicyChanges(
  policies: ResourcePolicies,
  changes: readonly ResourcePolicyChange[],
): Promise<void> {
  for (const change of changes) {
    if (change.action === 'put') await policies.putPolicy(change.resource, JSON.stringify(change.document));
    else await policies.deletePolicy(change.resource);
  }
}

function documentOf(
  state: ResourcePolicyState,
  blocks: ReadonlyMap<string, PolicyStatement[]>,
): Record<string, unknown> {
  const ours = [...blocks.keys()].sort().flatMap((id) => blocks.get(id) ?? []);
  return { Version: '2012-10-17', ...state.header, Statement: [...state.foreign, ...ours] };
}

/**
 * The resource a holding recorded in the agreement index names, or undefined when the holding is
 * not a resource ARN this target writes policies on (role ARNs, Lake Formation holdings).
 */
export function policyResourceFromArn(arn: string): PolicyResource | undefined {
  const s3 = /^arn:(aws[a-z-]*):s3:::([a-z0-9.-]{3,63})$/.exec(arn);
  if (s3) return { service: 's3', arn, bucket: s3[2]! };
  const kms = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/.exec(arn);
  if (kms) return { service: 'kms', arn, region: kms[2]!, account: kms[3]!, keyId: kms[4]! };
  const glue = /^arn:(aws[a-z-]*):glue:([a-z0-9-]+):(\d{12}):catalog$/.exec(arn);
  if (glue) return { service: 'glue', arn, region: glue[2]!, account: glue[3]! };
  return undefined;
}
