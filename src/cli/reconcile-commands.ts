import type { Command } from 'commander';
import { reconcileAll } from '../sync/reconcile.js';
import { addConnectionOptions, configFrom, loggerFrom, progressReporter, type GlobalOptions } from './common.js';
import { planJson } from '../sync/plan-json.js';
import { formatPlan } from './format.js';
import { buildContext } from './wiring.js';

interface ReconcileOptions extends GlobalOptions {
  json?: boolean;
  progress?: boolean;
}

export function registerReconcileCommands(program: Command): void {
  for (const apply of [false, true]) {
    const command = program
      .command(apply ? 'apply' : 'plan')
      .summary(
        apply
          ? 'make AWS match Data Mesh Manager now (full reconcile)'
          : 'show what a full reconcile would change, changing nothing',
      )
      .description(
        apply
          ? 'Full reconcile: read every agreement, resolve what access each active one grants, compare with the ' +
              'policies this tool owns on every role, write the difference, and report back to Data Mesh Manager. ' +
              'Removes access that no active agreement explains (deleted agreements, changed roles, hand edits) ' +
              'and adopts policies written by the reference integration (DMM_DataUsageAgreement_<id>).'
          : 'Dry run of `dmm-aws apply`: reads Data Mesh Manager and AWS, prints every IAM change it would make ' +
              'with the full policy document, and changes nothing (no IAM writes, no write-back).',
      )
      .option('--json', 'print the result as JSON (agreement decisions and every change with its full policy document)')
      .option('--no-progress', 'do not print progress on stderr');
    addConnectionOptions(command).action(async (options: ReconcileOptions) => {
      const config = configFrom(options);
      const log = loggerFrom(options, config);
      const ctx = await buildContext(config, log);
      const result = await reconcileAll(ctx, {
        dryRun: !apply,
        ...(options.progress !== false && !options.json
          ? { onProgress: progressReporter(apply ? 'apply' : 'plan') }
          : {}),
      });
      process.stdout.write(
        options.json ? `${JSON.stringify(planJson(result, apply), null, 2)}\n` : `${formatPlan(result, apply)}\n`,
      );
      if (result.outcomes.some((o) => o.decision === 'failed')) process.exitCode = 2;
    });
    command.addHelpText(
      'after',
      `\nExit status: 0 when every agreement could be ${apply ? 'converged' : 'planned'}, 2 when some agreement failed (see its reason), 1 on errors.\n` +
        `\nExamples:\n  $ dmm-aws ${apply ? 'apply' : 'plan'}\n  $ DMM_BASE_URL=https://api.entropy-data.com DMM_API_KEY=... dmm-aws ${apply ? 'apply' : 'plan --json > plan.json'}\n`,
    );
  }
}
