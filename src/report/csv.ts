/**
 * The report as CSV for spreadsheets (RFC 4180): one row per agreement and grant (an agreement
 * without grants has one row with the grant columns empty). Cells that a spreadsheet would read
 * as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) get a leading apostrophe: metadata
 * is user input, and `=HYPERLINK(...)` in a product name must stay text.
 */
import { consumerName, type AccessReport, type ReportAgreement, type ReportGrant } from './model.js';

const COLUMNS = [
  'agreement_id',
  'state',
  'decision',
  'effect',
  'status',
  'provider_data_product',
  'provider_title',
  'output_port',
  'provider_team',
  'consumer',
  'consumer_team',
  'consumer_role',
  'start_date',
  'end_date',
  'target',
  'target_resource',
  'resources',
  'actions',
  'reason',
] as const;

export function renderCsv(report: AccessReport): string {
  const lines = [COLUMNS.join(',')];
  for (const a of report.agreements) {
    const grants: (ReportGrant | undefined)[] = a.grants.length > 0 ? a.grants : [undefined];
    for (const g of grants) lines.push(row(a, g).map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function row(a: ReportAgreement, g: ReportGrant | undefined): string[] {
  return [
    a.agreementId,
    a.decision === 'failed'
      ? 'failed'
      : a.effect !== 'unchanged' && a.effect !== 'absent'
        ? `would be ${a.effect}`
        : a.decision === 'grant'
          ? 'has access'
          : 'no access',
    a.decision,
    a.effect,
    a.status ?? '',
    a.provider?.dataProductId ?? '',
    a.provider?.title ?? '',
    a.provider?.outputPortId ?? '',
    a.provider?.teamId ?? '',
    consumerName(a),
    a.consumer?.teamId ?? '',
    a.role ?? '',
    a.startDate ?? '',
    a.endDate ?? '',
    g?.target ?? '',
    g?.on ?? '',
    g?.resources.join(' ') ?? '',
    g?.actions.join(' ') ?? '',
    a.reason,
  ];
}

export function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
