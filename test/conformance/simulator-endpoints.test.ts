import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Generation, type RunningSimulator } from '../../src/simulator/server.js';
import { type Exchange, validatorFor } from './openapi-validator.js';
import { recordingFetch } from './recorder.js';
import { SPEC_2024_11, SPEC_2026_07 } from './reference.js';
import { API_KEY, conformanceMesh, expectConformance } from './scenarios.js';

/**
 * The vendor endpoints the sync itself does not call (writes of products and teams, workflow
 * actions, the provisioning record), called as another tool would and validated the same way.
 */

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const generations: { generation: Generation; spec: string; agreements: string[] }[] = [
  { generation: 'access', spec: SPEC_2026_07, agreements: ['/api/access'] },
  { generation: 'datausageagreements', spec: SPEC_2024_11, agreements: ['/api/access', '/api/datausageagreements'] },
];

describe.each(generations)('the $generation simulator, checked with $spec', ({ generation, spec, agreements }) => {
  const validator = validatorFor(spec);

  async function setup() {
    sim = await startSimulator({
      apiKey: API_KEY,
      generation,
      mesh: conformanceMesh({ odps: false, dataContract: false }),
    });
    const recorder = recordingFetch();
    const invalid = new Set<Exchange>();
    const call = async (method: string, path: string, body?: unknown, options: { invalid?: boolean } = {}) => {
      const response = await recorder.fetch(`${sim!.url}${path}`, {
        method,
        headers: {
          'x-api-key': API_KEY,
          accept: path.startsWith('/api/events') ? 'application/cloudevents-batch+json' : 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (options.invalid) invalid.add(recorder.exchanges.at(-1)!);
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    };
    return { recorder, call, invalid };
  }

  it('agreements: list with paging and filters, workflow actions, PUT and DELETE', async () => {
    const { recorder, call, invalid } = await setup();
    for (const path of agreements) {
      expect((await call('GET', path)).body.map((a: { id: string }) => a.id)).toEqual(['agr-requested', 'agr-active']);
    }
    // Paging and filters are the 2026-07 list's (a 2024-11 server ignores them, its validator tolerates them).
    const base = '/api/access';
    const first = await call('GET', `${base}?p=0&pageSize=2&consumerType=dataproduct`);
    expect(first.body.map((a: { id: string }) => a.id)).toEqual(['agr-requested', 'agr-active']);
    expect((await call('GET', `${base}?consumerType=team`)).body).toEqual([]);
    expect((await call('GET', `${base}?consumerType=group`, undefined, { invalid: true })).status).toBe(400);
    sim!.request({
      id: 'agr-team',
      info: { purpose: 'team access' },
      provider: { dataProductId: 'orders', outputPortId: 'orders-s3' },
      consumer: { teamId: 'marketing' },
    });
    expect((await call('GET', `${base}?consumerType=team`)).body.map((a: { id: string }) => a.id)).toEqual([
      'agr-team',
    ]);
    const paged = await call('GET', `${base}?p=0&pageSize=2`);
    expect(paged.headers.get('link')).toMatch(/p=1.*rel="next"/);
    expect((await call('GET', `${base}?p=1&pageSize=2`)).body).toHaveLength(1);

    expect((await call('POST', `${base}/agr-team/reject`)).status).toBe(200);
    expect((await call('POST', `${base}/agr-requested/approve`)).status).toBe(200);
    expect((await call('POST', `${base}/agr-requested/cancel`)).status).toBe(200);
    expect(
      (
        await call('PUT', `${base}/agr-new`, {
          id: 'agr-new',
          info: { purpose: 'new' },
          provider: { dataProductId: 'orders', outputPortId: 'orders-s3' },
          consumer: { dataProductId: 'consumer' },
        })
      ).status,
    ).toBe(200);
    expect((await call('DELETE', `${base}/agr-new`)).status).toBe(200);
    expect((await call('DELETE', `${base}/agr-new`)).status).toBe(404);
    expect((await call('POST', `${agreements.at(-1)}/agr-new/approve`)).status).toBe(404);
    expectConformance(validator, recorder.exchanges, invalid);
  });

  it('data products and teams: list, get, PUT, DELETE, and the 422 for a product in use', async () => {
    const { recorder, call } = await setup();
    expect((await call('GET', '/api/teams?p=0')).body).toHaveLength(2);
    expect((await call('PUT', '/api/teams/ops', { id: 'ops', name: 'Ops', type: 'Platform Team' })).status).toBe(200);
    expect((await call('GET', '/api/teams/ops')).body).toMatchObject({ id: 'ops', type: 'Platform Team' });
    expect((await call('DELETE', '/api/teams/ops')).status).toBe(200);
    expect((await call('DELETE', '/api/teams/ops')).status).toBe(404);

    const product = { dataProductSpecification: '0.0.1', id: 'spare', info: { title: 'Spare', owner: 'sales' } };
    expect((await call('PUT', '/api/dataproducts/spare', product)).status).toBe(200);
    expect((await call('GET', '/api/dataproducts?p=0')).body).toHaveLength(3);
    expect((await call('GET', '/api/dataproducts/spare')).body).toEqual(product);
    expect((await call('DELETE', '/api/dataproducts/spare')).status).toBe(200);
    expect((await call('DELETE', '/api/dataproducts/orders')).status, 'used by the active agr-active').toBe(422);
    expect((await call('PUT', '/api/dataproducts/other', product)).status, 'body id ≠ path id').toBe(422);
    expectConformance(validator, recorder.exchanges);
  });

  it('the feed: from the start and from a checkpoint, every payload in its type’s schema', async () => {
    const { recorder, call } = await setup();
    sim!.putDataProduct({ ...(sim!.state.dataProducts.get('orders') as object), outputPorts: [] });
    sim!.deleteDataProduct('orders', { force: true });
    sim!.deactivate('agr-active');
    const all = (await call('GET', '/api/events')).body as { id: string }[];
    expect(all.length).toBeGreaterThan(10);
    expect((await call('GET', `/api/events?lastEventId=${all[3]!.id}`)).body).toHaveLength(all.length - 4);
    expect((await call('GET', '/api/events?lastEventId=not-an-event')).status).toBe(400);
    expectConformance(validator, recorder.exchanges);
  });
});

describe('the provisioning record (2026-07)', () => {
  const validator = validatorFor(SPEC_2026_07);

  it('GET and PUT answer the record with [] and {} where nothing was reported, never null', async () => {
    sim = await startSimulator({ apiKey: API_KEY, mesh: conformanceMesh({ odps: false, dataContract: false }) });
    const recorder = recordingFetch();
    const invalid = new Set<Exchange>();
    const call = async (method: string, path: string, body?: unknown, options: { invalid?: boolean } = {}) => {
      const response = await recorder.fetch(`${sim!.url}${path}`, {
        method,
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (options.invalid) invalid.add(recorder.exchanges.at(-1)!);
      return { status: response.status, body: await response.json() };
    };
    expect((await call('GET', '/api/access/agr-active/provisioning')).status).toBe(404);
    const put = await call('PUT', '/api/access/agr-active/provisioning', { status: 'provisioned', reference: 'r' });
    expect(put.body).toMatchObject({ status: 'provisioned', reference: 'r', customProperties: [], links: {} });
    // null is not in the report schema, but a lenient server could take it as "clear": never served as null.
    const cleared = await call(
      'POST',
      '/api/access/agr-active/provisioning/provisioning-failed',
      { diagnostics: 'boom', customProperties: null, links: null },
      { invalid: true },
    );
    expect(cleared.body).toMatchObject({ status: 'provisioning-failed', customProperties: [], links: {} });
    expect((await call('GET', '/api/access/agr-active/provisioning')).body).toEqual(cleared.body);
    expect((await call('GET', '/api/access/agr-active')).body.provisioning).toEqual(cleared.body);
    expect((await call('PUT', '/api/access/agr-active/provisioning', { platform: 'aws' })).status).toBe(400);
    expectConformance(validator, recorder.exchanges, invalid);
  });
});
