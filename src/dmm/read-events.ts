import { z } from 'zod';
import type { FeedEvent } from '../model/events.js';

/** A feed batch that breaks the CloudEvents contract this tool relies on. */
export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
  constructor(
    /** Position in the batch, from 0. */
    readonly index: number,
    /** The event's id when it had a readable one: lets a caller checkpoint past it. */
    readonly eventId: string | undefined,
    readonly field: string,
    problem: string,
  ) {
    super(
      `Event ${eventId === undefined ? `#${index}` : `"${eventId}" (#${index})`} in feed batch: ${field}: ${problem}`,
    );
  }
}

// Only what the sync uses is checked; every other CloudEvents attribute passes through.
const eventSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  source: z.string().optional(),
  subject: z.string().nullish(),
  time: z.string().nullish(),
  data: z.looseObject({ id: z.string().optional() }).nullish(),
});

/**
 * Validates the items of a feed batch (the caller has checked that the body is an array). One bad
 * event must not stop the feed: an event with a readable id comes back marked `unreadable` (the
 * sync dead-letters it with the reason, and the checkpoint moves past it); one without an id
 * cannot be queued or checkpointed, so it is left out and handed to `onDropped` to be logged.
 */
export function readEventBatch(body: unknown[], onDropped?: (error: EventFormatError) => void): FeedEvent[] {
  const events: FeedEvent[] = [];
  for (const [index, item] of body.entries()) {
    const parsed = eventSchema.safeParse(item);
    if (parsed.success) {
      events.push(parsed.data as FeedEvent);
      continue;
    }
    const issue = parsed.error.issues[0];
    const fields = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    const id = typeof fields['id'] === 'string' && fields['id'] !== '' ? fields['id'] : undefined;
    const error = new EventFormatError(
      index,
      id,
      issue && issue.path.length > 0 ? issue.path.join('.') : '(event)',
      issue?.message ?? 'invalid',
    );
    if (id === undefined) {
      onDropped?.(error);
      continue;
    }
    const type = typeof fields['type'] === 'string' && fields['type'] !== '' ? fields['type'] : 'unreadable';
    events.push({ id, type, unreadable: error.message });
  }
  return events;
}
