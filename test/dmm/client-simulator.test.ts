import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';
import { DmmApiError } from '../../src/dmm/errors.js';
import { classifyEvent } from '../../src/dmm/event-types.js';
import type { FeedEvent } from '../../src/model/events.js';
import {
  startSimulator,
  type MeshData,
  type RunningSimulator,
  type SimulatorOptions,
} from '../../src/simulator/server.js';

/** The real client against the real simulator over loopback, for both API generations. */

const API_KEY = 'simulator-test-key-8c1f';

const mesh: MeshData = {
  teams: [
    { id: 'orders-team', name: 'Orders', type: 'Team' },
    { id: 'marketing', name: 'Marketing', type: 'Team' },
  ],
  dataProducts: [
    {
      dataProductSpecification: '0.0.1',
      id: 'orders',
      info: { title: 'Orders', owner: 'orders-team' },
      outputPorts: [
        {
          id: 'orders_s3',
          name: 'Orders in S3',
          custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::orders' },
        },
      ],
    },
    {
      dataProductSpecification: '0.0.1',
      id: 'campaigns',
      info: { title: 'Campaigns', owner: 'marketing' },
      custom: { 'aws-role-name': 'campaigns-role' },
      outputPorts: [],
    },
  ],
};

function accessRequest(id: string, consumer = 'campaigns'): Record<string, unknown> {
  return {
    id,
    info: { purpose: 'campaign reporting', startDate: '2020-01-01' },
    provider: { teamId: 'orders-team', dataProductId: 'orders', outputPortId: 'orders_s3' },
    consumer: { teamId: 'marketing', dataProductId: consumer },
    tags: ['from-ui'],
    custom: { 'owner-note': 'keep me' },
  };
}

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setup(options: SimulatorOptions = {}) {
  sim = await startSimulator({ port: 0, apiKey: API_KEY, mesh, ...options });
  // Configured for the old generation, the client keeps to /api/datausageagreements; on 'auto'
  // it would find /api/access on that server too.
  const apiGeneration = options.generation === 'datausageagreements' ? options.generation : 'auto';
  const client = new DmmHttpClient({ baseUrl: sim.url, apiKey: API_KEY, maxAttempts: 1, apiGeneration });
  return { sim, client };
}

/** Reads the feed to its end as the poller does: one call per batch, checkpointing the last id. */
async function drainFeed(client: DmmHttpClient, from?: string): Promise<{ events: FeedEvent[]; batches: number[] }> {
  const events: FeedEvent[] = [];
  const batches: number[] = [];
  let last = from;
  for (;;) {
    const batch = await client.pollEvents(last);
    batches.push(batch.length);
    if (batch.length === 0) return { events, batches };
    events.push(...batch);
    last = batch[batch.length - 1]?.id;
  }
}

