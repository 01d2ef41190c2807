/**
 * The converging core (docs/adr/0001, docs/adr/0005): one code path for one agreement (an event's
 * hint) and for all of them (the full reconcile). Both run the same steps:
 *
 *   resolve → read actual per target → guardrails → plan per target → apply → index → report
 *
 * over a *scope* of agreements. The full reconcile's scope is every agreement plus everything this
 * tool holds anywhere (the sweep), batched so each target instance (a role, a resource's policy,
 * a principal's Lake Formation permissions on a resource) is read once and written at most once.
 */
import type { Agreement } from '../model/agreement.js';
import { AgreementFormatError } from '../model/read-agreement.js';
import {
  identityStatements,
  sharedIdentityStatements,
  type PolicyResource,
  type TargetGrant,
} from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import type { RoleInfo } from '../interfaces/iam-account.js';
import { isPermanentTargetError } from '../interfaces/target-error.js';
import { parseRoleArn } from '../output-ports/arn.js';
import {
  inPlanScope,
  isFullScope,
  summariseEffects,
  type AgreementEffect,
  type PlanScope,
  type TargetPlan,
} from '../targets/effects.js';
import { applyChanges } from '../targets/identity-policy/apply.js';
import { planRole, type PolicyChange, type RolePlan } from '../targets/identity-policy/packing.js';
import {
  agreementsOnRole,
  readRoleState,
  type RoleState,
  sharedMemberships,
} from '../targets/identity-policy/role-state.js';
import {
  applyLakeFormationChanges,
  describeLakeFormationInstance,
  lakeFormationHolding,
  lakeFormationHoldingsAfter,
  lakeFormationKey,
  parseLakeFormationHolding,
  planLakeFormation,
  readLakeFormation,
  type LakeFormationChange,
  type LakeFormationInstance,
  type LakeFormationState,
} from '../targets/lake-formation.js';
import {
  applyResourcePolicyChanges,
  describePolicyResource,
  planResourcePolicy,
  policyResourceFromArn,
  readResourcePolicy,
  type ResourcePolicyChange,
  type ResourcePolicyState,
} from '../targets/resource-policy.js';
import { canonicalJson } from '../util/canonical-json.js';
import { errorMessage } from '../util/errors.js';
import { mapLimit } from '../util/map-limit.js';
import {
  normalizeHoldings,
  readIndexEntry,
  updateIndexEntry,
  type AgreementIndex,
  type IndexReading,
} from './agreement-index.js';
import { policyResourceAccount } from '../accounts/routing.js';
import { guardrailsOf, identityContexts, type ProductLookup, type SyncContext } from './context.js';
import { ProductCatalog } from './product-catalog.js';
import { guardResolution } from './guard.js';
import { sharedTagReads } from './ownership-proof.js';
import { roleRefusal } from './guardrails.js';
import {
  FIELD_GRANTED_ROLE,
  FIELD_POLICY_NAME,
  reportBack,
  reportUnreadable,
  TAG_ACTIVE,
  type ReportResult,
  type ReportState,
} from './report.js';
import { resolveAgreement, type Grant, type Resolution } from './resolve.js';
import { lakeFormationTarget, resourcePolicyTarget, roleTarget } from './target-locks.js';

/** One write on any grant target, in the order it is (or, for a plan, would be) made. */
export type Change = PolicyChange | ResourcePolicyChange | LakeFormationChange;

export type Decision = 'grant' | 'revoke' | 'none' | 'failed';

/** What converging one agreement decided and did. */
export interface AgreementOutcome {
  agreementId: string;
  decision: Decision;
  /** What happened to its access: granted, updated, revoked, adopted, unchanged or absent. */
  effect: AgreementEffect;
  /** Why, in a sentence: the resolution reason, or the grant summary. */
  reason: string;
  role?: string;
  policyNames: string[];
  /** ARNs of the roles that hold statements of this agreement afterwards. */
  heldOnRoleArns: string[];
  /** Its holdings on other targets afterwards (resource ARNs, Lake Formation holdings); absent when none. */
  heldOnResources?: string[];
  changes: Change[];
  diagnostic?: string;
  /** For an agreement refused as described: the metadata field or guardrail that refused it. */
  refusedBy?: string;
  report?: ReportResult;
}

export interface ReconcileProgress {
  phase: 'agreements' | 'roles' | 'apply' | 'report';
  done: number;
  total: number;
}

export interface ReconcileOptions {
  /** Plan only: read everything, change nothing, report nothing. */
  dryRun?: boolean;
  /** Data products already read in this unit of work (one event's agreements share them). */
  products?: ProductLookup;
  onProgress?: (progress: ReconcileProgress) => void;
  concurrency?: number;
  /**
   * An agreement that cannot be read or resolved now (an error not of its document: Data Mesh
   * Manager failing, say) is left out of this reconcile, its grants untouched, and handed here,
   * so the other agreements go on. So is one whose role could not be written (an error that is not
   * AWS refusing the change) or whose write-back failed: what was done stays done, it gets no
   * outcome, and its retry converges the rest. Without it the error is thrown.
   */
  onDeferred?: (agreementId: string, error: unknown) => void;
  /** Told of each agreement whose document write-back replaced (a PUT, which the feed echoes). */
  onWrittenBack?: (agreementId: string) => void;
  /** Sees what the reconcile reads, so a reader (`dmm-aws report`) needs no second pass over it. */
  observe?: ReconcileObserver;
  /**
   * Agreements a deletion event named. The id may by now name a new agreement created again under
   * it: its document has none of the old one's write-back (granted role, active tag), so without
   * an index entry the old grant is looked for on every role, as a gone agreement's would be.
   */
  deletedIds?: ReadonlySet<string>;
}

export interface ReconcileObserver {
  /** Each agreement read and what it should grant (after the guardrails). */
  resolved?(agreement: Agreement, resolution: Resolution): void;
  /** Each role that holds, or should hold, something of this tool's, as it is before any write. */
  role?(state: RoleState): void;
}

