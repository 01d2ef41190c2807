/**
 * The `run` loop: poll the feed into the durable queue, drain the queue, again; pause once a pass
 * found nothing to do. The queue is drained in batches, each one unit of work (src/sync/batch.ts)
 * through one EventBatchProcessor for the daemon's life (docs/adr/0015-daemon-batches.md). Polling
 * and draining fail separately, so events already queued are converged while the feed is down.
 * A failing pass waits with exponential backoff and jitter (1 s, 2 s, 4 s ... at most a minute),
 * not a fixed minute, so the sync recovers within seconds of an outage's end. An outage met while
 * draining (src/interfaces/outage.ts) keeps its events queued and counts as a failed pass; after
 * MAX_FAILED_PASSES in a row that made no progress the daemon stops with the reason (exit code 1)
 * instead of burning retries forever, and so does an API key that Data Mesh Manager rejects.
 */
import type { Checkpoint, EventQueue, ReceivedMessage } from '../interfaces/event-queue.js';
import { DmmApiError } from '../dmm/errors.js';
import type { SyncContext } from '../sync/context.js';
import { EventBatchProcessor } from '../sync/batch.js';
import { drainQueue, type DrainStats } from '../sync/processor.js';
import { pollFeed, type PollResult } from '../sync/poller.js';
import { errorMessage } from '../util/errors.js';

export interface DaemonOptions {
  /** Stop when the feed is caught up and the queue is empty; a failing pass then fails the run. */
  once?: boolean;
  /** Pause between passes when all went well. */
  intervalMs: number;
  shouldStop: () => boolean;
  onDeadLetter: (message: ReceivedMessage, error: unknown) => Promise<void>;
  /** Waits `ms` unless stopped; injectable so tests need no real time. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); injectable for tests. */
  random?: () => number;
}

/** The longest pause after failing passes (the vendor's guidance after an error: about a minute). */
export const MAX_BACKOFF_MS = 60_000;
/**
 * Failed passes in a row before the daemon stops and says why: with the backoff, about ten
 * minutes of an outage that does not end (unreadable local state, credentials gone).
 */
export const MAX_FAILED_PASSES = 15;
const FIRST_BACKOFF_MS = 1_000;

/** A fault retrying cannot fix: the daemon stops and says what to change. */
export class FatalSyncError extends Error {
  override readonly name = 'FatalSyncError';
}

export async function runDaemon(
  deps: { ctx: SyncContext; queue: EventQueue; checkpoint: Checkpoint },
  options: DaemonOptions,
): Promise<void> {
  const { ctx, queue, checkpoint } = deps;
  const log = ctx.log;
  const sleep = options.sleep ?? ((ms: number) => sleepUnless(ms, options.shouldStop));
  const random = options.random ?? Math.random;
  // One for the daemon's life: data products and the echoes of its own write-back are remembered
  // from pass to pass (docs/adr/0015-daemon-batches.md).
  const processor = new EventBatchProcessor(ctx);
  let failedPasses = 0;
  while (!options.shouldStop()) {
    let polled: PollResult | undefined;
    let pollError: unknown;
    try {
      polled = await pollFeed({ dmm: ctx.dmm, queue, checkpoint, log }, { shouldStop: options.shouldStop });
    } catch (error) {
      if (isRejectedKey(error)) {
        throw new FatalSyncError(
          `Data Mesh Manager rejects the API key (${errorMessage(error)}): check DMM_API_KEY (dmm.apiKey) and its permissions; retrying will not help`,
        );
      }
      pollError = error;
      log.warn('polling the event feed failed; converging the events already queued', { error: errorMessage(error) });
    }
    let drained: DrainStats | undefined;
    let drainError: unknown;
    try {
      drained = await drainQueue(ctx, queue, {
        waitForRetries: false,
        processor,
        shouldStop: options.shouldStop,
        onDeadLetter: options.onDeadLetter,
      });
    } catch (error) {
      drainError = error;
    }
    if (polled?.events || drained?.processed || drained?.deadLettered)
      log.info('sync pass done', { ...drained, queued: polled?.events ?? 0, lastEventId: polled?.lastEventId });

    const failure = pollError ?? drainError ?? drained?.outage;
    if (failure !== undefined) {
      if (options.once) throw failure;
      // A pass that moved the feed or the queue on before it failed is an intermittent fault, not
      // a stuck sync: the backoff and the count towards giving up start again from the first step.
      if ((polled?.events ?? 0) > 0 || (drained?.processed ?? 0) > 0 || (drained?.deadLettered ?? 0) > 0)
        failedPasses = 0;
      failedPasses++;
      if (failedPasses >= MAX_FAILED_PASSES) {
        throw new FatalSyncError(
          `stopping after ${failedPasses} failed passes in a row (${errorMessage(failure)}). Nothing is lost: queued events stay queued and the checkpoint is kept; fix the cause and start again`,
        );
      }
      const delayMs = backoffMs(failedPasses, random);
      log.error('sync pass failed; retrying', {
        error: errorMessage(failure),
        failedPasses,
        retryInSeconds: Math.round(delayMs / 100) / 10,
      });
      await sleep(delayMs);
      continue;
    }
    failedPasses = 0;
    if (options.once && polled?.caughtUp && (await queue.size()) === 0) return;
    // The vendor's guidance: call the feed again at once while it has events, pause only once it
    // is empty. A pass that converged something has just written back, and the feed echoes that.
    if (!polled?.caughtUp || (drained?.processed ?? 0) > 0 || (drained?.deadLettered ?? 0) > 0) continue;
    await sleep(options.intervalMs);
  }
}

/** Exponential (1 s, 2 s, 4 s ... 60 s) with jitter in its upper half, so restarts do not align. */
export function backoffMs(failedPasses: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failedPasses - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** 401, or 403 on the feed itself: the key is wrong or lacks the right to read events. */
function isRejectedKey(error: unknown): boolean {
  return error instanceof DmmApiError && (error.status === 401 || error.status === 403);
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
}