describe.each(['access', 'datausageagreements'] as const)('against the simulator (%s generation)', (generation) => {
  it('detects the generation on its own: /api/access wherever it is served', async () => {
    const { sim } = await setup({ generation });
    const client = new DmmHttpClient({ baseUrl: sim.url, apiKey: API_KEY, maxAttempts: 1, apiGeneration: 'auto' });
    // A 2024-11 server serves /api/access beside the deprecated /api/datausageagreements.
    expect(await client.apiGeneration()).toBe('access');
  });

  it('reads agreements, with undefined for an unknown id', async () => {
    const { sim, client } = await setup({ generation });
    sim.request(accessRequest('acc-1'));
    sim.approve('acc-1');

    const agreement = await client.getAgreement('acc-1');
    expect(agreement).toMatchObject({
      id: 'acc-1',
      status: 'approved',
      active: true,
      provider: { dataProductId: 'orders', outputPortId: 'orders_s3', teamId: 'orders-team' },
      consumer: { dataProductId: 'campaigns', teamId: 'marketing' },
      tags: ['from-ui'],
      custom: { 'owner-note': 'keep me' },
    });
    expect(await client.getAgreement('no-such-agreement')).toBeUndefined();
  });

  it('lists and filters agreements', async () => {
    const { sim, client } = await setup({ generation });
    sim.putDataProduct({
      dataProductSpecification: '0.0.1',
      id: 'finance',
      info: { title: 'Finance', owner: 'marketing' },
      outputPorts: [],
    });
    sim.request(accessRequest('acc-1'));
    sim.request(accessRequest('acc-2', 'finance'));
    expect((await client.listAgreements()).map((a) => a.id)).toEqual(['acc-1', 'acc-2']);
    expect((await client.listAgreements({ consumerDataProductId: 'finance' })).map((a) => a.id)).toEqual(['acc-2']);
    expect(await client.listAgreements({ providerDataProductId: 'campaigns' })).toEqual([]);
  });

  it('round-trips a PUT without losing fields it does not model', async () => {
    const { sim, client } = await setup({ generation });
    sim.request({ ...accessRequest('acc-1'), roles: ['reader'], links: { catalog: 'https://catalog/orders' } });
    sim.approve('acc-1');

    const before = await client.getAgreement('acc-1');
    expect(before).toBeDefined();
    const { provisioning: _p, info, ...raw } = before!.raw;
    const { status: _s, active: _a, id: _id, ...editableInfo } = info as Record<string, unknown>;
    const document = {
      ...raw,
      info: editableInfo,
      tags: [...before!.tags, 'aws-integration'],
      custom: { ...before!.custom, 'aws-policy': 'dmm-aws-acc-1' },
    };
    await client.putAgreement('acc-1', document);

    const after = await client.getAgreement('acc-1');
    expect(after?.tags).toEqual(['from-ui', 'aws-integration']);
    expect(after?.custom).toEqual({ 'owner-note': 'keep me', 'aws-policy': 'dmm-aws-acc-1' });
    expect(after?.raw['roles']).toEqual(['reader']);
    expect(after?.raw['links']).toEqual({ catalog: 'https://catalog/orders' });
    // Status and activation are the server's; a PUT does not change them.
    expect(after).toMatchObject({ status: 'approved', active: true });
  });

  it('reads the feed from the start, then from a checkpoint, with the generation’s event names', async () => {
    const { sim, client } = await setup({ generation });
    sim.request(accessRequest('acc-1'));
    const first = await drainFeed(client);
    const family = generation === 'access' ? 'Access' : 'DataUsageAgreement';
    const agreementEvents = first.events.filter((e) => classifyEvent(e.type).family === 'agreement');
    expect(agreementEvents.map((e) => classifyEvent(e.type).name)).toEqual([
      `${family}CreatedEvent`,
      `${family}RequestedEvent`,
    ]);
    expect(agreementEvents.every((e) => e.data?.id === 'acc-1')).toBe(true);

    const checkpoint = first.events[first.events.length - 1]?.id;
    expect(await client.pollEvents(checkpoint)).toEqual([]);

    sim.approve('acc-1');
    const next = await client.pollEvents(checkpoint);
    expect(next.map((e) => classifyEvent(e.type).name)).toEqual([`${family}ApprovedEvent`, `${family}ActivatedEvent`]);
  });

  it('rejects a wrong API key with 403 and keeps the key out of the error', async () => {
    const { sim } = await setup({ generation });
    const wrongKey = 'wrong-key-that-must-not-leak';
    const client = new DmmHttpClient({ baseUrl: sim.url, apiKey: wrongKey, maxAttempts: 1 });
    const error = await client.pollEvents().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DmmApiError);
    expect((error as DmmApiError).status).toBe(403);
    expect((error as DmmApiError).message).toMatch(/^GET \/api\/events failed: 403 /);
    expect(`${String(error)} ${inspect(error, { depth: 10 })}`).not.toContain(wrongKey);
    await expect(client.getAgreement('acc-1')).rejects.toMatchObject({ status: 403 });
  });

  it('reads data products and teams, with undefined for unknown ids', async () => {
    const { client } = await setup({ generation });
    const orders = await client.getDataProduct('orders');
    expect(orders).toMatchObject({ id: 'orders', format: 'dps-0.0.1', ownerTeamId: 'orders-team' });
    expect(orders?.outputPorts.map((p) => [p.id, p.custom['output-port-type']])).toEqual([['orders_s3', 's3_bucket']]);
    expect(await client.getDataProduct('nope')).toBeUndefined();
    expect((await client.listDataProducts()).map((p) => p.id)).toEqual(['orders', 'campaigns']);
    expect(await client.getTeam('marketing')).toMatchObject({ id: 'marketing', name: 'Marketing' });
    expect(await client.getTeam('nobody')).toBeUndefined();
  });
});

