import { settleAcrossAccounts } from '../accounts/cross-account.js';
import { guardrailsForAccount, guardrailsOf, type SyncContext } from './context.js';
import { constrainGrants, grantRefusal, isProtectedRoleName } from './guardrails.js';
import { OWNERSHIP_PROOF_FIELD, ownershipRefusal } from './ownership-proof.js';
import type { Resolution } from './resolve.js';

/** What the people reading a refusal can do about it, and where it is explained. */
const OWNERSHIP_FIX =
  'guardrails.ownershipProof: tag the resource, or ask the operator for a guardrails.ownershipAllowList entry; see docs/security.md';

/**
 * Everything between "the metadata asks for this grant" and "the tool writes it": the managed
 * account, the operator's guardrails, ownership proof, and the account condition on S3
 * statements. A refusal becomes a failed resolution with the reason, so it is reported on the
 * agreement and nothing is granted.
 */
export async function guardResolution(ctx: SyncContext, resolution: Resolution): Promise<Resolution> {
  if (resolution.kind !== 'grant') return resolution;
  const { grant } = resolution;
  const refuse = (field: string, reason: string): Resolution => ({
    kind: 'failed',
    field,
    reason: `Agreement ${grant.agreementId}: ${reason}`,
  });
  const members = ctx.accounts?.directory.members;
  if (members ? !members.has(grant.role.accountId) : grant.role.accountId !== ctx.iam.accountId) {
    return refuse(
      'aws-role-arn',
      `consumer role ${grant.role.arn} is in account ${grant.role.accountId}, but this integration manages ${members ? `the member accounts ${[...members.keys()].join(', ')}` : `account ${ctx.iam.accountId}`}`,
    );
  }
  const guardrails = guardrailsOf(ctx);
  if (isProtectedRoleName(grant.role.name, guardrailsForAccount(ctx, grant.role.accountId))) {
    return refuse(
      'aws-role-name',
      `role ${grant.role.name} is protected (guardrails.protectedRoles): dmm-aws never grants on it`,
    );
  }
  const settled = await settleAcrossAccounts(grant, ctx.accounts);
  if ('refusal' in settled) return refuse('multiAccount', settled.refusal);
  // Measured as it will be written, bucket-owner condition included.
  const constrained = { ...settled.grant, grants: constrainGrants(settled.grant.grants, guardrails) };
  const refusal = grantRefusal(constrained, guardrails);
  if (refusal) return refuse('guardrails', refusal);
  const unproven = await ownershipRefusal(grant, guardrails.ownership, ctx.resourceTags);
  if (unproven) return refuse(OWNERSHIP_PROOF_FIELD, `${unproven} (${OWNERSHIP_FIX})`);
  return { kind: 'grant', grant: constrained };
}
