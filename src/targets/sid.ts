/**
 * Statement ids that name the agreement a statement serves. Every policy this tool writes into,
 * the consumer role's packs and provider resources' policies alike, marks its statements this way,
 * so one agreement's access is removed exactly and statements of others are never touched.
 */
import type { PolicyStatement } from '../model/policy.js';
const SID_PREFIX = 'Dmm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A Sid may only contain [A-Za-z0-9], so the agreement id is encoded reversibly: a canonical
 * lowercase UUID as its 32 hex digits (`U`), anything else as the hex of its UTF-8 bytes (`H`).
 * Hex digits are lowercase, so the upper-case `S` safely separates the statement number.
 */
export function statementSid(agreementId: string, index: number): string {
  return `${SID_PREFIX}${encodeAgreementId(agreementId)}S${index}`;
}

/** `U` + 32 hex digits for a canonical UUID, `H` + the hex of the UTF-8 bytes for any other id. */
export function encodeAgreementId(agreementId: string): string {
  if (/[\uD800-\uDFFF]/.test(agreementId) && Buffer.from(agreementId, 'utf8').toString('utf8') !== agreementId) {
    throw new Error(`agreement id ${JSON.stringify(agreementId)} is not well-formed Unicode`);
  }
  return UUID.test(agreementId)
    ? `U${agreementId.replace(/-/g, '')}`
    : `H${Buffer.from(agreementId, 'utf8').toString('hex')}`;
}

/** The agreement id a Sid names, or undefined when the statement is not one of ours. */
export function agreementIdFromSid(sid: unknown): string | undefined {
  if (typeof sid !== 'string') return undefined;
  const m = /^Dmm([UH][0-9a-f]+)S\d+$/.exec(sid);
  return m ? decodeAgreementId(m[1]!) : undefined;
}

/** The agreement id of one `encodeAgreementId` encoding, or undefined when it is not one. */
export function decodeAgreementId(encoded: string): string | undefined {
  const m = /^([UH])([0-9a-f]+)$/.exec(encoded);
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

/** The statements marked as the agreement's: numbered Sids replace any they had. */
export function withSids(agreementId: string, statements: readonly PolicyStatement[]): PolicyStatement[] {
  return statements.map((statement, i) => {
    const { Sid: _ignored, ...rest } = statement;
    return { Sid: statementSid(agreementId, i + 1), ...rest };
  });
}
