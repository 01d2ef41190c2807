import { dataProductCache, guardrailsOf, type SyncContext } from './context.js';
import { roleRefusal } from './guardrails.js';
import { iamCharacterCount, IAM_LIMITS } from '../interfaces/iam-account.js';
import type { PolicyStatement } from '../model/policy.js';
import { packDocument } from '../targets/identity-policy/packing.js';
import { reconcileAgreement, roleFromArn, withTags, type AgreementOutcome } from './reconcile.js';
import { readRoleState, sharedMemberships, type RoleState } from '../targets/identity-policy/role-state.js';
import { policyResourceAccount } from '../accounts/routing.js';
import { isPermanentTargetError } from '../interfaces/target-error.js';
import { lakeFormationResourceName } from '../model/grants.js';
import { parseLakeFormationHolding } from '../targets/lake-formation.js';
import { policyResourceFromArn, readResourcePolicy } from '../targets/resource-policy.js';

/**
 * Answers "why does this role (not) have this access?" from the same code that decides it: a dry
 * run of the agreement's reconcile, next to what the roles hold now.
 */
export interface AgreementExplanation {
  agreementId: string;
  /** What Data Mesh Manager says, or undefined when the agreement no longer exists. */
  agreement?: { status?: string; active: boolean; provider: string; consumer: string };
  /** What a reconcile would decide and change now (nothing is changed). */
  outcome: AgreementOutcome;
  /** Where its statements are now: role → policy names and statements (and, for a hub, the role's account). */
  holdings: { role: string; account?: string; policies: string[]; statements: PolicyStatement[] }[];
  /**
   * The resource side: its statements in provider resource policies now (bucket, key, Glue
   * catalog), and its Lake Formation permissions as recorded; for a hub, each with its account.
   */
  resourceHoldings: { resource: string; account?: string; statements: PolicyStatement[] }[];
  lakeFormationHoldings: { principal: string; resource: string; permissions: string[]; account?: string }[];
  inSync: boolean;
}

export async function explainAgreement(ctx: SyncContext, agreementId: string): Promise<AgreementExplanation> {
  const agreement = await ctx.dmm.getAgreement(agreementId);
  const outcome = await reconcileAgreement(ctx, agreementId, { dryRun: true });
  // Role names per account: one account for a single account, the role's own for a hub.
  const roleNames = new Map<string, string>();
  const hubAccount = (account: string | undefined) =>
    ctx.accounts ? (account ?? ctx.iam.accountId) : ctx.iam.accountId;
  for (const arn of [...outcome.heldOnRoleArns, ...(outcome.role ? [outcome.role] : [])]) {
    const role = roleFromArn(arn);
    if (role) roleNames.set(`${hubAccount(arn.split(':')[4])}/${role.name}`, role.name);
  }
  for (const change of outcome.changes)
    if (change.target === 'identity-policy')
      roleNames.set(`${hubAccount(change.account)}/${change.roleName}`, change.roleName);
  const holdings: AgreementExplanation['holdings'] = [];
  for (const [key, name] of roleNames) {
    const account = key.slice(0, key.indexOf('/'));
    const iam = ctx.accounts?.directory.members.get(account)?.iam ?? ctx.iam;
    const role = await iam.getRole(name);
    if (!role) continue;
    const state = await readRoleState(iam, role);
    const policies = state.packs.filter((p) => p.blocks.has(agreementId)).map((p) => p.name);
    const statements = state.packs.flatMap((p) => p.blocks.get(agreementId) ?? []);
    // Statements stored once per role count for each agreement their member record names.
    const membership = sharedMemberships(state.packs).get(agreementId);
    if (membership) {
      for (const pack of state.packs) {
        const units = [...pack.shared].filter(([key]) => key.startsWith(`${membership.bundle}:`));
        if (units.length === 0) continue;
        if (!policies.includes(pack.name)) policies.push(pack.name);
        statements.push(...units.flatMap(([, list]) => list));
      }
    }
    for (const legacy of state.legacy.filter((l) => l.agreementId === agreementId)) {
      policies.push(legacy.name);
      statements.push(...legacy.statements);
    }
    if (policies.length > 0)
      holdings.push({ role: role.arn, ...(ctx.accounts ? { account } : {}), policies, statements });
  }
  return {
    agreementId,
    ...(agreement
      ? {
          agreement: {
            ...(agreement.status ? { status: agreement.status } : {}),
            active: agreement.active,
            provider: `${agreement.provider.dataProductId} / ${agreement.provider.outputPortId}`,
            consumer:
              agreement.consumer.dataProductId ?? agreement.consumer.teamId ?? agreement.consumer.userId ?? 'unknown',
          },
        }
      : {}),
    outcome,
    holdings,
    ...(await resourceSide(ctx, agreementId, outcome)),
    inSync: outcome.changes.length === 0 && outcome.decision !== 'failed',
  };
}

