/**
 * poll-feed (EventBridge schedule): reads the Data Mesh Manager feed from the S3 checkpoint and
 * puts every event on the SQS FIFO queue, until caught up or the time budget is nearly spent;
 * with POLL_REPEAT_SECONDS > 0 it polls again every N seconds within the same invocation.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createS3Client, createSqsClient } from '../aws/clients.js';
import { CheckpointConflictError, S3Checkpoint } from '../aws/s3-checkpoint.js';
import { SqsFifoQueue } from '../aws/sqs-queue.js';
import type { DmmApi } from '../interfaces/dmm-api.js';
import type { FeedEvent } from '../model/events.js';
import { pollFeed } from '../sync/poller.js';
import type { Checkpoint, EventQueue } from '../interfaces/event-queue.js';
import { readEnvironment, type PollFeedEnvironment } from './environment.js';
import { createRuntime, invocation, timeLeftMs, type Runtime } from './runtime.js';

/** Stop starting new pages this long before the Lambda timeout: a page plus its sends fits. */
export const SAFETY_MARGIN_MS = 15_000;

export interface PollFeedSummary {
  /** caught-up: nothing new; time-budget: stopped early (the next run continues); checkpoint-conflict: another poller is running. */
  outcome: 'caught-up' | 'time-budget' | 'checkpoint-conflict';
  polls: number;
  pages: number;
  /** Events queued and checkpointed. */
  events: number;
  lastEventId?: string;
}

interface Pipeline {
  runtime: Runtime;
  env: PollFeedEnvironment;
  queue: EventQueue;
  checkpoint: Checkpoint;
}

/** The handler over `env`, read on the first invocation (cold start). */
export function createPollFeedHandler(env: NodeJS.ProcessEnv = process.env) {
  let pipeline: Pipeline | undefined;
  return async (_event: ScheduledEvent, context: Context): Promise<PollFeedSummary> => {
    pipeline ??= coldStart(readEnvironment('poll-feed', env));
    const ready = pipeline;
    return invocation(ready.runtime, context, () => pollUntilDone(ready, context));
  };
}

export const handler = createPollFeedHandler();

function coldStart(env: PollFeedEnvironment): Pipeline {
  return {
    runtime: createRuntime(env, ['EventsRead', 'EventsQueued']),
    env,
    queue: new SqsFifoQueue({ client: createSqsClient({ region: env.AWS_REGION }), queueUrl: env.EVENT_QUEUE_URL }),
    checkpoint: new S3Checkpoint({
      client: createS3Client({ region: env.AWS_REGION }),
      bucket: env.STATE_BUCKET,
      key: env.CHECKPOINT_KEY,
    }),
  };
}

async function pollUntilDone(
  { runtime, env, queue, checkpoint }: Pipeline,
  context: Context,
): Promise<PollFeedSummary> {
  const { log, metrics } = runtime;
  const repeatMs = env.POLL_REPEAT_SECONDS * 1000;
  const outOfTime = () => timeLeftMs(context, SAFETY_MARGIN_MS) <= 0;
  const feed = observeFeed(runtime.dmm);
  const counted = countSends(queue);
  const summary: PollFeedSummary = { outcome: 'caught-up', polls: 0, pages: 0, events: 0 };
  try {
    for (;;) {
      const started = Date.now();
      const result = await pollFeed(
        { dmm: feed.dmm, queue: counted.queue, checkpoint, log },
        { shouldStop: outOfTime },
      );
      summary.polls++;
      summary.pages += result.pages;
      summary.events += result.events;
      if (result.lastEventId !== undefined) summary.lastEventId = result.lastEventId;
      summary.outcome = result.caughtUp ? 'caught-up' : 'time-budget';
      if (repeatMs === 0 || !result.caughtUp) break;
      const waitMs = Math.max(0, repeatMs - (Date.now() - started));
      if (timeLeftMs(context, SAFETY_MARGIN_MS) - waitMs <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  } catch (error) {
    if (!(error instanceof CheckpointConflictError)) throw error;
    // The events are on the queue already; SQS drops the duplicates the other poller sends.
    log.warn('checkpoint changed by another poller; leaving the feed to it', { error: error.message });
    summary.outcome = 'checkpoint-conflict';
  } finally {
    metrics.count('EventsRead', feed.read());
    metrics.count('EventsQueued', counted.sent());
    const newest = feed.newestTime();
    if (newest !== undefined) metrics.feedLag((Date.now() - newest) / 1000);
    else if (summary.outcome === 'caught-up') metrics.feedLag(0);
  }
  log.info('poll done', { ...summary });
  return summary;
}

/** The feed with a count of the events read and the time of the newest, for the metrics. */
function observeFeed(dmm: DmmApi): { dmm: DmmApi; read(): number; newestTime(): number | undefined } {
  let read = 0;
  let newest: number | undefined;
  const observe = (page: FeedEvent[]) => {
    read += page.length;
    for (const event of page) {
      const time = typeof event.time === 'string' ? Date.parse(event.time) : NaN;
      if (!Number.isNaN(time)) newest = Math.max(newest ?? time, time);
    }
    return page;
  };
  const observed: DmmApi = {
    pollEvents: async (lastEventId) => observe(await dmm.pollEvents(lastEventId)),
    getAgreement: (id) => dmm.getAgreement(id),
    listAgreements: (filter, onUnreadable) => dmm.listAgreements(filter, onUnreadable),
    putAgreement: (id, document) => dmm.putAgreement(id, document),
    getDataProduct: (id) => dmm.getDataProduct(id),
    listDataProducts: () => dmm.listDataProducts(),
    getTeam: (id) => dmm.getTeam(id),
    getDataContract: (id) => dmm.getDataContract(id),
    reportProvisioning: (id, transition, report) => dmm.reportProvisioning(id, transition, report),
  };
  return { dmm: observed, read: () => read, newestTime: () => newest };
}

/** The queue with a count of the messages SQS accepted. */
function countSends(queue: EventQueue): { queue: EventQueue; sent(): number } {
  let sent = 0;
  const counted: EventQueue = {
    send: async (messages) => {
      await queue.send(messages);
      sent += messages.length;
    },
    receive: (max) => queue.receive(max),
    ack: (receipt) => queue.ack(receipt),
    release: (receipt, delayMs) => queue.release(receipt, delayMs),
    extendLease: (receipt, ms) => queue.extendLease(receipt, ms),
    size: () => queue.size(),
  };
  return { queue: counted, sent: () => sent };
}
