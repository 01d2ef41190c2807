import type { PolicyDocument, PolicyStatement } from '../../model/policy.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { IAM_LIMITS, iamCharacterCount } from '../../interfaces/iam-account.js';
import { withSids } from '../sid.js';
import { inlinePackName, managedPackName, MANAGED_POLICY_PATH } from './ownership.js';
import { type AgreementEffect, inPlanScope, isFullScope, type PlanScope } from '../effects.js';
import type { Pack, RoleState } from './role-state.js';

/** One write to IAM. `agreementIds` are the agreements whose access this write adds, changes or removes. */
export interface PolicyChange {
  target: 'identity-policy';
  action: 'put' | 'delete';
  kind: 'inline' | 'managed';
  roleName: string;
  /** A hub's member account the role is in (set by the core); absent for one account. */
  account?: string;
  policyName: string;
  /** Managed policies only: their path and (when they exist) ARN. */
  policyPath?: string;
  policyArn?: string;
  /** The full document for `put`, minified as it is sent. */
  document?: PolicyDocument;
  agreementIds: string[];
  /** Why, for people: e.g. "adopt reference policy", "remove statements no agreement explains". */
  note?: string;
}

export interface RolePlan {
  roleName: string;
  changes: PolicyChange[];
  /** Per agreement in scope: what the plan does to its access on this role. */
  effects: Map<string, AgreementEffect>;
  /** Policy names holding each granted agreement's statements after the plan. */
  placements: Map<string, string[]>;
  /** Agreements whose statements do not fit on the role, with the reason. */
  unplaced: Map<string, string>;
}

export interface PackLimits {
  inlineCharacters: number;
  managedCharacters: number;
  attachedPolicies: number;
}

const DEFAULT_PACK_LIMITS: PackLimits = {
  inlineCharacters: IAM_LIMITS.inlineRoleCharacters,
  managedCharacters: IAM_LIMITS.managedPolicyCharacters,
  attachedPolicies: IAM_LIMITS.attachedPoliciesPerRole,
};

export interface RolePlanInput {
  state: RoleState;
  /** Desired statements (without Sids) of the agreements in scope that should have access here. */
  desired: Map<string, PolicyStatement[]>;
  /** The agreements this plan decides; everything else on the role is left exactly as it is. */
  scope: PlanScope;
  limits?: PackLimits;
}

interface WorkingPack extends Pack {
  dirty: boolean;
  /** The pack as read from IAM, or undefined for a pack this plan creates. */
  original?: Pack;
}

/**
 * Decide the writes that make one role carry exactly the desired statements of the agreements in
 * scope. Packing is stable: statements that are already right stay where they are, so an event
 * for one agreement rewrites at most the packs it touches. New or changed statements go first-fit
 * into inline packs (the role's 10,240-character budget), then into customer-managed packs
 * (6,144 each, within the role's attachment quota).
 */
