/**
 * process-events (SQS FIFO event source, partial batch responses): converges what the batch's
 * events name, together (src/sync/batch.ts). A failed record fails the later records of its
 * message group, so one agreement's events are never handled out of order. A decision about the
 * agreement is reported
 * to Data Mesh Manager on the record's last receive, before SQS moves it to the dead-letter
 * queue; an outage is retried for as long as it lasts and never dead-lettered (outage-retry.ts).
 * The event source hands over at most 10 FIFO messages; the handler receives more from the queue
 * itself, up to MAX_BATCH_EVENTS, and deletes those it received once they are done (ADR 0020).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createSqsClient } from '../aws/clients.js';
import { OutageError } from '../interfaces/outage.js';
import type { FeedEvent } from '../model/events.js';
import { giveUp } from '../sync/give-up.js';
import { EventBatchProcessor, settleBatch, type BatchItemResult, type Settlement } from '../sync/batch.js';
import { errorMessage } from '../util/errors.js';
import { parseJson } from '../util/parse-json.js';
import { readEnvironment, type ProcessEventsEnvironment } from './environment.js';
import { DEFAULT_OUTAGE_BACKOFF, outageDelaySeconds, type OutageBackoff } from './outage-retry.js';
import { RecordQueue } from './record-queue.js';
import { createSyncHandler, timeLeftMs, type SyncPipeline } from './runtime.js';

type Pipeline = SyncPipeline<ProcessEventsEnvironment>;

/**
 * Room left after the batch's work for parking or putting back its records (an SQS call each) and
 * publishing metrics, before Lambda's timeout would end the invocation.
 */
export const SAFETY_MARGIN_MS = 10_000;

/**
 * More messages are received only while this much of the invocation's time is left after the
 * safety margin: a bigger batch must still finish well within the timeout, even when IAM throttles.
 */
export const TOP_UP_MIN_TIME_MS = 30_000;

/** The batch's work did not finish within the invocation's time: like an outage, it is retried. */
export class OutOfTimeError extends OutageError {
  override name = 'OutOfTimeError';
}

const feedEventSchema = z.looseObject({ id: z.string().min(1), type: z.string().min(1) });

export interface ProcessEventsOptions {
  /** Pauses between retries of records an outage kept back; default 5 s doubling to 60 s. */
  outageBackoff?: OutageBackoff;
  /** In [0, 1), for the backoff's jitter; injectable for tests. */
  random?: () => number;
}

/** The handler over `env`, read on the first invocation (cold start). */
export function createProcessEventsHandler(
  env: NodeJS.ProcessEnv = process.env,
  options: ProcessEventsOptions = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  let queue: RecordQueue | undefined;
  const retry: Retry = {
    queue: (region) => (queue ??= new RecordQueue(createSqsClient({ region }))),
    backoff: options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF,
    random: options.random ?? Math.random,
  };
  return createSyncHandler(
    () => readEnvironment('process-events', env),
    ['Grants', 'Revokes', 'Failures', 'Outages', 'DeadLettered'],
    (pipeline, event: SQSEvent, context) => processBatch(pipeline, event, retry, context),
  );
}

export const handler = createProcessEventsHandler();

interface Retry {
  queue: (region: string) => RecordQueue;
  backoff: OutageBackoff;
  random: () => number;
}

/**
 * The batch is one unit of work: its events are converged together. Failures are reported per
 * record, in FIFO order: once a record of a message group failed, the later records of that group
 * are reported failed too (not attempted on their own). Afterwards the records an outage kept
 * back are parked or put back (outage-retry.ts).
 */
async function processBatch(
  pipeline: Pipeline,
  event: SQSEvent,
  retry: Retry,
  context: Context,
): Promise<SQSBatchResponse> {
  const { log, metrics } = pipeline.runtime;
  const queue = retry.queue(pipeline.env.AWS_REGION);
  const handedOver = new Set(event.Records.map((record) => record.messageId));
  const records = [...event.Records, ...(await topUp(pipeline, queue, event.Records, context))];
  const parsed = records.map((record) => ({ record, event: parseBody(record.body) }));
  for (const { record, event: feedEvent } of parsed) {
    if (feedEvent) continue;
    // It can never succeed, so it is acknowledged; the full body in the log is its dead letter.
    log.error('unreadable event dropped: the message body is not a feed event', {
      messageId: record.messageId,
      body: record.body,
    });
    metrics.count('DeadLettered');
  }
  const readable = parsed.filter((p): p is { record: SQSRecord; event: FeedEvent } => p.event !== undefined);
  const results = await processInTime(
    pipeline,
    readable.map((p) => p.event),
    timeLeftMs(context, SAFETY_MARGIN_MS),
  );
  const settlements = settleBatch(
    readable.map(({ record }) => ({
      groupId: record.attributes.MessageGroupId ?? '',
      receiveCount: receiveCountOf(record),
    })),
    results,
    pipeline.env.MAX_RECEIVE_COUNT,
  );
  const failed = new Set<string>();
  const attempted = new Set<string>();
  const outages = new Set<string>();
  for (const [i, { record, event: feedEvent }] of readable.entries()) {
    const settlement = settlements[i]!;
    if (settlement.kind === 'waiting') {
      failed.add(record.messageId);
      continue;
    }
    attempted.add(record.messageId);
    if (settlement.kind === 'done') {
      metrics.outcomes(settlement.result.outcomes);
      continue;
    }
    if (await keptForRetry(pipeline, record, feedEvent, settlement, outages)) failed.add(record.messageId);
  }
  const requeued = await keepBack(pipeline, records, queue, retry, { failed, attempted, outages });
  const kept = new Set([...failed].filter((id) => !requeued.has(id)));
  await deleteOwn(
    pipeline,
    queue,
    records.filter((record) => !handedOver.has(record.messageId) && !kept.has(record.messageId)),
  );
  return {
    batchItemFailures: [...kept].filter((id) => handedOver.has(id)).map((itemIdentifier) => ({ itemIdentifier })),
  };
}

