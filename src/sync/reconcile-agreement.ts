import { identityStatements } from '../model/grants.js';
import type { Agreement } from '../model/agreement.js';
import { parseRoleArn } from '../output-ports/arn.js';
import { readIndexEntry, updateIndexEntry, type IndexReading } from './agreement-index.js';
import { applyChanges, isPermanentIamError } from '../targets/identity-policy/apply.js';
import { dataProductCache, guardrailsOf, type ProductLookup, type SyncContext } from './context.js';
import { guardResolution } from './guard.js';
import { roleRefusal } from './guardrails.js';
import type { RoleInfo } from '../interfaces/iam-account.js';
import { planRole, summariseEffects, type AgreementEffect, type PolicyChange } from '../targets/identity-policy/packing.js';
import { FIELD_GRANTED_ROLE, FIELD_POLICY_NAME, reportBack, TAG_ACTIVE, type ReportResult, type ReportState } from './report.js';
import { resolveAgreement, type Grant, type Resolution } from './resolve.js';
import { agreementsOnRole, readRoleState, withTags, type RoleState } from '../targets/identity-policy/role-state.js';

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
  changes: PolicyChange[];
  diagnostic?: string;
  report?: ReportResult;
}

export interface ConvergeOptions {
  /** Plan only: read everything, change nothing, report nothing. */
  dryRun?: boolean;
  /** Data products already read in this unit of work (one event's agreements share them). */
  products?: ProductLookup;
}

/**
 * Make AWS match what Data Mesh Manager says about one agreement *now*. Events are only hints,
 * so a duplicate, a late or an out-of-order event converges to the same state.
 */
export async function reconcileAgreement(ctx: SyncContext, agreementId: string, options: ConvergeOptions = {}): Promise<AgreementOutcome> {
  const log = ctx.log.child({ agreementId });
  const agreement = await ctx.dmm.getAgreement(agreementId);
  const resolution: Resolution = agreement
    ? await resolveAgreement(agreement, options.products ?? dataProductCache(ctx.dmm), ctx.resolve)
    : { kind: 'none', reason: 'the agreement no longer exists in Data Mesh Manager' };
  const desired = await guardResolution(ctx, resolution);

  const indexed: IndexReading = ctx.agreementIndex ? await readIndexEntry(ctx.agreementIndex, agreementId, log) : { entry: undefined };
  const indexedArns = indexed === 'unreadable' ? [] : (indexed.entry ?? []);
  // An entry, even an empty one, means this tool has seen the agreement and knows where it is.
  const indexedKnown = indexed !== 'unreadable' && indexed.entry !== undefined;
  const roles = await candidateRoles(ctx, agreementId, agreement, desired, indexedArns, indexedKnown);
  const changes: PolicyChange[] = [];
  const effects: AgreementEffect[] = [];
  let policyNames: string[] = [];
  const heldOnRoleArns: string[] = [];
  let failure = desired.kind === 'failed' ? desired.reason : undefined;

  if (desired.kind === 'grant' && !roles.some((r) => r.role.name === desired.grant.role.name)) {
    failure = missingRoleReason(ctx, desired.grant);
  }
  const guardrails = guardrailsOf(ctx);
  // A recorded (or indexed) role the guardrails put out of reach cannot even be read (on AWS the
  // deployed policy hides it): its statements may still be there, so that is a failure, not "revoked".
  for (const arn of new Set([...recordedRoleArns(agreement), ...indexedArns])) {
    const role = roleFromArn(arn);
    if (!role || roles.some((r) => r.role.name === role.name)) continue;
    const refused = roleRefusal(role, guardrails);
    if (refused) {
      failure = `Agreement ${agreementId}: its statements on role ${role.name} cannot be removed: ${refused}`;
      heldOnRoleArns.push(arn);
    }
  }
  for (const state of roles) {
    const refused = roleRefusal(state.role, guardrails);
    if (refused) {
      // Never written, not even to revoke: the operator put this role out of reach.
      if (desired.kind === 'grant' && state.role.name === desired.grant.role.name) failure = `Agreement ${agreementId}: ${refused}`;
      if (agreementsOnRole(state).has(agreementId)) {
        failure = `Agreement ${agreementId}: its statements on role ${state.role.name} cannot be removed: ${refused}`;
        heldOnRoleArns.push(state.role.arn);
      }
      log.warn('role out of reach of the guardrails', { role: state.role.name, reason: refused });
      continue;
    }
    const wanted = desired.kind === 'grant' && state.role.name === desired.grant.role.name ? desired.grant : undefined;
    const plan = planRole({
      state,
      desired: new Map(wanted ? [[agreementId, identityStatements(wanted.grants)]] : []),
      scope: new Set([agreementId]),
      ...(ctx.limits ? { limits: ctx.limits } : {}),
    });
    const unplaced = plan.unplaced.get(agreementId);
    if (unplaced) failure = unplaced;
    if (!options.dryRun) {
      try {
        await applyChanges(ctx.iam, plan.changes);
      } catch (error) {
        if (!isPermanentIamError(error)) throw error;
        failure = `AWS refused the change on role ${state.role.name}: ${error.code}: ${error.message}`;
        effects.push('absent');
        if (agreementsOnRole(state).has(agreementId)) heldOnRoleArns.push(state.role.arn);
        continue;
      }
    }
    changes.push(...plan.changes);
    effects.push(plan.effects.get(agreementId) ?? 'absent');
    if (wanted) policyNames = plan.placements.get(agreementId) ?? [];
    if (plan.placements.has(agreementId)) heldOnRoleArns.push(state.role.arn);
  }

  const effect = summariseEffects(effects);
  const decision = decide(desired, effect, failure);
  const reason = failure ?? (desired.kind === 'grant' ? desired.grant.summary : desired.reason);
  const outcome: AgreementOutcome = {
    agreementId,
    decision,
    effect,
    reason,
    policyNames,
    heldOnRoleArns,
    changes,
    ...(desired.kind === 'grant' ? { role: desired.grant.role.arn } : {}),
    ...(failure ? { diagnostic: failure } : {}),
  };
  log.info(`decision: ${decision}`, { decision, effect, reason, role: outcome.role, policies: policyNames, changes: changes.length, dryRun: !!options.dryRun });

  if (ctx.agreementIndex && !options.dryRun) await updateIndexEntry(ctx.agreementIndex, agreementId, indexed, heldOnRoleArns, log, !agreement);

  if (agreement && !options.dryRun) {
    outcome.report = await reportBack(ctx.dmm, agreement, reportState(outcome, desired), log);
  }
  return outcome;
}

