/**
 * process-events (SQS FIFO event source, partial batch responses): converges what each event
 * names, in order. A failed record fails the later records of its message group, so one
 * agreement's events are never handled out of order; on a record's last receive the failure is
 * reported to Data Mesh Manager before SQS moves it to the dead-letter queue.
 */
import { isOutage } from '../interfaces/outage.js';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { FeedEvent } from '../model/events.js';
import { processEvent } from '../sync/processor.js';
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
 * Powertools' FIFO processor runs the records in order; with skipGroupOnError a failed record
 * fails only the later records of its own message group, which it never hands to processRecord.
 */
async function processBatch(pipeline: Pipeline, event: SQSEvent): Promise<SQSBatchResponse> {
  const attempted = new Set<string>();
  const response = await processPartialResponse(
    event,
    (record: SQSRecord) => {
      attempted.add(record.messageId);
      return processRecord(pipeline, record);
    },
    new SqsFifoPartialProcessorAsync(),
    // A batch whose every record failed is an answer like any other, not an invocation error.
    { skipGroupOnError: true, throwOnFullBatchFailure: false },
  );
  for (const record of event.Records) {
    if (attempted.has(record.messageId)) continue;
    // Not attempted: it must wait behind the failed event of its agreement. Its receives count
    // all the same, so at the last one SQS moves it to the dead-letter queue unseen: say so.
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const fields = { messageId: record.messageId, messageGroupId: record.attributes.MessageGroupId, receiveCount };
    if (receiveCount >= pipeline.env.MAX_RECEIVE_COUNT) {
      pipeline.runtime.log.error(
        'dead-lettered unprocessed: it waited behind a failed event of its group until its last receive; the next full reconcile converges its agreement',
        { ...fields, body: record.body },
      );
      pipeline.runtime.metrics.count('DeadLettered');
    } else {
      pipeline.runtime.log.info('skipped: an earlier event of its group failed', fields);
    }
  }
  return { batchItemFailures: response.batchItemFailures };
}

/** Returns when the record is done (deleted from the queue); throws when it failed (left for a retry or the DLQ). */
async function processRecord({ runtime, env, ctx }: Pipeline, record: SQSRecord): Promise<void> {
  const { log, metrics } = runtime;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
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
    throw error;
  }
}

function parseBody(body: string): FeedEvent | undefined {
  const parsed = feedEventSchema.safeParse(parseJson(body));
  return parsed.success ? (parsed.data as FeedEvent) : undefined;
}
