import type { FeedEvent } from '../model/events.js';

/** A message on the FIFO event queue: ordered within `groupId` (the agreement), deduplicated by `dedupId` (the event id). */
export interface OutgoingMessage {
  groupId: string;
  dedupId: string;
  event: FeedEvent;
}

export interface ReceivedMessage extends OutgoingMessage {
  /** Opaque handle for ack/release. */
  receipt: string;
  /** 1 on first delivery, incremented on every redelivery. */
  receiveCount: number;
}

export interface EventQueue {
  send(messages: OutgoingMessage[]): Promise<void>;
  /**
   * Up to `max` messages. Like SQS FIFO, while a group has a message in flight no later message
   * of that group is handed out, so one agreement's events are processed strictly in order.
   */
  receive(max: number): Promise<ReceivedMessage[]>;
  /** Processed: remove for good. */
  ack(receipt: string): Promise<void>;
  /**
   * Not processed: make it available again for retry, after `delayMs` (default at once). Until
   * then its group stays blocked, so the agreement's later events wait behind it.
   */
  release(receipt: string, delayMs?: number): Promise<void>;
  /**
   * Still being processed: keep it in flight `ms` from now (SQS's ChangeMessageVisibility), so a
   * slow event is not handed to another consumer meanwhile. Throws LeaseLostError when the
   * message is no longer this consumer's (its in-flight time ran out already).
   */
  extendLease(receipt: string, ms: number): Promise<void>;
  /** Messages waiting or in flight. */
  size(): Promise<number>;
}

/** Where the poller remembers the id of the last event it handed to the queue. */
export interface Checkpoint {
  read(): Promise<string | undefined>;
  write(lastEventId: string): Promise<void>;
}

/**
 * The message is no longer this consumer's to release: its in-flight time ran out while it was
 * processed (it will be delivered again), or its receipt is stale. Not a failure of the pass.
 */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}