export function decide(desired: Resolution, effect: AgreementEffect, failure: string | undefined): Decision {
  if (failure) return 'failed';
  if (desired.kind === 'grant') return 'grant';
  return effect === 'revoked' ? 'revoke' : 'none';
}

/** Why a grant's role cannot be written to: it does not exist, or the tool may not manage it. */
export function missingRoleReason(ctx: SyncContext, grant: Grant): string {
  return (
    `IAM role ${grant.role.name} (from the consumer data product ${grant.consumerDataProductId}) does not exist in account ` +
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
    return { kind: 'granted', roleArn: desired.grant.role.arn, policyNames: outcome.policyNames, reference: grantReference(desired.grant, outcome.policyNames) };
  }
  return outcome.effect === 'revoked' ? { kind: 'revoked' } : { kind: 'inactive' };
}

export function grantReference(grant: Grant, policyNames: string[]): string {
  return `${grant.role.arn} (policies: ${policyNames.join(', ')})`;
}

/**
 * The roles that may hold this agreement's access: the one it should be on, the one it was
 * granted on (recorded on the agreement), the ones the agreement index names, and, only when none
 * of these names a role and the agreement is gone (or the reference integration granted it,
 * leaving no role record), every role that carries statements of ours for it.
 */
async function candidateRoles(
  ctx: SyncContext,
  agreementId: string,
  agreement: Agreement | undefined,
  desired: Resolution,
  indexedArns: string[],
  indexedKnown: boolean,
): Promise<RoleState[]> {
  const names = new Set<string>();
  if (desired.kind === 'grant') names.add(desired.grant.role.name);
  const known = [...recordedRoleArns(agreement), ...indexedArns].map((arn) => roleFromArn(arn)?.name).filter((name) => name !== undefined);
  for (const name of known) names.add(name);

  const states: RoleState[] = [];
  // Reading every role costs minutes in a large account: only worth it when nothing says where
  // the access is, i.e. for grants made before the index existed or by the reference integration.
  const mayHoldAccess = !!agreement && (agreement.tags.includes(TAG_ACTIVE) || FIELD_POLICY_NAME in agreement.custom);
  if (!indexedKnown && known.length === 0 && (!agreement || (desired.kind !== 'grant' && mayHoldAccess))) {
    for (const listed of await ctx.iam.listRoles()) {
      const role = await withTags(ctx, listed);
      const state = await readRoleState(ctx.iam, role);
      if (names.has(role.name) || agreementsOnRole(state).has(agreementId)) states.push(state);
    }
    return states;
  }
  for (const name of names) {
    const role: RoleInfo | undefined = await ctx.iam.getRole(name);
    if (role) states.push(await readRoleState(ctx.iam, role));
  }
  return states;
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


