/**
 * The local stand-in AWS account never writes false reports to a real tenant: its roles are not
 * the tenant's, so "role does not exist in account 123456789012" would be a lie on every active
 * agreement. Against the bundled simulator it reports as usual; against any other Data Mesh
 * Manager (here: the simulator's API behind a proxy that, like a real tenant, has no
 * `/simulator/*` routes) it runs as a dry run for Data Mesh Manager and says so, unless the
 * operator opts in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildContext } from '../../src/cli/wiring.js';
import { loadConfig } from '../../src/config.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { memoryLogger } from '../../src/util/log.js';
import { startScriptedServer, type ScriptedServer } from '../dmm/scripted-server.js';
import { agreement, consumerProduct, dpsProduct, s3BucketPort } from '../e2e/harness.js';

let cwd: string;
let sim: RunningSimulator;
let tenant: ScriptedServer;

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'dmm-aws-write-back-'));
  sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] }), consumerProduct()],
      agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
    },
  });
  // A "real tenant": the same API, but no simulator admin routes.
  tenant = await startScriptedServer((req, res) => {
    if (req.url.startsWith('/simulator/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"title":"Not Found"}');
      return;
    }
    void fetch(new URL(req.url, sim.url), {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) =>
        typeof v === 'string' && k !== 'host' && k !== 'content-length' ? [[k, v] as [string, string]] : [],
      ),
      ...(req.body ? { body: req.body } : {}),
    }).then(async (upstream) => {
      const headers = Object.fromEntries(
        [...upstream.headers].filter(([k]) => k !== 'content-encoding' && k !== 'content-length'),
      );
      res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
});

afterEach(async () => {
  await Promise.all([sim.close(), tenant.close()]);
  await rm(cwd, { recursive: true, force: true });
});

const writes = (server: ScriptedServer) => server.requests.filter((r) => r.method !== 'GET');

/** Whether the simulator (behind either URL) holds a failure report for the agreement. */
function failureReported(): boolean {
  const doc = sim.state.agreementView('agr-1') ?? {};
  const tags = (doc.tags as string[] | undefined) ?? [];
  const provisioning = doc.provisioning as { status?: string } | undefined;
  return tags.includes('aws-integration-failed') || provisioning?.status === 'provisioning-failed';
}

async function applyLocally(baseUrl: string, env: Record<string, string> = {}) {
  const log = memoryLogger('debug');
  const config = loadConfig({ cwd, env: { DMM_BASE_URL: baseUrl, DMM_API_KEY: sim.apiKey, ...env } });
  const ctx = await buildContext(config, log);
  const result = await reconcileAll(ctx);
  return { result, log };
}

describe('the local stand-in reports only to the bundled simulator', () => {
  it('against the bundled simulator: the failure is reported, as in the demo', async () => {
    const { result } = await applyLocally(sim.url);
    expect(result.outcomes.map((o) => o.decision)).toEqual(['failed']);
    expect(failureReported()).toBe(true);
  });

  it('against another Data Mesh Manager: nothing is written back, and a warning says why', async () => {
    const { result, log } = await applyLocally(tenant.url);
    // The sync still decided (the role is missing from the stand-in), but the tenant heard nothing of it.
    expect(result.outcomes.map((o) => o.decision)).toEqual(['failed']);
    expect(writes(tenant)).toEqual([]);
    expect(failureReported()).toBe(false);
    const dryRun = log.entries.filter((e) => e.level === 'warn' && e.message.startsWith('dry run'));
    // Once per run, not once per skipped write.
    expect(dryRun.map((e) => e.message)).toEqual([
      expect.stringMatching(/^dry run for Data Mesh Manager: .* is not the bundled simulator/),
    ]);
    expect(dryRun[0]?.message).toContain('DMM_LOCAL_WRITE_BACK');
  });

  it('against another Data Mesh Manager with aws.localWriteBack: reports, because the operator said so', async () => {
    await applyLocally(tenant.url, { DMM_LOCAL_WRITE_BACK: 'true' });
    expect(writes(tenant).length).toBeGreaterThan(0);
    expect(failureReported()).toBe(true);
  });
});
