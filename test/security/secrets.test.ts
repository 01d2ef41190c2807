/**
 * Secret hygiene: with a distinctive API key, a full run — poll, drain with failures and dead
 * letters, full reconcile, plan JSON, CLI error paths, report-back to Data Mesh Manager, and the
 * Lambda handlers logging through Powertools — never shows the key (or any 12-character piece
 * of it) in a log line, an error message, plan output, a dead-letter record, or anything written
 * back to Data Mesh Manager.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { MemoryFifoQueue } from '../../src/local/memory-queue.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { pollFeed } from '../../src/sync/poller.js';
import { drainQueue } from '../../src/sync/processor.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { errorMessage } from '../../src/util/errors.js';
import { memoryLogger } from '../../src/util/log.js';
import { ACCOUNT, MemoryCheckpoint, agreement, consumerProduct, dpsProduct, s3BucketPort } from '../e2e/harness.js';
import * as lambda from '../lambda/helpers.js';

/** Distinctive, and long enough that any 12-character piece of it is unmistakable. */
const KEY = 'dmmKEY_7Qx9Lr2Vb8Nc4Hw6Jt1Pz3Fm5Sd0Gk';

/** Fails when the key, or any 12-character piece of it, appears in `text`. */
function expectNoKey(what: string, text: string): void {
  expect(text.length, `${what} is empty: the check would prove nothing`).toBeGreaterThan(0);
  for (let i = 0; i + 12 <= KEY.length; i++) {
    const piece = KEY.slice(i, i + 12);
    if (text.includes(piece))
      throw new Error(`${what} contains a piece of the API key ("${piece}") at ${text.indexOf(piece)}`);
  }
}

const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;
const run = promisify(execFile);

async function cli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'debug', NO_COLOR: '1', DMM_API_KEY: KEY, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A server that answers every request with an error echoing the API key it was sent. */
async function echoingServer(
  body: (key: string) => { status: number; type: string; text: string },
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const key = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '');
    const answer = body(key);
    res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const mesh = {
  dataProducts: [
    dpsProduct('orders', {
      ports: [
        s3BucketPort('orders-s3', 'acme-orders'),
        s3BucketPort('orders-all', '*'),
        s3BucketPort('orders-flaky', 'acme-flaky'),
      ],
    }),
    dpsProduct('flaky', { ports: [s3BucketPort('flaky-s3', 'acme-flaky')] }),
    consumerProduct(),
    consumerProduct('admin', { 'aws-role-name': 'OrganizationAccountAccessRole' }),
  ],
  agreements: [
    agreement('agr-ok', 'orders', 'orders-s3', { active: true }),
    agreement('agr-wildcard', 'orders', 'orders-all', { active: true }),
    agreement('agr-admin', 'orders', 'orders-s3', { consumer: 'admin', active: true }),
    agreement('agr-flaky', 'flaky', 'flaky-s3', { active: true }),
  ],
};

