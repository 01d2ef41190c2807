import type { Agreement } from '../model/agreement.js';
import type { DmmApi, ProvisioningReport, ProvisioningTransition } from '../interfaces/dmm-api.js';
import type { Logger } from '../util/log.js';
import { writeBackBody, type MarkerEdits } from './write-back-body.js';

/** The reference integration's markers, kept so existing dashboards and searches keep working. */
export const TAG_INTEGRATION = 'aws-integration';
export const TAG_ACTIVE = 'aws-integration-active';
export const TAG_INACTIVE = 'aws-integration-inactive';
export const TAG_FAILED = 'aws-integration-failed';
export const FIELD_POLICY_NAME = 'aws-policy-name';
/** Where the grant lives, so a later revoke finds it even after the consumer's role field changed. */
export const FIELD_GRANTED_ROLE = 'aws-granted-role-arn';
export const FIELD_ERROR = 'aws-integration-error';

const PLATFORM = 'aws';
const EXECUTOR = 'dmm-aws';
const MAX_DIAGNOSTIC = 2000;

export type ReportState =
  | { kind: 'granted'; roleArn: string; policyNames: string[]; reference: string }
  | { kind: 'revoked' }
  | { kind: 'inactive' }
  | {
      kind: 'failed';
      diagnostic: string;
      /** The desired state was "no access" (a revoke failed): report deprovisioning-failed. */
      deprovisioning?: boolean;
      /** Roles that still hold statements of this agreement, so a later revoke finds them. */
      heldOnRoleArns?: string[];
    };

export interface ReportResult {
  /** Whether tags/custom fields were written (PUT). */
  tagsWritten: boolean;
  /** The provisioning transition posted, 'unsupported' on servers without the endpoints, or none. */
  provisioning: ProvisioningTransition | 'unsupported' | 'unchanged';
  tags: string[];
  custom: Record<string, string>;
  /** Why the tags and custom fields that should change were not written (a PUT would damage the agreement). */
  tagsNotWritten?: string;
}

/**
 * Tell Data Mesh Manager what happened, merged into what is there: our tags and custom fields are
 * set or removed, everything others wrote stays. Nothing is written when nothing changed, which
 * also keeps our own PUT (an AccessUpdatedEvent) from looping back into another write.
 */
export async function reportBack(
  dmm: DmmApi,
  agreement: Agreement,
  state: ReportState,
  log: Logger,
): Promise<ReportResult> {
  // An agreement we never granted and never reported on is not ours to mark: other connectors
  // (Snowflake, BigQuery, ...) report on their agreements through the same fields.
  const untouched = state.kind === 'inactive' && !agreement.tags.includes(TAG_INTEGRATION) && !reportedByUs(agreement);
  if (untouched)
    return { tagsWritten: false, provisioning: 'unchanged', tags: agreement.tags, custom: agreement.custom };

  const provisioning = await reportProvisioning(dmm, agreement, state, log);
  // The copy read moments ago already carries our markers: no write, so no need to read again.
  // (A person editing them meanwhile causes an AccessUpdatedEvent, which converges them.)
  if (!markersChange(agreement, state))
    return { tagsWritten: false, provisioning, tags: agreement.tags, custom: agreement.custom };
  // Re-read right before the PUT: people edit agreements in the UI, and PUT replaces the document.
  const fresh = await dmm.getAgreement(agreement.id);
  if (!fresh) {
    // Deleted meanwhile: a PUT would create it again.
    log.info('agreement deleted before write-back; nothing to write', { agreementId: agreement.id });
    return { tagsWritten: false, provisioning, tags: agreement.tags, custom: agreement.custom };
  }
  const { tags, custom } = mergeMarkers(fresh, state);
  if (!markersChange(fresh, state)) return { tagsWritten: false, provisioning, tags, custom };
  // PUT replaces the whole document: send back exactly what was received, plus our edits.
  const body = writeBackBody(fresh.raw, markerEdits(state));
  if (!body.ok) {
    // With provisioning endpoints the status is already reported; without them nothing is.
    const level = provisioning === 'unsupported' ? 'warn' : 'info';
    log[level]('tags and custom fields not written back', { agreementId: agreement.id, reason: body.reason });
    return {
      tagsWritten: false,
      provisioning,
      tags: fresh.tags,
      custom: fresh.custom,
      tagsNotWritten: body.reason,
    };
  }
  await dmm.putAgreement(fresh.id, body.body);
  log.info('wrote back tags and custom fields', { agreementId: agreement.id, tags, custom });
  return { tagsWritten: true, provisioning, tags, custom };
}

function markersChange(agreement: Agreement, state: ReportState): boolean {
  const { tags, custom } = mergeMarkers(agreement, state);
  return !sameSet(tags, agreement.tags) || !sameRecord(custom, agreement.custom);
}

/**
 * An agreement whose document cannot be read has no document to write tags into (and a PUT of a
 * document we cannot read could only damage it): the failure goes to the provisioning endpoint
 * alone, where the server has one. Its grants are untouched, and the diagnostic says so.
 */
