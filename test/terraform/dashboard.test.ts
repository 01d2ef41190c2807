/**
 * The CloudWatch dashboard (terraform/dashboard.tf) against the code: its body is evaluated by
 * `terraform console` (no providers) with the module's resources substituted from their parsed
 * bodies, and every metric it shows is one the functions emit (same namespace, same dimensions
 * as Powertools writes them, emitted by the function named) or one AWS publishes for the
 * module's own queues and functions. Each alarm's threshold is drawn on its metric's widget.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, SyncMetrics, type CountMetric } from '../../src/lambda/metrics.js';
import { loadModule, MODULE_DIR, resource, ROOT, terraformBinary, type Body, type TfModule } from './module.js';

const REGION = 'eu-central-1';
const FUNCTION_FILES = {
  poll_feed: 'src/lambda/poll-feed.ts',
  process_events: 'src/lambda/process-events.ts',
  reconcile: 'src/lambda/reconcile.ts',
} as const;
type FunctionKey = keyof typeof FUNCTION_FILES;

/** What AWS publishes for SQS queues and Lambda functions that the dashboard may show. */
const AWS_METRICS = {
  'AWS/SQS': {
    dimension: 'QueueName',
    metrics: ['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'NumberOfMessagesDeleted'],
  },
  'AWS/Lambda': { dimension: 'FunctionName', metrics: ['Errors', 'Throttles', 'Duration', 'Invocations'] },
} as const;

interface MetricLine {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}
interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    region?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: { label: string; value: number }[] };
  };
}

let mod: TfModule;

/** The dashboard body as deployed with `vars`, evaluated by terraform. */
function dashboard(vars: Record<string, unknown> = {}): { widgets: Widget[] } {
  // A template from hcl2json stays a template: quotes inside ${...} are not escaped in HCL.
  const hcl = (value: unknown) =>
    typeof value === 'string' && value.includes('${') ? `"${value}"` : JSON.stringify(value);
  const alarm = (address: string) => {
    const body = resource(mod, address);
    return `{ alarm_name = ${hcl(body.alarm_name)}, threshold = ${hcl(body.threshold)} }`;
  };
  const functionAlarms = Object.keys(FUNCTION_FILES)
    .map((key) => `${key} = ${alarm(`aws_cloudwatch_metric_alarm.function_errors["${key}"]`)}`)
    .join(', ');
  const refs =
    `{ events_queue = ${hcl(resource(mod, 'aws_sqs_queue.events').name)}, ` +
    `dead_letter_queue = ${hcl(resource(mod, 'aws_sqs_queue.dead_letter').name)}, ` +
    `queue_backlog = ${alarm('aws_cloudwatch_metric_alarm.queue_backlog')}, ` +
    `dead_letters = ${alarm('aws_cloudwatch_metric_alarm.dead_letters')}, ` +
    `outages = ${alarm('aws_cloudwatch_metric_alarm.outages')}, ` +
    `function_errors = { ${functionAlarms} } }`;
  const body = /^\$\{([\s\S]*)\}$/.exec(String(mod.locals.dashboard_body))![1]!;
  const functionNames = Object.entries(mod.locals.function_names as Record<string, string>)
    .map(([key, name]) => `${key} = ${hcl(name)}`)
    .join('\n');
  // dashboard.tf's locals next to variables.tf, with its resource references as evaluated values.
  const locals = [
    'locals {',
    `function_names = {\n${functionNames}\n}`,
    `region = ${hcl(REGION)}`,
    `dashboard_refs = ${refs}`,
    `dashboard_lambda_widgets = ${hcl(mod.locals.dashboard_lambda_widgets)}`,
    `dashboard_body = ${body}`,
    '}',
  ].join('\n');
  return JSON.parse(evaluate(locals, 'local.dashboard_body', vars) as string);
}

