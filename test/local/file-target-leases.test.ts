import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HeldLease, TakeResult } from '../../src/interfaces/target-leases.js';
import { FileTargetLeases } from '../../src/local/file-target-leases.js';
import { TargetLocks } from '../../src/sync/target-locks.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const claim = (holder: string, expiresAt = T0 + 60_000) => ({ holder, expiresAt });
const leaseOf = (result: TakeResult): HeldLease => {
  if (!result.taken) throw new Error(`not taken: held by ${result.holder}`);
  return result.lease;
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmm-aws-leases-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileTargetLeases (the CLI: a `run` and an `apply` on one state folder)', () => {
  it('two instances on one file: one holder at a time, expiry takes over, a late release leaves the new holder alone', async () => {
    const file = join(dir, 'target-leases.json');
    const [run, apply] = [new FileTargetLeases(file), new FileTargetLeases(file)];
    const target = 'role:123456789012:analytics';

    const results = await Promise.all([
      run.tryTake(target, claim('run'), T0),
      apply.tryTake(target, claim('apply'), T0),
    ]);
    expect(results.filter((r) => r.taken)).toHaveLength(1);
    const [winner, loser] = results[0]!.taken ? (['run', apply] as const) : (['apply', run] as const);
    expect(await loser.tryTake(target, claim('third'), T0 + 59_999)).toEqual({ taken: false, ...claim(winner) });

    // The winner crashed: at expiry the lease is taken over.
    const crashed = results.find((r) => r.taken)!;
    const next = leaseOf(await loser.tryTake(target, claim('next', T0 + 120_000), T0 + 60_000));
    await leaseOf(crashed).release();
    expect(await run.tryTake(target, claim('third'), T0 + 61_000)).toEqual({
      taken: false,
      ...claim('next', T0 + 120_000),
    });
    await next.release();
    leaseOf(await run.tryTake(target, claim('third'), T0 + 61_000));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ leases: [{ target, ...claim('third') }] });
  });

  it('in memory (no file), TargetLocks runs overlapping holders one after another', async () => {
    const leases = new FileTargetLeases();
    let inside = 0;
    let most = 0;
    const hold = (targets: string[]) =>
      new TargetLocks(leases, { ttlMs: 60_000 }).hold(targets, async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
      });
    await Promise.all([hold(['b', 'a']), hold(['a', 'c']), hold(['c', 'b'])]);
    expect(most).toBe(1);
  });
});