/** What the agreement holds on the resource side now: read from each policy, as the roles are. */
async function resourceSide(
  ctx: SyncContext,
  agreementId: string,
  outcome: AgreementOutcome,
): Promise<Pick<AgreementExplanation, 'resourceHoldings' | 'lakeFormationHoldings'>> {
  const resourceHoldings: AgreementExplanation['resourceHoldings'] = [];
  const lakeFormationHoldings: AgreementExplanation['lakeFormationHoldings'] = [];
  const arns = new Set(outcome.heldOnResources ?? []);
  for (const change of outcome.changes) if (change.target === 'resource-policy') arns.add(change.resource.arn);
  for (const arn of arns) {
    const lf = parseLakeFormationHolding(arn);
    if (lf) {
      lakeFormationHoldings.push({
        principal: lf.principal,
        resource: lakeFormationResourceName(lf.resource),
        permissions: lf.permissions,
        ...(ctx.accounts ? { account: lf.resource.catalogId } : {}),
      });
      continue;
    }
    const resource = policyResourceFromArn(arn);
    if (!resource || !ctx.resourcePolicies) continue;
    let statements: PolicyStatement[];
    try {
      statements = (await readResourcePolicy(ctx.resourcePolicies, resource)).blocks.get(agreementId) ?? [];
    } catch (error) {
      // The outcome already says why the resource cannot be read.
      if (isPermanentTargetError(error)) continue;
      throw error;
    }
    if (statements.length === 0) continue;
    const account = ctx.accounts ? await policyResourceAccount(resource, ctx.accounts.owners) : undefined;
    resourceHoldings.push({ resource: arn, ...(account ? { account } : {}), statements });
  }
  return { resourceHoldings, lakeFormationHoldings };
}

export interface RoleExplanation {
  role: string;
  exists: boolean;
  /** Why the guardrails keep the tool off this role, if they do. */
  outOfReach?: string;
  inlineCharacters: { used: number; limit: number };
  managedPacks: { attached: number; others: number; limit: number };
  /** Every agreement with statements on the role, and what a reconcile would do about it now. */
  agreements: {
    agreementId: string;
    policies: string[];
    statements: number;
    decision: AgreementOutcome['decision'];
    effect: AgreementOutcome['effect'];
    reason: string;
  }[];
}

export async function explainRole(ctx: SyncContext, roleName: string): Promise<RoleExplanation> {
  // A hub's member role is named by its ARN (a name alone is a role of the hub's own account).
  const arn = /^arn:[^:]+:iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/.exec(roleName);
  const member = arn ? ctx.accounts?.directory.members.get(arn[1]!) : undefined;
  const inAccount: SyncContext = member ? { ...ctx, iam: member.iam, guardrails: member.guardrails } : ctx;
  const listed = await inAccount.iam.getRole(member ? arn![2]! : roleName);
  const empty = {
    role: roleName,
    exists: false,
    inlineCharacters: { used: 0, limit: IAM_LIMITS.inlineRoleCharacters },
    managedPacks: { attached: 0, others: 0, limit: IAM_LIMITS.attachedPoliciesPerRole },
    agreements: [],
  };
  if (!listed) return empty;
  const role = await withTags(inAccount, listed);
  const state = await readRoleState(inAccount.iam, role);
  const refused = roleRefusal(role, guardrailsOf(inAccount));
  const holders = new Map<string, string[]>();
  for (const pack of state.packs)
    for (const id of pack.blocks.keys()) holders.set(id, [...(holders.get(id) ?? []), pack.name]);
  for (const [id, { pack }] of sharedMemberships(state.packs))
    if (!holders.get(id)?.includes(pack)) holders.set(id, [...(holders.get(id) ?? []), pack]);
  for (const legacy of state.legacy)
    holders.set(legacy.agreementId, [...(holders.get(legacy.agreementId) ?? []), legacy.name]);
  const agreements: RoleExplanation['agreements'] = [];
  const products = dataProductCache(ctx.dmm);
  for (const [agreementId, policies] of [...holders].sort(([a], [b]) => a.localeCompare(b))) {
    const outcome = await reconcileAgreement(ctx, agreementId, { dryRun: true, products });
    const statements =
      state.packs.reduce((n, p) => n + (p.blocks.get(agreementId)?.length ?? 0), 0) +
      state.legacy.filter((l) => l.agreementId === agreementId).reduce((n, l) => n + l.statements.length, 0);
    agreements.push({
      agreementId,
      policies,
      statements,
      decision: outcome.decision,
      effect: outcome.effect,
      reason: outcome.reason,
    });
  }
  return {
    role: role.arn,
    exists: true,
    ...(refused ? { outOfReach: refused } : {}),
    ...roleFill(state),
    agreements,
  };
}

/** How full a role is: its inline-policy budget and its managed-policy attachments, ours and others'. */
export function roleFill(state: RoleState): Pick<RoleExplanation, 'inlineCharacters' | 'managedPacks'> {
  const inlinePacks = state.packs.filter((p) => p.kind === 'inline');
  const used =
    state.foreignInlineCharacters +
    state.legacy.reduce((n, l) => n + l.characters, 0) +
    inlinePacks.reduce((n, p) => n + iamCharacterCount(JSON.stringify(packDocument(p))), 0);
  return {
    inlineCharacters: { used, limit: IAM_LIMITS.inlineRoleCharacters },
    managedPacks: {
      attached: state.packs.filter((p) => p.kind === 'managed').length,
      others: state.foreignAttachedCount,
      limit: IAM_LIMITS.attachedPoliciesPerRole,
    },
  };
}
