/**
 * Activation → policy latency of the deployed pipeline, on a simulated clock (issue 11):
 *
 *   EventBridge tick → poll-feed invocation → polls every poll_repeat_seconds until the time
 *   budget is nearly spent → SQS FIFO → event source mapping → process-events → policy written
 *
 * The schedule, repeat interval, timeout and memory are the Terraform module's defaults, read
 * from terraform/variables.tf; the stop rule and its safety margin are poll-feed's own
 * (src/lambda/poll-feed.ts). How long a poll and a process-events invocation take is measured
 * here, through the real handlers against the simulator and moto (bench/lambda.ts). Two delays
 * no code sets are assumptions, printed with the result: how late a scheduled invocation starts,
 * and how soon the event source mapping hands a queued message to process-events.
 *
 * Activations happen at random times over simulated hours; each waits for the first poll that
 * starts after it, then that poll's queueing, the pickup and one process-events invocation.
 * Activations are assumed sparse (no batch waits for another): a burst is the throughput
 * benchmarks' subject. Also reports poll-feed's billed time and the Lambda cost per month.
 */
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';
import { SAFETY_MARGIN_MS } from '../src/lambda/poll-feed.js';
import { startMoto } from './aws.js';
import { lambdaScenario, useMoto } from './lambda.js';

type Row = (name: string, value: string) => void;

/** The deployed defaults the latency depends on, from the module's variables. */
export interface DeployedDefaults {
  pollPeriodMs: number;
  pollRepeatMs: number;
  pollTimeoutMs: number;
  pollMemoryMb: number;
  processMemoryMb: number;
  /** The functions' architecture (terraform/lambda.tf), which sets the price. */
  architecture: keyof typeof USD_PER_GB_SECOND;
}

/** Lambda prices, first tier, us-east-1 and eu-central-1 (aws.amazon.com/lambda/pricing, 2026). */
const USD_PER_GB_SECOND = { arm64: 0.0000133334, x86_64: 0.0000166667 } as const;
const USD_PER_MILLION_REQUESTS = 0.2;
const MONTH_MS = 30 * 24 * 3600_000;

export async function readDeployedDefaults(
  file = new URL('../terraform/variables.tf', import.meta.url),
): Promise<DeployedDefaults> {
  const hcl = (await parse('variables.tf', readFileSync(file, 'utf8'))) as {
    variable: Record<string, [{ default?: unknown }]>;
  };
  const value = (name: string) => {
    const found = hcl.variable[name]?.[0]?.default;
    if (found === undefined) throw new Error(`terraform/variables.tf: variable ${name} has no default`);
    return found;
  };
  return {
    pollPeriodMs: rateMs(String(value('poll_schedule_expression'))),
    pollRepeatMs: Number(value('poll_repeat_seconds')) * 1000,
    pollTimeoutMs: Number(value('poll_feed_timeout_seconds')) * 1000,
    pollMemoryMb: Number(value('poll_feed_memory_mb')),
    processMemoryMb: Number(value('process_events_memory_mb')),
    architecture: await readArchitecture(new URL('lambda.tf', file)),
  };
}

async function readArchitecture(file: URL): Promise<DeployedDefaults['architecture']> {
  const hcl = (await parse('lambda.tf', readFileSync(file, 'utf8'))) as {
    resource: { aws_lambda_function: { this: [{ architectures?: string[] }] } };
  };
  const [architecture] = hcl.resource.aws_lambda_function.this[0].architectures ?? ['x86_64'];
  if (architecture !== 'arm64' && architecture !== 'x86_64')
    throw new Error(`terraform/lambda.tf: unknown architecture ${architecture}`);
  return architecture;
}

/** `rate(1 minute)` → 60,000. A cron schedule has no fixed period: this model needs a rate. */
export function rateMs(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`the latency model needs a rate(...) schedule, got ${expression}`);
  const unit = { minute: 60_000, hour: 3600_000, day: 86_400_000 }[m[2]!.replace(/s$/, '') as 'minute'];
  return Number(m[1]) * unit;
}

export interface Timings {
  /** One poll: checkpoint read, feed page(s), SQS sends, checkpoint write. */
  pollMs: number;
  /** One process-events invocation for one activation's events. */
  processMs: number;
  /** Assumption: a scheduled invocation starts up to this late (uniformly). */
  invokeJitterMs: number;
  /** Assumption: a queued message reaches process-events after this long. */
  pickupMs: number;
}

