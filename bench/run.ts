/**
 * Benchmarks: `npm run bench`. Medians over repeated runs in one process, so ratios between
 * rows are comparable; absolute numbers depend on the machine.
 */
import { performance } from 'node:perf_hooks';
import { DmmHttpClient } from '../src/dmm/client.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { FileLakeFormation } from '../src/local/file-lake-formation.js';
import { MemoryAgreementIndex } from '../src/sync/agreement-index.js';
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
import { convergenceSeconds } from './faults.js';
import { activationLatency, quantile } from './latency.js';
import { agreement, consumer, glueProvider, portProvider, s3Provider, uuid } from './mesh.js';
import { startMoto } from './aws.js';
import { largeReconcile } from './large.js';
import { deployedLatency } from './deployed-latency.js';
import { lambdaScenario, useMoto } from './lambda.js';
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
  const kinds = ['s3_bucket', 'glue_table', 'kinesis_stream', 'dynamodb_table', 'msk_topic', 's3_table'] as const;
  for (const kind of kinds) {
    // More than fit, so the number held is the role's capacity for the type.
    const requested = kind === 's3_bucket' || kind === 'glue_table' ? 120 : 250;
    const provider = (id: string) =>
      kind === 'glue_table' ? glueProvider(id) : kind === 's3_bucket' ? s3Provider(id) : portProvider(kind, id);
    const sim = await startSimulator({
      port: 0,
      mesh: {
        dataProducts: [
          consumer('consumer', 'consumer-role'),
          ...Array.from({ length: requested }, (_, i) => provider(`p${i}`)),
        ],
        agreements: Array.from({ length: requested }, (_, i) => agreement(uuid(i), `p${i}`, 'consumer', true)),
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
      `capacity: ${kind} agreements (UUID ids) on one role (of ${requested} requested)`,
      `${held} (inline ${inline} chars, ${state.packs.filter((p) => p.kind === 'managed').length} managed packs)`,
    );
    await sim.close();
  }
}

async function lakeFormationCapacity() {
  // Lake Formation-governed Glue tables: the identity side is the same for every table of a
  // catalog, stored once per role (docs/adr/0011-shared-statements.md), so the role is not the limit.
  const count = 600;
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        consumer('consumer', 'consumer-role'),
        ...Array.from({ length: count }, (_, i) => glueProvider(`p${i}`)),
      ],
      agreements: Array.from({ length: count }, (_, i) => agreement(uuid(i), `p${i}`, 'consumer', true)),
    },
  });
  const iam = new FileIamAccount();
  await iam.createRole('consumer-role');
  const lakeFormation = new FileLakeFormation();
  for (let i = 0; i < count; i++) {
    await lakeFormation.addDatabase(iam.accountId, 'eu-central-1', `db_p${i}`);
    await lakeFormation.addTable(iam.accountId, 'eu-central-1', `db_p${i}`, `table_p${i}`);
  }
  const base = context(sim.url, sim.apiKey, iam);
  const ctx: SyncContext = {
    ...base,
    resolve: { ...base.resolve, glueTablesGovernedBy: 'lake-formation' },
    lakeFormation,
    agreementIndex: new MemoryAgreementIndex(),
  };
  const start = performance.now();
  const result = await reconcileAll(ctx);
  const ms = performance.now() - start;
  const held = result.outcomes.filter((o) => o.decision === 'grant' && o.effect === 'granted').length;
  const state = await readRoleState(iam, (await iam.getRole('consumer-role'))!);
  const inline = (await iam.listInlinePolicies('consumer-role')).reduce((n, p) => n + iamCharacterCount(p.document), 0);
  row(
    `capacity: glue_table under Lake Formation (UUID ids) on one role (of ${count} requested)`,
    `${held} (inline ${inline} chars, ${state.packs.filter((p) => p.kind === 'managed').length} managed packs; full reconcile ${ms.toFixed(0)} ms)`,
  );
  await sim.close();
}