export interface ReconcileResult {
  outcomes: AgreementOutcome[];
  /** Every write, in the order it is (or, for a plan, would be) made. */
  changes: Change[];
  rolesExamined: number;
}

/** Every agreement and everything this tool holds, or only the named agreements. */
export type ReconcileScope = 'all' | { agreementIds: readonly string[] };

const GONE = 'the agreement no longer exists in Data Mesh Manager';

/** The agreements in scope: what Data Mesh Manager says about each, and what it should grant. */
interface Desired {
  agreement?: Agreement;
  resolution: Resolution;
  /** The document could not be read: reported failed, its grants left as they are. */
  withheld?: AgreementFormatError;
}

/** What one reconcile learns and decides, per agreement, while it walks the targets. */
class Ledger {
  constructor(private readonly scope: PlanScope) {}
  readonly failures = new Map<string, string>();
  readonly effects = new Map<string, AgreementEffect[]>();
  readonly heldOnRoles = new Map<string, string[]>();
  readonly heldOnResources = new Map<string, string[]>();
  readonly policyNames = new Map<string, string[]>();
  readonly changesOf = new Map<string, Change[]>();
  readonly changes: Change[] = [];

  /** Only agreements in scope get an outcome; what others hold is left to their own reconcile. */
  inScope(id: string): boolean {
    return inPlanScope(this.scope, id);
  }
  fail(id: string, reason: string): void {
    if (this.inScope(id)) this.failures.set(id, reason);
  }
  effect(id: string, effect: AgreementEffect): void {
    if (this.inScope(id)) this.effects.set(id, [...(this.effects.get(id) ?? []), effect]);
  }
  holdRole(id: string, arn: string): void {
    if (this.inScope(id)) this.heldOnRoles.set(id, [...(this.heldOnRoles.get(id) ?? []), arn]);
  }
  holdResource(id: string, holding: string): void {
    if (this.inScope(id)) this.heldOnResources.set(id, [...(this.heldOnResources.get(id) ?? []), holding]);
  }
  record(plan: TargetPlan<Change> | RolePlan): void {
    for (const [id, effect] of plan.effects) this.effect(id, effect);
    for (const [id, reason] of plan.unplaced) this.fail(id, reason);
    for (const change of plan.changes) {
      this.changes.push(change);
      for (const id of change.agreementIds)
        if (this.inScope(id)) this.changesOf.set(id, [...(this.changesOf.get(id) ?? []), change]);
    }
  }
  holdings(id: string): string[] {
    return [...(this.heldOnRoles.get(id) ?? []), ...(this.heldOnResources.get(id) ?? [])];
  }
}

/**
 * Make AWS match what Data Mesh Manager says *now* about the agreements in scope. Events are only
 * hints, so a duplicate, a late or an out-of-order event converges to the same state.
 */
export async function reconcile(
  ctx: SyncContext,
  scope: ReconcileScope,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const all = scope === 'all';
  const concurrency = options.concurrency ?? 8;
  const progress = options.onProgress ?? (() => {});
  // Members from OUs are listed at most once per TTL; unknown members stop the unit as an outage.
  await ctx.accounts?.refresh?.();
  const desired = await readDesired(ctx, scope, options, concurrency, progress);
  const index = await readIndex(ctx, desired, all);
  // Agreements whose document could not be read are reported failed, and their grants are left
  // exactly as they are: nobody knows whether they should have access.
  const withheld = new Set([...desired].filter(([, d]) => d.withheld).map(([id]) => id));
  const planScope: PlanScope = all
    ? withheld.size > 0
      ? { allExcept: withheld }
      : 'all'
    : new Set([...desired.keys()].filter((id) => !withheld.has(id)));
  const ledger = new Ledger(all ? 'all' : new Set(desired.keys()));
  const deferred = new Set<string>();
  // Left for a retry of their own (see `onDeferred`), so the rest of the scope goes on.
  const defer = (ids: Iterable<string>, error: unknown) => {
    if (!options.onDeferred) throw error;
    for (const id of ids) {
      if (!desired.has(id) || deferred.has(id)) continue;
      deferred.add(id);
      options.onDeferred(id, error);
    }
  };

  // A hub reads and writes each member's roles through that member's IAM; one account is one pass.
  const identity: IdentityResult = { rolesExamined: 0, changedMeanwhile: new Set() };
  for (const accountCtx of identityContexts(ctx)) {
    const pass = await reconcileIdentity(
      accountCtx,
      desired,
      index,
      planScope,
      ledger,
      options,
      concurrency,
      progress,
      defer,
    );
    identity.rolesExamined += pass.rolesExamined;
    for (const id of pass.changedMeanwhile) identity.changedMeanwhile.add(id);
  }
  await reconcileResourcePolicies(ctx, desired, index, planScope, ledger, options);
  await reconcileLakeFormation(ctx, desired, index, planScope, ledger, options);

  // Agreements deleted in Data Mesh Manager appear only through what they left behind.
  for (const id of [...ledger.effects.keys(), ...ledger.heldOnRoles.keys(), ...ledger.heldOnResources.keys()]) {
    if (!desired.has(id)) desired.set(id, { resolution: { kind: 'none', reason: GONE } });
  }

  const outcomes = [...desired].flatMap(([id, { resolution, withheld: unread }]) => {
    if (deferred.has(id)) return [];
    const outcome = outcomeOf(id, resolution, ledger);
    // Its grants were not planned at all: whatever it holds, it still holds.
    return [unread ? { ...outcome, effect: 'unchanged' as const } : outcome];
  });
  outcomes.sort((a, b) => a.agreementId.localeCompare(b.agreementId));
  for (const outcome of outcomes) {
    // A failure needs someone to act, in a plan as much as in a run: never at info or below.
    const level = outcome.decision === 'failed' ? 'warn' : options.dryRun ? 'debug' : 'info';
    ctx.log[level](`decision: ${outcome.decision}`, {
      agreementId: outcome.agreementId,
      decision: outcome.decision,
      effect: outcome.effect,
      reason: outcome.reason,
      role: outcome.role,
      policies: outcome.policyNames,
      changes: outcome.changes.length,
      dryRun: !!options.dryRun,
    });
  }

  if (!options.dryRun) {
    if (ctx.agreementIndex) {
      // An unreadable agreement's grants were not looked at, so its index entry stays as it is.
      const settled = outcomes.filter(
        (o) => !identity.changedMeanwhile.has(o.agreementId) && !desired.get(o.agreementId)?.withheld,
      );
      await updateIndex(ctx, ctx.agreementIndex, settled, index, desired, Math.min(concurrency, 4));
    }
    let reported = 0;
    await mapLimit(outcomes, Math.min(concurrency, 4), async (outcome) => {
      const entry = desired.get(outcome.agreementId);
      const log = ctx.log.child({ agreementId: outcome.agreementId });
      try {
        if (entry?.agreement) {
          outcome.report = await reportBack(ctx.dmm, entry.agreement, reportState(outcome, entry.resolution), log);
          if (outcome.report.tagsWritten) options.onWrittenBack?.(outcome.agreementId);
        } else if (entry?.withheld?.agreementId !== undefined)
          outcome.report = await reportUnreadable(ctx.dmm, entry.withheld.agreementId, outcome.reason, log);
      } catch (error) {
        // AWS is converged and indexed; only the report is left, and its retry finds nothing else to do.
        defer([outcome.agreementId], error);
      }
      if (all) progress({ phase: 'report', done: ++reported, total: outcomes.length });
    });
  }
  return { outcomes, changes: ledger.changes, rolesExamined: identity.rolesExamined };
}

