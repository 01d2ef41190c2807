/**
 * The full reconcile at size (issue 11): a dry run of BENCH_AGREEMENTS agreements (default
 * 100,000) over a tenth as many products and roles, against the in-process simulator over HTTP.
 * Every product provides an S3 port and consumes through its own role; half the agreements are
 * active. Reports each phase's time, the heap at its end, and the process's peak RSS, which
 * includes the simulator's copy of the mesh (its share is the heap before the reconcile).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { DmmHttpClient } from '../src/dmm/client.js';
import { seedIamAccount } from '../src/local/aws-account-fixture.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SyncContext } from '../src/sync/context.js';
import { guardrailsFrom } from '../src/sync/guardrail-settings.js';
import { type ReconcileProgress, reconcileAll } from '../src/sync/reconcile.js';
import { silentLogger } from '../src/util/log.js';
import { agreement, s3Provider } from './mesh.js';

type Row = (name: string, value: string) => void;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export async function largeReconcile(row: Row): Promise<void> {
  const agreements = Number(process.env.BENCH_AGREEMENTS ?? 100_000);
  const size = Math.max(1, Math.floor(agreements / 10));
  const label = `${agreements.toLocaleString('en')} agreements / ${size.toLocaleString('en')} roles / ${size.toLocaleString('en')} products`;
  const loadBefore = load();

  let start = performance.now();
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: Array.from({ length: size }, (_, i) => ({
        ...s3Provider(`p${i}`),
        custom: { 'aws-role-name': `role-${i}` },
      })),
      agreements: Array.from({ length: agreements }, (_, i) =>
        agreement(`a${i}`, `p${i % size}`, `p${(i * 7 + 1) % size}`, i % 2 === 0),
      ),
    },
  });
  const simulatorMs = performance.now() - start;
  start = performance.now();
  const iam = new FileIamAccount();
  // Through what `dmm-aws local-aws seed` runs: one change for the whole fixture.
  await seedIamAccount(iam, { roles: Array.from({ length: size }, (_, i) => ({ name: `role-${i}` })) });
  const seedMs = performance.now() - start;
  row(
    `full reconcile at size, ${label}: setup`,
    `simulator ${seconds(simulatorMs)}, ${size.toLocaleString('en')} roles seeded ${seconds(seedMs)}; heap ${mib(heapUsed())}`,
  );

  const ctx: SyncContext = {
    // A long planning pause can outlast the simulator's keep-alive: a retry answers the reset socket.
    dmm: new DmmHttpClient({ baseUrl: sim.url, apiKey: sim.apiKey, maxAttempts: 3 }),
    iam,
    log: silentLogger,
    guardrails: guardrailsFrom(iam.accountId, {
      ownershipAllowList: [{ team: 'providers', resources: ['arn:aws:s3:::bench-*'] }],
    }),
    resolve: { accountId: iam.accountId, defaultRegion: 'eu-central-1' },
  };
  const profile = await startProfile();
  const gc = gcTime();
  const clock = new PhaseClock();
  const requests = instrument(ctx, clock);
  const result = await reconcileAll(ctx, { dryRun: true, onProgress: (p) => clock.progress(p) });
  clock.mark('outcomes');
  const totalMs = clock.elapsed();
  const cpuMs = clock.cpu();
  const gcMs = gc();
  await profile?.();
  const peak = process.resourceUsage().maxRSS * 1024;
  row(
    `full reconcile, dry run: ${label}`,
    `${seconds(totalMs)} (CPU ${seconds(cpuMs)}, of it garbage collection ${seconds(gcMs)}), peak RSS ${mib(peak)}, ${result.changes.length} planned writes, ${requests()} Data Mesh Manager client calls (a paged listing counts once; load average ${loadBefore} before, ${load()} after)`,
  );
  row(`full reconcile at size: phases (wall time, CPU time, heap at its end)`, clock.describe());
  await sim.close();
}

/**
 * With BENCH_CPU_PROFILE=<file>, a CPU profile of the reconcile alone (not the setup), for
 * Chrome DevTools or speedscope; returns the function that stops it and writes the file.
 */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Time spent in garbage collection from now on; the returned function stops counting. */
function gcTime(): () => number {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) ms += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    return ms;
  };
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/**
 * Phase boundaries from what the reconcile does: the two listings (timed around the client's
 * calls), then its progress reports: the first agreement resolved, every role read, the first
 * role's plan recorded (all roles are planned before any is recorded).
 */
class PhaseClock {
  private readonly start = performance.now();
  private last = this.start;
  private readonly startCpu = process.cpuUsage();
  private lastCpu = this.startCpu;
  private readonly phases: { name: string; ms: number; cpuMs: number; heap: number }[] = [];
  private readonly marked = new Set<string>();

  mark(name: string): void {
    if (this.marked.has(name)) return;
    this.marked.add(name);
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    this.phases.push({ name, ms: now - this.last, cpuMs: (cpu.user + cpu.system) / 1000, heap: heapUsed() });
    this.last = now;
    this.lastCpu = process.cpuUsage();
  }

  progress({ phase, done, total }: ReconcileProgress): void {
    if (phase === 'agreements' && done === total) this.mark('resolve agreements');
    if (phase === 'roles' && done === total) this.mark('read roles');
    if (phase === 'apply') this.mark('plan roles');
  }

  elapsed(): number {
    return performance.now() - this.start;
  }

  cpu(): number {
    const { user, system } = process.cpuUsage(this.startCpu);
    return (user + system) / 1000;
  }

  describe(): string {
    return this.phases
      .map((p) => `${p.name} ${seconds(p.ms)} (CPU ${seconds(p.cpuMs)}, heap ${mib(p.heap)})`)
      .join(', ');
  }
}

/** Counts the client's calls (a listing counts once, however many pages) and times the listings. */
function instrument(ctx: SyncContext, clock: PhaseClock): () => number {
  let calls = 0;
  const dmm = ctx.dmm as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const listings: Record<string, string> = {
    listAgreements: 'list agreements',
    listDataProductsInFull: 'list products',
  };
  for (const name of ['getAgreement', 'getDataProduct', 'getTeam', 'listAgreements', 'listDataProductsInFull']) {
    const original = dmm[name]!.bind(ctx.dmm);
    dmm[name] = async (...args: unknown[]) => {
      calls++;
      const phase = listings[name];
      const result = await original(...args);
      if (phase) clock.mark(phase);
      return result;
    };
  }
  return () => calls;
}
