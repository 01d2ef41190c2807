import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../report/model.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render.js';
import { addConnectionOptions, configFrom, loggerFrom, progressReporter, type GlobalOptions } from './common.js';
import { buildContext } from './wiring.js';

interface ReportOptions extends GlobalOptions {
  format: string;
  output?: string;
  progress?: boolean;
}

export const DEFAULT_HTML_REPORT = 'dmm-aws-report.html';

export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .summary('an access-review report: who can read what, and why (HTML, CSV or JSON)')
    .description(
      'Writes an access-review report from a dry run of the full reconcile (the same reads and decisions as ' +
        '`dmm-aws plan`; nothing is changed and nothing is written back): every consumer role with the agreements ' +
        'that grant it access (provider data product and port, consumer team, since when), the resources and ' +
        'actions each opens on which target (identity policy, resource policy, Lake Formation) and how full the ' +
        'role is; every provider data product with its consumers; and at the top the failed agreements with their ' +
        'reasons and what a reconcile would change now. The HTML page is one self-contained file (no network, ' +
        'prints well) with sortable, filterable tables.',
    )
    .option('--format <format>', `html | csv | json`, 'html')
    .option(
      '-o, --output <file>',
      `where to write it; "-" for stdout (default: ./${DEFAULT_HTML_REPORT} for html, stdout for csv and json)`,
    )
    .option('--no-progress', 'do not print progress on stderr');
  addConnectionOptions(command).action(async (options: ReportOptions) => {
    const format = options.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format))
      throw new Error(`--format must be one of ${REPORT_FORMATS.join(', ')}, got '${options.format}'`);
    const output = options.output ?? (format === 'html' ? DEFAULT_HTML_REPORT : '-');
    const config = configFrom(options);
    // Read-only and written for people: only warnings and errors interrupt it unless asked for.
    const ctx = await buildContext(config, loggerFrom(options, config, 'warn'));
    const report = await buildReport(ctx, {
      dmmBaseUrl: config.dmm.baseUrl,
      ...(options.progress !== false ? { onProgress: progressReporter('report') } : {}),
    });
    const text = renderReport(report, format);
    if (output === '-') {
      process.stdout.write(text);
      return;
    }
    await writeWhole(output, text);
    const s = report.summary;
    process.stderr.write(
      `Wrote ${resolve(output)}: ${s.agreements} agreement(s), ${s.withAccess} with access, ${s.failed} failed, ` +
        `${s.changes} change(s) a reconcile would make, ${s.roles} role(s).\n`,
    );
  });
  command.addHelpText(
    'after',
    '\nThe report reads Data Mesh Manager and AWS like `dmm-aws plan` and needs the same configuration and ' +
      'read rights. Exit status: 0 when the report was written (failed agreements are in it), 1 on errors.\n' +
      '\nExamples:\n' +
      `  $ dmm-aws report                                  # ./${DEFAULT_HTML_REPORT}, open it in a browser\n` +
      '  $ dmm-aws report -o access-review-2026-q3.html\n' +
      '  $ dmm-aws report --format csv > access.csv        # one row per agreement and grant\n' +
      '  $ dmm-aws report --format json | jq .failed\n',
  );
}

/** A report is written whole or not at all: an earlier report at the path survives a failed write. */
async function writeWhole(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
