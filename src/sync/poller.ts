import { SQS_LIMITS } from '../util/sqs-limits.js';
import type { DmmApi } from '../interfaces/dmm-api.js';
import type { Logger } from '../util/log.js';
import { messageGroupOf } from './event-routing.js';
import type { Checkpoint, EventQueue } from '../interfaces/event-queue.js';

export interface PollOptions {
  /** Stop early (e.g. a Lambda's time budget is nearly spent); the checkpoint is always consistent. */
  shouldStop?: () => boolean;
  /** Messages per queue send (SQS FIFO takes at most 10 per batch). */
  batchSize?: number;
}

export interface PollResult {
  events: number;
  pages: number;
  lastEventId: string | undefined;
  caughtUp: boolean;
}

/**
 * Read the feed from the checkpoint until caught up, hand every event to the FIFO queue, and move
 * the checkpoint forward only after the events before it are safely queued. A crash between the
 * two re-queues a few events; the queue deduplicates them by event id and the core is idempotent.
 */
export async function pollFeed(
  deps: { dmm: DmmApi; queue: EventQueue; checkpoint: Checkpoint; log: Logger },
  options: PollOptions = {},
): Promise<PollResult> {
  const batchSize = options.batchSize ?? SQS_LIMITS.batchEntries;
  let lastEventId = await deps.checkpoint.read();
  let events = 0;
  let pages = 0;
  while (!options.shouldStop?.()) {
    const page = await deps.dmm.pollEvents(lastEventId);
    pages++;
    if (page.length === 0) return { events, pages, lastEventId, caughtUp: true };
    for (let i = 0; i < page.length; i += batchSize) {
      const batch = page.slice(i, i + batchSize);
      await deps.queue.send(batch.map((event) => ({ groupId: messageGroupOf(event), dedupId: event.id, event })));
      lastEventId = batch[batch.length - 1]!.id;
      await deps.checkpoint.write(lastEventId);
      events += batch.length;
    }
    deps.log.info('queued events', { count: page.length, lastEventId });
  }
  return { events, pages, lastEventId, caughtUp: false };
}