/**
 * More messages from the queue, received by the handler itself, until the batch holds
 * MAX_BATCH_EVENTS, the queue has none to give, or time runs short. A receive that fails leaves
 * the batch as it is: the event source's records are handled either way.
 */
async function topUp(
  pipeline: Pipeline,
  queue: RecordQueue,
  handedOver: SQSRecord[],
  context: Context,
): Promise<SQSRecord[]> {
  const like = handedOver[0];
  const more: SQSRecord[] = [];
  if (!like) return more;
  const room = () => pipeline.env.MAX_BATCH_EVENTS - handedOver.length - more.length;
  try {
    while (room() > 0 && timeLeftMs(context, SAFETY_MARGIN_MS) >= TOP_UP_MIN_TIME_MS) {
      const received = await queue.receive(like, room());
      if (received.length === 0) break;
      more.push(...received);
    }
  } catch (error) {
    pipeline.runtime.log.warn('could not receive more events from the queue; the batch goes on with those it has', {
      handedOver: handedOver.length,
      received: more.length,
      error: errorMessage(error),
    });
  }
  if (more.length > 0)
    pipeline.runtime.log.info('received more events from the queue', {
      handedOver: handedOver.length,
      received: more.length,
    });
  return more;
}

/**
 * Deletes the messages the handler received itself and is done with. One that cannot be deleted
 * comes back after the visibility timeout and converges its agreement again, which changes nothing.
 */
async function deleteOwn(pipeline: Pipeline, queue: RecordQueue, records: SQSRecord[]): Promise<void> {
  if (records.length === 0) return;
  const { log } = pipeline.runtime;
  try {
    const failed = await queue.delete(records);
    if (failed.length > 0)
      log.warn('could not delete events handled by this batch; SQS delivers them again later', { failed });
  } catch (error) {
    log.warn('could not delete events handled by this batch; SQS delivers them again later', {
      messageIds: records.map((record) => record.messageId),
      error: errorMessage(error),
    });
  }
}

/** One container's batch processor: its data products and expected echoes outlive a batch. */
const processors = new WeakMap<Pipeline, EventBatchProcessor>();
function batchProcessorOf(pipeline: Pipeline): EventBatchProcessor {
  let processor = processors.get(pipeline);
  if (!processor) {
    processor = new EventBatchProcessor(pipeline.ctx);
    processors.set(pipeline, processor);
  }
  return processor;
}

/** Work of this container still running after its invocation returned (out of time), per pipeline. */
const unfinished = new WeakMap<Pipeline, Promise<unknown>>();

/**
 * The batch's results, or, when its work would outlast `budgetMs`, an {@link OutOfTimeError} for
 * every event. Throttled AWS calls are retried by the SDK with pauses of up to 20 s each, so a
 * batch can take longer than the function's timeout; Lambda would then end the invocation without
 * a response, SQS would count a receive of every record and, after the last, dead-letter them all
 * unlogged. Returning in time keeps them back as an outage instead (parked, or put back fresh).
 * The cut-short work keeps running in this container, and no new work starts before it ends, so
 * IAM keeps a single writer.
 */
async function processInTime(pipeline: Pipeline, events: FeedEvent[], budgetMs: number): Promise<BatchItemResult[]> {
  const deadline = Date.now() + budgetMs;
  const outOfTime = (why: string): BatchItemResult[] => {
    const error = new OutOfTimeError(`${why} within the invocation's time`);
    pipeline.runtime.log.warn('out of time: the batch is kept back for a retry', {
      events: events.length,
      error: error.message,
    });
    return events.map(() => ({ ok: false as const, error }));
  };
  const previous = unfinished.get(pipeline);
  if (previous && (await within(previous, deadline)) === 'out of time')
    return outOfTime('the work of an earlier batch, cut short, did not finish');
  const work = batchProcessorOf(pipeline).process(events);
  const done = work.then(
    () => unfinished.delete(pipeline),
    () => unfinished.delete(pipeline),
  );
  unfinished.set(pipeline, done);
  const results = await within(work, deadline);
  return results === 'out of time' ? outOfTime("the batch's work did not finish") : results;
}

