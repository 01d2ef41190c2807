/**
 * Convergence time under faults: the daemon (`runDaemon`, real backoff and sleeps, the CLI's
 * HTTP retry settings) through the fault suite's seeded burst (30 agreements on 3 roles, 150
 * lifecycle transitions), with the fault proxy in front of the simulator injecting issue 10's
 * mix (20 % 500s, 10 % 429s, hangs past the timeout, truncated and cut bodies) or nothing.
 * Measured: seconds from the burst's last transition until every role holds exactly the active
 * agreements, the queue is empty and the checkpoint is at the feed's end.
 */
import { runDaemon } from '../src/cli/daemon.js';
import { DmmHttpClient } from '../src/dmm/client.js';
import { hedgeDelayMs } from '../src/dmm/http.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { MemoryFifoQueue } from '../src/local/memory-queue.js';
import type { Checkpoint } from '../src/interfaces/event-queue.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SyncContext } from '../src/sync/context.js';
import { defaultGuardrails } from '../src/sync/guardrails.js';
import { readRoleState } from '../src/targets/identity-policy/role-state.js';
import { createLogger } from '../src/util/log.js';
import { burstMesh, eventually, expectedGrants, playBurst, ROLES } from '../test/faults/burst.js';
import { seededRandom, startFaultProxy } from '../test/faults/fault-proxy.js';

const AGREEMENTS = 30;
const TRANSITIONS = 150;
const FAULTS = { error500: 0.2, rate429: 0.1, hang: 0.02, truncated: 0.04, cut: 0.04 };
/** The client's timeout here; a hang holds the connection longer. (The CLI's default is 10 s.) */
const TIMEOUT_MS = 2_000;
const GIVE_UP_MS = Number(process.env.BENCH_GIVE_UP_MS ?? 180_000);

class MemoryCheckpoint implements Checkpoint {
  private value: string | undefined;
  async read() {
    return this.value;
  }
  async write(lastEventId: string) {
    this.value = lastEventId;
  }
}

export interface Convergence {
  /** Seconds until the queue was empty and the checkpoint at the feed's end (every event handled). */
  drained?: number;
  /** Seconds until, besides, every role held exactly the active agreements. */
  converged?: number;
  /** Where the time went, over the whole run (burst included). */
  diagnostics: FaultDiagnostics;
}

export interface FaultDiagnostics {
  /** Requests the proxy saw, and how many met each fault. */
  requests: number;
  hangs: number;
  /** HTTP-level retries and the sum of their backoff waits (ms). */
  retries: number;
  retryWaitMs: number;
  /** Passes that failed (an outage stopped the drain, or polling failed) and the daemon's pause after them (ms). */
  failedPasses: number;
  passBackoffMs: number;
  /** Events released for a retry of their own (not an outage). */
  eventRetries: number;
}

/** Seconds from the burst's end to each milestone; a milestone not reached in GIVE_UP_MS is absent. */
export async function convergenceSeconds(withFaults: boolean, seed: number): Promise<Convergence> {
  const sim = await startSimulator({ port: 0, mesh: burstMesh(AGREEMENTS), generation: 'access' });
  const proxy = await startFaultProxy(sim.url, { rates: FAULTS, hangMs: TIMEOUT_MS * 2 }, seededRandom(seed));
  proxy.enabled = withFaults;
  const iam = new FileIamAccount({ accountId: '123456789012' });
  for (const role of ROLES) await iam.createRole(role);
  const diagnostics: FaultDiagnostics = {
    requests: 0,
    hangs: 0,
    retries: 0,
    retryWaitMs: 0,
    failedPasses: 0,
    passBackoffMs: 0,
    eventRetries: 0,
  };
  const started = performance.now();
  const log = createLogger(
    (level, message, fields) => {
      // BENCH_FAULT_TRACE=1: the daemon's warnings and pass summaries, timed from the start.
      if (process.env.BENCH_FAULT_TRACE)
        process.stderr.write(
          `${((performance.now() - started) / 1000).toFixed(2)} ${level} ${message} ${JSON.stringify(fields)}\n`,
        );
      if (message === 'sync pass failed; retrying') {
        diagnostics.failedPasses++;
        diagnostics.passBackoffMs += Number(fields['retryInSeconds']) * 1000;
      } else if (message === 'event failed; kept for retry') diagnostics.eventRetries++;
    },
    process.env.BENCH_FAULT_TRACE ? 'debug' : 'warn',
  );
  const ctx: SyncContext = {
    // The CLI's retry and hedge settings (src/dmm/http.ts defaults, src/cli/wiring.ts), with a shorter timeout.
    dmm: new DmmHttpClient({
      baseUrl: proxy.url,
      apiKey: sim.apiKey,
      apiGeneration: 'access',
      timeoutMs: TIMEOUT_MS,
      hedgeAfterMs: hedgeDelayMs(TIMEOUT_MS),
      onRetry: ({ delayMs }) => {
        diagnostics.retries++;
        diagnostics.retryWaitMs += delayMs;
      },
    }),
    iam,
    log,
    resolve: { accountId: iam.accountId, partition: 'aws', defaultRegion: 'eu-central-1' },
    guardrails: { ...defaultGuardrails(iam.accountId), ownership: { mode: 'off' } },
  };
  const queue = new MemoryFifoQueue();
  const checkpoint = new MemoryCheckpoint();
  let stop = false;
  const daemon = runDaemon(
    { ctx, queue, checkpoint },
    { intervalMs: 1_000, shouldStop: () => stop, onDeadLetter: async () => {} },
  ).catch((error: unknown) => error);
  try {
    await playBurst(sim, { count: AGREEMENTS, transitions: TRANSITIONS, random: seededRandom(seed + 1) });
    const burstEnd = performance.now();
    if (process.env.BENCH_FAULT_TRACE)
      process.stderr.write(`${((burstEnd - started) / 1000).toFixed(2)} burst ended\n`);
    const result: Convergence = { diagnostics };
    const since = () => (performance.now() - burstEnd) / 1000;
    await eventually(
      async () => {
        if ((await queue.size()) !== 0 || (await checkpoint.read()) !== sim.state.lastEventId) return false;
        result.drained ??= since();
        for (const [role, ids] of expectedGrants(sim, AGREEMENTS)) {
          const state = await readRoleState(iam, (await iam.getRole(role))!);
          const held = state.packs.flatMap((p) => [...p.blocks.keys()]).sort();
          if (JSON.stringify(held) !== JSON.stringify([...ids].sort())) return false;
        }
        result.converged = since();
        return true;
      },
      GIVE_UP_MS,
      100,
    );
    return result;
  } finally {
    stop = true;
    await daemon;
    const { forwarded, ...faults } = proxy.counts;
    diagnostics.requests = forwarded + Object.values(faults).reduce((a, b) => a + b, 0);
    diagnostics.hangs = faults.hang;
    await proxy.close();
    await sim.close();
  }
}
