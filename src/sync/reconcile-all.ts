import { identityStatements } from '../model/grants.js';
import type { Agreement } from '../model/agreement.js';
import type { PolicyStatement } from '../model/policy.js';
import { canonicalJson } from '../util/canonical-json.js';
import { errorMessage } from '../util/errors.js';
import { mapLimit } from '../util/map-limit.js';
import { entryChanges, normalizeRoleArns, type AgreementIndex } from './agreement-index.js';
import { applyChanges, isPermanentIamError } from '../targets/identity-policy/apply.js';
import { dataProductCache, guardrailsOf, type SyncContext } from './context.js';
import { guardResolution } from './guard.js';
import { roleRefusal } from './guardrails.js';
import { planRole, summariseEffects, type AgreementEffect, type PolicyChange, type RolePlan } from '../targets/identity-policy/packing.js';
import {
  reportState,
  type AgreementOutcome,
  type ConvergeOptions,
  decide,
  missingRoleReason,
} from './reconcile-agreement.js';
import { reportBack } from './report.js';
import { resolveAgreement, type Resolution } from './resolve.js';
import { agreementsOnRole, readRoleState, withTags, type RoleState } from '../targets/identity-policy/role-state.js';

export interface ReconcileProgress {
  phase: 'agreements' | 'roles' | 'apply' | 'report';
  done: number;
  total: number;
}

export interface FullReconcileResult {
  outcomes: AgreementOutcome[];
  /** Every IAM write, in the order it is (or, for a plan, would be) made. */
  changes: PolicyChange[];
  rolesExamined: number;
}

export interface FullReconcileOptions extends ConvergeOptions {
  onProgress?: (progress: ReconcileProgress) => void;
  concurrency?: number;
}

/**
 * The same convergence as for one agreement, over all of them at once, plus the sweep: statements
 * on any role that no active agreement explains (deleted agreements, changed roles, hand edits)
 * are removed. `dryRun` makes it a plan.
 */
