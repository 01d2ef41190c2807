import type { PolicyStatement } from '../../model/policy.js';
import { iamCharacterCount, type IamAccount, type RoleInfo } from '../../interfaces/iam-account.js';
import { agreementIdFromSid } from '../sid.js';
import { inlinePackNumber, legacyAgreementId, managedPackNumber } from './ownership.js';
import { bodyUnitKey, recordUnitKey, type SharedUnitKey, sharedUnitFromSid } from './shared.js';

/** One of our packs on a role: an inline policy or an attached customer-managed policy. */
export interface Pack {
  kind: 'inline' | 'managed';
  number: number;
  name: string;
  arn?: string;
  /** Statements per agreement id, Sids included, in document order. */
  blocks: Map<string, PolicyStatement[]>;
  /** Statements shared by several agreements (./shared.ts), per unit, Sids included. */
  shared: Map<SharedUnitKey, PolicyStatement[]>;
  /** Statements in our pack that name no agreement (hand edits): removed when the pack is rewritten. */
  strays: PolicyStatement[];
}

/** An inline policy written by the reference integration (`DMM_DataUsageAgreement_<id>`). */
export interface LegacyPolicy {
  name: string;
  agreementId: string;
  statements: PolicyStatement[];
  characters: number;
}

/** What AWS says about one role, as far as this tool is concerned. */
export interface RoleState {
  role: RoleInfo;
  packs: Pack[];
  legacy: LegacyPolicy[];
  /** Characters used by inline policies that are not ours: they share the role's budget. */
  foreignInlineCharacters: number;
  /** Managed policies attached by someone else: they share the role's attachment quota. */
  foreignAttachedCount: number;
}

export async function readRoleState(iam: IamAccount, role: RoleInfo): Promise<RoleState> {
  const [inline, attached] = await Promise.all([
    iam.listInlinePolicies(role.name),
    iam.listAttachedPolicies(role.name),
  ]);
  const state: RoleState = { role, packs: [], legacy: [], foreignInlineCharacters: 0, foreignAttachedCount: 0 };
  for (const policy of inline) {
    const packNumber = inlinePackNumber(policy.name);
    const legacyId = legacyAgreementId(policy.name);
    if (packNumber !== undefined) {
      state.packs.push({ kind: 'inline', number: packNumber, name: policy.name, ...splitPack(policy.document) });
    } else if (legacyId !== undefined) {
      state.legacy.push({
        name: policy.name,
        agreementId: legacyId,
        statements: statementsOf(policy.document),
        characters: iamCharacterCount(policy.document),
      });
    } else {
      state.foreignInlineCharacters += iamCharacterCount(policy.document);
    }
  }
  for (const ref of attached) {
    const packNumber = managedPackNumber(role.name, ref.path, ref.name);
    if (packNumber === undefined) {
      state.foreignAttachedCount++;
      continue;
    }
    const document = await iam.getManagedPolicyDocument(ref.arn);
    state.packs.push({ kind: 'managed', number: packNumber, name: ref.name, arn: ref.arn, ...splitPack(document) });
  }
  state.packs.sort((a, b) => (a.kind === b.kind ? a.number - b.number : a.kind === 'inline' ? -1 : 1));
  return state;
}

/** Every agreement id that holds access on this role: in packs, in shared-statement records, or in reference policies. */
export function agreementsOnRole(state: RoleState): Set<string> {
  const ids = new Set<string>(sharedMemberships(state.packs).keys());
  for (const pack of state.packs) for (const id of pack.blocks.keys()) ids.add(id);
  for (const legacy of state.legacy) ids.add(legacy.agreementId);
  return ids;
}

/** Per agreement, the bundle of shared statements its member record names, and the pack holding that record. */
export function sharedMemberships(
  packs: readonly Pick<Pack, 'name' | 'shared'>[],
): Map<string, { bundle: string; pack: string }> {
  const members = new Map<string, { bundle: string; pack: string }>();
  for (const pack of packs) {
    for (const statements of pack.shared.values()) {
      const unit = sharedUnitFromSid(statements[0]?.Sid);
      if (unit?.record === undefined) continue;
      for (const id of unit.members) if (!members.has(id)) members.set(id, { bundle: unit.bundle, pack: pack.name });
    }
  }
  return members;
}

function splitPack(document: string): Pick<Pack, 'blocks' | 'shared' | 'strays'> {
  const blocks = new Map<string, PolicyStatement[]>();
  const shared = new Map<SharedUnitKey, PolicyStatement[]>();
  const strays: PolicyStatement[] = [];
  for (const statement of statementsOf(document)) {
    const unit = sharedUnitFromSid(statement.Sid);
    if (unit) {
      const key = unit.record === undefined ? bodyUnitKey(unit.bundle) : recordUnitKey(unit.bundle, unit.record);
      // A record number used twice is not something this tool writes: the second is a hand edit.
      if (unit.record !== undefined && shared.has(key)) strays.push(statement);
      else shared.set(key, [...(shared.get(key) ?? []), statement]);
      continue;
    }
    const id = agreementIdFromSid(statement.Sid);
    if (id === undefined) {
      strays.push(statement);
      continue;
    }
    const list = blocks.get(id) ?? [];
    list.push(statement);
    blocks.set(id, list);
  }
  return { blocks, shared, strays };
}

/** Statements of a policy document; a document that does not parse yields none (it is rewritten). */
function statementsOf(document: string): PolicyStatement[] {
  try {
    const parsed = JSON.parse(document) as { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
    return statements.filter((s): s is PolicyStatement => typeof s === 'object' && s !== null);
  } catch {
    return [];
  }
}
