import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { registerSimulatorCommand } from '../simulator/cli.js';
import { registerDemoCommand } from './demo-command.js';
import { registerExplainCommand } from './explain-command.js';
import { registerLocalAwsCommand } from './local-aws-command.js';
import { registerReconcileCommands } from './reconcile-commands.js';
import { registerReportCommand } from './report-command.js';
import { registerRunCommand } from './run-command.js';

const program = new Command()
  .name('dmm-aws')
  .description(
    'Keeps AWS IAM in step with the access agreements in Data Mesh Manager (Entropy Data).\n\n' +
      "An active agreement gives the consumer data product's IAM role least-privilege read access to the " +
      "provider's output port (S3 bucket, S3 prefix, Glue table through Athena); when the agreement ends, " +
      'is canceled or deleted, that access goes away. Without configuration every command works against the ' +
      'bundled local simulator (http://127.0.0.1:8080) and a local stand-in for an AWS account.',
  )
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    '\nGetting started:\n' +
      '  $ dmm-aws demo                 # everything end to end, locally, in under a minute\n' +
      '  $ dmm-aws demo --multi-account # a hub granting across accounts: both sides, locally\n' +
      '  $ dmm-aws simulator            # a local Data Mesh Manager API on :8080 (another terminal)\n' +
      '  $ dmm-aws local-aws seed examples/local-aws.yaml\n' +
      '  $ dmm-aws plan                 # what would change\n' +
      '  $ dmm-aws run                  # keep in step until Ctrl-C\n' +
      '  $ dmm-aws explain <agreement>  # why a role does (not) have that access\n' +
      '  $ dmm-aws report               # an access-review page: who can read what, and why\n' +
      '\nConfiguration: flags > environment (DMM_BASE_URL, DMM_API_KEY, ...) > ./dmm-aws.yaml > defaults.\n' +
      'See docs/configuration.md.',
  );

registerDemoCommand(program);
registerRunCommand(program);
registerReconcileCommands(program);
registerExplainCommand(program);
registerReportCommand(program);
registerSimulatorCommand(program);
registerLocalAwsCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFatal(error);
}

/** Errors end as one readable line (a stack trace only with LOG_LEVEL=debug), never with the API key. */
function reportFatal(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode;
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`dmm-aws: error: ${message}\n`);
  if (process.env.LOG_LEVEL === 'debug' && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return 1;
}