describe('the API key never leaks', () => {
  it('core: poll, drain with failures and dead letters, full reconcile, plan, report-back', async () => {
    const sim = await startSimulator({ port: 0, mesh, apiKey: KEY });
    closers.push(() => sim.close());
    const closed = await echoingServer(() => ({ status: 200, type: 'application/json', text: '{}' }));
    const deadUrl = closed.url;
    await new Promise((resolve) => closed.server.close(resolve));

    const client = () =>
      new DmmHttpClient({
        baseUrl: sim.url,
        apiKey: KEY,
        maxAttempts: 2,
        retryBaseDelayMs: 1,
        maxRetryDelayMs: 2,
        timeoutMs: 2000,
      });
    const unreachable = new DmmHttpClient({
      baseUrl: deadUrl,
      apiKey: KEY,
      maxAttempts: 2,
      retryBaseDelayMs: 1,
      maxRetryDelayMs: 2,
      timeoutMs: 500,
    });
    const dmm = client();
    // Reading the `flaky` product fails (network error, with the key in the request): an outage, so
    // the pass stops and keeps the events; its error is what could carry the key.
    const flakyDmm = new Proxy(dmm, {
      get(target, property, receiver) {
        if (property === 'getDataProduct')
          return (id: string) => (id === 'flaky' ? unreachable.getDataProduct(id) : target.getDataProduct(id));
        // A full reconcile may list all products instead: that fails the same way.
        if (property === 'listDataProductsInFull') return unreachable.listDataProductsInFull.bind(unreachable);
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const iam = new FileIamAccount({ accountId: ACCOUNT });
    await iam.createRole('analytics-consumer');
    await iam.createRole('OrganizationAccountAccessRole');
    const log = memoryLogger('debug');
    const ctx: SyncContext = {
      dmm: flakyDmm,
      iam,
      log,
      resolve: { accountId: ACCOUNT, partition: 'aws', defaultRegion: 'eu-central-1' },
    };

    const queue = new MemoryFifoQueue();
    const deadLetters: string[] = [];
    const errors: string[] = [];
    await pollFeed({ dmm, queue, checkpoint: new MemoryCheckpoint(), log });
    const drained = await drainQueue(ctx, queue, {
      maxReceives: 2,
      retryDelayMs: 1,
      sleep: async () => {},
      onDeadLetter: (message, error) => {
        deadLetters.push(JSON.stringify(message));
        errors.push(errorMessage(error), JSON.stringify(error, Object.getOwnPropertyNames(error as object)));
      },
    });
    expect(drained.outage).toBeDefined();
    errors.push(
      errorMessage(drained.outage),
      JSON.stringify(drained.outage, Object.getOwnPropertyNames(drained.outage as object)),
    );

    // A full reconcile that cannot read a product fails as a whole (and is retried by its schedule).
    await reconcileAll(ctx).then(
      () => expect.fail('the full reconcile should fail while a product cannot be read'),
      (error: unknown) => errors.push(errorMessage(error), String((error as Error).stack)),
    );
    const healthy: SyncContext = { ...ctx, dmm };
    const full = await reconcileAll(healthy);
    const plan = await reconcileAll(healthy, { dryRun: true });
    try {
      await unreachable.getAgreement('agr-ok');
    } catch (error) {
      errors.push(
        errorMessage(error),
        String((error as Error).stack),
        JSON.stringify(error, Object.getOwnPropertyNames(error as object)),
      );
    }
    const wrongKey = new DmmHttpClient({ baseUrl: sim.url, apiKey: `${KEY}-old`, maxAttempts: 1 });
    await wrongKey
      .getAgreement('agr-ok')
      .catch((error: unknown) => errors.push(errorMessage(error), String((error as Error).stack)));

    // What the run produced, and everything Data Mesh Manager now holds.
    expectNoKey('log lines', JSON.stringify(log.entries));
    expect(log.entries.some((e) => e.level === 'warn' || e.level === 'error')).toBe(true);
    // Kept for later, not dead-lettered: the outage's error above is what could have carried the key.
    expect(deadLetters).toEqual([]);
    expectNoKey('error messages', errors.join('\n'));
    expect(errors.join('\n')).toMatch(/network error|failed/);
    expectNoKey('full reconcile result', JSON.stringify(full));
    expectNoKey('plan', JSON.stringify(plan));
    const stored = [...sim.state.agreements.keys()].map((id) => sim.state.agreementView(id));
    expect(JSON.stringify(stored)).toContain('aws-integration-error');
    expectNoKey('agreements and provisioning records in Data Mesh Manager', JSON.stringify(stored));
    expectNoKey('the event feed', JSON.stringify(sim.state.events));
    expectNoKey('data products', JSON.stringify([...sim.state.dataProducts.values()]));
    // The role's policies, for completeness.
    expectNoKey('IAM policies', JSON.stringify(await iam.listInlinePolicies('analytics-consumer')));
  });

  it('error bodies that echo the key (JSON problem or plain text) are redacted before they reach a message', async () => {
    const bodies = [
      (key: string) => ({
        status: 403,
        type: 'application/problem+json',
        text: JSON.stringify({ title: `Forbidden for ${key}`, status: 403, detail: `API key ${key} is not valid` }),
      }),
      (key: string) => ({
        status: 500,
        type: 'text/html',
        text: `<html><body>proxy error; request headers: x-api-key: ${key}</body></html>`,
      }),
      (key: string) => ({ status: 200, type: 'application/json', text: `not json, but your key: ${key}` }),
      (key: string) => ({ status: 429, type: 'text/plain', text: `slow down ${key}` }),
    ];
    for (const body of bodies) {
      const echo = await echoingServer(body);
      closers.push(() => new Promise((resolve) => echo.server.close(resolve)));
      const client = new DmmHttpClient({
        baseUrl: echo.url,
        apiKey: KEY,
        maxAttempts: 2,
        retryBaseDelayMs: 1,
        maxRetryDelayMs: 2,
        maxRetryAfterMs: 5,
      });
      const error = await client.getAgreement('agr-1').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error, `${echo.url} should fail`).toBeDefined();
      expectNoKey(
        'error message',
        `${error!.message}\n${error!.stack}\n${JSON.stringify(error, Object.getOwnPropertyNames(error))}`,
      );
      expect(error!.message).toContain('***');
    }
  });

  it('CLI: plan --json, apply, run --once and the error paths print no key', async () => {
    const sim = await startSimulator({ port: 0, fixturesDir: join(ROOT, 'examples/mesh'), apiKey: KEY });
    closers.push(() => sim.close());
    const work = await mkdtemp(join(tmpdir(), 'dmm-aws-secrets-'));
    closers.push(() => rm(work, { recursive: true, force: true }));
    const env = { DMM_BASE_URL: sim.url };
    const outputs: [string, string][] = [];
    const record = (name: string, r: { stdout: string; stderr: string }) =>
      outputs.push([name, `${r.stdout}\n${r.stderr}`]);

    expect((await cli(['local-aws', 'seed', join(ROOT, 'examples/local-aws.yaml')], env, work)).code).toBe(0);
    sim.approve('agr-orders-s3');
    const plan = await cli(['plan', '--json'], env, work);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).changes.length).toBeGreaterThan(0);
    record('plan --json', plan);
    record('apply', await cli(['apply', '--no-progress'], env, work));
    record('run --once', await cli(['run', '--once', '--state-dir', join(work, 'state')], env, work));

    const cases: [string, Record<string, string>][] = [
      ['wrong key', { ...env, DMM_API_KEY: `${KEY}X` }],
      ['unreachable server', { DMM_BASE_URL: 'http://127.0.0.1:9' }],
      ['bad base URL', { DMM_BASE_URL: `not a url ${KEY}` }],
      ['bad timeout', { ...env, DMM_TIMEOUT_MS: 'soon' }],
      ['bad guardrail', { ...env, DMM_MAX_STATEMENTS_PER_AGREEMENT: 'many' }],
    ];
    const failures = await Promise.all(
      cases.map(async ([name, caseEnv]) => [name, await cli(['plan'], caseEnv, work)] as const),
    );
    for (const [name, result] of failures) {
      expect(result.code, `${name} should fail`).not.toBe(0);
      expect(result.stderr, name).toMatch(/dmm-aws: error/);
      record(name, result);
    }
    for (const [name, text] of outputs) {
      // "bad base URL" puts the key into the URL on purpose: the message must not repeat the URL's text verbatim.
      expectNoKey(`CLI output of ${name}`, text);
    }
    // And nothing the CLI wrote back to Data Mesh Manager or to its local state holds it.
    expectNoKey(
      'agreements after the CLI runs',
      JSON.stringify([...sim.state.agreements.keys()].map((id) => sim.state.agreementView(id))),
    );
    expectNoKey(
      'local AWS state file',
      await readFile(join(work, '.dmm-aws', 'aws-account.json'), 'utf8').catch(() => 'absent'),
    );
  });
});