export async function reportUnreadable(
  dmm: DmmApi,
  agreementId: string,
  problem: string,
  log: Logger,
): Promise<ReportResult> {
  const diagnostics = truncate(
    `${problem.replace(/\.?$/, '.')} dmm-aws cannot read this agreement, so it left its AWS grants as they were; fix the document.`,
  );
  const result = await dmm.reportProvisioning(agreementId, 'provisioning-failed', {
    platform: PLATFORM,
    executor: EXECUTOR,
    diagnostics,
  });
  if (result === 'unsupported')
    log.warn('unreadable agreement could not be reported: the server has no provisioning endpoints', { agreementId });
  return {
    tagsWritten: false,
    provisioning: result === 'reported' ? 'provisioning-failed' : 'unsupported',
    tags: [],
    custom: {},
    tagsNotWritten: 'the agreement document cannot be read',
  };
}

/** What our markers should read in `state`; only these tags and custom fields are ever written. */
export function markerEdits(state: ReportState): MarkerEdits {
  switch (state.kind) {
    case 'granted':
      return {
        addTags: [TAG_INTEGRATION, TAG_ACTIVE],
        removeTags: [TAG_FAILED, TAG_INACTIVE],
        setCustom: { [FIELD_POLICY_NAME]: state.policyNames.join(','), [FIELD_GRANTED_ROLE]: state.roleArn },
        deleteCustom: [FIELD_ERROR],
      };
    case 'revoked':
    case 'inactive':
      return {
        addTags: [TAG_INTEGRATION, TAG_INACTIVE],
        removeTags: [TAG_FAILED, TAG_ACTIVE],
        setCustom: {},
        deleteCustom: [FIELD_ERROR, FIELD_POLICY_NAME, FIELD_GRANTED_ROLE],
      };
    case 'failed': {
      const held = state.heldOnRoleArns?.length ? state.heldOnRoleArns.join(',') : undefined;
      return {
        addTags: [TAG_INTEGRATION, TAG_FAILED, TAG_INACTIVE],
        removeTags: [TAG_ACTIVE],
        setCustom: { [FIELD_ERROR]: truncate(state.diagnostic), ...(held ? { [FIELD_GRANTED_ROLE]: held } : {}) },
        deleteCustom: [FIELD_POLICY_NAME, ...(held ? [] : [FIELD_GRANTED_ROLE])],
      };
    }
  }
}

/** The agreement's tags and custom fields once our edits are applied (for change detection and output). */
export function mergeMarkers(
  agreement: Agreement,
  state: ReportState,
): { tags: string[]; custom: Record<string, string> } {
  const edits = markerEdits(state);
  const tags = agreement.tags.filter((tag) => !edits.removeTags.includes(tag));
  for (const tag of edits.addTags) if (!tags.includes(tag)) tags.push(tag);
  const custom = { ...agreement.custom };
  for (const key of edits.deleteCustom) delete custom[key];
  Object.assign(custom, edits.setCustom);
  return { tags, custom };
}

async function reportProvisioning(
  dmm: DmmApi,
  agreement: Agreement,
  state: ReportState,
  log: Logger,
): Promise<ReportResult['provisioning']> {
  const current = agreement.provisioning;
  let transition: ProvisioningTransition | undefined;
  const report: ProvisioningReport = { platform: PLATFORM, executor: EXECUTOR };
  switch (state.kind) {
    case 'granted':
      if (current?.status !== 'provisioned' || current.reference !== state.reference)
        transition = 'provisioning-succeeded';
      report.reference = state.reference;
      break;
    case 'revoked':
    case 'inactive':
      if (current && current.status !== 'deprovisioned' && reportedByUs(agreement))
        transition = 'deprovisioning-succeeded';
      if (current?.reference) report.reference = current.reference;
      break;
    case 'failed': {
      const status = state.deprovisioning ? 'deprovisioning-failed' : 'provisioning-failed';
      report.diagnostics = truncate(state.diagnostic);
      if (current?.status !== status || current.diagnostics !== report.diagnostics) transition = status;
      break;
    }
  }
  if (!transition) return 'unchanged';
  const result = await dmm.reportProvisioning(agreement.id, transition, report);
  if (result === 'unsupported') {
    log.debug('server has no provisioning endpoints; reported through tags only', { agreementId: agreement.id });
    return 'unsupported';
  }
  log.info(`reported ${transition}`, { agreementId: agreement.id, ...report });
  return transition;
}

/** The provisioning record is ours: written by this tool (or by no known executor, on an agreement we tagged). */
function reportedByUs(agreement: Agreement): boolean {
  const executor = agreement.provisioning?.executor;
  if (executor) return executor === EXECUTOR;
  return agreement.provisioning !== undefined && agreement.tags.includes(TAG_INTEGRATION);
}

function truncate(text: string): string {
  return text.length > MAX_DIAGNOSTIC ? `${text.slice(0, MAX_DIAGNOSTIC - 1)}…` : text;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