// ---- resolve ---------------------------------------------------------------------------------

async function readDesired(
  ctx: SyncContext,
  scope: ReconcileScope,
  options: ReconcileOptions,
  concurrency: number,
  progress: (p: ReconcileProgress) => void,
): Promise<Map<string, Desired>> {
  const products = options.products ?? new ProductCatalog(ctx.dmm).lookup();
  const guarded = ctx.resourceTags ? { ...ctx, resourceTags: sharedTagReads(ctx.resourceTags) } : ctx;
  const unreadable: AgreementFormatError[] = [];
  const agreements = (
    scope === 'all'
      ? await ctx.dmm.listAgreements({}, (error) => unreadable.push(error))
      : await Promise.all(scope.agreementIds.map((id) => deferring(options, id, () => readOne(ctx, id, unreadable))))
  ).filter((a): a is Agreement | string => a !== undefined);
  // Only active agreements read their products: read those together (listed, when that is cheaper).
  // Best effort: whatever the listing fails to give is read by id, which names its own error.
  await products
    .prefetch?.(
      agreements
        .filter((a): a is Agreement => typeof a !== 'string' && a.active)
        .flatMap((a) => [a.provider.dataProductId, ...(a.consumer.dataProductId ? [a.consumer.dataProductId] : [])]),
    )
    .catch((error: unknown) =>
      ctx.log.debug('listing data products failed; reading them one by one', { error: errorMessage(error) }),
    );
  let resolved = 0;
  const withheld = unreadable.map((error, i): [string, Desired] => {
    const id = error.agreementId ?? `(agreement without a readable id, #${i + 1})`;
    ctx.log.error('agreement cannot be read; its grants are left as they are', {
      agreementId: id,
      error: error.message,
    });
    return [id, { resolution: { kind: 'failed', field: error.field, reason: error.message }, withheld: error }];
  });
  const entries = await mapLimit(agreements, concurrency, async (agreement): Promise<[string, Desired] | undefined> => {
    if (typeof agreement === 'string') return [agreement, { resolution: { kind: 'none', reason: GONE } }];
    const resolution = await deferring(options, agreement.id, async () =>
      guardResolution(guarded, await resolveAgreement(agreement, products, ctx.resolve)),
    );
    if (resolution) options.observe?.resolved?.(agreement, resolution);
    if (scope === 'all') progress({ phase: 'agreements', done: ++resolved, total: agreements.length });
    return resolution && [agreement.id, { agreement, resolution }];
  });
  return new Map([...entries.filter((e) => e !== undefined), ...withheld]);
}

/** `read`, or with `onDeferred` its error handed there and `undefined` (the agreement is left out). */
async function deferring<T>(options: ReconcileOptions, id: string, read: () => Promise<T>): Promise<T | undefined> {
  if (!options.onDeferred) return read();
  try {
    return await read();
  } catch (error) {
    options.onDeferred(id, error);
    return undefined;
  }
}

/** One agreement by id: its document, its id when it is gone, or nothing when it cannot be read. */
async function readOne(
  ctx: SyncContext,
  id: string,
  unreadable: AgreementFormatError[],
): Promise<Agreement | string | undefined> {
  try {
    return (await ctx.dmm.getAgreement(id)) ?? id;
  } catch (error) {
    if (!(error instanceof AgreementFormatError)) throw error;
    // The path named the agreement even when its document names none.
    unreadable.push(error.agreementId === undefined ? new AgreementFormatError(id, error.field, error.problem) : error);
    return undefined;
  }
}

/** What the agreement index says, per agreement: its holdings, `undefined` (no entry) or 'unreadable'. */
type IndexView = Map<string, string[] | undefined | 'unreadable'>;

async function readIndex(ctx: SyncContext, desired: Map<string, Desired>, all: boolean): Promise<IndexView> {
  const view: IndexView = new Map();
  const index = ctx.agreementIndex;
  if (!index) return view;
  try {
    if (all) {
      const entries = await index.list();
      for (const id of desired.keys()) view.set(id, entries.get(id));
      // Deleted agreements: what they still hold is swept like any other.
      for (const [id, holdings] of entries) if (!view.has(id)) view.set(id, holdings);
      return view;
    }
    const ids = [...desired.keys()];
    const readings = await mapLimit(ids, 8, (id) => readIndexEntry(index, id, ctx.log));
    for (const [i, reading] of readings.entries())
      view.set(ids[i]!, reading === 'unreadable' ? reading : reading.entry);
  } catch (error) {
    ctx.log.warn('agreement index could not be read; finding the roles without it', { error: errorMessage(error) });
    for (const id of desired.keys()) view.set(id, 'unreadable');
  }
  return view;
}

