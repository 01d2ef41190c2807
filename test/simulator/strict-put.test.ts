import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, start, type Doc } from './helpers.js';

/** Strict PUT (the default): an existing agreement's PUT may change only tags and custom fields. */

async function put(sim: RunningSimulator, id: string, body: Doc): Promise<{ status: number; problem: Doc }> {
  const res = await call(sim, `/api/access/${id}`, { method: 'PUT', body });
  if (res.status === 200) return { status: 200, problem: {} };
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  return { status: res.status, problem: (await res.json()) as Doc };
}

/** What a careful client sends: the served document without the server's members. */
async function editable(sim: RunningSimulator, id: string): Promise<Doc> {
  const served = (await (await call(sim, `/api/access/${id}`)).json()) as Doc;
  const { provisioning: _p, info, ...rest } = served;
  const { status: _s, active: _a, ...editableInfo } = info;
  return { ...rest, info: editableInfo };
}

describe('strict PUT of an agreement', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('accepts a PUT that changes only tags and custom fields', async () => {
    sim = await start();
    sim.request(agreementDoc('a1', { roles: ['reader'] }));
    const doc = await editable(sim, 'a1');
    expect((await put(sim, 'a1', { ...doc, tags: ['aws-integration'], custom: { note: 'x' } })).status).toBe(200);
    expect(sim.state.agreementView('a1')).toMatchObject({ tags: ['aws-integration'], custom: { note: 'x' } });
  });

  it.each([
    ['info.status', (d: Doc) => ({ ...d, info: { ...d.info, status: 'approved' } })],
    ['info.active', (d: Doc) => ({ ...d, info: { ...d.info, active: false } })],
    ['info.id', (d: Doc) => ({ ...d, info: { ...d.info, id: 'a1' } })],
    ['provisioning', (d: Doc) => ({ ...d, provisioning: { status: 'provisioned' } })],
    ['info.purpose', (d: Doc) => ({ ...d, info: { ...d.info, purpose: 'changed' } })],
    ['roles', (d: Doc) => ({ ...d, roles: undefined })],
  ])('refuses a PUT that touches %s with a 400 naming the field', async (field, change) => {
    sim = await start();
    sim.request(agreementDoc('a1', { roles: ['reader'] }));
    const before = structuredClone(sim.state.agreements.get('a1')!.doc);
    const { status, problem } = await put(sim, 'a1', JSON.parse(JSON.stringify(change(await editable(sim, 'a1')))));
    expect(status).toBe(400);
    expect(problem.violations).toEqual([{ field, message: expect.any(String) }]);
    expect(problem.detail).toContain(field);
    expect(sim.state.agreements.get('a1')!.doc).toEqual(before);
  });

  it('refuses the "unknown" placeholder of a deleted provider, which would repoint the agreement', async () => {
    sim = await start();
    sim.request(agreementDoc('a1'));
    const doc = await editable(sim, 'a1');
    sim.deleteDataProduct('orders');
    const served = await editable(sim, 'a1');
    expect(served.provider.dataProductId).toBe('unknown');
    const { status, problem } = await put(sim, 'a1', { ...served, tags: ['aws-integration'] });
    expect(status).toBe(400);
    expect(problem.violations[0].field).toBe('provider.dataProductId');
    // The stored document keeps the real ids, so re-creating the product heals the agreement.
    expect(sim.state.agreements.get('a1')!.doc.provider).toEqual(doc.provider);
  });

  it('can be switched off (strictPut: false), as the CLI does with --no-strict-put', async () => {
    sim = await start({ strictPut: false });
    sim.request(agreementDoc('a1'));
    const doc = await editable(sim, 'a1');
    expect((await put(sim, 'a1', { ...doc, info: { ...doc.info, purpose: 'changed' } })).status).toBe(200);
  });
});
