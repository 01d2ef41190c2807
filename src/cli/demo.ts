import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DmmHttpClient } from '../dmm/client.js';
import { loadAwsAccountFixture, resourceTagsOf, seedIamAccount } from '../local/aws-account-fixture.js';
import { FileResourceTags } from '../local/file-resource-tags.js';
import { FileCheckpoint } from '../local/file-checkpoint.js';
import { FileIamAccount } from '../local/file-iam-account.js';
import { MemoryFifoQueue } from '../local/memory-queue.js';
import { startSimulator, type RunningSimulator } from '../simulator/server.js';
import type { SyncContext } from '../sync/context.js';
import { drainQueue, type EventResult } from '../sync/processor.js';
import { pollFeed } from '../sync/poller.js';
import { reconcileAll } from '../sync/reconcile.js';
import { createLogger, type Logger, type LogSink } from '../util/log.js';
import type { Checkpoint, EventQueue } from '../interfaces/event-queue.js';
import { bold, dim, formatChange, formatOutcome, formatPlan, indent } from './format.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface DemoOptions {
  /** Where the narration goes (stdout for the CLI). */
  write: (text: string) => void;
  /** Log sink for warnings and errors of the sync itself. */
  logSink?: LogSink;
}

export interface DemoResult {
  /** Every event the sync handled, in order. */
  results: EventResult[];
  /** Inline and managed policy names on the consumer role after each step. */
  policiesAfterStep: Record<string, string[]>;
  /** Changes a final full plan still wanted (0 when everything converged). */
  finalPlanChanges: number;
}

const CONSUMER_ROLE = 'marketing-analytics-consumer';

/**
 * The whole sync end to end on this machine: the bundled Data Mesh Manager simulator, the real
 * HTTP client, the local stand-in AWS account, the event pipeline and the converging core.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { write } = options;
  const work = await mkdtemp(join(tmpdir(), 'dmm-aws-demo-'));
  let simulator: RunningSimulator | undefined;
  try {
    simulator = await startSimulator({ port: 0, fixturesDir: join(EXAMPLES, 'mesh') });
    const iam = new FileIamAccount({ file: join(work, 'aws-account.json') });
    const fixture = await loadAwsAccountFixture(join(EXAMPLES, 'local-aws.yaml'));
    await seedIamAccount(iam, fixture, 'examples/local-aws.yaml');
    const log = createLogger(options.logSink ?? (() => {}), 'warn');
    const ctx: SyncContext = {
      dmm: new DmmHttpClient({
        baseUrl: simulator.url,
        apiKey: simulator.apiKey,
        maxAttempts: 3,
        retryBaseDelayMs: 100,
      }),
      iam,
      log,
      // Ownership proof is on (the default guardrails): the providers' resources prove they are
      // theirs by the tags in examples/local-aws.yaml.
      resourceTags: new FileResourceTags(resourceTagsOf(fixture), 'examples/local-aws.yaml: resourceTags'),
      resolve: {
        accountId: iam.accountId,
        partition: iam.partition,
        defaultRegion: 'eu-central-1',
        athenaQueryResultsLocation: 's3://acme-athena-results/marketing/',
      },
    };
    let checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
    let queue = new MemoryFifoQueue();
    const results: EventResult[] = [];
    const policiesAfterStep: Record<string, string[]> = {};

    write(bold('dmm-aws demo') + dim(' — the sync end to end, locally\n'));
    write(`Data Mesh Manager simulator: ${simulator.url} (bundled example mesh: examples/mesh/)\n`);
    write(`Local AWS account ${iam.accountId}: role ${CONSUMER_ROLE} (examples/local-aws.yaml), state in ${work}\n`);
    write(
      `Ownership proof: each provider bucket and table carries the tag dmm:data-product naming its data product (examples/local-aws.yaml: resourceTags)\n`,
    );

    const sync = async (title: string) => {
      write(`\n${bold(`── ${title}`)}\n`);
      await demoSync({ ctx, queue, checkpoint, log, write, results });
      policiesAfterStep[title] = await policyNames(iam);
      write(dim(`role ${CONSUMER_ROLE} now has: ${policiesAfterStep[title]!.join(', ') || 'no policies'}\n`));
    };

    await sync('1. Catch up with the feed: three agreements are requested, none active yet');
    simulator.approve('agr-orders-s3');
    await sync('2. The sales team approves orders (S3 bucket): the agreement becomes active');
    simulator.approve('agr-transactions-glue');
    simulator.approve('agr-clickstream-s3');
    await sync('3. Transactions (Glue table via Athena) and clickstream (S3 prefix, ODPS) are approved');

    // A new checkpoint and a new queue: the queue's own deduplication would otherwise drop the
    // replayed events before the core ever saw them.
    checkpoint = new FileCheckpoint(join(work, 'checkpoint-replay.json'));
    queue = new MemoryFifoQueue();
    await sync('4. Replay the whole feed from the start: duplicates and old events change nothing');

    simulator.deactivate('agr-orders-s3');
    await sync('5. The orders agreement reaches its end date: access is revoked');
    simulator.deleteAgreement('agr-transactions-glue');
    await sync('6. The transactions agreement is deleted (only AccessDeletedEvent): access is revoked');

    write(`\n${bold('── 7. Full reconcile (`dmm-aws plan`): AWS matches Data Mesh Manager')}\n`);
    const plan = await reconcileAll(ctx, { dryRun: true });
    write(`${formatPlan(plan, false)}\n`);

    const failed = results.flatMap((r) => r.outcomes).filter((o) => o.decision === 'failed');
    write(`\n${bold('Done.')} ${results.length} events handled, ${failed.length} failed. Run it for real with:\n`);
    write('  npx dmm-aws simulator                                        # terminal 1\n');
    write('  npx dmm-aws local-aws seed examples/local-aws.yaml && npx dmm-aws run   # terminal 2\n');
    write(
      '  npx dmm-aws report                                            # then: ./dmm-aws-report.html, who can read what\n',
    );
    return { results, policiesAfterStep, finalPlanChanges: plan.changes.length };
  } finally {
    await simulator?.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** One step of a demo: read the feed into the queue and converge it, narrating each event. */
