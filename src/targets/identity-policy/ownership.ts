/**
 * How this tool recognises, from AWS alone, what it owns (see docs/adr/0002-policy-packing.md):
 *
 * - inline policies named `dmm-aws-pack-<n>` and customer-managed policies under the path
 *   `/dmm-aws/` named `dmm-aws-<role>-<n>` are packs: every statement in them is ours;
 * - inside a pack every statement's `Sid` names the agreement it serves (src/targets/sid.ts), so
 *   one agreement's access can be removed exactly while other agreements' statements stay;
 * - inline policies named `DMM_DataUsageAgreement_<id>`, written by the reference
 *   integration, belong to agreement `<id>` and are adopted (moved into packs).
 */
export const INLINE_PACK_PREFIX = 'dmm-aws-pack-';
export const MANAGED_POLICY_PATH = '/dmm-aws/';
export const LEGACY_POLICY_PREFIX = 'DMM_DataUsageAgreement_';

export function inlinePackName(n: number): string {
  return `${INLINE_PACK_PREFIX}${n}`;
}

export function managedPackName(roleName: string, n: number): string {
  return `dmm-aws-${roleName}-${n}`;
}

/** The pack number of an owned inline pack name, or undefined. */
export function inlinePackNumber(policyName: string): number | undefined {
  const m = /^dmm-aws-pack-(\d+)$/.exec(policyName);
  return m ? Number(m[1]) : undefined;
}

/** The pack number of an owned managed policy of `roleName`, or undefined. */
export function managedPackNumber(roleName: string, path: string, policyName: string): number | undefined {
  if (path !== MANAGED_POLICY_PATH) return undefined;
  const prefix = `dmm-aws-${roleName}-`;
  if (!policyName.startsWith(prefix)) return undefined;
  const rest = policyName.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** The agreement id of a reference-integration policy name, or undefined. */
export function legacyAgreementId(policyName: string): string | undefined {
  return policyName.startsWith(LEGACY_POLICY_PREFIX) && policyName.length > LEGACY_POLICY_PREFIX.length
    ? policyName.slice(LEGACY_POLICY_PREFIX.length)
    : undefined;
}
