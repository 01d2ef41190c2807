import type { Command } from 'commander';
import { runDemo } from './demo.js';
import { prettySink } from './format.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .summary('run the whole sync locally against bundled example data, then exit')
    .description(
      'Starts the bundled Data Mesh Manager simulator (examples/mesh/) on a free loopback port and a ' +
        'throw-away local AWS account (examples/local-aws.yaml), then activates, replays, deactivates and ' +
        'deletes agreements, showing each event, the decision, the policy JSON put or removed, and what was ' +
        'written back to Data Mesh Manager. Needs no AWS or Data Mesh Manager account; leaves nothing behind.',
    )
    .action(async () => {
      await runDemo({ write: (text) => process.stdout.write(text), logSink: prettySink() });
    });
}