/** `work`'s result, or 'out of time' when it is not settled by `deadline` (ms since the epoch). */
async function within<T>(work: Promise<T>, deadline: number): Promise<T | 'out of time'> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<'out of time'>((resolve) => {
    timer = setTimeout(() => resolve('out of time'), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Returns false when the record is done anyway (acknowledged), true when it is left for a retry
 * (or, on its last receive, the DLQ after its failure was reported). Outages are added to `outages`.
 */
async function keptForRetry(
  { runtime, env, ctx }: Pipeline,
  record: SQSRecord,
  event: FeedEvent,
  { verdict, error }: Extract<Settlement, { kind: 'failed' }>,
  outages: Set<string>,
): Promise<boolean> {
  const { log, metrics } = runtime;
  const receiveCount = receiveCountOf(record);
  if (verdict === 'unprocessable') {
    await giveUp(ctx, event, receiveCount, error);
    log.error('unprocessable event dropped', {
      messageId: record.messageId,
      eventId: event.id,
      error: errorMessage(error),
      body: record.body,
    });
    metrics.count('DeadLettered');
    return false;
  }
  const fields = { messageId: record.messageId, eventId: event.id, attempt: receiveCount, error: errorMessage(error) };
  if (verdict === 'outage') {
    outages.add(record.messageId);
    metrics.count('Outages');
    log.warn('outage: event kept for a retry, not counted towards the dead-letter queue', fields);
  } else if (verdict === 'exhausted') {
    metrics.count('Failures');
    // SQS moves it to the dead-letter queue instead of delivering it again: say so now.
    await giveUp(ctx, event, receiveCount, error);
    metrics.count('DeadLettered');
  } else {
    metrics.count('Failures');
    log.warn('event failed; SQS will deliver it again', { ...fields, maxAttempts: env.MAX_RECEIVE_COUNT });
  }
  return true;
}

/**
 * Parks the failed records an outage stopped (a short backoff instead of the queue's visibility
 * timeout) and puts back, as fresh messages, those whose last receive was spent on an outage or on
 * waiting behind a failed event. Returns the ids put back: they are acknowledged.
 */
async function keepBack(
  pipeline: Pipeline,
  records: SQSRecord[],
  queue: RecordQueue,
  retry: Retry,
  { failed, attempted, outages }: { failed: Set<string>; attempted: Set<string>; outages: Set<string> },
): Promise<Set<string>> {
  const requeued = new Set<string>();
  // Per message group: how long its records wait when an outage stopped it (one pause for the
  // whole group, so it unblocks at once).
  const parkSeconds = new Map<string, number | undefined>();
  const { log, metrics } = pipeline.runtime;
  for (const record of records) {
    if (!failed.has(record.messageId)) continue;
    const groupId = record.attributes.MessageGroupId ?? '';
    const receiveCount = receiveCountOf(record);
    const fields = { messageId: record.messageId, messageGroupId: groupId, receiveCount };
    if (attempted.has(record.messageId)) {
      const outage = outages.has(record.messageId);
      parkSeconds.set(groupId, outage ? outageDelaySeconds(receiveCount, retry.backoff, retry.random) : undefined);
      // A failure of its own was handled by keptForRetry (retried by SQS, or given up on its last receive).
      if (!outage) continue;
    } else {
      log.info('skipped: an earlier event of its group failed', fields);
    }
    if (receiveCount >= pipeline.env.MAX_RECEIVE_COUNT) {
      // SQS would dead-letter it on the next receive, though nothing was decided about its
      // agreement: put it back with a fresh receive count instead.
      try {
        await queue.requeue(record);
        requeued.add(record.messageId);
        log.info('put back as a fresh message: its receives were spent on an outage or waiting', fields);
      } catch (error) {
        log.error(
          'dead-lettered unprocessed: it could not be put back before its last receive ran out; the next full reconcile converges its agreement',
          { ...fields, error: errorMessage(error), body: record.body },
        );
        metrics.count('DeadLettered');
      }
      continue;
    }
    const seconds = parkSeconds.get(groupId);
    if (seconds === undefined) continue;
    try {
      await queue.hide(record, seconds);
    } catch (error) {
      // It comes back after the queue's own visibility timeout instead: later, but not lost.
      log.warn('could not set the retry pause of an event kept back by an outage', {
        ...fields,
        error: errorMessage(error),
      });
    }
  }
  return requeued;
}

function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

function parseBody(body: string): FeedEvent | undefined {
  const parsed = feedEventSchema.safeParse(parseJson(body));
  return parsed.success ? (parsed.data as FeedEvent) : undefined;
}