export function planRole(input: RolePlanInput): RolePlan {
  const { state, scope } = input;
  const limits = input.limits ?? DEFAULT_PACK_LIMITS;
  const roleName = state.role.name;
  const inScope = (id: string) => inPlanScope(scope, id);
  const target = new Map<string, PolicyStatement[]>();
  for (const [id, statements] of [...input.desired].sort(([a], [b]) => a.localeCompare(b))) {
    // A grant with nothing on the role (e.g. Lake Formation only) holds no block in any pack.
    if (inScope(id) && statements.length > 0) target.set(id, withSids(id, statements));
  }

  const before = new Map<string, string>(); // agreement id → canonical statements before the plan
  const placed = new Set<string>();
  const packs: WorkingPack[] = state.packs.map((pack) => {
    const working: WorkingPack = {
      ...pack,
      blocks: new Map(pack.blocks),
      strays: [...pack.strays],
      dirty: false,
      original: pack,
    };
    for (const [id, statements] of pack.blocks) {
      before.set(id, (before.get(id) ?? '') + canonicalJson(statements));
      if (!inScope(id)) continue;
      const wanted = target.get(id);
      if (wanted && !placed.has(id) && canonicalJson(wanted) === canonicalJson(statements)) {
        placed.add(id);
      } else {
        working.blocks.delete(id);
        working.dirty = true;
      }
    }
    if (working.strays.length > 0 && (isFullScope(scope) || working.dirty)) {
      working.strays = [];
      working.dirty = true;
    }
    return working;
  });

  const changes: PolicyChange[] = [];
  const effects = new Map<string, AgreementEffect>();
  const legacyIds = new Set<string>();
  let keptLegacyCharacters = 0;
  for (const legacy of state.legacy) {
    if (!inScope(legacy.agreementId)) {
      keptLegacyCharacters += legacy.characters;
      continue;
    }
    legacyIds.add(legacy.agreementId);
    changes.push({
      target: 'identity-policy',
      action: 'delete',
      kind: 'inline',
      roleName,
      policyName: legacy.name,
      agreementIds: [legacy.agreementId],
      note: target.has(legacy.agreementId)
        ? 'adopt reference integration policy: its access moves into a pack'
        : 'reference integration policy no active agreement explains',
    });
  }

  const unplaced = new Map<string, string>();
  const inlineUsed = () =>
    state.foreignInlineCharacters +
    keptLegacyCharacters +
    packs.filter((p) => p.kind === 'inline').reduce((sum, p) => sum + packCharacters(p), 0);

  for (const [id, statements] of target) {
    if (placed.has(id)) continue;
    const home = findRoom(packs, id, statements, limits, inlineUsed(), state.foreignAttachedCount, roleName);
    if (typeof home === 'string') {
      unplaced.set(id, home);
      continue;
    }
    home.blocks.set(id, statements);
    home.dirty = true;
    placed.add(id);
  }

  for (const pack of packs) {
    const empty = pack.blocks.size === 0 && pack.strays.length === 0;
    const originalBlocks = pack.original?.blocks ?? new Map<string, PolicyStatement[]>();
    // The agreements whose statements in this pack this write adds, changes or removes.
    const touched = [...new Set([...originalBlocks.keys(), ...pack.blocks.keys()])].filter(
      (id) =>
        inScope(id) && canonicalJson(originalBlocks.get(id) ?? null) !== canonicalJson(pack.blocks.get(id) ?? null),
    );
    if (empty && pack.original) {
      changes.push({
        target: 'identity-policy',
        action: 'delete',
        kind: pack.kind,
        roleName,
        policyName: pack.name,
        agreementIds: touched.sort(),
        ...managedRef(pack),
      });
    } else if (!empty && pack.dirty) {
      changes.push({
        target: 'identity-policy',
        action: 'put',
        kind: pack.kind,
        roleName,
        policyName: pack.name,
        ...managedRef(pack),
        document: packDocument(pack),
        agreementIds: touched.sort(),
        ...(pack.strays.length === 0 && pack.original?.strays.length
          ? { note: 'removes statements that no agreement explains' }
          : {}),
      });
    }
  }

  const placements = new Map<string, string[]>();
  for (const pack of packs)
    for (const id of pack.blocks.keys()) placements.set(id, [...(placements.get(id) ?? []), pack.name]);

  const ids = new Set<string>([...target.keys(), ...before.keys(), ...legacyIds]);
  for (const id of ids) {
    if (!inScope(id)) continue;
    const had = before.has(id) || legacyIds.has(id);
    const has = placements.has(id);
    const after = has ? canonicalJson(target.get(id)) : undefined;
    if (has && legacyIds.has(id) && !before.has(id)) effects.set(id, 'adopted');
    else if (has && !had) effects.set(id, 'granted');
    else if (!has && had) effects.set(id, 'revoked');
    else if (has && (before.get(id) !== after || legacyIds.has(id))) effects.set(id, 'updated');
    else effects.set(id, has ? 'unchanged' : 'absent');
  }
  for (const id of unplaced.keys()) if (!effects.has(id)) effects.set(id, 'absent');

  return { roleName, changes: orderForApply(changes, state), effects, placements, unplaced };
}

