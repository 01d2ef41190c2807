/** What a plan does to one agreement's access on one target instance. */
export type AgreementEffect = 'granted' | 'updated' | 'revoked' | 'adopted' | 'unchanged' | 'absent';

/** One word for what happened to an agreement across every target instance examined. */
export function summariseEffects(effects: AgreementEffect[]): AgreementEffect {
  for (const e of ['granted', 'adopted', 'updated', 'revoked', 'unchanged'] as const) if (effects.includes(e)) return e;
  return 'absent';
}

/** The effect of a plan on one agreement, from whether it held access before and holds it after. */
export function effectOf(had: boolean, has: boolean, changed: boolean): AgreementEffect {
  if (has && !had) return 'granted';
  if (!has && had) return 'revoked';
  if (has) return changed ? 'updated' : 'unchanged';
  return 'absent';
}

/**
 * The plan for one target instance (a role, a resource's policy, a principal's Lake Formation
 * permissions on one resource): the writes, and per agreement in scope what they do.
 */
export interface TargetPlan<C> {
  /** How the agreement index records holdings on this instance (src/sync/agreement-index.ts). */
  holding: string;
  changes: C[];
  effects: Map<string, AgreementEffect>;
  /** The agreements that hold grants here after the plan. */
  holders: Set<string>;
  /** Agreements whose grants do not fit here, with the reason. */
  unplaced: Map<string, string>;
}

/**
 * Which agreements a plan decides: all of them (a full reconcile), all but some (a full reconcile
 * where some agreements could not be read: their grants are left exactly as they are), or the
 * named ones (an event's). Agreements outside the scope keep whatever they hold.
 */
export type PlanScope = ReadonlySet<string> | 'all' | { allExcept: ReadonlySet<string> };

export function inPlanScope(scope: PlanScope, id: string): boolean {
  if (scope === 'all') return true;
  if ('allExcept' in scope) return !scope.allExcept.has(id);
  return scope.has(id);
}

/** A full reconcile: also removes what no agreement accounts for (strays, deleted agreements). */
export function isFullScope(scope: PlanScope): boolean {
  return scope === 'all' || 'allExcept' in scope;
}