describe('paging against the simulator', () => {
  it('follows Link pagination past one page of agreements and reads a long feed in batches', async () => {
    const { sim, client } = await setup({ generation: 'access' });
    const count = 1001;
    for (let i = 0; i < count; i++) sim.request(accessRequest(`acc-${String(i).padStart(4, '0')}`));

    const agreements = await client.listAgreements();
    expect(agreements).toHaveLength(count);
    expect(new Set(agreements.map((a) => a.id)).size).toBe(count);
    expect(agreements[count - 1]?.id).toBe('acc-1000');

    // Loading the mesh emitted a few events, each request two more; at most 1000 per batch.
    const total = sim.state.events.length;
    expect(total).toBeGreaterThan(2 * count);
    const feed = await drainFeed(client);
    expect(feed.events.map((e) => e.id)).toEqual(sim.state.events.map((e) => e.id));
    expect(feed.batches).toEqual([1000, 1000, total - 2000, 0]);
  });
});

describe('provisioning against the simulator', () => {
  const report = { platform: 'aws', executor: 'dmm-aws', reference: 'arn:aws:iam::123456789012:role/campaigns-role' };

  it('reports transitions where the server supports them', async () => {
    const { sim, client } = await setup({ generation: 'access', provisioning: true });
    sim.request(accessRequest('acc-1'));
    sim.approve('acc-1');
    expect(
      await client.reportProvisioning('acc-1', 'provisioning-started', { platform: 'aws', executor: 'dmm-aws' }),
    ).toBe('reported');
    expect(await client.reportProvisioning('acc-1', 'provisioning-succeeded', report)).toBe('reported');
    expect((await client.getAgreement('acc-1'))?.provisioning).toMatchObject({
      status: 'provisioned',
      reference: report.reference,
    });
  });

  it('answers "unsupported" for a deleted agreement without giving up on the endpoint', async () => {
    const { sim, client } = await setup({ generation: 'access', provisioning: true });
    sim.request(accessRequest('acc-1'));
    expect(await client.reportProvisioning('deleted', 'deprovisioning-succeeded', report)).toBe('unsupported');
    expect(await client.reportProvisioning('acc-1', 'provisioning-started', {})).toBe('reported');
  });

  it('answers "unsupported" when the server runs without provisioning endpoints', async () => {
    const { sim, client } = await setup({ generation: 'access', provisioning: false });
    sim.request(accessRequest('acc-1'));
    sim.approve('acc-1');
    expect(await client.reportProvisioning('acc-1', 'provisioning-succeeded', report)).toBe('unsupported');
    expect(await client.reportProvisioning('acc-1', 'provisioning-failed', { diagnostics: 'x' })).toBe('unsupported');
    expect((await client.getAgreement('acc-1'))?.provisioning).toBeUndefined();
  });

  it('answers "unsupported" on the older generation', async () => {
    const { sim, client } = await setup({ generation: 'datausageagreements' });
    sim.request(accessRequest('acc-1'));
    expect(await client.reportProvisioning('acc-1', 'provisioning-succeeded', report)).toBe('unsupported');
  });
});
