import { z } from 'zod';
import type { Agreement } from './agreement.js';

/**
 * Reads an Access document (2025+) or a DataUsageAgreement document (2024 and earlier) into
 * an `Agreement`. Unknown fields are allowed and kept in `raw`, because write-back PUTs the
 * whole document; the fields the sync acts on are checked strictly, so a malformed agreement
 * fails loudly with its id and the field instead of silently granting or revoking.
 */

export class AgreementFormatError extends Error {
  override readonly name = 'AgreementFormatError';
  constructor(
    /** The agreement's id, when the document had a usable one. */
    readonly agreementId: string | undefined,
    /** Dotted path of the offending field, e.g. `provider.outputPortId`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Agreement ${agreementId === undefined ? '(without id)' : `"${agreementId}"`}: ${field}: ${problem}`);
  }
}

// A lone surrogate cannot round-trip through UTF-8 (the ownership Sids encode ids as UTF-8), so
// two such ids could share one Sid: refuse them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const requiredId = z
  .string()
  .trim()
  .min(1, 'must be a non-empty string')
  .refine((id) => !LONE_SURROGATE.test(id), 'must be well-formed Unicode');
const optionalString = z.string().optional();

// Custom fields are strings in the UI, but other tools write them through the API too; a
// number or boolean is unambiguous, so it is kept as text. A null, object or array value is no
// field this tool reads or writes: it is left out of `custom` (and kept verbatim in `raw`)
// rather than making the whole agreement unreadable.
const customRecord = z.record(z.string(), z.unknown()).transform((record) => {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record))
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  return out;
});

const agreementSchema = z.looseObject({
  id: requiredId.optional(),
  info: z.looseObject({
    // The reference integration read `info.id`; no current schema has it, both are accepted.
    id: requiredId.optional(),
    status: optionalString,
    // Read-only and optional in the spec: derived from status and dates when absent.
    active: z.boolean().nullish(),
    startDate: z.string().nullish(),
    endDate: z.string().nullish(),
  }),
  provider: z.looseObject({
    dataProductId: requiredId,
    outputPortId: requiredId,
    teamId: z.string().nullish(),
    dataContractId: z.string().nullish(),
  }),
  // Role names the consumer requested, defined in the data contract (docs/adr/0007-requested-roles.md).
  // Anything but a list of names is unreadable: guessing which roles were meant could widen a grant.
  roles: z.array(z.string()).nullish(),
  // Team and user consumers have no data product; the consumer block itself is kept lenient.
  consumer: z
    .looseObject({
      dataProductId: z.string().nullish(),
      teamId: z.string().nullish(),
      userId: z.string().nullish(),
    })
    .nullish(),
  tags: z.array(z.string()).nullish(),
  custom: customRecord.nullish(),
});

// Provisioning is informational (what connectors reported); a malformed block is ignored
// rather than making the agreement unreadable.
const provisioningSchema = z.looseObject({
  status: z.string(),
  diagnostics: z.string().nullish(),
  reference: z.string().nullish(),
  executor: z.string().nullish(),
});

/** `today` (YYYY-MM-DD, UTC) decides activeness for documents without `info.active`. */
export function readAgreement(raw: unknown, today: string = new Date().toISOString().slice(0, 10)): Agreement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgreementFormatError(undefined, '(document)', `expected an object, got ${describe(raw)}`);
  }
  const document = raw as Record<string, unknown>;
  const parsed = agreementSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(document)';
    throw new AgreementFormatError(guessId(document), field, issue?.message ?? 'invalid');
  }
  const a = parsed.data;
  const id = a.id ?? a.info.id;
  if (id === undefined) throw new AgreementFormatError(undefined, 'id', 'missing (neither id nor info.id is set)');

  const agreement: Agreement = {
    id,
    status: a.info.status,
    active: a.info.active ?? derivedActive(a.info, today),
    provider: {
      dataProductId: a.provider.dataProductId,
      outputPortId: a.provider.outputPortId,
      ...(a.provider.teamId ? { teamId: a.provider.teamId } : {}),
      ...(a.provider.dataContractId ? { dataContractId: a.provider.dataContractId } : {}),
    },
    consumer: {
      ...(a.consumer?.dataProductId ? { dataProductId: a.consumer.dataProductId } : {}),
      ...(a.consumer?.teamId ? { teamId: a.consumer.teamId } : {}),
      ...(a.consumer?.userId ? { userId: a.consumer.userId } : {}),
    },
    tags: a.tags ?? [],
    custom: a.custom ?? {},
    raw: document,
  };
  const roles = [...new Set((a.roles ?? []).map((r) => r.trim()).filter(Boolean))];
  if (roles.length > 0) agreement.roles = roles;
  if (a.info.startDate) agreement.startDate = a.info.startDate;
  if (a.info.endDate) agreement.endDate = a.info.endDate;

  const provisioning = provisioningSchema.safeParse(document['provisioning']);
  if (provisioning.success) {
    const { status, diagnostics, reference, executor } = provisioning.data;
    agreement.provisioning = {
      status,
      diagnostics: diagnostics ?? null,
      reference: reference ?? null,
      executor: executor ?? null,
    };
  }
  return agreement;
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * The spec's definition of `info.active`: "approved and the current date is between start and
 * end date" (both inclusive, as the server deactivates once the end date has passed). Used only
 * when the server did not send `active`; a date that is not a date means "not active", never more.
 */
function derivedActive(
  info: { status?: string | undefined; startDate?: string | null | undefined; endDate?: string | null | undefined },
  today: string,
): boolean {
  if (info.status !== 'approved') return false;
  const { startDate, endDate } = info;
  if (startDate && (!DATE.test(startDate) || startDate.slice(0, 10) > today)) return false;
  if (endDate && (!DATE.test(endDate) || endDate.slice(0, 10) < today)) return false;
  return true;
}

/** Best-effort id for error messages, from a document that failed validation. */
function guessId(document: Record<string, unknown>): string | undefined {
  if (typeof document['id'] === 'string' && document['id'] !== '') return document['id'];
  const info = document['info'];
  if (typeof info === 'object' && info !== null) {
    const infoId = (info as Record<string, unknown>)['id'];
    if (typeof infoId === 'string' && infoId !== '') return infoId;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
