/**
 * `dmm-aws demo --multi-account`: a hub over member accounts, end to end on this machine. A consumer
 * role in account C receives access to a bucket and a Glue table in account P: the identity policy
 * on the role in C and, because IAM needs the owner's consent across accounts, statements naming
 * the role in P's bucket policy and Glue Data Catalog policy. A consumer in an account the hub does
 * not allow to receive P's data is refused, and revocation removes both sides.
 *
 * The wiring is the CLI's own (src/cli/wiring.ts with examples/multi-account/dmm-aws.yaml), so
 * what the demo shows is what `dmm-aws run` does with that configuration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.js';
import { loadAwsAccountFixture } from '../local/aws-account-fixture.js';
import { FileCheckpoint } from '../local/file-checkpoint.js';
import { memberAccountIds, openLocalAccount, seedLocalStandIn, type LocalAccount } from '../local/local-accounts.js';
import { MemoryFifoQueue } from '../local/memory-queue.js';
import { startSimulator, type RunningSimulator } from '../simulator/server.js';
import { explainAgreement } from '../sync/explain.js';
import { planJson } from '../sync/plan-json.js';
import type { EventResult } from '../sync/processor.js';
import { reconcileAll } from '../sync/reconcile.js';
import { createLogger } from '../util/log.js';
import type { DemoOptions } from './demo.js';
import { demoSync } from './demo.js';
import { bold, dim, formatPlan } from './format.js';
import { buildContext, localStandIn } from './wiring.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/multi-account/', import.meta.url));

/** The accounts of examples/multi-account: the consumer C, the provider P, and a consumer P may not serve. */
export const DEMO_ACCOUNTS = {
  hub: '111111111111',
  consumer: '222222222222',
  provider: '333333333333',
  otherConsumer: '444444444444',
} as const;
const CONSUMER_ROLE = 'analytics-reader';

/** Both sides of the grants after a step: the policies on the consumer role, our Sids in P's resource policies. */
export interface Sides {
  /** Policy names on the consumer role in C. */
  consumer: string[];
  /** Resource ARN in P → the Sids of its statements, the owner's included. */
  provider: Record<string, string[]>;
}

export interface MultiAccountDemoResult {
  results: EventResult[];
  sidesAfterStep: Record<string, Sides>;
  /** Each change of the dry run before the grant, as `plan --json` shows it. */
  plannedChanges: ReturnType<typeof planJson>['changes'];
  finalPlanChanges: number;
}

