import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import type { AccessReport } from './model.js';

export const REPORT_FORMATS = ['html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(report: AccessReport, format: ReportFormat): string {
  switch (format) {
    case 'html':
      return renderHtml(report);
    case 'csv':
      return renderCsv(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}