/** `expression` in `terraform console` next to variables.tf and `tf` (no providers needed). */
function evaluate(tf: string, expression: string, vars: Record<string, unknown>): unknown {
  const binary = terraformBinary();
  if (!binary)
    throw new Error('terraform is not on PATH: the dashboard test evaluates its body with `terraform console`');
  const dir = mkdtempSync(join(tmpdir(), 'dmm-aws-dashboard-'));
  try {
    copyFileSync(join(MODULE_DIR, 'variables.tf'), join(dir, 'variables.tf'));
    writeFileSync(join(dir, 'dashboard.tf'), tf);
    writeFileSync(join(dir, 'test.tfvars.json'), JSON.stringify(vars));
    const run = spawnSync(binary, ['console', '-var-file=test.tfvars.json'], {
      cwd: dir,
      input: `jsonencode(${expression})\n`,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', NO_COLOR: '1' },
    });
    if (run.status !== 0 || /Error: /.test(run.stderr)) throw new Error(`terraform console failed:\n${run.stderr}`);
    // Console prints jsonencode's result as a quoted string: unquote, then decode.
    return JSON.parse(JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every metric row of a widget, read as CloudWatch reads it: [namespace, name, dim, value, ..., options?]. */
function linesOf(widget: Widget): MetricLine[] {
  return (widget.properties.metrics ?? []).map((row) => {
    const values = row.filter((v): v is string => typeof v === 'string');
    const [namespace, name, ...pairs] = values;
    expect(pairs.length % 2, `dimension pairs of ${JSON.stringify(row)}`).toBe(0);
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
    return { namespace: namespace!, name: name!, dimensions };
  });
}

/** The EMF document Powertools writes for one metric of a function, as the functions set it up. */
function emitted(namespace: string, service: string, name: keyof typeof METRIC): Record<string, unknown> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const metrics = new SyncMetrics(new Metrics({ namespace, serviceName: service }), []);
    if (name === 'FeedLagSeconds') metrics.feedLag(5);
    else metrics.count(name as CountMetric);
    metrics.publish();
  } finally {
    process.stdout.write = write;
  }
  const documents = lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((d) => '_aws' in d);
  expect(documents).toHaveLength(1);
  return documents[0]!;
}

beforeAll(async () => {
  mod = await loadModule();
});

describe('the CloudWatch dashboard', () => {
  it('is created by default, switched off by dashboard_enabled, with the provider schema arguments', () => {
    const board = resource(mod, 'aws_cloudwatch_dashboard.this');
    expect(board.count).toBe('${var.dashboard_enabled ? 1 : 0}');
    const variable = mod.variables.get('dashboard_enabled')!;
    expect(variable).toMatchObject({ type: '${bool}', default: true, nullable: false });
    expect(String(variable.description)).toMatch(/CloudWatch dashboard/);
    const args = Object.keys(board).filter((k) => k !== 'count');
    // aws_cloudwatch_dashboard's arguments in the AWS provider 6.25 schema (region is optional).
    expect(args.sort()).toEqual(['dashboard_body', 'dashboard_name']);
    expect(board.dashboard_body).toBe('${local.dashboard_body}');
    expect(mod.outputs.get('dashboard_name')?.value).toBe('${one(aws_cloudwatch_dashboard.this[*].dashboard_name)}');
  });

  it("takes the queues' names and the alarms from the module's resources", () => {
    const refs = mod.locals.dashboard_refs as Body;
    expect(refs.events_queue).toBe('${aws_sqs_queue.events.name}');
    expect(refs.dead_letter_queue).toBe('${aws_sqs_queue.dead_letter.name}');
    for (const name of ['queue_backlog', 'dead_letters', 'outages'])
      expect(refs[name]).toEqual({
        alarm_name: `\${aws_cloudwatch_metric_alarm.${name}.alarm_name}`,
        threshold: `\${aws_cloudwatch_metric_alarm.${name}.threshold}`,
      });
    expect(refs.function_errors).toMatch(/for key, alarm in aws_cloudwatch_metric_alarm\.function_errors :/);
  });

  it('shows only metrics the functions emit, with the namespace and dimensions Powertools writes', () => {
    for (const namespace of ['dmm-aws', 'acme/data-sync']) {
      const { widgets } = dashboard({ metrics_namespace: namespace, name_prefix: 'acme-sync' });
      const functionNames = Object.fromEntries(
        Object.keys(FUNCTION_FILES).map((key) => [`acme-sync-${key.replace('_', '-')}`, key as FunctionKey]),
      );
      const queueNames = ['acme-sync-events.fifo', 'acme-sync-events-dlq.fifo'];
      const lines = widgets.flatMap(linesOf);
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) {
        const where = JSON.stringify(line);
        if (line.namespace === namespace) {
          expect(Object.keys(METRIC), where).toContain(line.name);
          expect(Object.keys(line.dimensions), where).toEqual(['service']);
          const key = functionNames[line.dimensions.service!];
          expect(key, `${where}: service is one of the module's functions`).toBeDefined();
          // Emitted by that function: counted there by name, or through outcomes()/feedLag().
          const source = readFileSync(join(ROOT, FUNCTION_FILES[key!]), 'utf8');
          const via =
            line.name === 'FeedLagSeconds'
              ? '.feedLag('
              : ['Grants', 'Revokes', 'Failures'].includes(line.name)
                ? '.outcomes('
                : `'${line.name}'`;
          expect(source, `${where}: ${FUNCTION_FILES[key!]} emits it`).toContain(via);
          // The real Powertools EMF document of that metric: same namespace, same dimension set.
          const emf = emitted(namespace, line.dimensions.service!, line.name as keyof typeof METRIC);
          const aws = emf._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
          expect(aws.CloudWatchMetrics[0]!.Namespace).toBe(namespace);
          expect(aws.CloudWatchMetrics[0]!.Dimensions).toEqual([Object.keys(line.dimensions)]);
          expect(emf.service).toBe(line.dimensions.service);
          expect(emf[line.name]).toBeDefined();
        } else {
          const known = AWS_METRICS[line.namespace as keyof typeof AWS_METRICS];
          expect(known, `${where}: a namespace the module's resources publish to`).toBeDefined();
          expect(known.metrics as readonly string[], where).toContain(line.name);
          expect(Object.keys(line.dimensions), where).toEqual([known.dimension]);
          const names = line.namespace === 'AWS/SQS' ? queueNames : Object.keys(functionNames);
          expect(names, where).toContain(line.dimensions[known.dimension]);
        }
      }
      expect(widgets.every((w) => w.type === 'text' || w.properties.region === REGION)).toBe(true);
    }
  });

  it('covers the feed, the events, the outcomes, the dead letters, the functions and the IAM writes', () => {
    const { widgets } = dashboard();
    const shown = new Set(widgets.flatMap(linesOf).map((l) => `${l.namespace} ${l.name}`));
    for (const metric of [
      'dmm-aws FeedLagSeconds',
      'dmm-aws EventsRead',
      'dmm-aws EventsQueued',
      'AWS/SQS NumberOfMessagesDeleted',
      'dmm-aws Grants',
      'dmm-aws Revokes',
      'dmm-aws Failures',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'AWS/Lambda Duration',
      'dmm-aws ReconcileChanges',
    ])
      expect(shown).toContain(metric);
    // Widgets fit the 24-column grid and do not overlap.
    const cells = new Set<string>();
    for (const w of widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x++)
        for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`), `widget ${w.properties.title} overlaps`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it("draws every alarm's threshold on the widget that shows the alarm's metric", () => {
    const { widgets } = dashboard();
    const alarms = [...mod.resources].filter(([address]) => address.startsWith('aws_cloudwatch_metric_alarm.'));
    expect(alarms.length).toBe(6);
    for (const [address, alarm] of alarms) {
      const dimensions = Object.fromEntries(
        Object.entries(alarm.dimensions as Record<string, string>).map(([k, v]) => [k, v]),
      );
      const dimension = Object.keys(dimensions)[0]!;
      // The alarm's dimension value as deployed (default name_prefix).
      const deployed =
        dimension === 'QueueName'
          ? address.endsWith('dead_letters')
            ? 'dmm-aws-events-dlq.fifo'
            : 'dmm-aws-events.fifo'
          : `dmm-aws-${/function_names\.(\w+)|\["(\w+)"\]/.exec(`${dimensions[dimension]} ${address}`)!.slice(1).find(Boolean)!.replace('_', '-')}`;
      // The module's own metrics: the namespace variable's default.
      const namespace = alarm.namespace === '${var.metrics_namespace}' ? 'dmm-aws' : alarm.namespace;
      const widget = widgets.find((w) =>
        linesOf(w).some(
          (l) => l.namespace === namespace && l.name === alarm.metric_name && l.dimensions[dimension] === deployed,
        ),
      );
      expect(widget, `${address}: a widget shows ${alarm.metric_name} of ${deployed}`).toBeDefined();
      const name = String(alarm.alarm_name)
        .replace('${var.name_prefix}', 'dmm-aws')
        .replace(/\$\{local\.function_names\["(\w+)"\]\}/, (_, key: string) => `dmm-aws-${key.replace('_', '-')}`);
      expect(widget!.properties.annotations?.horizontal, address).toContainEqual({
        label: `alarm ${name}`,
        value: alarm.threshold,
      });
    }
  });
});
