import type { ProvisioningTransition } from '../interfaces/dmm-api.js';
import { invalidBody, notFound } from './problem.js';
import {
  PROVISIONING_STATUSES,
  provisioningReportSchema,
  validate,
  type ProvisioningReportInput,
  type ProvisioningStatus,
} from './schemas.js';
import type { ProvisioningRecord, SimulatorEvent, SimulatorState, StoredAgreement } from './state.js';

const PROVISIONING_TRANSITIONS: readonly ProvisioningTransition[] = [
  'provisioning-started',
  'provisioning-succeeded',
  'provisioning-failed',
  'deprovisioning-started',
  'deprovisioning-succeeded',
  'deprovisioning-failed',
];

interface TransitionRule {
  status: ProvisioningStatus;
  event: string;
  /** The timestamp field the transition stamps with the current time. */
  stamps: keyof ProvisioningRecord;
}

const TRANSITIONS: Record<ProvisioningTransition, TransitionRule> = {
  'provisioning-started': {
    status: 'provisioning',
    event: 'AccessProvisioningStartedEvent',
    stamps: 'provisioningStartedAt',
  },
  'provisioning-succeeded': { status: 'provisioned', event: 'AccessProvisionedEvent', stamps: 'provisionedAt' },
  'provisioning-failed': { status: 'provisioning-failed', event: 'AccessProvisioningFailedEvent', stamps: 'failedAt' },
  'deprovisioning-started': {
    status: 'deprovisioning',
    event: 'AccessDeprovisioningStartedEvent',
    stamps: 'deprovisioningStartedAt',
  },
  'deprovisioning-succeeded': { status: 'deprovisioned', event: 'AccessDeprovisionedEvent', stamps: 'deprovisionedAt' },
  'deprovisioning-failed': {
    status: 'deprovisioning-failed',
    event: 'AccessDeprovisioningFailedEvent',
    stamps: 'failedAt',
  },
};

const EVENT_BY_STATUS = Object.fromEntries(
  Object.values(TRANSITIONS).map((rule) => [rule.status, rule.event]),
) as Record<ProvisioningStatus, string>;

export function isProvisioningTransition(value: string): value is ProvisioningTransition {
  return (PROVISIONING_TRANSITIONS as readonly string[]).includes(value);
}

export interface ProvisioningResult {
  record: ProvisioningRecord;
  events: SimulatorEvent[];
}

/**
 * The connector-reported provisioning state (2026-07 API). Transitions are never refused: the
 * reporting component owns this state and the latest report wins.
 */
export class Provisioning {
  constructor(private readonly state: SimulatorState) {}

  get(agreementId: string): ProvisioningRecord {
    const record = this.agreement(agreementId).provisioning;
    if (!record) throw notFound('Provisioning state of access', agreementId);
    return { ...record };
  }

  /** POST .../provisioning/{transition}: omitted fields keep their value; always emits the event. */
  report(agreementId: string, transition: ProvisioningTransition, body: unknown): ProvisioningResult {
    const stored = this.agreement(agreementId);
    const report = parseReport(body ?? {});
    const rule = TRANSITIONS[transition];
    const previous = stored.provisioning ?? emptyRecord(rule.status);
    const failed = rule.status.endsWith('-failed');
    const record: ProvisioningRecord = {
      ...previous,
      ...definedReportFields(report, { timestamps: false }),
      status: rule.status,
      // Diagnostics explain a failure, so a successful transition clears them.
      diagnostics: failed ? (report.diagnostics ?? previous.diagnostics) : null,
      [rule.stamps]: this.state.config.now().toISOString(),
    };
    stored.provisioning = record;
    const event = this.emit(agreementId, record);
    return { record: { ...record }, events: [event] };
  }

  /**
   * PUT .../provisioning: replaces the record (absent fields cleared, timestamps honoured so a
   * reconciling component can back-fill). Emits only when the status changes.
   */
  replace(agreementId: string, body: unknown): ProvisioningResult {
    const stored = this.agreement(agreementId);
    const report = parseReport(body);
    if (!report.status) {
      throw invalidBody([{ field: 'status', message: `required; one of ${PROVISIONING_STATUSES.join(', ')}` }]);
    }
    const changed = stored.provisioning?.status !== report.status;
    const record: ProvisioningRecord = {
      ...emptyRecord(report.status),
      ...definedReportFields(report),
      status: report.status,
    };
    if (changed && report.status.endsWith('-failed') && !record.failedAt)
      record.failedAt = this.state.config.now().toISOString();
    stored.provisioning = record;
    return { record: { ...record }, events: changed ? [this.emit(agreementId, record)] : [] };
  }

  private emit(agreementId: string, record: ProvisioningRecord): SimulatorEvent {
    return this.state.emit(EVENT_BY_STATUS[record.status], agreementId, {
      status: record.status,
      platform: record.platform,
    });
  }

  private agreement(id: string): StoredAgreement {
    const stored = this.state.agreements.get(id);
    if (!stored) throw notFound('Access', id);
    return stored;
  }
}

/** Also used by fixtures, which may seed a provisioning record without emitting events. */
export function provisioningRecordFrom(
  report: ProvisioningReportInput & { status: ProvisioningStatus },
): ProvisioningRecord {
  return { ...emptyRecord(report.status), ...definedReportFields(report), status: report.status };
}

function parseReport(body: unknown): ProvisioningReportInput {
  const checked = validate(provisioningReportSchema, body);
  if (checked.violations) throw invalidBody(checked.violations);
  return checked.value;
}

function emptyRecord(status: ProvisioningStatus): ProvisioningRecord {
  return {
    status,
    platform: null,
    executor: null,
    reference: null,
    diagnostics: null,
    note: null,
    provisioningStartedAt: null,
    provisionedAt: null,
    deprovisioningStartedAt: null,
    deprovisionedAt: null,
    failedAt: null,
    customProperties: [],
    links: {},
  };
}

const DESCRIPTIVE_FIELDS = [
  'platform',
  'executor',
  'reference',
  'diagnostics',
  'note',
  'customProperties',
  'links',
] as const;
const TIMESTAMP_FIELDS = [
  'provisioningStartedAt',
  'provisionedAt',
  'deprovisioningStartedAt',
  'deprovisionedAt',
] as const;

/**
 * Only the record's own fields: unknown members of a report are not stored and the status comes
 * from the URL or the PUT. Reported timestamps are honoured on PUT only, as the vendor documents.
 */
function definedReportFields(
  report: ProvisioningReportInput,
  options = { timestamps: true },
): Partial<ProvisioningRecord> {
  const fields: Partial<ProvisioningRecord> = {};
  const keys = options.timestamps ? [...DESCRIPTIVE_FIELDS, ...TIMESTAMP_FIELDS] : DESCRIPTIVE_FIELDS;
  for (const key of keys) {
    if (report[key] !== undefined) (fields as Record<string, unknown>)[key] = report[key];
  }
  // A report may clear them with null; the record's schema has an array and an object, never null.
  if (report.customProperties === null) fields.customProperties = [];
  if (report.links === null) fields.links = {};
  return fields;
}