function holdingsIn(view: IndexView, id: string): string[] {
  const entry = view.get(id);
  return entry === undefined || entry === 'unreadable' ? [] : entry;
}

// ---- identity policies -------------------------------------------------------------------------

interface IdentityResult {
  rolesExamined: number;
  /** Agreements an event changed while this reconcile ran: that event's news is newer than ours. */
  changedMeanwhile: Set<string>;
}

async function reconcileIdentity(
  ctx: SyncContext,
  desired: Map<string, Desired>,
  index: IndexView,
  scope: PlanScope,
  ledger: Ledger,
  options: ReconcileOptions,
  concurrency: number,
  progress: (p: ReconcileProgress) => void,
  defer: (ids: Iterable<string>, error: unknown) => void,
): Promise<IdentityResult> {
  const all = isFullScope(scope);
  const wanted = new Map<string, Map<string, PolicyStatement[]>>(); // role name → agreement → statements
  const sharedWanted = new Map<string, PolicyStatement[]>(); // agreement → its statements stored once per role
  for (const [id, { resolution }] of desired) {
    if (resolution.kind === 'failed') ledger.fail(id, resolution.reason);
    if (resolution.kind !== 'grant' || !inThisAccount(ctx, resolution.grant.role.arn)) continue;
    const forRole = wanted.get(resolution.grant.role.name) ?? new Map<string, PolicyStatement[]>();
    forRole.set(id, identityStatements(resolution.grant.grants));
    wanted.set(resolution.grant.role.name, forRole);
    sharedWanted.set(id, sharedIdentityStatements(resolution.grant.grants));
  }

  if (all) return identityPass(await readAllRoles(ctx, wanted, concurrency, progress));
  // An event's roles are leased before they are read: what is planned from them is what is written over.
  const candidates = await candidateRoles(ctx, desired, index, options.deletedIds);
  const leased = !!ctx.locks && !options.dryRun;
  const roleLeases = [...candidates.names].map((name) => roleTarget(ctx.iam.accountId, name));
  return holding(ctx, options, roleLeases, async () => {
    const states = candidates.scanned && !leased ? candidates.scanned : await readRoles(ctx, candidates.names);
    return identityPass({ states, rolesExamined: states.length });
  });

  async function identityPass({
    states,
    rolesExamined,
  }: {
    states: RoleState[];
    rolesExamined: number;
  }): Promise<IdentityResult> {
    for (const state of states) options.observe?.role?.(state);
    const present = new Set(states.map((s) => s.role.name));
    for (const [roleName, forRole] of wanted) {
      if (present.has(roleName)) continue;
      for (const id of forRole.keys()) {
        const { resolution } = desired.get(id)!;
        if (resolution.kind === 'grant') ledger.fail(id, missingRoleReason(ctx, resolution.grant));
      }
    }

    // A recorded (or indexed) role the guardrails put out of reach cannot even be read (on AWS the
    // deployed policy hides it): its statements may still be there, so that is a failure, not "revoked".
    const guardrails = guardrailsOf(ctx);
    if (!all) {
      for (const [id, { agreement }] of desired) {
        for (const arn of new Set([...recordedRoleArns(agreement), ...holdingsIn(index, id)])) {
          const role = inThisAccount(ctx, arn) ? roleFromArn(arn) : undefined;
          if (!role || present.has(role.name)) continue;
          const refused = roleRefusal(role, guardrails);
          if (!refused) continue;
          ledger.fail(id, `Agreement ${id}: its statements on role ${role.name} cannot be removed: ${refused}`);
          ledger.holdRole(id, arn);
        }
      }
    }

    const reachable: RoleState[] = [];
    for (const state of states) {
      const refused = roleRefusal(state.role, guardrails);
      if (!refused) {
        reachable.push(state);
        continue;
      }
      // Never written, not even to revoke: the operator put this role out of reach.
      for (const id of wanted.get(state.role.name)?.keys() ?? []) ledger.fail(id, `Agreement ${id}: ${refused}`);
      for (const id of agreementsOnRole(state)) {
        // Held there and wanted there: a full reconcile names the refusal, an event the stuck statements.
        if (!all || !wanted.get(state.role.name)?.has(id))
          ledger.fail(id, `Agreement ${id}: its statements on role ${state.role.name} cannot be removed: ${refused}`);
        ledger.holdRole(id, state.role.arn);
      }
      ctx.log.warn('role out of reach of the guardrails', { role: state.role.name, reason: refused });
    }

    const plan = (state: RoleState, planScope: PlanScope) =>
      planRole({
        state,
        desired: wanted.get(state.role.name) ?? new Map(),
        shared: sharedWanted,
        scope: planScope,
        ...(ctx.limits ? { limits: ctx.limits } : {}),
      });
    const changedMeanwhile = new Set<string>();
    let applied = 0;
    // Roles are independent: read again and written side by side, recorded in their order after.
    const settled = await mapLimit(reachable, Math.min(concurrency, 4), async (listed): Promise<() => void> => {
      const listedPlan = plan(listed, scope);
      // A full reconcile leases a role only to write it, and then reads it again under the lease.
      const lease = all && listedPlan.changes.length > 0 ? [roleTarget(ctx.iam.accountId, listed.role.name)] : [];
      return holding(ctx, options, lease, async () => {
        let state = listed;
        let rolePlan = listedPlan;
        if (!options.dryRun && all && rolePlan.changes.length > 0) {
          // The role may have changed since the listing (an event was handled meanwhile): plan it
          // again from what is there now, so a full reconcile never writes back a stale pack.
          const fresh = await readRoleState(ctx.iam, state.role);
          const touched = changedAgreements(state, fresh);
          if (touched.size > 0) {
            ctx.log.info('role changed while reconciling; planning it again', {
              role: state.role.name,
              changedAgreements: [...touched],
            });
            for (const id of touched) changedMeanwhile.add(id);
            const forRole = wanted.get(state.role.name) ?? new Map<string, PolicyStatement[]>();
            state = fresh;
            rolePlan = plan(
              fresh,
              new Set([...forRole.keys(), ...agreementsOnRole(fresh)].filter((id) => !touched.has(id))),
            );
          }
        }
        if (ctx.accounts) for (const change of rolePlan.changes) change.account = ctx.iam.accountId;
        const done = () => {
          if (all) progress({ phase: 'apply', done: ++applied, total: reachable.length });
        };
        if (!options.dryRun) {
          try {
            await applyChanges(ctx.iam, rolePlan.changes);
          } catch (error) {
            if (!isPermanentTargetError(error)) {
              if (!options.onDeferred) throw error;
              // Not a decision about the agreements (a conflict, throttling): every one this role's
              // plan touches is retried; the other roles' agreements go on.
              const touched = [
                ...(wanted.get(state.role.name)?.keys() ?? []),
                ...agreementsOnRole(state),
                ...rolePlan.effects.keys(),
                ...rolePlan.changes.flatMap((c) => c.agreementIds),
              ];
              return () => {
                defer(touched, error);
                done();
              };
            }
            return () => {
              const reason = `AWS refused the change on role ${state.role.name}: ${error.code}: ${error.message}`;
              const held = agreementsOnRole(state);
              for (const id of new Set([...held, ...rolePlan.effects.keys()])) {
                if (held.has(id)) ledger.holdRole(id, state.role.arn);
                // In a full reconcile, agreements this role's writes do not touch keep their access as it is.
                if (all && !rolePlan.changes.some((c) => c.agreementIds.includes(id))) continue;
                ledger.fail(id, reason);
                ledger.effect(id, 'absent');
              }
              done();
            };
          }
        }
        return () => {
          ledger.record(rolePlan);
          for (const [id, names] of rolePlan.placements) {
            ledger.holdRole(id, state.role.arn);
            if (wanted.get(state.role.name)?.has(id)) ledger.policyNames.set(id, names);
          }
          done();
        };
      });
    });
    for (const record of settled) record();
    return { rolesExamined, changedMeanwhile };
  }
}