export async function runMultiAccountDemo(options: DemoOptions): Promise<MultiAccountDemoResult> {
  const { write } = options;
  const work = await mkdtemp(join(tmpdir(), 'dmm-aws-demo-multi-'));
  let simulator: RunningSimulator | undefined;
  try {
    simulator = await startSimulator({ port: 0, fixturesDir: join(EXAMPLE, 'mesh') });
    // The example configuration, with the state in the throw-away folder and the simulator's address.
    const config = loadConfig({
      configFile: join(EXAMPLE, 'dmm-aws.yaml'),
      cwd: work,
      env: {},
      flags: {
        'dmm.baseUrl': simulator.url,
        'dmm.apiKey': simulator.apiKey,
        'aws.localStateFile': join(work, 'aws-account.json'),
        stateDir: work,
      },
    });
    const settings = config.multiAccount!;
    const standIn = localStandIn(config);
    await seedLocalStandIn(
      standIn,
      await loadAwsAccountFixture(join(EXAMPLE, 'local-aws.yaml')),
      'examples/multi-account/local-aws.yaml',
      memberAccountIds(settings),
    );
    const log = createLogger(options.logSink ?? (() => {}), 'warn');
    const ctx = await buildContext(config, log);
    const consumer = openLocalAccount(standIn, DEMO_ACCOUNTS.consumer);
    const provider = openLocalAccount(standIn, DEMO_ACCOUNTS.provider);

    write(bold('dmm-aws demo --multi-account') + dim(' — a hub granting across accounts, locally\n'));
    write(`Data Mesh Manager simulator: ${simulator.url} (examples/multi-account/mesh/)\n`);
    write(
      `Hub in account ${DEMO_ACCOUNTS.hub}, member accounts ${memberAccountIds(settings).join(', ')} ` +
        `(examples/multi-account/dmm-aws.yaml), state in ${work}\n`,
    );
    write(`  consumer account C ${DEMO_ACCOUNTS.consumer}: role ${CONSUMER_ROLE}\n`);
    write(
      `  provider account P ${DEMO_ACCOUNTS.provider}: buckets sales-orders, sales-lake; Glue table sales.orders\n`,
    );
    write(
      `  account ${DEMO_ACCOUNTS.otherConsumer}: role finance-reader — not allowed to receive data from P ` +
        `(multiAccount.allowedAccountPairs: ${DEMO_ACCOUNTS.consumer} ← ${DEMO_ACCOUNTS.provider} only)\n`,
    );

    let checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
    let queue = new MemoryFifoQueue();
    const results: EventResult[] = [];
    const sidesAfterStep: Record<string, Sides> = {};
    const sync = async (title: string) => {
      write(`\n${bold(`── ${title}`)}\n`);
      await demoSync({ ctx, queue, checkpoint, log, write, results });
      const sides = await sidesOf(consumer, provider);
      sidesAfterStep[title] = sides;
      write(formatSides(sides));
    };

    await sync('1. Catch up with the feed: three agreements are requested, none active yet');

    simulator.approve('agr-analytics-orders-s3');
    simulator.approve('agr-analytics-orders-glue');
    write(
      `\n${bold('── 2. The sales team approves two agreements of analytics. First the dry run (`dmm-aws plan --json`):')}\n`,
    );
    const planned = planJson(await reconcileAll(ctx, { dryRun: true }), false).changes;
    for (const change of planned) {
      const { document: _document, agreementIds: _ids, ...shown } = change as typeof change & { document?: unknown };
      write(`  ${JSON.stringify(shown)}\n`);
    }
    await sync('3. The events arrive: each grant is written on both sides');
    const explained = await explainAgreement(ctx, 'agr-analytics-orders-s3');
    write(dim('`dmm-aws explain agr-analytics-orders-s3`:\n'));
    for (const h of explained.holdings)
      write(dim(`  holds: ${h.statements.length} statement(s) on ${h.role} (account ${h.account})\n`));
    for (const r of explained.resourceHoldings)
      write(
        dim(`  holds: ${r.statements.length} statement(s) in the policy of ${r.resource} (account ${r.account})\n`),
      );

    simulator.approve('agr-finance-orders-s3');
    await sync(`4. Finance (account ${DEMO_ACCOUNTS.otherConsumer}) is approved too, but the hub refuses the pair`);

    // A new checkpoint and a new queue: the queue's own deduplication would otherwise drop the
    // replayed events before the core ever saw them.
    checkpoint = new FileCheckpoint(join(work, 'checkpoint-replay.json'));
    queue = new MemoryFifoQueue();
    await sync('5. Replay the whole feed from the start: nothing changes on either side');

    simulator.deactivate('agr-analytics-orders-s3');
    simulator.deactivate('agr-analytics-orders-glue');
    simulator.deactivate('agr-finance-orders-s3');
    await sync('6. The agreements end: access is revoked on both sides, the owner’s own statement stays');

    write(`\n${bold('── 7. Full reconcile (`dmm-aws plan`): every account matches Data Mesh Manager')}\n`);
    const plan = await reconcileAll(ctx, { dryRun: true });
    write(`${formatPlan(plan, false)}\n`);

    write(`\n${bold('Done.')} Run it yourself (docs/multi-account.md, "Try it locally"):\n`);
    write('  npx dmm-aws simulator --fixtures examples/multi-account/mesh                # terminal 1\n');
    write(
      '  npx dmm-aws local-aws seed examples/multi-account/local-aws.yaml -c examples/multi-account/dmm-aws.yaml\n',
    );
    write('  npx dmm-aws run -c examples/multi-account/dmm-aws.yaml                     # terminal 2\n');
    write('  npx dmm-aws local-aws show -c examples/multi-account/dmm-aws.yaml          # both sides, per account\n');
    return { results, sidesAfterStep, plannedChanges: planned, finalPlanChanges: plan.changes.length };
  } finally {
    await simulator?.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function sidesOf(consumer: LocalAccount, provider: LocalAccount): Promise<Sides> {
  const inline = (await consumer.iam.listInlinePolicies(CONSUMER_ROLE)).map((p) => p.name);
  const managed = (await consumer.iam.listAttachedPolicies(CONSUMER_ROLE)).map((p) => p.name);
  const resources: Record<string, string[]> = {};
  for (const { resource, policy } of await provider.resourcePolicies.snapshot()) {
    const statements = policy === undefined ? [] : (JSON.parse(policy) as { Statement: { Sid?: string }[] }).Statement;
    resources[resource.arn] = statements.map((s) => s.Sid ?? '(no Sid)');
  }
  return { consumer: [...inline, ...managed], provider: resources };
}

function formatSides(sides: Sides): string {
  const lines = [
    `consumer side, account ${DEMO_ACCOUNTS.consumer}: role ${CONSUMER_ROLE} has ${sides.consumer.join(', ') || 'no policies'}`,
    `provider side, account ${DEMO_ACCOUNTS.provider}:`,
    ...Object.entries(sides.provider).map(
      ([arn, sids]) => `  policy of ${arn}: ${sids.length ? sids.join(', ') : 'no policy'}`,
    ),
  ];
  return dim(`${lines.join('\n')}\n`);
}
