/**
 * process-events (SQS FIFO event source, partial batch responses): converges what each event
 * names, in order. A failed record fails the later records of its message group, so one
 * agreement's events are never handled out of order. A decision about the agreement is reported
 * to Data Mesh Manager on the record's last receive, before SQS moves it to the dead-letter
 * queue; an outage is retried for as long as it lasts and never dead-lettered (outage-retry.ts).
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createSqsClient } from '../aws/clients.js';
import { isOutage } from '../interfaces/outage.js';
import type { FeedEvent } from '../model/events.js';
import { giveUp, isPermanent } from '../sync/give-up.js';
import { processEvent } from '../sync/processor.js';
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
 * Powertools' FIFO processor runs the records in order; with skipGroupOnError a failed record
 * fails only the later records of its own message group, which it never hands to processRecord.
 * Afterwards the records an outage kept back are parked or put back (outage-retry.ts).
 */
async function processBatch(pipeline: Pipeline, event: SQSEvent, retry: Retry): Promise<SQSBatchResponse> {
  const attempted = new Set<string>();
  const outages = new Set<string>();
  const response = await processPartialResponse(
    event,
    (record: SQSRecord) => {
      attempted.add(record.messageId);
      return processRecord(pipeline, record, outages);
    },
    new SqsFifoPartialProcessorAsync(),
    // A batch whose every record failed is an answer like any other, not an invocation error.
    { skipGroupOnError: true, throwOnFullBatchFailure: false },
  );
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
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
      // A failure of its own was handled by processRecord (retried by SQS, or given up on its last receive).
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
  // A record put back is acknowledged, so the event source mapping deletes the original.
  return { batchItemFailures: response.batchItemFailures.filter((f) => !requeued.has(f.itemIdentifier)) };
}

/**
 * Returns when the record is done (deleted from the queue); throws when it failed (left for a
 * retry or the DLQ). Records that failed with an outage are added to `outages`.
 */
async function processRecord({ runtime, env, ctx }: Pipeline, record: SQSRecord, outages: Set<string>): Promise<void> {
  const { log, metrics } = runtime;
  const receiveCount = receiveCountOf(record);
  const event = parseBody(record.body);
  if (!event) {
    // It can never succeed, so it is acknowledged; the full body in the log is its dead letter.
    log.error('unreadable event dropped: the message body is not a feed event', {
      messageId: record.messageId,
      body: record.body,
    });
    metrics.count('DeadLettered');
    return;
  }
  try {
    const result = await processEvent(ctx, event);
    metrics.outcomes(result.outcomes);
  } catch (error) {
    if (isPermanent(error)) {
      await giveUp(ctx, event, receiveCount, error);
      log.error('unprocessable event dropped', {
        messageId: record.messageId,
        eventId: event.id,
        error: errorMessage(error),
        body: record.body,
      });
      metrics.count('DeadLettered');
      return;
    }
    const fields = {
      messageId: record.messageId,
      eventId: event.id,
      attempt: receiveCount,
      error: errorMessage(error),
    };
    if (isOutage(error)) {
      outages.add(record.messageId);
      metrics.count('Outages');
      log.warn('outage: event kept for a retry, not counted towards the dead-letter queue', fields);
    } else if (receiveCount >= env.MAX_RECEIVE_COUNT) {
      metrics.count('Failures');
      // SQS moves it to the dead-letter queue instead of delivering it again: say so now.
      await giveUp(ctx, event, receiveCount, error);
      metrics.count('DeadLettered');
    } else {
      metrics.count('Failures');
      log.warn('event failed; SQS will deliver it again', { ...fields, maxAttempts: env.MAX_RECEIVE_COUNT });
    }
    throw error;
  }
}

function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

function parseBody(body: string): FeedEvent | undefined {
  const parsed = feedEventSchema.safeParse(parseJson(body));
  return parsed.success ? (parsed.data as FeedEvent) : undefined;
}
