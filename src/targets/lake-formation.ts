/**
 * The Lake Formation grant target: permissions (SELECT, DESCRIBE, ...) of the consumer role on a
 * Data Catalog database or table. Lake Formation keeps one set of permissions per principal and
 * resource and has no place for a marker, so ownership lives in the agreement index: each
 * agreement's entry records the permissions this tool granted for it (a *holding*, below), and a
 * permission is revoked only when this tool granted it and no agreement still records or needs
 * it. Permissions granted by anyone else are never revoked, and are not recorded as ours.
 */
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import { lakeFormationResourceName, type LakeFormationResource } from '../model/grants.js';
import { canonicalJson } from '../util/canonical-json.js';
import { type AgreementEffect, effectOf, inPlanScope, type PlanScope, type TargetPlan } from './effects.js';

/** One principal's permissions on one resource: the unit Lake Formation grants on. */
export interface LakeFormationInstance {
  principal: string;
  resource: LakeFormationResource;
}

export interface LakeFormationState extends LakeFormationInstance {
  /** What Lake Formation says the principal holds now. */
  actual: Set<string>;
  /** What the agreement index records as granted by this tool, per agreement. */
  recorded: Map<string, Set<string>>;
}

export interface LakeFormationChange extends LakeFormationInstance {
  target: 'lake-formation';
  action: 'grant' | 'revoke';
  permissions: string[];
  agreementIds: string[];
  note?: string;
  /** A hub's member account the grant is made in (the catalog's; set by the core); absent for one account. */
  account?: string;
}

const HOLDING_PREFIX = 'lakeformation:';

/** The key of an instance: equal instances give equal keys. */
export function lakeFormationKey(instance: LakeFormationInstance): string {
  return canonicalJson({ principal: instance.principal, resource: instance.resource });
}

/** How the agreement index records that an agreement holds `permissions` on the instance. */
export function lakeFormationHolding(instance: LakeFormationInstance, permissions: Iterable<string>): string {
  return `${HOLDING_PREFIX}${canonicalJson({ principal: instance.principal, resource: instance.resource, permissions: [...permissions].sort() })}`;
}

/** The instance and permissions of a recorded holding, or undefined when it is not a Lake Formation holding. */
export function parseLakeFormationHolding(
  holding: string,
): (LakeFormationInstance & { permissions: string[] }) | undefined {
  if (!holding.startsWith(HOLDING_PREFIX)) return undefined;
  try {
    const value = JSON.parse(holding.slice(HOLDING_PREFIX.length)) as LakeFormationInstance & { permissions: string[] };
    if (typeof value.principal !== 'string' || typeof value.resource !== 'object' || !Array.isArray(value.permissions))
      return undefined;
    return value;
  } catch {
    return undefined;
  }
}

export function describeLakeFormationInstance(instance: LakeFormationInstance): string {
  return `Lake Formation permissions of ${instance.principal} on ${lakeFormationResourceName(instance.resource)}`;
}

export async function readLakeFormation(
  lf: LakeFormationPermissions,
  instance: LakeFormationInstance,
  recorded: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<LakeFormationState> {
  const actual = new Set(await lf.listPermissions(instance.principal, instance.resource));
  return { ...instance, actual, recorded: new Map([...recorded].map(([id, perms]) => [id, new Set(perms)])) };
}

/**
 * Grants what the agreements in scope need and Lake Formation lacks; revokes what they recorded
 * and no longer need, unless another agreement (in scope or not) records or needs it too.
 */
export function planLakeFormation(
  state: LakeFormationState,
  desired: ReadonlyMap<string, readonly string[]>,
  scope: PlanScope,
): TargetPlan<LakeFormationChange> {
  const inScope = (id: string) => inPlanScope(scope, id);
  const instance: LakeFormationInstance = { principal: state.principal, resource: state.resource };
  const needed = new Map<string, Set<string>>(); // permission → agreements that keep it
  const keep = (permission: string, id: string) =>
    needed.set(permission, new Set([...(needed.get(permission) ?? []), id]));
  for (const [id, perms] of state.recorded) if (!inScope(id)) for (const p of perms) keep(p, id);
  for (const [id, perms] of desired) if (inScope(id)) for (const p of perms) keep(p, id);

  const toGrant = new Map<string, string[]>(); // permission → agreements asking
  for (const [id, perms] of desired) {
    if (!inScope(id)) continue;
    for (const p of perms) if (!state.actual.has(p)) toGrant.set(p, [...(toGrant.get(p) ?? []), id]);
  }
  const toRevoke = new Map<string, string[]>();
  for (const [id, perms] of state.recorded) {
    if (!inScope(id)) continue;
    for (const p of perms) if (!needed.has(p) && state.actual.has(p)) toRevoke.set(p, [...(toRevoke.get(p) ?? []), id]);
  }

  const change = (action: LakeFormationChange['action'], byPermission: Map<string, string[]>): LakeFormationChange[] =>
    byPermission.size === 0
      ? []
      : [
          {
            target: 'lake-formation',
            action,
            ...instance,
            permissions: [...byPermission.keys()].sort(),
            agreementIds: [...new Set([...byPermission.values()].flat())].sort(),
          },
        ];
  const changes = [...change('revoke', toRevoke), ...change('grant', toGrant)];

  const effects = new Map<string, AgreementEffect>();
  const holders = new Set<string>();
  // Access someone else granted counts as access the agreement had, not as one this run grants.
  const present = (perms: Set<string>) => perms.size > 0 && [...perms].every((p) => state.actual.has(p));
  for (const id of new Set([...state.recorded.keys(), ...desired.keys()])) {
    if (!inScope(id)) {
      if (state.recorded.has(id)) holders.add(id);
      continue;
    }
    const before = state.recorded.get(id) ?? new Set<string>();
    const after = new Set(desired.get(id) ?? []);
    if (after.size > 0) holders.add(id);
    // Only a grant or revoke changes access: a permission someone else granted is never ours.
    const touched = changes.some((c) => c.agreementIds.includes(id));
    effects.set(id, effectOf(present(before) || present(after), after.size > 0, touched));
  }
  return { holding: lakeFormationKey(instance), changes, effects, holders, unplaced: new Map() };
}

/**
 * The holding each holder records after the plan: the permissions it asked for that this tool
 * granted or had granted before (a permission someone else granted first is not ours to record).
 */
export function lakeFormationHoldingsAfter(
  state: LakeFormationState,
  plan: TargetPlan<LakeFormationChange>,
  desired: ReadonlyMap<string, readonly string[]>,
  scope: PlanScope,
): Map<string, string> {
  const inScope = (id: string) => inPlanScope(scope, id);
  const granted = new Set(plan.changes.filter((c) => c.action === 'grant').flatMap((c) => c.permissions));
  const ours = new Set([...state.recorded.values()].flatMap((perms) => [...perms]));
  const result = new Map<string, string>();
  for (const id of plan.holders) {
    const perms = inScope(id)
      ? (desired.get(id) ?? []).filter((p) => granted.has(p) || ours.has(p))
      : [...(state.recorded.get(id) ?? [])];
    if (perms.length > 0) result.set(id, lakeFormationHolding(state, perms));
  }
  return result;
}

export async function applyLakeFormationChanges(
  lf: LakeFormationPermissions,
  changes: readonly LakeFormationChange[],
): Promise<void> {
  for (const change of changes) {
    if (change.action === 'grant') await lf.grant(change.principal, change.resource, change.permissions);
    else await lf.revoke(change.principal, change.resource, change.permissions);
  }
}
