import type { PolicyDocument, PolicyStatement } from '../../model/policy.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { IAM_LIMITS, iamCharacterCount } from '../../interfaces/iam-account.js';
import { withSids } from '../sid.js';
import { inlinePackName, managedPackName, MANAGED_POLICY_PATH } from './ownership.js';
import { type AgreementEffect, inPlanScope, isFullScope, type PlanScope } from '../effects.js';
import { type Pack, type RoleState, sharedMemberships } from './role-state.js';
import {
  bodyStatements,
  bodyUnitKey,
  bundleKey,
  MAX_RECORD_SID,
  parseUnitKey,
  recordSid,
  recordStatement,
  recordUnitKey,
  type SharedUnitKey,
  sharedUnitFromSid,
  withoutSid,
} from './shared.js';

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
  /**
   * Per agreement in `desired`: its statements that are word for word the same for other
   * agreements on the role (./shared.ts), stored once per role.
   */
  shared?: Map<string, PolicyStatement[]>;
  /** The agreements this plan decides; everything else on the role is left exactly as it is. */
  scope: PlanScope;
  limits?: PackLimits;
}

interface WorkingPack extends Pack {
  dirty: boolean;
  /** The pack as read from IAM, or undefined for a pack this plan creates. */
  original?: Pack;
}

/** Where statements live in a pack: an agreement's own block, or a shared unit. */
type Unit = { kind: 'block'; id: string } | { kind: 'shared'; key: SharedUnitKey };

interface Placing {
  packs: WorkingPack[];
  limits: PackLimits;
  state: RoleState;
  roleName: string;
  keptLegacyCharacters: number;
}

/**
 * Decide the writes that make one role carry exactly the desired statements of the agreements in
 * scope. Packing is stable: statements that are already right stay where they are, so an event
 * for one agreement rewrites at most the packs it touches. New or changed statements go first-fit
 * into inline packs (the role's 10,240-character budget), then into customer-managed packs
 * (6,144 each, within the role's attachment quota). Shared statements are stored once per role
 * and listed members (./shared.ts): an agreement joins or leaves a member record.
 */