/** Every managed role, read once; only those that hold or should hold something of ours are kept. */
async function readAllRoles(
  ctx: SyncContext,
  wanted: Map<string, Map<string, PolicyStatement[]>>,
  concurrency: number,
  progress: (p: ReconcileProgress) => void,
): Promise<{ states: RoleState[]; rolesExamined: number }> {
  const roles = await ctx.iam.listRoles();
  let read = 0;
  const states = await mapLimit(roles, Math.min(concurrency, 4), async (listed) => {
    const role = await withTags(ctx, listed);
    const state = await readRoleState(ctx.iam, role);
    progress({ phase: 'roles', done: ++read, total: roles.length });
    return agreementsOnRole(state).size > 0 || state.packs.length > 0 || wanted.has(role.name) ? state : undefined;
  });
  return { states: states.filter((s): s is RoleState => s !== undefined), rolesExamined: roles.length };
}

/**
 * The roles that may hold the agreements' access: the one each should be on, the one it was
 * granted on (recorded on the agreement), the ones the agreement index names, and, only when none
 * of these names a role and the agreement is gone (or the reference integration granted it,
 * leaving no role record), every role that carries statements of ours for it.
 */
async function candidateRoles(
  ctx: SyncContext,
  desired: Map<string, Desired>,
  index: IndexView,
  deletedIds: ReadonlySet<string> = new Set(),
): Promise<{ names: Set<string>; scanned?: RoleState[] }> {
  const names = new Set<string>();
  const unknown = new Set<string>();
  for (const [id, { agreement, resolution }] of desired) {
    if (resolution.kind === 'grant' && inThisAccount(ctx, resolution.grant.role.arn))
      names.add(resolution.grant.role.name);
    const knownArns = [...recordedRoleArns(agreement), ...holdingsIn(index, id)].filter((arn) => roleFromArn(arn));
    const known = knownArns.map((arn) => roleFromArn(arn)?.name).filter((n) => n !== undefined);
    // A role known in another member account is that account's pass's to read.
    for (const arn of knownArns) if (inThisAccount(ctx, arn)) names.add(roleFromArn(arn)!.name);
    const entry = index.get(id);
    // An entry, even an empty one, means this tool has seen the agreement and knows where it is.
    const indexedKnown = entry !== undefined && entry !== 'unreadable';
    // Reading every role costs minutes in a large account: only worth it when nothing says where
    // the access is, i.e. for grants made before the index existed or by the reference integration.
    const mayHoldAccess = !!agreement && (agreement.tags.includes(TAG_ACTIVE) || FIELD_POLICY_NAME in agreement.custom);
    // A deleted id's document (if any) is a re-creation's: what it records says nothing of the old grant.
    if (!indexedKnown && deletedIds.has(id)) unknown.add(id);
    else if (!indexedKnown && known.length === 0 && (!agreement || (resolution.kind !== 'grant' && mayHoldAccess)))
      unknown.add(id);
  }
  if (unknown.size === 0) return { names };
  // The scan decides which roles matter; under leases they are read again once leased.
  const scanned: RoleState[] = [];
  for (const listed of await ctx.iam.listRoles()) {
    const role = await withTags(ctx, listed);
    const state = await readRoleState(ctx.iam, role);
    if (names.has(role.name) || [...agreementsOnRole(state)].some((id) => desired.has(id))) {
      scanned.push(state);
      names.add(role.name);
    }
  }
  return { names, scanned };
}

/** The named roles that exist, read side by side. */
async function readRoles(ctx: SyncContext, names: Iterable<string>): Promise<RoleState[]> {
  const read = await mapLimit([...names], 4, async (name) => {
    const role: RoleInfo | undefined = await ctx.iam.getRole(name);
    return role && readRoleState(ctx.iam, role);
  });
  return read.filter((state): state is RoleState => state !== undefined);
}

