/**
 * process-events (SQS FIFO event source, partial batch responses): converges what the batch's
 * events name, together. A failed record fails the later records of its message group, so one
 * agreement's events are never handled out of order; on a record's last receive the failure is
 * reported to Data Mesh Manager before SQS moves it to the dead-letter queue.
 */
import { isOutage } from '../interfaces/outage.js';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { FeedEvent } from '../model/events.js';
import { EventBatchProcessor } from '../sync/batch.js';
import { errorMessage } from '../util/errors.js';
import { parseJson } from '../util/parse-json.js';
import { readEnvironment, type ProcessEventsEnvironment } from './environment.js';
import { giveUp, isPermanent } from '../sync/give-up.js';
import { createSyncHandler, type SyncPipeline } from './runtime.js';

type Pipeline = SyncPipeline<ProcessEventsEnvironment>;

const feedEventSchema = z.looseObject({ id: z.string().min(1), type: z.string().min(1) });

/** The handler over `env`, read on the first invocation (cold start). */
export function createProcessEventsHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return createSyncHandler(
    () => readEnvironment('process-events', env),
    ['Grants', 'Revokes', 'Failures', 'Outages', 'DeadLettered'],
    processBatch,
  );
}

export const handler = createProcessEventsHandler();

/**
 * The batch is one unit of work (src/sync/batch.ts): its events are converged together. Failures
 * are reported per record, in FIFO order: once a record of a message group failed, the later
 * records of that group are reported failed too, so one agreement's events are never handled
 * out of order.
 */
async function processBatch(pipeline: Pipeline, event: SQSEvent): Promise<SQSBatchResponse> {
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
  const failures: string[] = [];
  const stoppedGroups = new Set<string>();
  for (const [i, { record, event: feedEvent }] of readable.entries()) {
    const group = record.attributes.MessageGroupId ?? '';
    if (stoppedGroups.has(group)) {
      failures.push(record.messageId);
      notAttempted(pipeline, record);
      continue;
    }
    const result = results[i]!;
    if (result.ok) {
      metrics.outcomes(result.result.outcomes);
      continue;
    }
    if (await failed(pipeline, record, feedEvent, result.error)) {
      failures.push(record.messageId);
      stoppedGroups.add(group);
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
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
 * Not attempted on its own: it waits behind the failed event of its group. Its receives count
 * all the same, so at the last one SQS moves it to the dead-letter queue unseen: say so.
 */
function notAttempted({ runtime, env }: Pipeline, record: SQSRecord): void {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const fields = { messageId: record.messageId, messageGroupId: record.attributes.MessageGroupId, receiveCount };
  if (receiveCount >= env.MAX_RECEIVE_COUNT) {
    runtime.log.error(
      'dead-lettered unprocessed: it waited behind a failed event of its group until its last receive; the next full reconcile converges its agreement',
      { ...fields, body: record.body },
    );
    runtime.metrics.count('DeadLettered');
  } else {
    runtime.log.info('skipped: an earlier event of its group failed', fields);
  }
}

/** Returns false when the record is done anyway (acknowledged), true when it is left for a retry or the DLQ. */
async function failed(
  { runtime, env, ctx }: Pipeline,
  record: SQSRecord,
  event: FeedEvent,
  error: unknown,
): Promise<boolean> {
  const { log, metrics } = runtime;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  if (isPermanent(error)) {
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
  metrics.count(isOutage(error) ? 'Outages' : 'Failures');
  if (receiveCount >= env.MAX_RECEIVE_COUNT) {
    // SQS moves it to the dead-letter queue instead of delivering it again: say so now.
    await giveUp(ctx, event, receiveCount, error);
    metrics.count('DeadLettered');
  } else {
    log.warn('event failed; SQS will deliver it again', {
      messageId: record.messageId,
      eventId: event.id,
      attempt: receiveCount,
      maxAttempts: env.MAX_RECEIVE_COUNT,
      error: errorMessage(error),
    });
  }
  return true;
}

function parseBody(body: string): FeedEvent | undefined {
  const parsed = feedEventSchema.safeParse(parseJson(body));
  return parsed.success ? (parsed.data as FeedEvent) : undefined;
}
