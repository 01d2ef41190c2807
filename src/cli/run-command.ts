import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { drainQueue } from '../sync/processor.js';
import { pollFeed } from '../sync/poller.js';
import { errorMessage } from '../util/errors.js';
import { addConnectionOptions, configFrom, loggerFrom, type GlobalOptions } from './common.js';
import { buildContext, localPipeline } from './wiring.js';

interface RunOptions extends GlobalOptions {
  once?: boolean;
  interval?: string;
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .summary('poll the event feed and keep IAM in step, until stopped')
    .description(
      'The long-running sync: polls the Data Mesh Manager event feed from the stored checkpoint, puts every ' +
        'event on a durable FIFO queue (one agreement strictly in order), and converges each agreement it ' +
        'names. Failing events are retried with backoff and, after 5 attempts, reported to Data Mesh Manager ' +
        'and written to <state-dir>/dead-letter.jsonl. Stop with Ctrl-C: the checkpoint and queue stay consistent.',
    )
    .option('--once', 'stop when the feed is caught up and the queue is empty')
    .option(
      '--interval <seconds>',
      'pause between polls when caught up (env DMM_POLL_INTERVAL_SECONDS; default 10, as the vendor recommends)',
    );
  addConnectionOptions(command).action(async (options: RunOptions) => {
    const config = configFrom(options);
    const log = loggerFrom(options, config);
    const ctx = await buildContext(config, log);
    const { checkpoint, queue, deadLetterFile } = localPipeline(config);
    const intervalMs = Number(options.interval ?? config.pollIntervalSeconds) * 1000;
    if (!(intervalMs > 0))
      throw new Error(`--interval must be a positive number of seconds, got '${options.interval}'`);

    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(130);
      stopping = true;
      log.info('stopping after the current event (Ctrl-C again to abort)');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);

    log.info('sync started', { dmm: config.dmm.baseUrl, account: ctx.iam.accountId, stateDir: config.stateDir });
    while (!stopping) {
      try {
        const polled = await pollFeed({ dmm: ctx.dmm, queue, checkpoint, log }, { shouldStop: () => stopping });
        const drained = await drainQueue(ctx, queue, {
          waitForRetries: false,
          shouldStop: () => stopping,
          onDeadLetter: async (message, error) => {
            await mkdir(dirname(deadLetterFile), { recursive: true });
            await appendFile(
              deadLetterFile,
              `${JSON.stringify({ at: new Date().toISOString(), event: message.event, attempts: message.receiveCount, error: errorMessage(error) })}\n`,
            );
          },
        });
        if (polled.events || drained.processed || drained.deadLettered)
          log.info('sync pass done', { ...drained, queued: polled.events, lastEventId: polled.lastEventId });
        if (options.once && polled.caughtUp && (await queue.size()) === 0) break;
      } catch (error) {
        // Vendor guidance: after an error wait about a minute; never crash-loop on the feed.
        log.error('sync pass failed; retrying', { error: errorMessage(error), retryInSeconds: 60 });
        if (options.once) throw error;
        await sleepUnless(60_000, () => stopping);
        continue;
      }
      await sleepUnless(intervalMs, () => stopping);
    }
    log.info('sync stopped');
  });
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
}