/**
 * Runs `work` holding the leases of `targets` when other writers may exist (docs/adr/0017-target-leases.md); a
 * dry run writes nothing and takes none.
 */
function holding<T>(
  ctx: SyncContext,
  options: ReconcileOptions,
  targets: string[],
  work: () => Promise<T>,
): Promise<T> {
  return ctx.locks && !options.dryRun ? ctx.locks.hold(targets, work) : work();
}

/**
 * AWS's ListRoles leaves tags out. When the required-role-tag guardrail is on, a role listed
 * without tags is read again (GetRole has them), so the tag check sees the truth.
 */
export async function withTags(ctx: SyncContext, role: RoleInfo): Promise<RoleInfo> {
  if (!guardrailsOf(ctx).requiredRoleTag || Object.keys(role.tags).length > 0) return role;
  return (await ctx.iam.getRole(role.name)) ?? role;
}

/** Agreements whose statements on the role differ between two readings of it. */
function changedAgreements(before: RoleState, after: RoleState): Set<string> {
  const statementsOf = (state: RoleState) => {
    const map = new Map<string, string>();
    for (const pack of state.packs)
      for (const [id, statements] of pack.blocks) map.set(id, (map.get(id) ?? '') + canonicalJson(statements));
    for (const legacy of state.legacy)
      map.set(legacy.agreementId, (map.get(legacy.agreementId) ?? '') + canonicalJson(legacy.statements));
    for (const [id, { bundle }] of sharedMemberships(state.packs)) map.set(id, `${map.get(id) ?? ''}|${bundle}`);
    return map;
  };
  const a = statementsOf(before);
  const b = statementsOf(after);
  return new Set([...a.keys(), ...b.keys()].filter((id) => a.get(id) !== b.get(id)));
}

// ---- resource policies -------------------------------------------------------------------------

async function reconcileResourcePolicies(
  ctx: SyncContext,
  desired: Map<string, Desired>,
  index: IndexView,
  scope: PlanScope,
  ledger: Ledger,
  options: ReconcileOptions,
): Promise<void> {
  const resources = new Map<string, { resource: PolicyResource; wanted: Map<string, PolicyStatement[]> }>();
  const instance = (resource: PolicyResource) => {
    const entry = resources.get(resource.arn) ?? { resource, wanted: new Map<string, PolicyStatement[]>() };
    resources.set(resource.arn, entry);
    return entry;
  };
  for (const [id, , grant] of grantsOn(desired, ledger, 'resource-policy')) {
    const wanted = instance(grant.resource).wanted;
    wanted.set(id, [...(wanted.get(id) ?? []), ...grant.statements]);
  }
  for (const [, holding] of indexHoldings(index)) {
    const resource = policyResourceFromArn(holding);
    if (resource) instance(resource);
  }
  if (resources.size === 0) return;
  const policies = ctx.resourcePolicies;
  if (!policies) {
    for (const { resource, wanted } of resources.values()) {
      for (const id of wanted.keys()) {
        ledger.fail(
          id,
          `Agreement ${id}: its grant needs the ${describePolicyResource(resource)}, but no resource-policy adapter is configured`,
        );
      }
    }
    return;
  }
  for (const { resource, wanted } of resources.values()) {
    // One writer at a time per policy document: read, plan and write under its lease.
    await holding(ctx, options, [resourcePolicyTarget(resource.arn)], async () => {
      let state: ResourcePolicyState;
      try {
        state = await readResourcePolicy(policies, resource);
      } catch (error) {
        if (!isPermanentTargetError(error)) throw error;
        const holders = [...indexHoldings(index)].filter(([, h]) => h === resource.arn).map(([id]) => id);
        const reason = `cannot read the ${describePolicyResource(resource)}: ${error.code}: ${error.message}`;
        failAll(ledger, [...wanted.keys(), ...holders], reason);
        for (const id of holders) ledger.holdResource(id, resource.arn);
        return;
      }
      const plan = planResourcePolicy(state, wanted, scope);
      if (ctx.accounts) {
        const account = await policyResourceAccount(resource, ctx.accounts.owners);
        if (account !== undefined) for (const change of plan.changes) change.account = account;
      }
      const what = describePolicyResource(resource);
      const ok = await applied(options, plan, ledger, () => applyResourcePolicyChanges(policies, plan.changes), what);
      // A refused write leaves the policy as it was: its holders keep their statements.
      for (const id of ok ? plan.holders : state.blocks.keys()) ledger.holdResource(id, resource.arn);
    });
  }
}

// ---- Lake Formation ----------------------------------------------------------------------------

interface LakeFormationWork {
  instance: LakeFormationInstance;
  wanted: Map<string, string[]>;
  recorded: Map<string, Set<string>>;
}

