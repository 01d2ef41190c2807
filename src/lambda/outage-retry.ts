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
 * back the same way on their last receive, whatever their predecessor's error. The SQS calls
 * themselves are in record-queue.ts.
 */

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
