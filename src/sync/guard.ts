import { guardrailsOf, type SyncContext } from './context.js';
import { constrainGrants, grantRefusal, isProtectedRoleName } from './guardrails.js';
import { ownershipRefusal } from './ownership-proof.js';
import type { Resolution } from './resolve.js';

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
  if (guardrails.ownershipTagKey) {
    if (!ctx.resourceTags)
      return refuse('guardrails.ownershipTagKey', 'ownership proof is on, but no resource tag reader is configured');
    const unproven = await ownershipRefusal(grant, guardrails.ownershipTagKey, ctx.resourceTags);
    if (unproven) return refuse('guardrails.ownershipTagKey', `${unproven} (guardrails.ownershipTagKey)`);
  }
  return { kind: 'grant', grant: constrained };
}