async function reconcileLakeFormation(
  ctx: SyncContext,
  desired: Map<string, Desired>,
  index: IndexView,
  scope: PlanScope,
  ledger: Ledger,
  options: ReconcileOptions,
): Promise<void> {
  const instances = new Map<string, LakeFormationWork>();
  const work = (instance: LakeFormationInstance) => {
    const key = lakeFormationKey(instance);
    const found = instances.get(key) ?? { instance, wanted: new Map(), recorded: new Map() };
    instances.set(key, found);
    return found;
  };
  for (const [id, grant, target] of grantsOn(desired, ledger, 'lake-formation')) {
    const wanted = work({ principal: grant.role.arn, resource: target.resource }).wanted;
    wanted.set(id, [...new Set([...(wanted.get(id) ?? []), ...target.permissions])].sort());
  }
  recordLakeFormationHoldings(index, (instance) => work(instance));
  if (instances.size === 0) return;
  const lf = ctx.lakeFormation;
  const agreementIndex = ctx.agreementIndex;
  if (!lf || !agreementIndex) {
    const missing = !lf
      ? 'no Lake Formation adapter is configured'
      : 'Lake Formation grants need the agreement index, which records them';
    const involved = [...instances.values()].flatMap(({ wanted, recorded }) => [...wanted.keys(), ...recorded.keys()]);
    for (const id of new Set(involved)) {
      ledger.fail(id, `Agreement ${id}: its grant needs Lake Formation permissions, but ${missing}`);
    }
    return;
  }

  // A permission is shared by every agreement of the same role on the same resource, so the other
  // agreements' records decide whether one may be revoked, and whether a permission found in
  // place is ours. An event's scope holds only its own entries: the others are read (a listing of
  // the whole index) only when a plan depends on them.
  let othersRead = isFullScope(scope);
  const readOthers = async () => {
    othersRead = true;
    const others: IndexView = new Map([...(await agreementIndex.list())].filter(([id]) => !index.has(id)));
    recordLakeFormationHoldings(others, (instance) => instances.get(lakeFormationKey(instance)));
  };
  // What each agreement's entry holds while grants are written ahead of the final index update.
  const ahead = new Map<string, string[]>();

  for (const { instance, wanted, recorded } of instances.values()) {
    // One writer at a time per principal and resource: read, plan and write under its lease.
    await holding(ctx, options, [lakeFormationTarget(lakeFormationKey(instance))], async () => {
      const what = describeLakeFormationInstance(instance);
      let state: LakeFormationState;
      try {
        state = await readLakeFormation(lf, instance, recorded);
      } catch (error) {
        if (!isPermanentTargetError(error)) throw error;
        failAll(
          ledger,
          [...wanted.keys(), ...recorded.keys()],
          `cannot read the ${what}: ${error.code}: ${error.message}`,
        );
        for (const [id, perms] of recorded) ledger.holdResource(id, lakeFormationHolding(instance, perms));
        return;
      }
      let plan = planLakeFormation(state, wanted, scope);
      if (!othersRead && dependsOnOthers(state, plan, wanted)) {
        await readOthers();
        state = { ...state, recorded: new Map([...recorded].map(([id, perms]) => [id, new Set(perms)])) };
        plan = planLakeFormation(state, wanted, scope);
      }
      // A hub names the account each change is made in: the catalog's.
      if (ctx.accounts) for (const change of plan.changes) change.account = instance.resource.catalogId;
      const after = lakeFormationHoldingsAfter(state, plan, wanted, scope);
      const apply = async () => {
        // Write ahead: a grant that is not in the index would never be revoked, so record it first.
        for (const id of plan.changes.filter((c) => c.action === 'grant').flatMap((c) => c.agreementIds)) {
          const holding = after.get(id);
          if (!holding) continue;
          const entry = normalizeHoldings([
            ...(ahead.get(id) ?? (await currentHoldings(agreementIndex, index, id))),
            holding,
          ]);
          await agreementIndex.record(id, entry);
          ahead.set(id, entry);
        }
        await applyLakeFormationChanges(lf, plan.changes);
      };
      const ok = await applied(options, plan, ledger, apply, what);
      if (ok) for (const [id, holding] of after) ledger.holdResource(id, holding);
      else for (const [id, perms] of recorded) ledger.holdResource(id, lakeFormationHolding(instance, perms));
    });
  }
}

/** The Lake Formation holdings a view of the index records, added to the instance `workOf` finds. */
function recordLakeFormationHoldings(
  view: IndexView,
  workOf: (instance: LakeFormationInstance) => LakeFormationWork | undefined,
): void {
  for (const [id, holding] of indexHoldings(view)) {
    const parsed = parseLakeFormationHolding(holding);
    const found = parsed && workOf(parsed);
    if (!parsed || !found) continue;
    found.recorded.set(id, new Set([...(found.recorded.get(id) ?? []), ...parsed.permissions]));
  }
}

/**
 * Whether other agreements' records could change this plan: it revokes something (another may
 * still need it), or it finds a wanted permission in place that the agreement has not recorded
 * (another may have been granted it by this tool, which makes it ours to record too).
 */
function dependsOnOthers(
  state: LakeFormationState,
  plan: TargetPlan<LakeFormationChange>,
  wanted: Map<string, string[]>,
): boolean {
  if (plan.changes.some((c) => c.action === 'revoke')) return true;
  return [...wanted].some(([id, perms]) => perms.some((p) => state.actual.has(p) && !state.recorded.get(id)?.has(p)));
}

/** An agreement's entry as this reconcile read it, read again only when the first read failed. */
async function currentHoldings(agreementIndex: AgreementIndex, index: IndexView, id: string): Promise<string[]> {
  const entry = index.get(id);
  if (entry === 'unreadable') return (await agreementIndex.holdingsOf(id)) ?? [];
  return entry ?? [];
}

// ---- the scope's grants and holdings -------------------------------------------------------------

/** The grants on one target kind of the agreements to be granted that have not failed already. */
function* grantsOn<K extends TargetGrant['target']>(
  desired: Map<string, Desired>,
  ledger: Ledger,
  kind: K,
): Generator<[string, Grant, Extract<TargetGrant, { target: K }>]> {
  for (const [id, { resolution }] of desired) {
    if (resolution.kind !== 'grant' || ledger.failures.has(id)) continue;
    for (const grant of resolution.grant.grants) {
      if (grant.target === kind) yield [id, resolution.grant, grant as Extract<TargetGrant, { target: K }>];
    }
  }
}

/** Every holding the index view records, with its agreement. */
function* indexHoldings(view: IndexView): Generator<[string, string]> {
  for (const id of view.keys()) for (const holding of holdingsIn(view, id)) yield [id, holding];
}

// ---- shared steps ------------------------------------------------------------------------------

/**
 * Apply one instance's plan (unless this is a dry run) and record it. A permanent refusal fails
 * the agreements whose access the plan changes (they keep what they hold, for the next attempt);
 * anything else propagates, so the event is retried.
 */
async function applied<C extends Change>(
  options: ReconcileOptions,
  plan: TargetPlan<C>,
  ledger: Ledger,
  apply: () => Promise<void>,
  what: string,
): Promise<boolean> {
  if (!options.dryRun) {
    try {
      await apply();
    } catch (error) {
      if (!isPermanentTargetError(error)) throw error;
      const touched = plan.changes.flatMap((c) => c.agreementIds);
      failAll(ledger, touched, `AWS refused the change on the ${what}: ${error.code}: ${error.message}`);
      return false;
    }
  }
  ledger.record(plan);
  return true;
}

