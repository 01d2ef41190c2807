/**
 * The SQS queue behind the records of process-events' event source mapping, found by the ARN each
 * record carries. Besides what the outage retry needs (hide a record for a backoff, put it back
 * fresh), process-events receives more messages here than the event source hands over: SQS FIFO
 * event sources deliver at most 10 messages an invocation, and bigger batches converge more
 * agreements per role read and write (docs/adr/0020-topped-up-batches.md). Messages received
 * here are the handler's own to delete; the event source never sees them.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { SQS_LIMITS } from '../util/sqs-limits.js';

/**
 * IAM actions of this module on the event queue (DeleteMessageBatch is authorised as
 * sqs:DeleteMessage). The event source mapping needs ReceiveMessage, DeleteMessage and
 * GetQueueAttributes on the same queue itself.
 */
export const RECORD_QUEUE_SQS_ACTIONS = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
  'sqs:SendMessage',
] as const;

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

  /**
   * Up to `max` (at most 10) more messages of the queue `like` came from, as records shaped like
   * the event source's, without waiting for new ones. FIFO keeps order: SQS hands out no message
   * of a group whose earlier message is still in flight, so none of these overtakes a record
   * already received. The attempt id makes the SDK's retry of a lost answer return the same
   * messages instead of hiding them for a visibility timeout.
   */
  async receive(like: SQSRecord, max: number): Promise<SQSRecord[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await this.urlOf(like),
        MaxNumberOfMessages: Math.min(max, SQS_LIMITS.batchEntries),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ReceiveRequestAttemptId: randomUUID(),
      }),
    );
    return Messages.map((message) => asRecord(message, like));
  }

  /** Deletes records this handler received itself. Returns the ids SQS did not delete. */
  async delete(records: SQSRecord[]): Promise<{ messageId: string; reason: string }[]> {
    const failed: { messageId: string; reason: string }[] = [];
    for (let i = 0; i < records.length; i += SQS_LIMITS.batchEntries) {
      const chunk = records.slice(i, i + SQS_LIMITS.batchEntries);
      const { Failed = [] } = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: await this.urlOf(chunk[0]!),
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      for (const entry of Failed)
        failed.push({
          messageId: chunk[Number(entry.Id)]?.messageId ?? '?',
          reason: `${entry.Code}: ${entry.Message ?? ''}`,
        });
    }
    return failed;
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

/** A received message in the shape Lambda gives the event source's records. */
function asRecord(message: Message, like: SQSRecord): SQSRecord {
  const a = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: (value.DataType ?? 'String') as 'String',
    };
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? '',
      SenderId: a.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '',
      ...(a.SequenceNumber !== undefined ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId !== undefined ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: like.eventSourceARN,
    awsRegion: like.awsRegion,
  };
}
