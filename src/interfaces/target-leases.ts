/**
 * Leases on grant targets (docs/adr/0017-target-leases.md): a role, a resource's policy or a
 * principal's Lake Formation permissions on a resource is read, planned and written by one
 * holder at a time, across processes, so that process-events can run with concurrency > 1 next
 * to the full reconcile. The adapter only takes and gives back one lease; waiting, ordering and
 * naming are the core's (src/sync/target-locks.ts).
 */
import { OutageError } from './outage.js';

/** Who holds a lease, and until when (ms since the epoch, the holder's clock). */
export interface LeaseClaim {
  holder: string;
  expiresAt: number;
}

export type TakeResult = { taken: true; lease: HeldLease } | { taken: false; holder: string; expiresAt: number };

export interface HeldLease {
  /**
   * Gives the lease back, so the next holder need not wait for its expiry. Only this holding is
   * released: a lease taken over after it expired is the new holder's and is left alone.
   */
  release(): Promise<void>;
}

export interface TargetLeases {
  /**
   * Takes the lease on `key` for `claim` when nobody holds it: never held, released, or its
   * holder's time ran out (`expiresAt` ≤ `now`). Never waits. Atomic: of any number of
   * concurrent takers at most one gets it; the others learn who holds it and until when.
   */
  tryTake(key: string, claim: LeaseClaim, now: number): Promise<TakeResult>;
}

/**
 * A target stayed leased by someone else for longer than the caller would wait: nothing was
 * written, and the work is to be retried. Like an outage it says nothing about the agreement,
 * so it is handled as one: the event is kept and retried after a short pause, never spent
 * towards the dead-letter queue or reported as the agreement's failure.
 */
export class LeaseBusyError extends OutageError {
  override name = 'LeaseBusyError';
  constructor(
    readonly key: string,
    readonly holder: string,
    readonly expiresAt: number,
  ) {
    super(
      `grant target ${key} is being written by ${holder} (lease until ${new Date(expiresAt).toISOString()}); try again later`,
    );
  }
}
