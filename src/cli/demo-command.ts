import type { Command } from 'commander';
import { runDemo } from './demo.js';
import { runMultiAccountDemo } from './demo-multi-account.js';
import { prettySink } from './format.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .summary('run the whole sync locally against bundled example data, then exit')
    .description(
      'Starts the bundled Data Mesh Manager simulator (examples/mesh/) on a free loopback port and a ' +
        'throw-away local AWS account (examples/local-aws.yaml), then activates, replays, deactivates and ' +
        'deletes agreements, showing each event, the decision, the policy JSON put or removed, and what was ' +
        'written back to Data Mesh Manager. Needs no AWS or Data Mesh Manager account; leaves nothing behind. ' +
        'With --multi-account: a hub over local member accounts (examples/multi-account/) grants a consumer ' +
        'role in one account a bucket and a Glue table in another, showing both sides (the identity policy in ' +
        "the consumer's account, the bucket and Glue catalog policy statements in the provider's), a refused " +
        'pair of accounts, and revocation on both sides.',
    )
    .option('--multi-account', 'show a cross-account grant of a hub over member accounts (docs/multi-account.md)')
    .action(async (options: { multiAccount?: boolean }) => {
      const demo = { write: (text: string) => process.stdout.write(text), logSink: prettySink() };
      if (options.multiAccount) await runMultiAccountDemo(demo);
      else await runDemo(demo);
    });
}
