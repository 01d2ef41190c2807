import { guardrailsOf, type SyncContext } from './context.js';
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
  if (grant.role.accountId !== ctx.iam.accountId) {
    return refuse(
      'aws-role-arn',
      `consumer role ${grant.role.arn} is in account ${grant.role.accountId}, but this integration manages account ${ctx.iam.accountId}`,
    );
  }
  const guardrails = guardrailsOf(ctx);
  if (isProtectedRoleName(grant.role.name, guardrails)) {
    return refuse(
      'aws-role-name',
      `role ${grant.role.name} is protected (guardrails.protectedRoles): dmm-aws never grants on it`,
    );
  }
  // Measured as it will be written, bucket-owner condition included.
  const constrained = { ...grant, grants: constrainGrants(grant.grants, guardrails) };
  const refusal = grantRefusal(constrained, guardrails);
  if (refusal) return refuse('guardrails', refusal);
  const unproven = await ownershipRefusal(grant, guardrails.ownership, ctx.resourceTags);
  if (unproven) return refuse(OWNERSHIP_PROOF_FIELD, `${unproven} (${OWNERSHIP_FIX})`);
  return { kind: 'grant', grant: constrained };
}