function context(url: string, apiKey: string, iam: FileIamAccount): SyncContext {
  return {
    // A long planning pause can outlast the simulator's keep-alive, and a reused socket is then
    // reset: a retry answers it, as in the CLI.
    dmm: new DmmHttpClient({ baseUrl: url, apiKey, maxAttempts: 3 }),
    iam,
    log: silentLogger,
    // Ownership proof on (the default), passed by the operator's allow-list for the providers' team.
    guardrails: guardrailsFrom(iam.accountId, {
      ownershipAllowList: [
        {
          team: 'providers',
          resources: [
            'arn:aws:s3:::bench-*',
            'arn:aws:glue:eu-central-1:123456789012:table/*',
            'arn:aws:kinesis:eu-central-1:123456789012:stream/bench-*',
            'arn:aws:dynamodb:eu-central-1:123456789012:table/bench-*',
            'arn:aws:kafka:eu-central-1:123456789012:topic/bench/*',
            'arn:aws:s3tables:eu-central-1:123456789012:bucket/bench-*',
          ],
        },
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

async function convergenceUnderFaults() {
  // bench/faults.ts: the daemon through a seeded burst of 150 transitions, with and without faults.
  const runs = Number(process.env.BENCH_FAULT_RUNS ?? 3);
  const median = (values: number[]) =>
    values.length ? `${[...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1)} s` : 'n/a';
  for (const withFaults of [false, true]) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await convergenceSeconds(withFaults, 1000 + i));
    const drained = results.flatMap((r) => (r.drained === undefined ? [] : [r.drained]));
    const converged = results.flatMap((r) => (r.converged === undefined ? [] : [r.converged]));
    const label = withFaults ? 'with faults (issue 10 mix)' : 'no faults';
    row(
      `daemon after a 150-transition burst, ${label}: all events handled (median of ${runs})`,
      `${median(drained)} (${drained.length}/${runs} runs)`,
    );
    row(
      `daemon after a 150-transition burst, ${label}: IAM = active set (median of ${runs})`,
      `${median(converged)} (${converged.length}/${runs} runs)`,
    );
    const d = results.map((r) => r.diagnostics);
    const mid = (pick: (x: (typeof d)[number]) => number) => [...d.map(pick)].sort((a, b) => a - b)[d.length >> 1] ?? 0;
    row(
      `daemon after a 150-transition burst, ${label}: where the time went (median of ${runs})`,
      `${mid((x) => x.requests)} requests, ${mid((x) => x.hangs)} hangs, ${mid((x) => x.retries)} HTTP retries waiting ${(mid((x) => x.retryWaitMs) / 1000).toFixed(1)} s, ${mid((x) => x.failedPasses)} failed passes pausing ${(mid((x) => x.passBackoffMs) / 1000).toFixed(1)} s, ${mid((x) => x.eventRetries)} event retries`,
    );
  }
}

async function latency() {
  // bench/latency.ts: `dmm-aws run` as the CLI wires it, with its default poll interval (or
  // BENCH_LATENCY_INTERVAL seconds), approvals at random moments.
  const activations = Number(process.env.BENCH_LATENCY_ACTIVATIONS ?? 40);
  const interval = process.env.BENCH_LATENCY_INTERVAL;
  const result = await activationLatency({
    activations,
    windowMs: activations * 500,
    ...(interval ? { intervalSeconds: Number(interval) } : {}),
  });
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  row(
    `dmm-aws run, ${activations} activations at random moments, poll every ${result.intervalSeconds} s: activation → policy`,
    `median ${s(quantile(result.samples, 0.5))}, p95 ${s(quantile(result.samples, 0.95))}, max ${s(result.samples.at(-1)!)}`,
  );
}

async function lambdaPipeline() {
  // The issue-11 scenario: 200 activations on 20 roles through the Lambda handlers, moto and the
  // simulator in the 2024-11 API mode (no provisioning endpoints), one process-events container.
  const moto = await startMoto();
  useMoto(moto);
  try {
    // The 2024-11 API is the issue's scenario; 10 events a batch is what the SQS event source
    // alone hands over, 100 the deployed default (process-events receives the rest itself).
    const runs = [
      { generation: 'datausageagreements', maxBatchEvents: 10 },
      { generation: 'datausageagreements', maxBatchEvents: 100 },
      { generation: 'access', maxBatchEvents: 100 },
    ] as const;
    const queueMs: number[] = [];
    for (const { generation, maxBatchEvents } of runs) {
      const r = await lambdaScenario(moto, { activations: 200, roles: 20, processors: 1, generation, maxBatchEvents });
      queueMs.push(r.queueMs);
      const label = `lambda (${generation === 'access' ? '2026-07 API' : '2024-11 API'}, batches of ${maxBatchEvents}), 200 activations / 20 roles`;
      row(`${label}: poll-feed`, `${r.pollMs.toFixed(0)} ms`);
      row(
        `${label}: queue-processing phase`,
        `${r.queueMs.toFixed(0)} ms (${r.batches} batches incl. echoes); CPU: node ${r.queueCpu.node.toFixed(1)} s, moto ${r.queueCpu.moto?.toFixed(1) ?? 'n/a'} s`,
      );
      row(
        `${label}: AWS calls in that phase (count, total answer time)`,
        r.queueCalls
          .slice(0, 8)
          .map((c) => `${c.key} ${c.count} ${(c.ms / 1000).toFixed(1)} s`)
          .join(', '),
      );
      row(`${label}: echo pass (poll + process our write-back's events)`, `${r.echoMs.toFixed(0)} ms`);
      row(
        `${label}: DMM requests per activation`,
        `${r.dmmPerActivation.toFixed(2)} (${Object.entries(r.dmmBreakdown)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
      );
      row(
        `${label}: IAM reads / writes`,
        `${r.iamReads} / ${r.iamWrites}; per role per batch: reads mean ${r.meanReadsPerRoleBatch.toFixed(1)} max ${r.maxReadsPerRoleBatch}, writes max ${r.maxWritesPerRoleBatch}`,
      );
      row(`${label}: replay of the same events`, `${r.replayWrites} IAM writes, ${r.replayMs.toFixed(0)} ms`);
    }
    row(
      'lambda (2024-11 API): queue-processing phase, batches of 10 ÷ batches of 100',
      `${(queueMs[0]! / queueMs[1]!).toFixed(2)}×`,
    );
  } finally {
    await moto.close();
  }
}

async function scaleOut() {
  // Issue 11, scale out: 2,000 activations on 200 roles through process-events, 1 container
  // against 4 side by side (reserved concurrency 4), each role written under its S3 lease. One
  // machine runs everything: the handlers and the simulator in this process, moto in one python
  // process, so the CPU seconds of each say where the time goes.
  const activations = Number(process.env.BENCH_SCALEOUT_ACTIVATIONS ?? 2_000);
  const roles = Math.max(1, Math.floor(activations / 10));
  const moto = await startMoto();
  useMoto(moto);
  try {
    const wall: Record<number, number> = {};
    for (const processors of [1, 4]) {
      const r = await lambdaScenario(moto, { activations, roles, processors, replay: false });
      wall[processors] = r.queueMs;
      const label = `scale-out, ${activations.toLocaleString('en')} activations / ${roles} roles, ${processors} process-events`;
      row(
        `${label}: queue-processing phase`,
        `${(r.queueMs / 1000).toFixed(1)} s (${r.batches} batches incl. echoes, ${r.failedRecords} records retried); CPU: node ${r.queueCpu.node.toFixed(1)} s, moto ${r.queueCpu.moto?.toFixed(1) ?? 'n/a'} s`,
      );
      row(`${label}: echo pass`, `${(r.echoMs / 1000).toFixed(1)} s`);
      row(
        `${label}: IAM writes, most per role and batch; roles granted`,
        `${r.iamWrites}, ${r.maxWritesPerRoleBatch}; ${r.grantedRoles}/${roles}`,
      );
    }
    row(`scale-out: queue-processing phase, 1 ÷ 4 process-events (target ≥ 3)`, `${(wall[1]! / wall[4]!).toFixed(2)}×`);
  } finally {
    await moto.close();
  }
}

/** BENCH=lambda,pipeline runs only those sections; the default runs all but the slow ones. */
const sections: Record<string, () => Promise<void>> = {
  capacity,
  lakeFormationCapacity,
  planning,
  fullReconcile,
  pipeline,
  lambda: lambdaPipeline,
  scaleout: scaleOut,
  large: () => largeReconcile(row),
  deployedLatency: () => deployedLatency(row),
  faults: convergenceUnderFaults,
  latency,
  report: () => reportBenchmark(row),
};
const chosen = (
  process.env.BENCH ??
  'capacity,lakeFormationCapacity,planning,fullReconcile,pipeline,report,lambda,deployedLatency,faults,latency'
).split(',');
process.stdout.write(`dmm-aws benchmarks — node ${process.version}, ${new Date().toISOString()}\n\n`);
for (const name of chosen) {
  const section = sections[name.trim()];
  if (!section) throw new Error(`unknown bench section '${name}'; known: ${Object.keys(sections).join(', ')}`);
  await section();
}
