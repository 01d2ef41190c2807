import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { KEY, call, start } from './helpers.js';

describe('simulator HTTP basics', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await start();
  });
  afterAll(() => sim.close());

  it('answers 403 problem+json without a key or with a wrong key, on /api and /simulator', async () => {
    for (const [path, headers] of [
      ['/api/access', {}],
      ['/api/access', { 'x-api-key': 'wrong' }],
      ['/api/access', { authorization: 'Bearer wrong' }],
      ['/simulator/state', {}],
    ] as const) {
      const res = await fetch(`${sim.url}${path}`, { headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403, instance: path });
      expect(body.detail).toEqual(expect.any(String));
    }
  });

  it('accepts the key as x-api-key and as Authorization: Bearer', async () => {
    expect((await fetch(`${sim.url}/api/teams`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await fetch(`${sim.url}/api/teams`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
  });

  it('answers 404 problem+json for unknown ids and unknown paths', async () => {
    for (const path of ['/api/access/nope', '/api/dataproducts/nope', '/api/teams/nope', '/api/nothing-here']) {
      const res = await call(sim, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found', instance: path });
    }
  });

  it('answers 405 with Allow for a known path and a wrong method', async () => {
    const res = await call(sim, '/api/events', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('answers 400 for a body that is not JSON and lists violations for a body that is not an Access', async () => {
    const notJson = await call(sim, '/api/access/a1', { method: 'PUT', body: '{"id":' });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toBe('application/problem+json');

    const invalid = await call(sim, '/api/access/a1', {
      method: 'PUT',
      body: { id: 'a1', info: {}, provider: { dataProductId: 'orders' }, consumer: {} },
    });
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as { violations: Array<{ field: string }> };
    expect(problem.violations.map((v) => v.field).sort()).toEqual([
      'consumer',
      'info.purpose',
      'provider.outputPortId',
    ]);
    expect(sim.state.agreements.has('a1')).toBe(false);
  });

  it('answers 422 when the id in the body differs from the path', async () => {
    const res = await call(sim, '/api/teams/t1', { method: 'PUT', body: { id: 't2', name: 'T', type: 'Team' } });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { detail: string }).detail).toContain("'t2'");
  });

  it('serves and replaces teams with Team events', async () => {
    const list = (await (await call(sim, '/api/teams')).json()) as Array<{ id: string }>;
    expect(list.map((t) => t.id)).toEqual(['marketing', 'sales']);
    const before = sim.state.events.length;
    expect(
      (await call(sim, '/api/teams/sales', { method: 'PUT', body: { id: 'sales', name: 'Sales EU', type: 'Team' } }))
        .status,
    ).toBe(200);
    expect(await (await call(sim, '/api/teams/sales')).json()).toEqual({ id: 'sales', name: 'Sales EU', type: 'Team' });
    expect(sim.state.events.slice(before).map((e) => e.type)).toEqual(['com.datamesh-manager.events.TeamUpdatedEvent']);
  });
});
