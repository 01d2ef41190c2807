/**
 * Serialises the writers of each grant target across processes (docs/adr/0017-target-leases.md)
 * over a {@link TargetLeases} adapter: S3 objects for the Lambda functions, a file for the CLI.
 *
 * A unit of work takes all the leases it needs at once, in one global order (sorted target keys),
 * and gives them back before it takes any other: whoever waits holds only keys that sort before
 * the one it waits for, so no two holders can wait for each other (no deadlock).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type HeldLease, LeaseBusyError, type TargetLeases } from '../interfaces/target-leases.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface TargetLocksOptions {
  /**
   * How long a lease is good for. Must outlast any holder (a Lambda function's timeout) plus the
   * clock skew between holders: an expired lease is taken over, so a crashed holder blocks its
   * targets for at most this long.
   */
  ttlMs: number;
  /** How long to wait for a target someone else holds before giving up; default 30 s. */
  waitMs?: number;
  /** Names this process in the leases it takes; default host and pid. */
  owner?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: Logger;
}

export const DEFAULT_LEASE_WAIT_MS = 30_000;

export class TargetLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly owner: string;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly leases: TargetLeases,
    private readonly options: TargetLocksOptions,
  ) {
    if (!(options.ttlMs > 0)) throw new Error(`lease time must be positive, not ${options.ttlMs} ms`);
    this.ttlMs = options.ttlMs;
    this.waitMs = options.waitMs ?? DEFAULT_LEASE_WAIT_MS;
    this.owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Runs `work` holding the leases of every target in `targets` (taken in sorted order, waiting
   * for holders elsewhere), and gives them back when it settles. Throws {@link LeaseBusyError},
   * before `work` ran, when a target stays held elsewhere longer than the wait.
   */
  async hold<T>(targets: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(targets)].sort();
    if (keys.length === 0) return work();
    // Unique per holding: a lease is never re-entered, and a release never frees another's.
    const holder = `${this.owner}#${randomUUID()}`;
    const held: HeldLease[] = [];
    try {
      held.push(...(await this.takeAtOnce(keys, holder)));
      for (const key of keys.slice(held.length)) held.push(await this.take(key, holder));
      return await work();
    } finally {
      await Promise.all(
        held.map((lease, i) =>
          lease.release().catch((error: unknown) =>
            // The work is done; the lease simply expires on its own, later.
            this.options.log?.warn('could not give back a grant target lease; it expires on its own', {
              target: keys[i],
              error: errorMessage(error),
            }),
          ),
        ),
      );
    }
  }

  /**
   * One try at every key side by side, the common case being that all are free. Keeps the leases
   * of the longest free prefix of `keys` and gives back any taken after the first busy key, so a
   * holder that then waits holds only keys sorting before the one it waits for, as in one-by-one.
   */
  private async takeAtOnce(keys: string[], holder: string): Promise<HeldLease[]> {
    const now = this.now();
    const tries = await Promise.allSettled(
      keys.map((key) => this.leases.tryTake(key, { holder, expiresAt: now + this.ttlMs }, now)),
    );
    const leaseOf = (i: number) => {
      const t = tries[i]!;
      return t.status === 'fulfilled' && t.value.taken ? t.value.lease : undefined;
    };
    let prefix = 0;
    while (prefix < keys.length && leaseOf(prefix)) prefix++;
    const surplus = keys.flatMap((_, i) => (i > prefix ? [leaseOf(i)] : [])).filter((l) => l !== undefined);
    await Promise.all(surplus.map((lease) => lease.release().catch(() => undefined)));
    const failed = tries.find((t) => t.status === 'rejected');
    if (failed) {
      // An adapter error (S3 unreachable): give back what was taken and report it as it is.
      await Promise.all(
        keys.slice(0, prefix).map((_, i) =>
          leaseOf(i)!
            .release()
            .catch(() => undefined),
        ),
      );
      throw (failed as PromiseRejectedResult).reason;
    }
    return keys.slice(0, prefix).map((_, i) => leaseOf(i)!);
  }

  private async take(key: string, holder: string): Promise<HeldLease> {
    const deadline = this.now() + this.waitMs;
    let pause = 25;
    for (;;) {
      const now = this.now();
      const result = await this.leases.tryTake(key, { holder, expiresAt: now + this.ttlMs }, now);
      if (result.taken) return result.lease;
      const left = deadline - this.now();
      if (left <= 0) throw new LeaseBusyError(key, result.holder, result.expiresAt);
      // Holders keep a target for one read-plan-write: short pauses, growing, jittered so that
      // waiters do not retry in step.
      await this.sleep(Math.max(1, Math.min(pause * (0.5 + this.random()), left)));
      pause = Math.min(pause * 2, 1_000);
    }
  }
}

/** A role's lease key. IAM role names are unique regardless of case, so the key is too. */
export function roleTarget(accountId: string, roleName: string): string {
  return `role:${accountId}:${roleName.toLowerCase()}`;
}

/** A resource policy's lease key (bucket, KMS key, Glue catalog, ...). */
export function resourcePolicyTarget(resourceArn: string): string {
  return `resource-policy:${resourceArn}`;
}

/** A principal's Lake Formation permissions on one resource. */
export function lakeFormationTarget(instanceKey: string): string {
  return `lake-formation:${instanceKey}`;
}
