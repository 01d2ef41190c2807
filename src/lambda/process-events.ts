/**
 * process-events (SQS FIFO event source, partial batch responses): converges what the batch's
 * events name, together (src/sync/batch.ts). A failed record fails the later records of its
 * message group, so one agreement's events are never handled out of order. A decision about the
 * agreement is reported
 * to Data Mesh Manager on the record's last receive, before SQS moves it to the dead-letter
 * queue; an outage is retried for as long as it lasts and never dead-lettered (outage-retry.ts).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createSqsClient } from '../aws/clients.js';
import type { FeedEvent } from '../model/events.js';
import { giveUp } from '../sync/give-up.js';
import { EventBatchProcessor, settleBatch, type Settlement } from '../sync/batch.js';
import { errorMessage } from '../util/errors.js';
import { parseJson } from '../util/parse-json.js';
import { readEnvironment, type ProcessEventsEnvironment } from './environment.js';
import { DEFAULT_OUTAGE_BACKOFF, outageDelaySeconds, RecordQueue, type OutageBackoff } from './outage-retry.js';
import { createSyncHandler, type SyncPipeline } from './runtime.js';

type Pipeline = SyncPipeline<ProcessEventsEnvironment>;

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
    (pipeline, event: SQSEvent) => processBatch(pipeline, event, retry),
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
async function processBatch(pipeline: Pipeline, event: SQSEvent, retry: Retry): Promise<SQSBatchResponse> {
  const { log, metrics } = pipeline.runtime;
  const parsed = event.Records.map((record) => ({ record, event: parseBody(record.body) }));
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
  const results = await batchProcessorOf(pipeline).process(readable.map((p) => p.event));
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
  const requeued = await keepBack(pipeline, event, retry, { failed, attempted, outages });
  return {
    batchItemFailures: [...failed].filter((id) => !requeued.has(id)).map((itemIdentifier) => ({ itemIdentifier })),
  };
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
  event: SQSEvent,
  retry: Retry,
  { failed, attempted, outages }: { failed: Set<string>; attempted: Set<string>; outages: Set<string> },
): Promise<Set<string>> {
  const requeued = new Set<string>();
  // Per message group: how long its records wait when an outage stopped it (one pause for the
  // whole group, so it unblocks at once).
  const parkSeconds = new Map<string, number | undefined>();
  const queue = retry.queue(pipeline.env.AWS_REGION);
  const { log, metrics } = pipeline.runtime;
  for (const record of event.Records) {
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
