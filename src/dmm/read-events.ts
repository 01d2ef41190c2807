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

/** Validates the items of a feed batch (the caller has checked that the body is an array). */
export function readEventBatch(body: unknown[]): FeedEvent[] {
  return body.map((item, index) => {
    const parsed = eventSchema.safeParse(item);
    if (parsed.success) return parsed.data as FeedEvent;
    const issue = parsed.error.issues[0];
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['id'] : undefined;
    throw new EventFormatError(
      index,
      typeof id === 'string' && id !== '' ? id : undefined,
      issue && issue.path.length > 0 ? issue.path.join('.') : '(event)',
      issue?.message ?? 'invalid',
    );
  });
}
