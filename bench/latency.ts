/**
 * Activation → policy latency of `dmm-aws run` on this machine (issue 11: p95 ≤ 2 s): the daemon
 * in-process, wired exactly as the CLI wires it (loadConfig with its defaults, buildContext, the
 * file-backed queue, checkpoint, index and IAM stand-in in a temporary state folder), against the
 * simulator over loopback. Agreements are approved (which activates them at once) at random
 * moments; each one's latency is the time from its approval until its statements are on its role.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runDaemon } from '../src/cli/daemon.js';
import { buildContext, localPipeline } from '../src/cli/wiring.js';
import { loadConfig } from '../src/config.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { startSimulator } from '../src/simulator/server.js';
import { agreementsOnRole, readRoleState } from '../src/targets/identity-policy/role-state.js';
import { silentLogger } from '../src/util/log.js';
import { seededRandom } from '../test/faults/fault-proxy.js';
import { agreement, consumer, s3Provider } from './mesh.js';

const ROLES = 4;

export interface Latency {
  intervalSeconds: number;
  /** Milliseconds from approval to statements on the role, one per activation, sorted. */
  samples: number[];
}

/**
 * `activations` approvals at uniformly random moments within `windowMs`, with the poll interval
 * `intervalSeconds` (default: the CLI's default, from loadConfig). Agreements not granted within
 * `giveUpMs` of their approval count as that long.
 */
export async function activationLatency(options: {
  activations: number;
  windowMs: number;
  intervalSeconds?: number;
  seed?: number;
  giveUpMs?: number;
}): Promise<Latency> {
  const random = seededRandom(options.seed ?? 11);
  const ids = Array.from({ length: options.activations }, (_, i) => `agr-${i}`);
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        ...ids.map((id) => s3Provider(`p-${id}`)),
        ...Array.from({ length: ROLES }, (_, r) => consumer(`c${r}`, `role-${r}`)),
      ],
      agreements: ids.map((id, i) => agreement(id, `p-${id}`, `c${i % ROLES}`, false)),
    },
  });
  const work = await mkdtemp(join(tmpdir(), 'dmm-aws-latency-'));
  let stop = false;
  let daemon: Promise<unknown> = Promise.resolve();
  try {
    const config = loadConfig({
      cwd: work,
      env: {
        DMM_BASE_URL: sim.url,
        DMM_API_KEY: sim.apiKey,
        DMM_OWNERSHIP_PROOF: 'off',
        ...(options.intervalSeconds === undefined
          ? {}
          : { DMM_POLL_INTERVAL_SECONDS: String(options.intervalSeconds) }),
      },
    });
    const seeding = new FileIamAccount({ file: config.aws.localStateFile });
    for (let r = 0; r < ROLES; r++) await seeding.createRole(`role-${r}`);
    const ctx = await buildContext(config, silentLogger);
    const { queue, checkpoint } = localPipeline(config);
    daemon = runDaemon(
      { ctx, queue, checkpoint },
      { intervalMs: config.pollIntervalSeconds * 1000, shouldStop: () => stop, onDeadLetter: async () => {} },
    ).catch((error: unknown) => error);
    // The mesh's own events first: the measurement starts from a caught-up daemon.
    while ((await checkpoint.read()) !== sim.state.lastEventId || (await queue.size()) > 0)
      await new Promise((r) => setTimeout(r, 50));

    const start = performance.now();
    const approvedAt = new Map<string, number>();
    const moments = ids.map(() => random() * options.windowMs).sort((a, b) => a - b);
    const approving = (async () => {
      for (const [i, at] of moments.entries()) {
        const wait = start + at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        sim.approve(ids[i]!);
        approvedAt.set(ids[i]!, performance.now());
      }
    })();
    const samples = new Map<string, number>();
    const giveUpMs = options.giveUpMs ?? 60_000;
    while (samples.size < ids.length) {
      for (let r = 0; r < ROLES; r++) {
        const role = await ctx.iam.getRole(`role-${r}`);
        const held = role ? agreementsOnRole(await readRoleState(ctx.iam, role)) : new Set<string>();
        const now = performance.now();
        for (const id of held) {
          const at = approvedAt.get(id);
          if (at !== undefined && !samples.has(id)) samples.set(id, now - at);
        }
      }
      const now = performance.now();
      for (const [id, at] of approvedAt) if (!samples.has(id) && now - at > giveUpMs) samples.set(id, giveUpMs);
      await new Promise((r) => setTimeout(r, 20));
    }
    await approving;
    return { intervalSeconds: config.pollIntervalSeconds, samples: [...samples.values()].sort((a, b) => a - b) };
  } finally {
    stop = true;
    await daemon;
    await sim.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** The `p`-quantile (0..1) of sorted samples, nearest rank. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}