export async function reconcileAll(ctx: SyncContext, options: FullReconcileOptions = {}): Promise<FullReconcileResult> {
  const concurrency = options.concurrency ?? 8;
  const progress = options.onProgress ?? (() => {});
  const agreements = await ctx.dmm.listAgreements();
  const products = dataProductCache(ctx.dmm);
  let resolved = 0;
  const resolutions = await mapLimit(agreements, concurrency, async (agreement) => {
    const resolution = await guardResolution(ctx, await resolveAgreement(agreement, products, ctx.resolve));
    progress({ phase: 'agreements', done: ++resolved, total: agreements.length });
    return resolution;
  });

  const byId = new Map<string, { agreement?: Agreement; resolution: Resolution }>();
  agreements.forEach((agreement, i) => byId.set(agreement.id, { agreement, resolution: resolutions[i] as Resolution }));

  const roles = await ctx.iam.listRoles();
  const roleNames = new Set(roles.map((r) => r.name));
  const failures = new Map<string, string>();
  const desiredByRole = new Map<string, Map<string, PolicyStatement[]>>();
  for (const [id, { resolution }] of byId) {
    if (resolution.kind === 'failed') failures.set(id, resolution.reason);
    if (resolution.kind !== 'grant') continue;
    const { role } = resolution.grant;
    if (!roleNames.has(role.name)) {
      failures.set(id, missingRoleReason(ctx, resolution.grant));
      continue;
    }
    const forRole = desiredByRole.get(role.name) ?? new Map<string, PolicyStatement[]>();
    forRole.set(id, identityStatements(resolution.grant.grants));
    desiredByRole.set(role.name, forRole);
  }

  let read = 0;
  const states = (
    await mapLimit(roles, Math.min(concurrency, 4), async (listed) => {
      const role = await withTags(ctx, listed);
      const state = await readRoleState(ctx.iam, role);
      progress({ phase: 'roles', done: ++read, total: roles.length });
      const ours = agreementsOnRole(state).size > 0 || state.packs.length > 0;
      return ours || desiredByRole.has(role.name) ? state : undefined;
    })
  ).filter((s): s is RoleState => s !== undefined);

  // Roles the guardrails put out of reach are never written, not even to revoke.
  const guardrails = guardrailsOf(ctx);
  const outOfReach: RoleState[] = [];
  for (const state of [...states]) {
    const refused = roleRefusal(state.role, guardrails);
    if (!refused) continue;
    states.splice(states.indexOf(state), 1);
    outOfReach.push(state);
    const desired = desiredByRole.get(state.role.name) ?? new Map<string, PolicyStatement[]>();
    for (const id of desired.keys()) failures.set(id, `Agreement ${id}: ${refused}`);
    for (const id of agreementsOnRole(state)) {
      if (!desired.has(id)) failures.set(id, `Agreement ${id}: its statements on role ${state.role.name} cannot be removed: ${refused}`);
    }
    ctx.log.warn('role out of reach of the guardrails', { role: state.role.name, reason: refused });
  }

  const plans: RolePlan[] = states.map((state) =>
    planRole({ state, desired: desiredByRole.get(state.role.name) ?? new Map(), scope: 'all', ...(ctx.limits ? { limits: ctx.limits } : {}) }),
  );

  const failedRoles = new Map<string, string>();
  /** Agreements an event changed while this reconcile ran: that event's news is newer than ours. */
  const changedMeanwhile = new Set<string>();
  if (!options.dryRun) {
    let applied = 0;
    for (const [i, plan] of plans.entries()) {
      if (plan.changes.length > 0) {
        // The role may have changed since it was read (an event was handled meanwhile): plan it
        // again from what is there now, so a reconcile never writes back a stale pack.
        const fresh = await readRoleState(ctx.iam, states[i]!.role);
        const touched = changedAgreements(states[i]!, fresh);
        if (touched.size > 0) {
          // Whoever changed them acted on newer news than our listing: leave those agreements as
          // they are now, converge the rest.
          ctx.log.info('role changed while reconciling; planning it again', { role: plan.roleName, changedAgreements: [...touched] });
          for (const id of touched) changedMeanwhile.add(id);
          const desired = desiredByRole.get(plan.roleName) ?? new Map<string, PolicyStatement[]>();
          const scope = new Set([...desired.keys(), ...agreementsOnRole(fresh)].filter((id) => !touched.has(id)));
          states[i] = fresh;
          plans[i] = planRole({ state: fresh, desired, scope, ...(ctx.limits ? { limits: ctx.limits } : {}) });
        }
      }
      try {
        await applyChanges(ctx.iam, plans[i]!.changes);
      } catch (error) {
        if (!isPermanentIamError(error)) throw error;
        failedRoles.set(plan.roleName, `AWS refused the change on role ${plan.roleName}: ${error.code}: ${error.message}`);
      }
      progress({ phase: 'apply', done: ++applied, total: plans.length });
    }
  }

  const effects = new Map<string, AgreementEffect[]>();
  const heldOn = new Map<string, string[]>();
  const holdOn = (id: string, roleArn: string) => heldOn.set(id, [...(heldOn.get(id) ?? []), roleArn]);
  const placements = new Map<string, string[]>();
  const changesOf = new Map<string, PolicyChange[]>();
  for (const plan of plans) {
    for (const [id, effect] of plan.effects) effects.set(id, [...(effects.get(id) ?? []), effect]);
    for (const [id, names] of plan.placements) placements.set(id, names);
    for (const [id, reason] of plan.unplaced) failures.set(id, reason);
    for (const change of plan.changes) for (const id of change.agreementIds) changesOf.set(id, [...(changesOf.get(id) ?? []), change]);
  }

  for (const state of outOfReach) for (const id of agreementsOnRole(state)) holdOn(id, state.role.arn);
  for (const [i, plan] of plans.entries()) {
    const refused = failedRoles.get(plan.roleName);
    if (!refused) continue;
    for (const id of agreementsOnRole(states[i]!)) holdOn(id, states[i]!.role.arn);
    for (const change of plan.changes) for (const id of change.agreementIds) failures.set(id, refused);
  }

  for (const [i, plan] of plans.entries()) {
    if (failedRoles.has(plan.roleName)) continue;
    for (const id of plan.placements.keys()) holdOn(id, states[i]!.role.arn);
  }

  // Agreements deleted in Data Mesh Manager appear only through what they left on roles.
  for (const id of [...effects.keys(), ...heldOn.keys()]) if (!byId.has(id)) byId.set(id, { resolution: { kind: 'none', reason: 'the agreement no longer exists in Data Mesh Manager' } });

  const outcomes: AgreementOutcome[] = [];
  for (const [id, { resolution }] of byId) {
    const effect = summariseEffects(effects.get(id) ?? []);
    const failure = failures.get(id);
    const decision = decide(resolution, effect, failure);
    outcomes.push({
      agreementId: id,
      decision,
      effect,
      reason: failure ?? (resolution.kind === 'grant' ? resolution.grant.summary : resolution.reason),
      policyNames: failure ? [] : (placements.get(id) ?? []),
      heldOnRoleArns: heldOn.get(id) ?? [],
      changes: changesOf.get(id) ?? [],
      ...(resolution.kind === 'grant' ? { role: resolution.grant.role.arn } : {}),
      ...(failure ? { diagnostic: failure } : {}),
    });
  }
  outcomes.sort((a, b) => a.agreementId.localeCompare(b.agreementId));
  const logDecision = options.dryRun ? ctx.log.debug : ctx.log.info;
  for (const outcome of outcomes) logDecision(`decision: ${outcome.decision}`, { agreementId: outcome.agreementId, decision: outcome.decision, effect: outcome.effect, reason: outcome.reason, dryRun: !!options.dryRun });

  if (!options.dryRun && ctx.agreementIndex) await refreshIndex(ctx, ctx.agreementIndex, outcomes.filter((o) => !changedMeanwhile.has(o.agreementId)), new Set(agreements.map((a) => a.id)), concurrency);

  if (!options.dryRun) {
    let reported = 0;
    await mapLimit(outcomes, Math.min(concurrency, 4), async (outcome) => {
      const entry = byId.get(outcome.agreementId);
      if (entry?.agreement) outcome.report = await reportBack(ctx.dmm, entry.agreement, reportState(outcome, entry.resolution), ctx.log.child({ agreementId: outcome.agreementId }));
      progress({ phase: 'report', done: ++reported, total: outcomes.length });
    });
  }

  return { outcomes, changes: plans.flatMap((p) => p.changes), rolesExamined: roles.length };
}

