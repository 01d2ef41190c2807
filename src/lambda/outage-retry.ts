/**
 * What process-events does with records that an outage (src/interfaces/outage.ts) kept from
 * being processed, so that SQS never dead-letters them however long the outage lasts:
 *
 * - before their last receive they are hidden for a short, growing, jittered backoff
 *   (ChangeMessageVisibility: 5 s, 10 s, 20 s ... at most a minute) instead of the queue's
 *   visibility timeout (six times the function's timeout), so the sync resumes within a minute
 *   of the outage's end without hammering a service that is down;
 * - on their last receive they are put back as a fresh message of the same group (SendMessage),
 *   whose receive count starts again, and the original is acknowledged. The copy goes to the end
 *   of its group; that is harmless because every event converges its agreement from the current
 *   state in Data Mesh Manager, never from the event's own content.
 *
 * Records that were never attempted (they waited behind a failed event of their group) are put
 * back the same way on their last receive, whatever their predecessor's error.
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** IAM actions this module needs on the event queue, besides those of the event source mapping. */
export const OUTAGE_RETRY_SQS_ACTIONS = ['sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:SendMessage'] as const;

export interface OutageBackoff {
  /** Seconds before the first retry; doubles with every receive. */
  firstSeconds: number;
  /** The longest pause: how long after an outage's end the sync may still wait. */
  maxSeconds: number;
}

export const DEFAULT_OUTAGE_BACKOFF: OutageBackoff = { firstSeconds: 5, maxSeconds: 60 };

/** Exponential by receive count, jittered in its upper half so parked groups do not retry in step. */
export function outageDelaySeconds(receiveCount: number, backoff: OutageBackoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxSeconds, backoff.firstSeconds * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(0, Math.round(ceiling * (0.5 + random() / 2)));
}

/** The queue behind records of the event source mapping, found by the ARN each record carries. */
export class RecordQueue {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly sqs: SQSClient) {}

  /** Keep the record in flight `seconds` more; a message already visible again is no error. */
  async hide(record: SQSRecord, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: await this.urlOf(record),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  /**
   * The record again as a fresh message of its group. The deduplication id derives from the
   * original message id, so a handler that requeues the same receive twice sends one copy.
   */
  async requeue(record: SQSRecord): Promise<void> {
    const groupId = record.attributes.MessageGroupId;
    if (!groupId) throw new Error(`message ${record.messageId} has no MessageGroupId: not from a FIFO queue`);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.urlOf(record),
        MessageBody: record.body,
        MessageGroupId: groupId,
        MessageDeduplicationId: createHash('sha256').update(`requeued:${record.messageId}`).digest('hex'),
      }),
    );
  }

  private urlOf(record: SQSRecord): Promise<string> {
    let url = this.urls.get(record.eventSourceARN);
    if (!url) {
      url = this.lookUp(record.eventSourceARN);
      // A failed look-up is asked again next time rather than cached.
      url.catch(() => this.urls.delete(record.eventSourceARN));
      this.urls.set(record.eventSourceARN, url);
    }
    return url;
  }

  private async lookUp(arn: string): Promise<string> {
    const match = /^arn:[a-z-]+:sqs:[a-z0-9-]+:(\d{12}):(.+)$/.exec(arn);
    if (!match) throw new Error(`'${arn}' is not an SQS queue ARN`);
    const { QueueUrl } = await this.sqs.send(
      new GetQueueUrlCommand({ QueueName: match[2], QueueOwnerAWSAccountId: match[1] }),
    );
    if (!QueueUrl) throw new Error(`SQS returned no URL for ${arn}`);
    return QueueUrl;
  }
}
