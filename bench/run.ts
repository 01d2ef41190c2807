/**
 * Benchmarks: `npm run bench`. Medians over repeated runs in one process, so ratios between
 * rows are comparable; absolute numbers depend on the machine.
 */
import { performance } from 'node:perf_hooks';
import { DmmHttpClient } from '../src/dmm/client.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { MemoryFifoQueue } from '../src/local/memory-queue.js';
import { FileCheckpoint } from '../src/local/file-checkpoint.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SyncContext } from '../src/sync/context.js';
import { guardrailsFrom } from '../src/sync/guardrail-settings.js';
import { iamCharacterCount } from '../src/interfaces/iam-account.js';
import { planRole } from '../src/targets/identity-policy/packing.js';
import { drainQueue } from '../src/sync/processor.js';
import { pollFeed } from '../src/sync/poller.js';
import { reconcileAll } from '../src/sync/reconcile.js';
import { readRoleState } from '../src/targets/identity-policy/role-state.js';
import { silentLogger } from '../src/util/log.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreement, consumer, glueProvider, s3Provider, uuid } from './mesh.js';
import { reportBenchmark } from './report.js';

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const rows: [string, string][] = [];
const row = (name: string, value: string) => {
  rows.push([name, value]);
  process.stdout.write(`${name.padEnd(64)} ${value}\n`);
};

async function capacity() {
  // How many agreements of one port type one role holds (inline budget + 10 managed packs).
  for (const kind of ['s3_bucket', 'glue_table'] as const) {
    const sim = await startSimulator({
      port: 0,
      mesh: {
        dataProducts: [
          consumer('consumer', 'consumer-role'),
          ...Array.from({ length: 120 }, (_, i) =>
            kind === 'glue_table' ? glueProvider(`p${i}`) : s3Provider(`p${i}`),
          ),
        ],
        agreements: Array.from({ length: 120 }, (_, i) => agreement(uuid(i), `p${i}`, 'consumer', true)),
      },
    });
    const iam = new FileIamAccount();
    await iam.createRole('consumer-role');
    const ctx = context(sim.url, sim.apiKey, iam);
    const result = await reconcileAll(ctx);
    const held = result.outcomes.filter((o) => o.decision === 'grant').length;
    const state = await readRoleState(iam, (await iam.getRole('consumer-role'))!);
    const inline = (await iam.listInlinePolicies('consumer-role')).reduce(
      (n, p) => n + iamCharacterCount(p.document),
      0,
    );
    row(
      `capacity: ${kind} agreements (UUID ids) on one role (of 120 requested)`,
      `${held} (inline ${inline} chars, ${state.packs.filter((p) => p.kind === 'managed').length} managed packs)`,
    );
    await sim.close();
  }
}

function context(url: string, apiKey: string, iam: FileIamAccount): SyncContext {
  return {
    dmm: new DmmHttpClient({ baseUrl: url, apiKey, maxAttempts: 1 }),
    iam,
    log: silentLogger,
    // Ownership proof on (the default), passed by the operator's allow-list for the providers' team.
    guardrails: guardrailsFrom(iam.accountId, {
      ownershipAllowList: [
        { team: 'providers', resources: ['arn:aws:s3:::bench-*', 'arn:aws:glue:eu-central-1:123456789012:table/*'] },
      ],
    }),
    resolve: {
      accountId: iam.accountId,
      defaultRegion: 'eu-central-1',
      athenaQueryResultsLocation: 's3://results-bucket/athena/',
    },
  };
}