/**
 * Rebuild the agreement index from what this reconcile found on every role: each agreement's
 * entry becomes the roles holding its statements now (`[]`: seen, holds nothing), and the entries
 * of deleted agreements that hold nothing any more are dropped. Unchanged entries are only
 * read. Failures are counted and logged once: the index is a cache, IAM is already right.
 */
async function refreshIndex(
  ctx: SyncContext,
  index: AgreementIndex,
  outcomes: AgreementOutcome[],
  existing: ReadonlySet<string>,
  concurrency: number,
): Promise<void> {
  let written = 0;
  const failed: string[] = [];
  let firstError: string | undefined;
  await mapLimit(outcomes, Math.min(concurrency, 4), async ({ agreementId, heldOnRoleArns }) => {
    try {
      const before = await index.rolesOf(agreementId);
      if (!existing.has(agreementId) && heldOnRoleArns.length === 0) {
        if (before !== undefined) {
          await index.forget(agreementId);
          written++;
        }
        return;
      }
      if (!entryChanges(before, heldOnRoleArns)) return;
      await index.record(agreementId, normalizeRoleArns(heldOnRoleArns));
      written++;
    } catch (error) {
      failed.push(agreementId);
      firstError ??= errorMessage(error);
    }
  });
  if (failed.length > 0) {
    ctx.log.warn('agreement index not fully refreshed; deleted agreements without an entry are found by a role scan', { failed: failed.length, agreementIds: failed.slice(0, 20), error: firstError });
  }
  ctx.log.info('agreement index refreshed', { entries: outcomes.length, written, failed: failed.length });
}

/** Agreements whose statements on the role differ between two readings of it. */
function changedAgreements(before: RoleState, after: RoleState): Set<string> {
  const statementsOf = (state: RoleState) => {
    const map = new Map<string, string>();
    for (const pack of state.packs) for (const [id, statements] of pack.blocks) map.set(id, (map.get(id) ?? '') + canonicalJson(statements));
    for (const legacy of state.legacy) map.set(legacy.agreementId, (map.get(legacy.agreementId) ?? '') + canonicalJson(legacy.statements));
    return map;
  };
  const a = statementsOf(before);
  const b = statementsOf(after);
  return new Set([...a.keys(), ...b.keys()].filter((id) => a.get(id) !== b.get(id)));
}