export async function demoSync(step: {
  ctx: SyncContext;
  queue: EventQueue;
  checkpoint: Checkpoint;
  log: Logger;
  write: (text: string) => void;
  results: EventResult[];
}): Promise<void> {
  const { ctx, queue, checkpoint, log, write, results } = step;
  const polled = await pollFeed({ dmm: ctx.dmm, queue, checkpoint, log });
  write(dim(`feed: ${polled.events} new event(s), checkpoint now ${polled.lastEventId ?? '(start)'}\n`));
  await drainQueue(ctx, queue, {
    maxReceives: 3,
    retryDelayMs: 100,
    onResult: (result) => {
      results.push(result);
      write(narrate(result));
    },
  });
}

export function narrate(result: EventResult): string {
  const { event, target } = result;
  const subject =
    target.kind === 'agreement' ? target.agreementId : target.kind === 'dataProduct' ? target.dataProductId : '';
  const head = `▶ ${event.type.slice(event.type.lastIndexOf('.') + 1)}${subject ? ` ${subject}` : ''}`;
  if (result.outcomes.length === 0)
    return dim(`${head}: skipped (${target.kind === 'ignore' ? target.reason : 'nothing to do'})\n`);
  const quiet = result.outcomes.every(
    (o) =>
      o.decision !== 'failed' &&
      o.changes.length === 0 &&
      !o.report?.tagsWritten &&
      (o.report?.provisioning ?? 'unchanged') === 'unchanged',
  );
  if (quiet) {
    const summary = result.outcomes.map((o) => `${o.agreementId}: ${o.decision} (${o.effect})`).join('; ');
    return dim(`${head} → ${summary}; nothing to change\n`);
  }
  const lines = [bold(head)];
  for (const outcome of result.outcomes) {
    lines.push(indent(formatOutcome(outcome), 2));
    for (const change of outcome.changes) lines.push(indent(formatChange(change), 2));
    const report = outcome.report;
    if (report && (report.tagsWritten || report.provisioning !== 'unchanged')) {
      const custom = Object.entries(report.custom)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      lines.push(
        indent(
          `↩ reported back: tags [${report.tags.join(', ')}]${custom ? `; custom {${custom}}` : ''}; provisioning: ${report.provisioning}`,
          2,
        ),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function policyNames(iam: FileIamAccount): Promise<string[]> {
  const inline = (await iam.listInlinePolicies(CONSUMER_ROLE)).map((p) => p.name);
  const managed = (await iam.listAttachedPolicies(CONSUMER_ROLE)).map((p) => p.name);
  return [...inline, ...managed];
}