describe('the Lambda path (Powertools logs on stdout)', () => {
  beforeAll(() => {
    lambda.useMoto();
  });
  const out = lambda.captureOutput();
  const servers: lambda.DmmServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('process-events and reconcile, with failures, a dead letter and a rejected key, log no key', async () => {
    const rolePath = `/${lambda.unique('secrets')}/`;
    const role = await lambda.createRole(rolePath);
    const dmm = await lambda.startDmm(
      {
        dataProducts: [
          lambda.s3Product('orders', await lambda.providerBucket('orders')),
          lambda.s3Product('broken', await lambda.providerBucket('broken')),
          lambda.consumerProduct('consumer', role),
        ],
        agreements: [
          lambda.agreement('agr-a', 'orders', 'consumer', true),
          lambda.agreement('agr-b', 'broken', 'consumer', true),
        ],
      },
      KEY,
    );
    servers.push(dmm);
    // The product fails whether read by id or in the list of all products.
    dmm.intercept = async ({ path }) =>
      path.startsWith('/api/dataproducts/broken') || path.startsWith('/api/dataproducts?')
        ? { status: 503, headers: { 'retry-after': '0' } }
        : undefined;
    const secret = await lambda.createSecret(JSON.stringify({ apiKey: KEY }));
    const env = {
      DMM_BASE_URL: dmm.url,
      DMM_API_KEY_SECRET_ARN: secret,
      AWS_REGION: lambda.REGION,
      STATE_BUCKET: await lambda.createBucket(),
      MANAGED_ROLE_PATH: rolePath,
      MAX_RECEIVE_COUNT: '2',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };

    const processEvents = createProcessEventsHandler(env);
    const record = (id: string, receiveCount: number) =>
      lambda.sqsRecord({
        body: JSON.stringify(lambda.feedEvent('AccessActivatedEvent', id)),
        groupId: `agreement:${id}`,
        receiveCount,
      });
    // Not its last receive: an outage at the last one is put back on the queue instead (outage-retry.ts).
    const response = await processEvents({ Records: [record('agr-a', 1), record('agr-b', 1)] }, lambda.lambdaContext());
    expect(response.batchItemFailures).toHaveLength(1);
    expect(lambda.statementsFor(await lambda.inlinePolicies(role), 'agr-a').length).toBeGreaterThan(0);

    const reconcile = createReconcileHandler(env);
    await reconcile({} as never, lambda.lambdaContext({ functionName: 'dmm-aws-reconcile' })).then(
      () => expect.fail('the reconcile should fail while a product cannot be read'),
      () => undefined,
    );
    dmm.intercept = undefined;
    const summary = await reconcile(
      { dryRun: true } as never,
      lambda.lambdaContext({ functionName: 'dmm-aws-reconcile' }),
    );

    // The server stops accepting the key: every call fails with 403.
    dmm.acceptedKey = 'rotated-elsewhere';
    await reconcile({} as never, lambda.lambdaContext({ functionName: 'dmm-aws-reconcile' })).catch(() => undefined);

    const text = out.text();
    expect(out.logs('error').length + out.logs('warn').length).toBeGreaterThan(0);
    expectNoKey('Lambda stdout/stderr (Powertools logs and metrics)', text);
    expectNoKey('reconcile summary', JSON.stringify(summary));
    const stored = [...dmm.sim.state.agreements.keys()].map((id) => dmm.sim.state.agreementView(id));
    // The product outage is not reported as the agreements' failure (so no diagnostic to leak into).
    expect(JSON.stringify(stored)).not.toContain('provisioning-failed');
    expectNoKey('what the Lambda functions wrote back', JSON.stringify(stored));
  });
});
