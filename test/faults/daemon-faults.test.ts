/**
 * The CLI daemon (`runDaemon`, in-process, as `dmm-aws run` drives it) through a seeded burst of
 * lifecycle transitions while a proxy in front of the simulator answers with 500s, 429s, hangs
 * past the client's timeout, truncated and cut bodies. Afterwards: 0 events lost (none
 * dead-lettered, queue empty, checkpoint at the feed's end), 0 stale or missing grants (role
 * statements = the simulator's active set), 0 false failure reports, and a fault-free plan with
 * nothing to change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runDaemon } from '../../src/cli/daemon.js';
import { DmmHttpClient } from '../../src/dmm/client.js';
import type { ReceivedMessage } from '../../src/interfaces/event-queue.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { errorMessage } from '../../src/util/errors.js';
import { grantsOn, startWorld, type World } from '../e2e/harness.js';
import { eventually, expectedGrants, failureReports, playBurst, ROLES, burstMesh } from './burst.js';
import { seededRandom, startFaultProxy, type FaultProxy } from './fault-proxy.js';

const SEED = 20261130;
const AGREEMENTS = 30;
const TRANSITIONS = 150;
/** The mix of issue 10: 20 % 500s, 10 % 429s, some hangs, truncated and cut bodies. */
const FAULTS = { error500: 0.2, rate429: 0.1, hang: 0.01, truncated: 0.03, cut: 0.03 };
const CLIENT_TIMEOUT_MS = 150;

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function grantsMatch(world: World): Promise<boolean> {
  const expected = expectedGrants(world.sim, AGREEMENTS);
  for (const role of ROLES) {
    const held = [...(await grantsOn(world.iam, role)).keys()].sort();
    if (JSON.stringify(held) !== JSON.stringify(expected.get(role)!.sort())) return false;
  }
  return true;
}

describe('the daemon under injected Data Mesh Manager faults', () => {
  it('converges a burst of 150 transitions on 30 agreements with nothing lost, stale or falsely reported', async () => {
    const world = await startWorld({ mesh: burstMesh(AGREEMENTS), roles: [...ROLES], provisioning: true });
    const proxy = await startFaultProxy(
      world.sim.url,
      { rates: FAULTS, hangMs: CLIENT_TIMEOUT_MS * 3 },
      seededRandom(SEED),
    );
    proxies.push(proxy);
    world.ctx.dmm = new DmmHttpClient({
      baseUrl: proxy.url,
      apiKey: world.sim.apiKey,
      apiGeneration: 'access',
      timeoutMs: CLIENT_TIMEOUT_MS,
      maxAttempts: 4,
      retryBaseDelayMs: 5,
      maxRetryDelayMs: 50,
      maxRetryAfterMs: 50,
    });
    const deadLetters: { message: ReceivedMessage; error: string }[] = [];
    let stop = false;
    const daemon = runDaemon(
      { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
      {
        intervalMs: 100,
        shouldStop: () => stop,
        onDeadLetter: async (message, error) => void deadLetters.push({ message, error: errorMessage(error) }),
        random: seededRandom(SEED + 1),
        // The daemon's backoff (1 s doubling to 60 s) is the bench's subject; here only the outcome counts.
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 250))),
      },
    );
    const daemonError = daemon.then(
      () => undefined,
      (error: unknown) => error,
    );

    const played = await playBurst(world.sim, {
      count: AGREEMENTS,
      transitions: TRANSITIONS,
      random: seededRandom(SEED + 2),
    });
    const converged = await eventually(
      async () =>
        (await grantsMatch(world)) &&
        (await world.queue.size()) === 0 &&
        (await world.checkpoint.read()) === world.sim.state.lastEventId,
      // The target: converged within 60 s of the burst's end (the bench measures how fast).
      60_000,
    );
    stop = true;
    expect(await daemonError).toBeUndefined();
    expect(Object.values(played).reduce((a, b) => a + b, 0)).toBe(TRANSITIONS);
    // Every fault really happened.
    for (const fault of Object.keys(FAULTS))
      expect(proxy.counts[fault as keyof typeof FAULTS], fault).toBeGreaterThan(0);

    expect(converged).toBe(true);
    expect(deadLetters).toEqual([]);
    expect(failureReports(world.sim, AGREEMENTS)).toEqual([]);
    // A fault-free plan agrees: nothing to change, nothing failed.
    proxy.enabled = false;
    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes.filter((o) => o.decision === 'failed')).toEqual([]);
  }, 120_000);
});