async function planning() {
  // One event's planning on a role that already holds 50 mixed agreements.
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        consumer('consumer', 'consumer-role'),
        ...Array.from({ length: 51 }, (_, i) => (i % 2 ? glueProvider(`p${i}`) : s3Provider(`p${i}`))),
      ],
      agreements: Array.from({ length: 51 }, (_, i) => agreement(`a${i}`, `p${i}`, 'consumer', i < 50)),
    },
  });
  const iam = new FileIamAccount();
  await iam.createRole('consumer-role');
  const ctx = context(sim.url, sim.apiKey, iam);
  await reconcileAll(ctx);
  const role = (await iam.getRole('consumer-role'))!;
  const state = await readRoleState(iam, role);
  const statements = state.packs.flatMap((p) => [...p.blocks.values()])[0]!.map(({ Sid: _s, ...rest }) => rest);
  const planMs = await median(200, async () =>
    planRole({ state, desired: new Map([['a50', statements]]), scope: new Set(['a50']) }),
  );
  row('planRole: add 1 agreement to a role holding 50 (median)', `${planMs.toFixed(3)} ms`);
  const readMs = await median(50, () => readRoleState(iam, role));
  row('readRoleState of that role from the local stand-in (median)', `${readMs.toFixed(3)} ms`);
  await sim.close();
}

async function fullReconcile() {
  // Dry-run full reconcile of 1,000 agreements (500 active) over HTTP against the simulator.
  const products = Array.from({ length: 100 }, (_, i) => (i % 2 ? glueProvider(`p${i}`) : s3Provider(`p${i}`)));
  const consumers = Array.from({ length: 20 }, (_, i) => consumer(`c${i}`, `role-${i}`));
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [...consumers, ...products],
      agreements: Array.from({ length: 1_000 }, (_, i) => agreement(`a${i}`, `p${i % 100}`, `c${i % 20}`, i % 2 === 0)),
    },
  });
  const iam = new FileIamAccount();
  for (let i = 0; i < 20; i++) await iam.createRole(`role-${i}`);
  const ctx = context(sim.url, sim.apiKey, iam);
  const planMs = await median(5, () => reconcileAll(ctx, { dryRun: true }));
  row('full reconcile, dry run: 1,000 agreements, 20 roles (median)', `${planMs.toFixed(0)} ms`);
  const applyStart = performance.now();
  const applied = await reconcileAll(ctx);
  row(
    'full reconcile, apply from empty: 1,000 agreements, 20 roles',
    `${(performance.now() - applyStart).toFixed(0)} ms, ${applied.changes.length} IAM writes`,
  );
  const convergedMs = await median(5, () => reconcileAll(ctx));
  row('full reconcile, apply when converged (median, 0 writes expected)', `${convergedMs.toFixed(0)} ms`);
  const rss = process.memoryUsage().rss / 1024 / 1024;
  row('resident memory after the reconcile benchmarks', `${rss.toFixed(0)} MiB`);
  await sim.close();
}

async function pipeline() {
  // Events through poll → FIFO queue → core → local IAM → write-back, end to end over HTTP.
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        consumer('consumer', 'consumer-role'),
        ...Array.from({ length: 40 }, (_, i) => s3Provider(`p${i}`)),
      ],
      agreements: Array.from({ length: 40 }, (_, i) => agreement(`a${i}`, `p${i}`, 'consumer', false)),
    },
  });
  const work = await mkdtemp(join(tmpdir(), 'dmm-aws-bench-'));
  const iam = new FileIamAccount();
  await iam.createRole('consumer-role');
  const ctx = context(sim.url, sim.apiKey, iam);
  const queue = new MemoryFifoQueue();
  const checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
  await pollFeed({ dmm: ctx.dmm, queue, checkpoint, log: silentLogger });
  await drainQueue(ctx, queue);
  for (let i = 0; i < 40; i++) sim.approve(`a${i}`);
  const start = performance.now();
  await pollFeed({ dmm: ctx.dmm, queue, checkpoint, log: silentLogger });
  const stats = await drainQueue(ctx, queue);
  const ms = performance.now() - start;
  row(
    `pipeline: ${stats.processed} events (40 activations) to converged IAM + write-back`,
    `${ms.toFixed(0)} ms (${((stats.processed / ms) * 1000).toFixed(0)} events/s, ${(ms / 40).toFixed(1)} ms per activation)`,
  );
  await sim.close();
  await rm(work, { recursive: true, force: true });
}

process.stdout.write(`dmm-aws benchmarks — node ${process.version}, ${new Date().toISOString()}\n\n`);
await capacity();
await planning();
await fullReconcile();
await pipeline();
await reportBenchmark(row);
