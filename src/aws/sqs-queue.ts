/**
 * The EventQueue interface on an SQS FIFO queue. SQS keeps order per MessageGroupId (the
 * agreement) and drops a MessageDeduplicationId (the event id) seen within five minutes, which is
 * exactly the queue the poller needs; this module only adapts ids, batches and receipts.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type Message,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { FeedEvent } from '../model/events.js';
import {
  LeaseLostError,
  type EventQueue,
  type OutgoingMessage,
  type ReceivedMessage,
} from '../interfaces/event-queue.js';
import { isSqsId, SQS_LIMITS } from '../util/sqs-limits.js';
import { createSqsClient } from './clients.js';
import { awsErrorCode, messageOf as errorMessage } from './errors.js';

/** IAM actions behind the commands above (the batch command is authorised as sqs:SendMessage). */
export const SQS_ACTIONS_USED = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ReceiveMessage',
  'sqs:SendMessage',
] as const;

/** Characters a message attribute value may hold (XML 1.0). */
const ATTRIBUTE_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
/** When an id had to be hashed, the original travels in these attributes so receive can return it. */
const ORIGINAL_GROUP_ID = 'dmmGroupId';
const ORIGINAL_DEDUP_ID = 'dmmDedupId';

/** The id itself when SQS accepts it, else its sha256 (hex, 64 characters): stable, so dedup still works. */
export function sqsSafeId(id: string): string {
  return isSqsId(id) ? id : createHash('sha256').update(id, 'utf8').digest('hex');
}

/** Batch entries for the messages; entry `Id` is `m<index into messages>`. */
export function toSqsEntries(messages: OutgoingMessage[]): SendMessageBatchRequestEntry[] {
  return messages.map(({ groupId, dedupId, event }, index) => {
    const body = JSON.stringify(event);
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > SQS_LIMITS.payloadBytes) {
      throw new Error(`send: event ${event.id} is ${bytes} bytes, more than SQS's ${SQS_LIMITS.payloadBytes}`);
    }
    const entry: SendMessageBatchRequestEntry = {
      Id: `m${index}`,
      MessageBody: body,
      MessageGroupId: sqsSafeId(groupId),
      MessageDeduplicationId: sqsSafeId(dedupId),
    };
    const originals: [string, string, string][] = [
      [ORIGINAL_GROUP_ID, groupId, entry.MessageGroupId!],
      [ORIGINAL_DEDUP_ID, dedupId, entry.MessageDeduplicationId!],
    ];
    for (const [name, original, sent] of originals) {
      if (original !== sent && ATTRIBUTE_TEXT.test(original)) {
        entry.MessageAttributes = { ...entry.MessageAttributes, [name]: { DataType: 'String', StringValue: original } };
      }
    }
    return entry;
  });
}

/** Consecutive entries, at most SQS_LIMITS.batchEntries and at most the batch payload quota together. */
function batches(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const result: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length === SQS_LIMITS.batchEntries || (current.length > 0 && bytes + size > SQS_LIMITS.payloadBytes)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

function entryBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes +=
      Buffer.byteLength(name, 'utf8') +
      Buffer.byteLength(value.DataType ?? '', 'utf8') +
      Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return bytes;
}

/** Messages SQS would not take, even after one retry of those that were not the sender's fault. */
export class SqsSendError extends Error {
  constructor(
    readonly queueUrl: string,
    readonly failures: { eventId: string; code: string; message: string }[],
  ) {
    super(
      `SQS refused ${failures.length} message(s) on ${queueUrl}: ` +
        failures.map((f) => `event ${f.eventId} (${f.code}: ${f.message})`).join('; '),
    );
    this.name = 'SqsSendError';
  }
}

export interface SqsFifoQueueOptions {
  /** Default: createSqsClient() from the standard AWS configuration. */
  client?: SQSClient;
  queueUrl: string;
  /** Long-poll time of a receive when the queue looks empty; default 1 s, 0 to return at once. */
  waitTimeSeconds?: number;
}

export class SqsFifoQueue implements EventQueue {
  readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly waitTimeSeconds: number;

  constructor(options: SqsFifoQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.client = options.client ?? createSqsClient();
    this.waitTimeSeconds = options.waitTimeSeconds ?? 1;
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    // Build (and size-check) every entry first, so a bad one does not leave half the messages sent.
    const entries = toSqsEntries(messages);
    for (const batch of batches(entries)) await this.sendBatch(batch, messages);
  }

