/**
 * How this tool recognises, from AWS alone, what it owns (see docs/adr/0002-policy-packing.md):
 *
 * - inline policies named `dmm-aws-pack-<n>` and customer-managed policies under the path
 *   `/dmm-aws/` named `dmm-aws-<role>-<n>` are packs: every statement in them is ours;
 * - inside a pack every statement's `Sid` names the agreement it serves, so one agreement's
 *   access can be removed exactly while other agreements' statements stay;
 * - inline policies named `DMM_DataUsageAgreement_<id>`, written by the reference
 *   integration, belong to agreement `<id>` and are adopted (moved into packs).
 */
export const INLINE_PACK_PREFIX = 'dmm-aws-pack-';
export const MANAGED_POLICY_PATH = '/dmm-aws/';
export const LEGACY_POLICY_PREFIX = 'DMM_DataUsageAgreement_';

const SID_PREFIX = 'Dmm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A Sid may only contain [A-Za-z0-9], so the agreement id is encoded reversibly: a canonical
 * lowercase UUID as its 32 hex digits (`U`), anything else as the hex of its UTF-8 bytes (`H`).
 * Hex digits are lowercase, so the upper-case `S` safely separates the statement number.
 */
export function statementSid(agreementId: string, index: number): string {
  if (/[\uD800-\uDFFF]/.test(agreementId) && Buffer.from(agreementId, 'utf8').toString('utf8') !== agreementId) {
    throw new Error(`agreement id ${JSON.stringify(agreementId)} is not well-formed Unicode`);
  }
  const body = UUID.test(agreementId)
    ? `U${agreementId.replace(/-/g, '')}`
    : `H${Buffer.from(agreementId, 'utf8').toString('hex')}`;
  return `${SID_PREFIX}${body}S${index}`;
}

/** The agreement id a Sid names, or undefined when the statement is not one of ours. */
export function agreementIdFromSid(sid: unknown): string | undefined {
  if (typeof sid !== 'string') return undefined;
  const m = /^Dmm([UH])([0-9a-f]+)S\d+$/.exec(sid);
  if (!m) return undefined;
  const [, kind, hex] = m as unknown as [string, string, string];
  if (kind === 'U') {
    if (hex.length !== 32) return undefined;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  if (hex.length % 2 !== 0) return undefined;
  const id = Buffer.from(hex, 'hex').toString('utf8');
  return id.length > 0 && statementSidRoundTrips(id, hex) ? id : undefined;
}

function statementSidRoundTrips(id: string, hex: string): boolean {
  return Buffer.from(id, 'utf8').toString('hex') === hex;
}

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