function findRoom(
  packs: WorkingPack[],
  id: string,
  statements: PolicyStatement[],
  limits: PackLimits,
  inlineUsed: number,
  foreignAttached: number,
  roleName: string,
): WorkingPack | string {
  const fits = (pack: WorkingPack) => {
    const grown = packCharacters({ ...pack, blocks: new Map([...pack.blocks, [id, statements]]) });
    return pack.kind === 'inline'
      ? inlineUsed - packCharacters(pack) + grown <= limits.inlineCharacters
      : grown <= limits.managedCharacters;
  };
  for (const kind of ['inline', 'managed'] as const) {
    const home = packs
      .filter((p) => p.kind === kind)
      .sort((a, b) => a.number - b.number)
      .find(fits);
    if (home) return home;
  }
  const fresh = (kind: 'inline' | 'managed'): WorkingPack => {
    const number = lowestFreeNumber(packs.filter((p) => p.kind === kind).map((p) => p.number));
    return {
      kind,
      number,
      name: kind === 'inline' ? inlinePackName(number) : managedPackName(roleName, number),
      blocks: new Map(),
      strays: [],
      dirty: true,
    };
  };
  const inline = fresh('inline');
  if (fits(inline)) {
    packs.push(inline);
    return inline;
  }
  const managedCount = packs.filter((p) => p.kind === 'managed').length;
  const managed = fresh('managed');
  if (foreignAttached + managedCount < limits.attachedPolicies && fits(managed)) {
    packs.push(managed);
    return managed;
  }
  const size = iamCharacterCount(JSON.stringify(statements));
  return (
    `role ${roleName} has no room left for this agreement's ${size}-character policy: its inline policies use ` +
    `${inlineUsed} of ${limits.inlineCharacters} characters and ${foreignAttached + managedCount} of ` +
    `${limits.attachedPolicies} managed-policy attachments are taken. Detach unused managed policies, ` +
    `raise the role's managed-policy quota, or split the consumer across roles.`
  );
}

function lowestFreeNumber(taken: number[]): number {
  let n = 1;
  while (taken.includes(n)) n++;
  return n;
}

export function packDocument(pack: Pick<Pack, 'blocks' | 'strays'>): PolicyDocument {
  const statements = [...pack.strays];
  for (const id of [...pack.blocks.keys()].sort()) statements.push(...(pack.blocks.get(id) ?? []));
  return { Version: '2012-10-17', Statement: statements };
}

function packCharacters(pack: Pick<Pack, 'blocks' | 'strays'>): number {
  return iamCharacterCount(JSON.stringify(packDocument(pack)));
}

function managedRef(pack: WorkingPack): Pick<PolicyChange, 'policyPath' | 'policyArn'> {
  if (pack.kind !== 'managed') return {};
  return pack.arn ? { policyPath: MANAGED_POLICY_PATH, policyArn: pack.arn } : { policyPath: MANAGED_POLICY_PATH };
}

/**
 * Inline policies share one budget, so removals and shrinking writes go first; managed packs are
 * written before inline packs are deleted and deleted last, so access being moved never lapses.
 */
function orderForApply(changes: PolicyChange[], state: RoleState): PolicyChange[] {
  const sizeBefore = (c: PolicyChange) => {
    const pack = state.packs.find((p) => p.name === c.policyName);
    return pack ? packCharacters(pack) : 0;
  };
  const rank = (c: PolicyChange) =>
    c.kind === 'managed' ? (c.action === 'put' ? 0 : 3) : c.action === 'delete' ? 1 : 2;
  return [...changes].sort((a, b) => {
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
    if (a.kind === 'inline' && a.action === 'put') {
      const growth = (c: PolicyChange) => iamCharacterCount(JSON.stringify(c.document)) - sizeBefore(c);
      return growth(a) - growth(b);
    }
    return a.policyName.localeCompare(b.policyName);
  });
}
