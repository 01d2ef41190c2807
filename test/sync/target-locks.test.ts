import { describe, expect, it } from 'vitest';
import type { LeaseClaim, TakeResult, TargetLeases } from '../../src/interfaces/target-leases.js';
import { FileTargetLeases } from '../../src/local/file-target-leases.js';
import { TargetLocks } from '../../src/sync/target-locks.js';

/** The CLI's in-memory leases, with every take recorded and held open until the test lets it go. */
class Recording implements TargetLeases {
  readonly inner = new FileTargetLeases();
  inFlight = 0;
  mostInFlight = 0;
  readonly takes: string[] = [];
  async tryTake(target: string, claim: LeaseClaim, now: number): Promise<TakeResult> {
    this.takes.push(target);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    return this.inner.tryTake(target, claim, now);
  }
}

describe('TargetLocks', () => {
  it('takes the leases of free targets side by side, one try each', async () => {
    const leases = new Recording();
    const locks = new TargetLocks(leases, { ttlMs: 60_000 });
    const keys = ['role:1:c', 'role:1:a', 'role:1:b', 'role:1:d'];
    expect(await locks.hold(keys, async () => 'done')).toBe('done');
    expect(leases.takes.sort()).toEqual([...keys].sort());
    expect(leases.mostInFlight).toBe(4);
  });

  it('with a target held elsewhere, keeps only the keys sorting before it while it waits, then takes the rest', async () => {
    const leases = new Recording();
    const busy = await leases.inner.tryTake(
      'role:1:b',
      { holder: 'elsewhere', expiresAt: Date.now() + 60_000 },
      Date.now(),
    );
    if (!busy.taken) throw new Error('setup: b should be free');
    const locks = new TargetLocks(leases, { ttlMs: 60_000, sleep: () => new Promise((r) => setTimeout(r, 5)) });
    const probe = new TargetLocks(leases.inner, { ttlMs: 60_000, waitMs: 0 });

    let ran = false;
    const holding = locks.hold(['role:1:c', 'role:1:a', 'role:1:b'], async () => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 40));
    expect(ran).toBe(false);
    // While waiting for b it holds a (sorts before b) but has given c back: no holder of c and b
    // in the other order can be stuck behind it.
    await expect(probe.hold(['role:1:a'], async () => {})).rejects.toThrow(/role:1:a/);
    await expect(probe.hold(['role:1:c'], async () => 'free')).resolves.toBe('free');

    await busy.lease.release();
    await holding;
    expect(ran).toBe(true);
    await expect(probe.hold(['role:1:a', 'role:1:b', 'role:1:c'], async () => 'all free')).resolves.toBe('all free');
  });
});