/**
 * The polls of one invocation started at `start`, as poll-feed's loop makes them: poll, wait
 * out the rest of the repeat interval, and stop when the time left after the wait would be
 * within the safety margin (or at once without a repeat interval).
 */
export function pollStarts(start: number, defaults: DeployedDefaults, pollMs: number): number[] {
  // In whole milliseconds from the invocation's start, as the handler's Date.now() sees them.
  const duration = Math.round(pollMs);
  const offsets: number[] = [];
  let t = 0;
  for (;;) {
    offsets.push(t);
    const end = t + duration;
    if (defaults.pollRepeatMs === 0) break;
    const wait = Math.max(0, defaults.pollRepeatMs - duration);
    if (defaults.pollTimeoutMs - end - SAFETY_MARGIN_MS - wait <= 0) break;
    t = end + wait;
  }
  return offsets.map((offset) => start + offset);
}

export interface LatencyResult {
  p50: number;
  p95: number;
  max: number;
  pollsPerInvocation: number;
  /** Billed duration of one poll-feed invocation. */
  billedMs: number;
}

/** Seeded, so two runs of the bench model the same activations. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulateLatency(
  defaults: DeployedDefaults,
  timings: Timings,
  { activations = 100_000, hours = 24, seed = 11 } = {},
): LatencyResult {
  const rand = random(seed);
  const horizon = hours * 3600_000;
  // Every poll of every invocation over the horizon (and one period beyond, for the last activations).
  const polls: number[] = [];
  let billed = 0;
  let invocations = 0;
  for (let tick = 0; tick <= horizon + defaults.pollPeriodMs; tick += defaults.pollPeriodMs) {
    const starts = pollStarts(tick + rand() * timings.invokeJitterMs, defaults, timings.pollMs);
    polls.push(...starts);
    billed += starts.at(-1)! + timings.pollMs - starts[0]!;
    invocations++;
  }
  const latencies = Array.from({ length: activations }, () => {
    // After the first invocation, so every activation has a poll before and after it.
    const at = defaults.pollPeriodMs + rand() * (horizon - defaults.pollPeriodMs);
    const poll = polls[firstAtOrAfter(polls, at)]!;
    return poll - at + timings.pollMs + timings.pickupMs + timings.processMs;
  }).sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    p50: pick(0.5),
    p95: pick(0.95),
    max: latencies.at(-1)!,
    pollsPerInvocation: pollStarts(0, defaults, timings.pollMs).length,
    billedMs: billed / invocations,
  };
}

function firstAtOrAfter(sorted: number[], at: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lambda cost per month of poll-feed at the defaults, and of process-events per 1,000 activations. */
export function monthlyCost(defaults: DeployedDefaults, result: LatencyResult, processMs: number) {
  const invocations = MONTH_MS / defaults.pollPeriodMs;
  const gbSeconds = (invocations * Math.ceil(result.billedMs) * defaults.pollMemoryMb) / 1024 / 1000;
  const price = USD_PER_GB_SECOND[defaults.architecture];
  const pollUsd = gbSeconds * price + (invocations / 1e6) * USD_PER_MILLION_REQUESTS;
  const per1000Usd =
    ((1000 * Math.ceil(processMs) * defaults.processMemoryMb) / 1024 / 1000) * price +
    (1000 / 1e6) * USD_PER_MILLION_REQUESTS;
  return { invocations, gbSeconds, pollUsd, per1000Usd };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Measures a poll and one activation's process-events invocation through the real handlers, then models. */
export async function deployedLatency(row: Row): Promise<void> {
  const defaults = await readDeployedDefaults();
  const runs = Number(process.env.BENCH_LATENCY_RUNS ?? 5);
  const polls: number[] = [];
  const batches: number[] = [];
  const moto = await startMoto();
  useMoto(moto);
  try {
    for (let i = 0; i < runs; i++) {
      const r = await lambdaScenario(moto, {
        activations: 1,
        roles: 1,
        processors: 1,
        generation: 'access',
        onBatch: (ms, delivery) => {
          if (delivery === 'activations') batches.push(ms);
        },
      });
      polls.push(r.pollMs);
    }
  } finally {
    await moto.close();
  }
  const timings: Timings = {
    pollMs: median(polls),
    processMs: median(batches),
    invokeJitterMs: Number(process.env.BENCH_INVOKE_JITTER_MS ?? 1000),
    pickupMs: Number(process.env.BENCH_SQS_PICKUP_MS ?? 1000),
  };
  row(
    'deployed latency model: inputs',
    `schedule every ${s(defaults.pollPeriodMs)}, repeat ${s(defaults.pollRepeatMs)}, timeout ${s(defaults.pollTimeoutMs)}, ` +
      `safety margin ${s(SAFETY_MARGIN_MS)} (terraform/variables.tf, poll-feed.ts); measured (median of ${runs}, moto): ` +
      `poll ${timings.pollMs.toFixed(0)} ms, process-events ${timings.processMs.toFixed(0)} ms per activation batch; ` +
      `assumed: invocation starts ≤ ${s(timings.invokeJitterMs)} late, SQS → process-events ${s(timings.pickupMs)}`,
  );
  const result = simulateLatency(defaults, timings);
  row(
    'deployed latency: activation → policy, deployed defaults (100,000 activations over 24 h)',
    `p50 ${s(result.p50)}, p95 ${s(result.p95)}, max ${s(result.max)} (${result.pollsPerInvocation} polls per invocation, last one ${s(pollStarts(0, defaults, timings.pollMs).at(-1)!)} after its start)`,
  );
  // Real IAM answers slower than moto: how long may process-events take before p95 passes 10 s?
  const slack = 10_000 - result.p95;
  row(
    'deployed latency: p95 budget left for slower AWS calls',
    slack >= 0
      ? `${s(slack)} (p95 stays ≤ 10 s while process-events takes ≤ ${s(timings.processMs + slack)})`
      : `none: p95 exceeds 10 s by ${s(-slack)}`,
  );
  // The poll loop stops a safety margin before the timeout, leaving the rest of the minute
  // unpolled. Over 10 s: the smallest timeout (in steps of 5 s) that brings p95 to 10 s, with its cost.
  const longest = defaults.pollPeriodMs + 2 * SAFETY_MARGIN_MS;
  for (let timeout = defaults.pollTimeoutMs + 5_000; result.p95 > 10_000 && timeout <= longest; timeout += 5_000) {
    const longer = { ...defaults, pollTimeoutMs: timeout };
    const r = simulateLatency(longer, timings);
    if (r.p95 > 10_000 && timeout + 5_000 <= longest) continue;
    row(
      `deployed latency: the same with poll_feed_timeout_seconds = ${timeout / 1000}`,
      `p50 ${s(r.p50)}, p95 ${s(r.p95)}, max ${s(r.max)}; poll-feed ${monthlyCost(longer, r, timings.processMs).pollUsd.toFixed(2)} USD a month`,
    );
    break;
  }
  if (defaults.pollTimeoutMs !== defaults.pollPeriodMs) {
    const even = { ...defaults, pollTimeoutMs: defaults.pollPeriodMs };
    const r = simulateLatency(even, timings);
    row(
      `deployed latency: the same with poll_feed_timeout_seconds = ${even.pollTimeoutMs / 1000} (the schedule's period)`,
      `p50 ${s(r.p50)}, p95 ${s(r.p95)}, max ${s(r.max)}; poll-feed ${monthlyCost(even, r, timings.processMs).pollUsd.toFixed(2)} USD a month`,
    );
  }
  const once = simulateLatency({ ...defaults, pollRepeatMs: 0 }, timings);
  row(
    'deployed latency: the same with poll_repeat_seconds = 0 (poll once a run)',
    `p50 ${s(once.p50)}, p95 ${s(once.p95)}`,
  );
  const cost = monthlyCost(defaults, result, timings.processMs);
  const onceCost = monthlyCost(defaults, once, timings.processMs);
  row(
    `deployed cost: poll-feed per month at the defaults (${defaults.architecture}, 30 days)`,
    `${cost.pollUsd.toFixed(2)} USD (${cost.invocations.toLocaleString('en')} invocations, billed ${s(result.billedMs)} each, ` +
      `${Math.round(cost.gbSeconds).toLocaleString('en')} GB-s at ${defaults.pollMemoryMb} MB, before the free tier); ` +
      `poll_repeat_seconds = 0: ${onceCost.pollUsd.toFixed(2)} USD; process-events: ${cost.per1000Usd.toFixed(4)} USD per 1,000 activations`,
  );
}
