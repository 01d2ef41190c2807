/**
 * SQS FIFO semantics over a StateStore, shared by the in-memory and the file-backed queue:
 *
 * - order is kept per `groupId`; groups are served in the order of their oldest waiting message;
 * - a `dedupId` seen within the deduplication window (SQS: 5 minutes, queue-wide) is dropped,
 *   even if the first message was already acked;
 * - while a group's head message is in flight, nothing of that group is handed out, and one
 *   receive hands out at most one message per group. SQS itself may return several messages of
 *   one group in a batch; the EventQueue contract forbids it, so the SQS adapter must hold back
 *   the extras, and this stand-in never produces them;
 * - an unacked message becomes visible again after the visibility timeout (SQS default 30 s),
 *   so a consumer that died does not block its group forever;
 * - ack with a receipt that is no longer current is a silent no-op, as SQS's DeleteMessage is.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FeedEvent } from '../model/events.js';
import {
  LeaseLostError,
  type EventQueue,
  type OutgoingMessage,
  type ReceivedMessage,
} from '../interfaces/event-queue.js';
import { isSqsId, SQS_LIMITS } from '../util/sqs-limits.js';
import type { StateStore } from './state-store.js';

const eventSchema = z.custom<FeedEvent>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string',
  'expected an event with a string id',
);

const messageSchema = z.object({
  /** Global arrival order; never changes, so a released message keeps its place. */
  seq: z.number().int(),
  groupId: z.string(),
  dedupId: z.string(),
  event: eventSchema,
  /** Deliveries so far. */
  receiveCount: z.number().int().nonnegative(),
  /** Receipt of the latest delivery; null when never delivered or released. */
  receipt: z.string().nullable(),
  /** In flight until this time (ms since epoch); null when waiting. */
  invisibleUntil: z.number().nullable(),
});

export const fifoStateSchema = z.object({
  format: z.literal(1),
  nextSeq: z.number().int().nonnegative(),
  /** Sorted by seq. */
  messages: z.array(messageSchema),
  /** dedupId → end of its deduplication window (ms since epoch). */
  dedup: z.record(z.string(), z.number()),
});

export type FifoState = z.infer<typeof fifoStateSchema>;
type StoredMessage = z.infer<typeof messageSchema>;

export function emptyFifoState(): FifoState {
  return { format: 1, nextSeq: 0, messages: [], dedup: {} };
}

export interface FifoQueueOptions {
  /** Default 5 minutes, as SQS. */
  dedupWindowMs?: number;
  /** How long a received message stays in flight before it is handed out again; default 30 s, as SQS. */
  visibilityTimeoutMs?: number;
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
}

export class FifoQueue implements EventQueue {
  private readonly dedupWindowMs: number;
  private readonly visibilityTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: StateStore<FifoState>,
    options: FifoQueueOptions = {},
  ) {
    this.dedupWindowMs = options.dedupWindowMs ?? SQS_LIMITS.dedupWindowMs;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? SQS_LIMITS.visibilityTimeoutMs;
    this.now = options.now ?? Date.now;
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    // Validate the whole batch first, so a bad entry does not leave half a batch queued.
    for (const message of messages) validateOutgoing(message);
    const now = this.now();
    await this.store.update((state) => {
      for (const [dedupId, until] of Object.entries(state.dedup)) if (until <= now) delete state.dedup[dedupId];
      for (const { groupId, dedupId, event } of messages) {
        if (Object.hasOwn(state.dedup, dedupId)) continue;
        // defineProperty: a dedupId of `__proto__` must be stored, not change the prototype.
        Object.defineProperty(state.dedup, dedupId, {
          value: now + this.dedupWindowMs,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        state.messages.push({
          seq: state.nextSeq++,
          groupId,
          dedupId,
          event: structuredClone(event),
          receiveCount: 0,
          receipt: null,
          invisibleUntil: null,
        });
      }
    });
  }

  async receive(max: number): Promise<ReceivedMessage[]> {
    if (!Number.isInteger(max) || max < 1 || max > SQS_LIMITS.batchEntries) {
      throw new RangeError(`receive: max must be an integer from 1 to ${SQS_LIMITS.batchEntries}, got ${max}`);
    }
    const now = this.now();
    return this.store.update((state) => {
      const seenGroups = new Set<string>();
      const handedOut: ReceivedMessage[] = [];
      for (const message of state.messages) {
        if (handedOut.length === max) break;
        // Messages are in seq order, so the first one met of a group is its head; the rest wait.
        if (seenGroups.has(message.groupId)) continue;
        seenGroups.add(message.groupId);
        if (inFlight(message, now)) continue;
        message.receiveCount += 1;
        message.receipt = randomUUID();
        message.invisibleUntil = now + this.visibilityTimeoutMs;
        handedOut.push(received(message));
      }
      return handedOut;
    });
  }

  async ack(receipt: string): Promise<void> {
    await this.store.update((state) => {
      state.messages = state.messages.filter((m) => m.receipt !== receipt);
    });
  }

  async release(receipt: string, delayMs = 0): Promise<void> {
    const now = this.now();
    await this.store.update((state) => {
      const message = state.messages.find((m) => m.receipt === receipt);
      // SQS's ChangeMessageVisibility refuses these too; a silent no-op would hide a consumer bug.
      if (!message) throw new LeaseLostError(`release: receipt ${receipt} is unknown or no longer current`);
      if (!inFlight(message, now)) throw new LeaseLostError(`release: message ${message.dedupId} is not in flight`);
      message.receipt = null;
      // Like ChangeMessageVisibility: still invisible (its group still blocked) until the delay ends.
      message.invisibleUntil = delayMs > 0 ? now + delayMs : null;
    });
  }

  async extendLease(receipt: string, ms: number): Promise<void> {
    const now = this.now();
    await this.store.update((state) => {
      const message = state.messages.find((m) => m.receipt === receipt);
      if (!message || !inFlight(message, now))
        throw new LeaseLostError(`extendLease: receipt ${receipt} is unknown or no longer in flight`);
      message.invisibleUntil = now + ms;
    });
  }

  async size(): Promise<number> {
    return (await this.store.read()).messages.length;
  }
}

function inFlight(message: StoredMessage, now: number): boolean {
  return message.invisibleUntil !== null && message.invisibleUntil > now;
}

function received(message: StoredMessage): ReceivedMessage {
  return {
    groupId: message.groupId,
    dedupId: message.dedupId,
    event: structuredClone(message.event),
    receipt: message.receipt!,
    receiveCount: message.receiveCount,
  };
}

function validateOutgoing({ groupId, dedupId, event }: OutgoingMessage): void {
  for (const [field, id] of [
    ['groupId', groupId],
    ['dedupId', dedupId],
  ] as const) {
    if (!isSqsId(id)) {
      throw new Error(
        `send: ${field} '${id}' must be 1-${SQS_LIMITS.idMaxLength} characters of letters, digits and punctuation`,
      );
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (bytes > SQS_LIMITS.payloadBytes) {
    throw new Error(`send: event ${event.id} is ${bytes} bytes, more than SQS's ${SQS_LIMITS.payloadBytes}`);
  }
}
