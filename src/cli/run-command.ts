import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_POLL_INTERVAL_SECONDS } from '../config.js';
import { errorMessage } from '../util/errors.js';
import { addConnectionOptions, configFrom, loggerFrom, type GlobalOptions } from './common.js';
import { runDaemon } from './daemon.js';
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
        'names, a batch of events at a time. An agreement refused on its own merits (invalid metadata, a ' +
        'guardrail, a missing role) is reported failed in Data Mesh Manager once, with a stable message. Other ' +
        'failing events are retried with backoff and, after 5 attempts, written to <state-dir>/dead-letter.jsonl ' +
        'with the reason. An outage (Data Mesh Manager or AWS unreachable, throttling, unreadable local state) ' +
        'is never counted against an event: its events stay queued, passes are retried with backoff (1 s ' +
        'doubling to 60 s), and after 15 failed passes in a row the run stops with the reason (exit code 1); so ' +
        'does a rejected API key. Stop with Ctrl-C: the checkpoint and queue stay consistent.',
    )
    .option('--once', 'stop when the feed is caught up and the queue is empty')
    .option(
      '--interval <seconds>',
      `pause between polls when caught up (env DMM_POLL_INTERVAL_SECONDS; default ${DEFAULT_POLL_INTERVAL_SECONDS}, so an activation reaches its role within about 2 s; the vendor suggests 10)`,
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
      log.info('stopping after the current batch of events (Ctrl-C again to abort)');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);

    log.info('sync started', { dmm: config.dmm.baseUrl, account: ctx.iam.accountId, stateDir: config.stateDir });
    await runDaemon(
      { ctx, queue, checkpoint },
      {
        ...(options.once ? { once: true } : {}),
        intervalMs,
        shouldStop: () => stopping,
        onDeadLetter: async (message, error) => {
          await mkdir(dirname(deadLetterFile), { recursive: true });
          await appendFile(
            deadLetterFile,
            `${JSON.stringify({ at: new Date().toISOString(), event: message.event, attempts: message.receiveCount, error: errorMessage(error) })}\n`,
          );
        },
      },
    );
    log.info('sync stopped');
  });
}