export function planRole(input: RolePlanInput): RolePlan {
  const { state, scope } = input;
  const limits = input.limits ?? DEFAULT_PACK_LIMITS;
  const roleName = state.role.name;
  const inScope = (id: string) => inPlanScope(scope, id);
  const target = new Map<string, PolicyStatement[]>();
  const wantedBundle = new Map<string, { key: string; statements: PolicyStatement[] }>();
  for (const [id, statements] of [...input.desired].sort(([a], [b]) => a.localeCompare(b))) {
    if (!inScope(id)) continue;
    // A grant with nothing on the role (e.g. Lake Formation only) holds no block in any pack.
    if (statements.length > 0) target.set(id, withSids(id, statements));
    const shared = input.shared?.get(id) ?? [];
    if (shared.length > 0) wantedBundle.set(id, { key: bundleKey(shared), statements: shared.map(withoutSid) });
  }

  const membersBefore = sharedMemberships(state.packs);
  const before = new Map<string, string>(); // agreement id → canonical statements before the plan
  for (const [id, { bundle }] of membersBefore)
    before.set(id, `|${bundle}${readBundleKey(state.packs, bundle) === bundle ? '' : '!'}`);
  const placed = new Set<string>();
  const packs: WorkingPack[] = state.packs.map((pack) => {
    const working: WorkingPack = {
      ...pack,
      blocks: new Map(pack.blocks),
      shared: new Map(pack.shared),
      strays: [...pack.strays],
      dirty: false,
      original: pack,
    };
    for (const [id, statements] of pack.blocks) {
      before.set(id, canonicalJson(statements) + (before.get(id) ?? ''));
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
  // Agreements in scope leave the records of bundles they no longer need (or need differently).
  const seen = new Set<string>();
  for (const pack of packs) {
    for (const [key, statements] of [...pack.shared]) {
      const unit = sharedUnitFromSid(statements[0]?.Sid);
      if (unit?.record === undefined) continue;
      const keep = unit.members.filter(
        (id) => !seen.has(id) && (!inScope(id) || wantedBundle.get(id)?.key === unit.bundle),
      );
      for (const id of keep) seen.add(id);
      if (keep.length === unit.members.length) continue;
      pack.dirty = true;
      if (keep.length === 0) pack.shared.delete(key);
      else pack.shared.set(key, [recordStatement(unit.bundle, unit.record, keep, statements[0]!)]);
    }
  }

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
  const placing: Placing = { packs, limits, state, roleName, keptLegacyCharacters };
  for (const id of [...new Set([...target.keys(), ...wantedBundle.keys()])].sort()) {
    const bundle = wantedBundle.get(id);
    const needsOwn = target.has(id) && !placed.has(id);
    const needsBundle = bundle !== undefined && !bundleInPlace(packs, bundle.key, bundle.statements, id);
    if (!needsOwn && !needsBundle) continue;
    const snapshot = packs.map(copyPack);
    const problem =
      (needsOwn ? place(placing, { kind: 'block', id }, target.get(id)!) : undefined) ??
      (bundle && needsBundle ? placeBundle(placing, id, bundle.key, bundle.statements) : undefined);
    if (problem === undefined) {
      placed.add(id);
      continue;
    }
    packs.splice(0, packs.length, ...snapshot);
    // All or nothing: an agreement that cannot have its whole grant here keeps none of it.
    for (const pack of packs) if (pack.blocks.delete(id)) pack.dirty = true;
    unplaced.set(id, problem);
  }
  // A bundle goes with its last member.
  const alive = new Set([...sharedMemberships(packs).values()].map((m) => m.bundle));
  for (const pack of packs) {
    for (const key of [...pack.shared.keys()]) {
      if (alive.has(parseUnitKey(key).bundle)) continue;
      pack.shared.delete(key);
      pack.dirty = true;
    }
  }
  const membersAfter = sharedMemberships(packs);

  for (const pack of packs) {
    const empty = pack.blocks.size === 0 && pack.shared.size === 0 && pack.strays.length === 0;
    const original = pack.original ?? { blocks: new Map(), shared: new Map() };
    // The agreements whose statements in this pack this write adds, changes or removes.
    const touched = new Set(
      [...new Set([...original.blocks.keys(), ...pack.blocks.keys()])].filter(
        (id) => canonicalJson(original.blocks.get(id) ?? null) !== canonicalJson(pack.blocks.get(id) ?? null),
      ),
    );
    for (const key of new Set([...original.shared.keys(), ...pack.shared.keys()])) {
      const was = original.shared.get(key);
      const is = pack.shared.get(key);
      if (canonicalJson(was ?? null) === canonicalJson(is ?? null)) continue;
      const { bundle, record } = parseUnitKey(key);
      if (record === undefined) {
        for (const [id, m] of [...membersBefore, ...membersAfter]) if (m.bundle === bundle) touched.add(id);
        continue;
      }
      const wasMembers = sharedUnitFromSid(was?.[0]?.Sid)?.members ?? [];
      const isMembers = sharedUnitFromSid(is?.[0]?.Sid)?.members ?? [];
      const contentChanged = canonicalJson(was?.map(withoutSid) ?? null) !== canonicalJson(is?.map(withoutSid) ?? null);
      for (const id of new Set([...wasMembers, ...isMembers]))
        if (contentChanged || wasMembers.includes(id) !== isMembers.includes(id)) touched.add(id);
    }
    const agreementIds = [...touched].filter(inScope).sort();
    if (empty && pack.original) {
      changes.push({
        target: 'identity-policy',
        action: 'delete',
        kind: pack.kind,
        roleName,
        policyName: pack.name,
        agreementIds,
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
        agreementIds,
        ...(pack.strays.length === 0 && pack.original?.strays.length
          ? { note: 'removes statements that no agreement explains' }
          : {}),
      });
    }
  }

  const placements = new Map<string, string[]>();
  const addPlacement = (id: string, name: string) => {
    const names = placements.get(id) ?? [];
    if (!names.includes(name)) placements.set(id, [...names, name]);
  };
  for (const pack of packs) for (const id of pack.blocks.keys()) addPlacement(id, pack.name);
  for (const [id, { bundle, pack }] of membersAfter) {
    addPlacement(id, pack);
    for (const p of packs) if (p.shared.has(bodyUnitKey(bundle))) addPlacement(id, p.name);
  }

  const ids = new Set<string>([...target.keys(), ...wantedBundle.keys(), ...before.keys(), ...legacyIds]);
  for (const id of ids) {
    if (!inScope(id)) continue;
    const had = before.has(id) || legacyIds.has(id);
    const has = placements.has(id);
    const membership = membersAfter.get(id);
    const after = has
      ? (target.has(id) && placed.has(id) ? canonicalJson(target.get(id)) : '') +
        (membership ? `|${membership.bundle}` : '')
      : undefined;
    if (has && legacyIds.has(id) && !before.has(id)) effects.set(id, 'adopted');
    else if (has && !had) effects.set(id, 'granted');
    else if (!has && had) effects.set(id, 'revoked');
    else if (has && (before.get(id) !== after || legacyIds.has(id))) effects.set(id, 'updated');
    else effects.set(id, has ? 'unchanged' : 'absent');
  }
  for (const id of unplaced.keys()) if (!effects.has(id)) effects.set(id, 'absent');

  return { roleName, changes: orderForApply(changes, state), effects, placements, unplaced };
}

/** Whether the agreement is a member of the bundle and the bundle is stored as `statements` say. */
function bundleInPlace(packs: WorkingPack[], bundle: string, statements: PolicyStatement[], id: string): boolean {
  const records = recordsOf(packs, bundle);
  if (!records.some((r) => r.members.includes(id))) return false;
  const first = canonicalJson(withoutSid(statements[0]!));
  if (records.some((r) => canonicalJson(withoutSid(r.statement)) !== first)) return false;
  const body = packs.find((p) => p.shared.has(bodyUnitKey(bundle)))?.shared.get(bodyUnitKey(bundle));
  return canonicalJson(body ?? []) === canonicalJson(bodyStatements(bundle, statements));
}

/** Make the bundle's body and records right and the agreement one of its members. */
function placeBundle(placing: Placing, id: string, bundle: string, statements: PolicyStatement[]): string | undefined {
  const body = bodyStatements(bundle, statements);
  const bodyKey = bodyUnitKey(bundle);
  if (body.length > 0) {
    const problem = place(placing, { kind: 'shared', key: bodyKey }, body);
    if (problem) return problem;
  } else {
    for (const pack of placing.packs) if (pack.shared.delete(bodyKey)) pack.dirty = true;
  }
  const records = recordsOf(placing.packs, bundle);
  for (const r of records) {
    // Records of another content (a hand edit) are rewritten to the bundle's first statement.
    const right = recordStatement(bundle, r.record, r.members, statements[0]!);
    if (canonicalJson(right) === canonicalJson(r.statement)) continue;
    const problem = place(placing, { kind: 'shared', key: recordUnitKey(bundle, r.record) }, [right]);
    if (problem) return problem;
  }
  if (records.some((r) => r.members.includes(id))) return undefined;
  const room = records.find((r) => recordSid(bundle, r.record, [...r.members, id]).length <= MAX_RECORD_SID);
  const record = room?.record ?? lowestFreeNumber(records.map((r) => r.record));
  const members = [...(room?.members ?? []), id];
  return place(placing, { kind: 'shared', key: recordUnitKey(bundle, record) }, [
    recordStatement(bundle, record, members, statements[0]!),
  ]);
}

function recordsOf(
  packs: WorkingPack[],
  bundle: string,
): { record: number; members: string[]; statement: PolicyStatement }[] {
  const records: { record: number; members: string[]; statement: PolicyStatement }[] = [];
  for (const pack of packs) {
    for (const [key, statements] of pack.shared) {
      const { bundle: b, record } = parseUnitKey(key);
      const unit = sharedUnitFromSid(statements[0]?.Sid);
      if (b === bundle && record !== undefined && unit)
        records.push({ record, members: unit.members, statement: statements[0]! });
    }
  }
  return records.sort((a, b) => a.record - b.record);
}

/** The key the bundle's stored statements hash to (a hand edit changes it). */
function readBundleKey(packs: readonly Pack[], bundle: string): string | undefined {
  let first: PolicyStatement | undefined;
  let body: PolicyStatement[] = [];
  for (const pack of packs) {
    for (const [key, statements] of pack.shared) {
      const { bundle: b, record } = parseUnitKey(key);
      if (b !== bundle) continue;
      if (record === undefined) body = statements;
      else first ??= statements[0];
    }
  }
  return first ? bundleKey([first, ...body]) : undefined;
}

function copyPack(pack: WorkingPack): WorkingPack {
  return { ...pack, blocks: new Map(pack.blocks), shared: new Map(pack.shared), strays: [...pack.strays] };
}

function unitOf(pack: Pick<Pack, 'blocks' | 'shared'>, unit: Unit): PolicyStatement[] | undefined {
  return unit.kind === 'block' ? pack.blocks.get(unit.id) : pack.shared.get(unit.key);
}

function setUnit(pack: WorkingPack, unit: Unit, statements: PolicyStatement[] | undefined): void {
  const map: Map<string, PolicyStatement[]> = unit.kind === 'block' ? pack.blocks : pack.shared;
  const key = unit.kind === 'block' ? unit.id : unit.key;
  if (statements) map.set(key, statements);
  else map.delete(key);
  pack.dirty = true;
}

/**
 * Put a unit's statements on the role: where it already is if it still fits there, else
 * first-fit. Returns why it does not fit, or undefined.
 */
function place(placing: Placing, unit: Unit, statements: PolicyStatement[]): string | undefined {
  const { packs } = placing;
  const current = packs.find((p) => unitOf(p, unit) !== undefined);
  if (current) {
    if (canonicalJson(unitOf(current, unit)) === canonicalJson(statements)) return undefined;
    setUnit(current, unit, undefined);
    if (fits(placing, current, unit, statements)) {
      setUnit(current, unit, statements);
      return undefined;
    }
  }
  const home = findRoom(placing, unit, statements);
  if (typeof home === 'string') return home;
  setUnit(home, unit, statements);
  return undefined;
}

function inlineUsed(placing: Placing): number {
  return (
    placing.state.foreignInlineCharacters +
    placing.keptLegacyCharacters +
    placing.packs.filter((p) => p.kind === 'inline').reduce((sum, p) => sum + packCharacters(p), 0)
  );
}

function fits(placing: Placing, pack: WorkingPack, unit: Unit, statements: PolicyStatement[]): boolean {
  const grown = packCharacters(
    unit.kind === 'block'
      ? { ...pack, blocks: new Map([...pack.blocks, [unit.id, statements]]) }
      : { ...pack, shared: new Map([...pack.shared, [unit.key, statements]]) },
  );
  return pack.kind === 'inline'
    ? inlineUsed(placing) - (placing.packs.includes(pack) ? packCharacters(pack) : 0) + grown <=
        placing.limits.inlineCharacters
    : grown <= placing.limits.managedCharacters;
}

function findRoom(placing: Placing, unit: Unit, statements: PolicyStatement[]): WorkingPack | string {
  const { packs, limits, state, roleName } = placing;
  for (const kind of ['inline', 'managed'] as const) {
    const home = packs
      .filter((p) => p.kind === kind)
      .sort((a, b) => a.number - b.number)
      .find((p) => fits(placing, p, unit, statements));
    if (home) return home;
  }
  const fresh = (kind: 'inline' | 'managed'): WorkingPack => {
    const number = lowestFreeNumber(packs.filter((p) => p.kind === kind).map((p) => p.number));
    return {
      kind,
      number,
      name: kind === 'inline' ? inlinePackName(number) : managedPackName(roleName, number),
      blocks: new Map(),
      shared: new Map(),
      strays: [],
      dirty: true,
    };
  };
  const inline = fresh('inline');
  if (fits(placing, inline, unit, statements)) {
    packs.push(inline);
    return inline;
  }
  const managedCount = packs.filter((p) => p.kind === 'managed').length;
  const managed = fresh('managed');
  if (state.foreignAttachedCount + managedCount < limits.attachedPolicies && fits(placing, managed, unit, statements)) {
    packs.push(managed);
    return managed;
  }
  const size = iamCharacterCount(JSON.stringify(statements));
  const what = unit.kind === 'block' ? "this agreement's" : 'its shared';
  return (
    `role ${roleName} has no room left for ${what} ${size}-character policy: its inline policies use ` +
    `${inlineUsed(placing)} of ${limits.inlineCharacters} characters and ${state.foreignAttachedCount + managedCount} of ` +
    `${limits.attachedPolicies} managed-policy attachments are taken. Detach unused managed policies, ` +
    `raise the role's managed-policy quota, or split the consumer across roles.`
  );
}

function lowestFreeNumber(taken: number[]): number {
  let n = 1;
  while (taken.includes(n)) n++;
  return n;
}

export function packDocument(pack: Pick<Pack, 'blocks' | 'shared' | 'strays'>): PolicyDocument {
  const statements = [...pack.strays];
  for (const id of [...pack.blocks.keys()].sort()) statements.push(...(pack.blocks.get(id) ?? []));
  for (const key of [...pack.shared.keys()].sort()) statements.push(...(pack.shared.get(key) ?? []));
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The characters of `packDocument(pack)` as IAM counts them. Serialised JSON is the document's
 * frame plus each statement's own serialisation, comma-separated, so the count is that sum; each
 * statement is measured once (statements are never changed in place, only replaced), because
 * first-fit placing measures every pack of a role again for every agreement it places.
 */
export function packCharacters(pack: Pick<Pack, 'blocks' | 'shared' | 'strays'>): number {
  let characters = DOCUMENT_FRAME;
  let statements = 0;
  const add = (list: readonly PolicyStatement[]) => {
    for (const statement of list) {
      characters += statementCharacters(statement);
      statements++;
    }
  };
  add(pack.strays);
  for (const list of pack.blocks.values()) add(list);
  for (const list of pack.shared.values()) add(list);
  return characters + Math.max(0, statements - 1);
}

const DOCUMENT_FRAME = iamCharacterCount(JSON.stringify({ Version: '2012-10-17', Statement: [] }));
const measured = new WeakMap<PolicyStatement, number>();

function statementCharacters(statement: PolicyStatement): number {
  let characters = measured.get(statement);
  if (characters === undefined) {
    characters = iamCharacterCount(JSON.stringify(statement));
    measured.set(statement, characters);
  }
  return characters;
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