  /**
   * At most one message per group, as the EventQueue contract requires. SQS may hand out several
   * messages of one group in one ReceiveMessage; asking for one message at a time avoids that,
   * because a FIFO group with a message in flight hands out nothing more. (Returning the extras
   * with ChangeMessageVisibility would count a receive against the dead-letter redrive for
   * messages that were never processed.)
   */
  async receive(max: number): Promise<ReceivedMessage[]> {
    if (!Number.isInteger(max) || max < 1 || max > SQS_LIMITS.batchEntries) {
      throw new RangeError(`receive: max must be an integer from 1 to ${SQS_LIMITS.batchEntries}, got ${max}`);
    }
    const received: ReceivedMessage[] = [];
    const groups = new Set<string>();
    while (received.length < max) {
      const message = await this.receiveOne(received.length === 0 ? this.waitTimeSeconds : 0);
      if (!message) break;
      const parsed = this.parse(message);
      if (groups.has(parsed.groupId)) {
        // Only an SQS that breaks FIFO group locking gets here; keep the contract anyway.
        await this.release(parsed.receipt);
        break;
      }
      groups.add(parsed.groupId);
      received.push(parsed);
    }
    return received;
  }

  async ack(receipt: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt }));
  }

  async release(receipt: string, delayMs = 0): Promise<void> {
    await this.changeVisibility('release', receipt, delayMs);
  }

  async extendLease(receipt: string, ms: number): Promise<void> {
    await this.changeVisibility('extendLease', receipt, ms);
  }

  async size(): Promise<number> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  // ---- Internals ----------------------------------------------------------------------------------

  /** ChangeMessageVisibility to `ms` from now; a message no longer in flight is a lost lease. */
  private async changeVisibility(operation: string, receipt: string, ms: number): Promise<void> {
    // SQS counts visibility in whole seconds: round up so a retry never comes early.
    const seconds = Math.min(Math.max(Math.ceil(ms / 1000), 0), SQS_LIMITS.maxVisibilitySeconds);
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receipt,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      const code = awsErrorCode(error);
      // The visibility timeout ran out (the message is visible again) or the receipt is stale.
      if (
        code === 'MessageNotInflight' ||
        code === 'ReceiptHandleIsInvalid' ||
        code === 'AWS.SimpleQueueService.MessageNotInflight'
      )
        throw new LeaseLostError(`${operation}: ${errorMessage(error)}`);
      throw error;
    }
  }

  private async sendBatch(batch: SendMessageBatchRequestEntry[], messages: OutgoingMessage[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      if (Failed.length === 0) return;
      // A sender fault (bad id, too large) fails the same way again; anything else gets one retry.
      if (attempt > 1 || Failed.some((f) => f.SenderFault)) throw this.sendError(Failed, messages);
      const failedIds = new Set(Failed.map((f) => f.Id));
      pending = pending.filter((entry) => failedIds.has(entry.Id));
    }
  }

  private sendError(failed: BatchResultErrorEntry[], messages: OutgoingMessage[]): SqsSendError {
    return new SqsSendError(
      this.queueUrl,
      failed.map((f) => ({
        eventId: messages[Number(f.Id?.slice(1))]?.event.id ?? `entry ${f.Id}`,
        code: f.Code ?? 'unknown',
        message: f.Message ?? '',
      })),
    );
  }

  private async receiveOne(waitTimeSeconds: number): Promise<Message | undefined> {
    const { Messages } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId', 'MessageDeduplicationId'],
        MessageAttributeNames: [ORIGINAL_GROUP_ID, ORIGINAL_DEDUP_ID],
        // The SDK's own retries reuse it, so a receive lost in transit hands out the same message
        // again instead of leaving it (and its group) invisible until the timeout.
        ReceiveRequestAttemptId: randomUUID(),
      }),
    );
    return Messages?.[0];
  }

  private parse(message: Message): ReceivedMessage {
    const { ReceiptHandle: receipt, Attributes = {}, MessageAttributes = {} } = message;
    if (!receipt) throw new Error(`SQS message ${message.MessageId} on ${this.queueUrl} has no receipt handle`);
    let event: FeedEvent;
    try {
      event = JSON.parse(message.Body ?? '') as FeedEvent;
    } catch {
      throw new Error(
        `SQS message ${message.MessageId} on ${this.queueUrl} is not JSON; with a redrive policy SQS moves it to the dead-letter queue after maxReceiveCount receives`,
      );
    }
    if (typeof event !== 'object' || event === null || typeof event.id !== 'string') {
      throw new Error(`SQS message ${message.MessageId} on ${this.queueUrl} is not an event with a string id`);
    }
    return {
      groupId: MessageAttributes[ORIGINAL_GROUP_ID]?.StringValue ?? Attributes.MessageGroupId ?? '',
      dedupId: MessageAttributes[ORIGINAL_DEDUP_ID]?.StringValue ?? Attributes.MessageDeduplicationId ?? '',
      event,
      receipt,
      receiveCount: Number(Attributes.ApproximateReceiveCount ?? 1),
    };
  }
}