function failAll(ledger: Ledger, ids: Iterable<string>, reason: string): void {
  for (const id of new Set(ids)) {
    ledger.fail(id, `Agreement ${id}: ${reason}`);
    ledger.effect(id, 'absent');
  }
}

function outcomeOf(id: string, resolution: Resolution, ledger: Ledger): AgreementOutcome {
  const effect = summariseEffects(ledger.effects.get(id) ?? []);
  const failure = ledger.failures.get(id);
  const decision = decide(resolution, effect, failure);
  const resources = ledger.heldOnResources.get(id) ?? [];
  return {
    agreementId: id,
    decision,
    effect,
    reason: failure ?? (resolution.kind === 'grant' ? resolution.grant.summary : resolution.reason),
    policyNames: failure ? [] : (ledger.policyNames.get(id) ?? []),
    heldOnRoleArns: [...new Set(ledger.heldOnRoles.get(id) ?? [])],
    ...(resources.length > 0 ? { heldOnResources: [...new Set(resources)] } : {}),
    changes: ledger.changesOf.get(id) ?? [],
    ...(resolution.kind === 'grant' ? { role: resolution.grant.role.arn } : {}),
    ...(failure ? { diagnostic: failure } : {}),
    ...(resolution.kind === 'failed' && resolution.field ? { refusedBy: resolution.field } : {}),
  };
}

/**
 * Record where each agreement's grants are now (src/sync/agreement-index.ts: unchanged entries
 * are not rewritten, failures are logged, never thrown). Lake Formation grants were recorded
 * ahead of their write, so those entries are written without comparing.
 */
async function updateIndex(
  ctx: SyncContext,
  index: AgreementIndex,
  outcomes: AgreementOutcome[],
  before: IndexView,
  desired: Map<string, Desired>,
  concurrency: number,
): Promise<void> {
  await mapLimit(outcomes, concurrency, async (outcome) => {
    const previous = before.get(outcome.agreementId);
    const wroteAhead = outcome.changes.some((c) => c.target === 'lake-formation');
    const reading: IndexReading = previous === 'unreadable' || wroteAhead ? 'unreadable' : { entry: previous };
    const holdings = [...outcome.heldOnRoleArns, ...(outcome.heldOnResources ?? [])];
    const gone = !desired.get(outcome.agreementId)?.agreement;
    await updateIndexEntry(
      index,
      outcome.agreementId,
      reading,
      holdings,
      ctx.log.child({ agreementId: outcome.agreementId }),
      gone,
    );
  });
}

function decide(desired: Resolution, effect: AgreementEffect, failure: string | undefined): Decision {
  if (failure) return 'failed';
  if (desired.kind === 'grant') return 'grant';
  return effect === 'revoked' ? 'revoke' : 'none';
}

/**
 * Whether a role ARN is in the account this identity pass reads: always for one account (where a
 * role is known by name), the ARN's account for a hub's member.
 */
function inThisAccount(ctx: SyncContext, roleArn: string): boolean {
  return !ctx.accounts || roleArn.split(':')[4] === ctx.iam.accountId;
}

/** Why a grant's role cannot be written to: it does not exist, or the tool may not manage it. */
function missingRoleReason(ctx: SyncContext, grant: Grant): string {
  return (
    `IAM role ${grant.role.name} (from the consumer ${grant.consumerTeamId !== undefined ? `team ${grant.consumerTeamId}` : `data product ${grant.consumerDataProductId}`}) does not exist in account ` +
    `${ctx.iam.accountId}, or is outside the roles this integration may manage`
  );
}

export function reportState(outcome: AgreementOutcome, desired: Resolution): ReportState {
  if (outcome.decision === 'failed') {
    return {
      kind: 'failed',
      diagnostic: outcome.diagnostic ?? outcome.reason,
      deprovisioning: desired.kind === 'none',
      heldOnRoleArns: outcome.heldOnRoleArns,
    };
  }
  if (outcome.decision === 'grant' && desired.kind === 'grant') {
    return {
      kind: 'granted',
      roleArn: desired.grant.role.arn,
      policyNames: outcome.policyNames,
      reference: grantReference(desired.grant, outcome.policyNames),
    };
  }
  return outcome.effect === 'revoked' ? { kind: 'revoked' } : { kind: 'inactive' };
}

function grantReference(grant: Grant, policyNames: string[]): string {
  // Which requested roles the grant honours, so the provider reads it where the grant is recorded.
  const roles = grant.contract?.roles ? `; roles honoured: ${grant.contract.roles.join(', ')}` : '';
  return `${grant.role.arn} (policies: ${policyNames.join(', ')}${roles})`;
}

/** The role ARNs the agreement records its grant on (`aws-granted-role-arn`). */
function recordedRoleArns(agreement: Agreement | undefined): string[] {
  return (agreement?.custom[FIELD_GRANTED_ROLE] ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter(Boolean);
}

/** A role ARN's name and path, or undefined when the text is not a valid role ARN. */
export function roleFromArn(arn: string): { name: string; path: string } | undefined {
  try {
    const { name, path } = parseRoleArn(FIELD_GRANTED_ROLE, arn);
    return { name, path };
  } catch {
    return undefined;
  }
}

/** Converge one agreement: the event path. */
export async function reconcileAgreement(
  ctx: SyncContext,
  agreementId: string,
  options: ReconcileOptions = {},
): Promise<AgreementOutcome> {
  const { outcomes } = await reconcile(ctx, { agreementIds: [agreementId] }, options);
  return outcomes.find((o) => o.agreementId === agreementId)!;
}

/**
 * Converge every agreement and sweep what no active agreement explains (deleted agreements,
 * changed roles, hand edits): `dmm-aws apply`, or with `dryRun` `dmm-aws plan`.
 */
export function reconcileAll(ctx: SyncContext, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  return reconcile(ctx, 'all', options);
}
