/**
 * Target leases (src/interfaces/target-leases.ts) for the CLI: one JSON file
 * `{ "leases": [{ "target", "holder", "expiresAt" }] }` next to the other local state, changed
 * under the state file lock (state-store.ts), so a `dmm-aws run` and an `apply` on the same state
 * take turns on a role as two Lambda invocations do on S3. Without a file (tests), in memory.
 * A list rather than an object keyed by target, because targets carry user input (role names)
 * and `__proto__` is no safe object key.
 */
import { z } from 'zod';
import type { LeaseClaim, TakeResult, TargetLeases } from '../interfaces/target-leases.js';
import { JsonFileStore, MemoryStore, type StateStore } from './state-store.js';

const fileSchema = z.strictObject({
  leases: z.array(z.strictObject({ target: z.string().min(1), holder: z.string().min(1), expiresAt: z.number() })),
});

type LeaseFile = z.infer<typeof fileSchema>;

export class FileTargetLeases implements TargetLeases {
  private readonly store: StateStore<LeaseFile>;

  /** `path`: the lease file; undefined keeps the leases in memory (one process). */
  constructor(path?: string) {
    this.store =
      path === undefined
        ? new MemoryStore({ leases: [] })
        : new JsonFileStore(path, fileSchema, () => ({ leases: [] }));
  }

  tryTake(target: string, claim: LeaseClaim, now: number): Promise<TakeResult> {
    return this.store.update((state): TakeResult => {
      // Expired and released leases are dropped whenever the file changes, so it stays small.
      state.leases = state.leases.filter((l) => l.expiresAt > now);
      const held = state.leases.find((l) => l.target === target);
      if (held) return { taken: false, holder: held.holder, expiresAt: held.expiresAt };
      state.leases.push({ target, ...claim });
      return {
        taken: true,
        lease: {
          release: () =>
            this.store.update((after) => {
              // Only this holding: one taken over after it expired is the new holder's.
              after.leases = after.leases.filter((l) => !(l.target === target && l.holder === claim.holder));
            }),
        },
      };
    });
  }
}
