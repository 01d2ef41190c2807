import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, feed, names, smallMesh, start, type Doc } from './helpers.js';

async function json(res: Response): Promise<Doc> {
  return (await res.json()) as Doc;
}

describe('agreements under /api/access', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('pages the list with pageSize and a Link rel="next" header, keeping filters', async () => {
    sim = await start();
    for (let i = 0; i < 5; i++) sim.request(agreementDoc(`a${i}`));
    sim.request(agreementDoc('other', { provider: { dataProductId: 'clicks', outputPortId: 'clicks' } }));

    const ids: string[] = [];
    let next: string | undefined = '/api/access?pageSize=2&providerDataProductId=orders';
    let pages = 0;
    while (next) {
      const res = await call(sim, next.replace(sim.url, ''));
      expect(res.status).toBe(200);
      ids.push(...((await res.json()) as Doc[]).map((a) => a.id as string));
      const link = res.headers.get('link');
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
      pages += 1;
    }
    expect(ids).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(pages).toBe(3);

    const unpaged = await call(sim, '/api/access');
    expect(unpaged.headers.get('link')).toBeNull();
    expect(await unpaged.json()).toHaveLength(6);
    const byConsumer = (await json(await call(sim, '/api/access?consumerDataProductId=nobody'))) as unknown as Doc[];
    expect(byConsumer).toEqual([]);
  });

  it('serves each page from the list as it is when the page is read, through creations, replacements and deletions', async () => {
    sim = await start();
    for (let i = 0; i < 6; i++) sim.request(agreementDoc(`a${i}`));
    const pageOf = async (p: number) => {
      const res = await call(sim, `/api/access?pageSize=2&p=${p}`);
      const docs = (await res.json()) as Doc[];
      return {
        ids: docs.map((a) => a.id as string),
        tags: docs.map((a) => a.tags),
        more: !!res.headers.get('link'),
      };
    };
    expect(await pageOf(1)).toMatchObject({ ids: ['a2', 'a3'], more: true });
    // Replaced in place: same position, the new document.
    expect(
      (
        await call(sim, '/api/access/a3', {
          method: 'PUT',
          body: agreementDoc('a3', { tags: ['changed'] }),
        })
      ).status,
    ).toBe(200);
    expect(await pageOf(1)).toMatchObject({ ids: ['a2', 'a3'], tags: [[], ['changed']] });
    // A deletion moves the later ones forward, a creation goes last.
    expect((await call(sim, '/api/access/a1', { method: 'DELETE' })).status).toBe(200);
    sim.request(agreementDoc('a6'));
    expect(await pageOf(1)).toMatchObject({ ids: ['a3', 'a4'], more: true });
    expect(await pageOf(2)).toMatchObject({ ids: ['a5', 'a6'], more: false });
    expect(await pageOf(3)).toEqual({ ids: [], tags: [], more: false });
  });

  it('answers 400 for pageSize outside 2..10000', async () => {
    sim = await start();
    for (const size of ['1', '10001', 'x']) expect((await call(sim, `/api/access?pageSize=${size}`)).status).toBe(400);
    expect((await call(sim, '/api/access?pageSize=10000')).status).toBe(200);
  });

  it('PUT creates (AccessCreatedEvent) and then replaces the whole document (AccessUpdatedEvent)', async () => {
    sim = await start();
    const created = await call(sim, '/api/access/a1', {
      method: 'PUT',
      body: agreementDoc('a1', { tags: ['x'], custom: { keep: 'me' } }),
    });
    expect(created.status).toBe(200);
    expect(names(sim.state.events.slice(-1))).toEqual(['AccessCreatedEvent']);

    const replacement = agreementDoc('a1', { tags: ['aws-integration'] });
    delete replacement.custom;
    expect((await call(sim, '/api/access/a1', { method: 'PUT', body: replacement })).status).toBe(200);
    expect(names(sim.state.events.slice(-1))).toEqual(['AccessUpdatedEvent']);
    const stored = await json(await call(sim, '/api/access/a1'));
    expect(stored.tags).toEqual(['aws-integration']);
    expect(stored).not.toHaveProperty('custom');
  });

  it("without strict PUT, ignores status, active and provisioning in a PUT: they stay the server's", async () => {
    sim = await start({ strictPut: false });
    sim.request(agreementDoc('a1'));
    sim.approve('a1');
    sim.reportProvisioning('a1', 'provisioning-succeeded', { reference: 'policy-1' });
    const doc = await json(await call(sim, '/api/access/a1'));
    doc.info.status = 'rejected';
    doc.info.active = false;
    doc.provisioning = { status: 'deprovisioned' };
    doc.info.purpose = 'changed';
    expect((await call(sim, '/api/access/a1', { method: 'PUT', body: doc })).status).toBe(200);
    const after = await json(await call(sim, '/api/access/a1'));
    expect(after.info).toMatchObject({ purpose: 'changed', status: 'approved', active: true });
    expect(after.provisioning).toMatchObject({ status: 'provisioned', reference: 'policy-1' });
  });

  it('DELETE removes the agreement with AccessDeletedEvent only', async () => {
    sim = await start();
    sim.request(agreementDoc('a1'));
    sim.approve('a1');
    const checkpoint = sim.state.lastEventId;
    expect((await call(sim, '/api/access/a1', { method: 'DELETE' })).status).toBe(200);
    expect(names(await feed(sim, checkpoint))).toEqual(['AccessDeletedEvent']);
    expect((await call(sim, '/api/access/a1')).status).toBe(404);
    expect((await call(sim, '/api/access/a1', { method: 'DELETE' })).status).toBe(404);
  });

  it('approve, reject and cancel endpoints drive the workflow and refuse impossible steps with 422', async () => {
    sim = await start();
    sim.request(agreementDoc('a1'));
    sim.request(agreementDoc('a2'));
    const checkpoint = sim.state.lastEventId;
    expect((await call(sim, '/api/access/a1/approve', { method: 'POST' })).status).toBe(200);
    expect((await call(sim, '/api/access/a2/reject', { method: 'POST' })).status).toBe(200);
    expect((await call(sim, '/api/access/a1/cancel', { method: 'POST' })).status).toBe(200);
    expect((await call(sim, '/api/access/a2/approve', { method: 'POST' })).status).toBe(422);
    expect((await call(sim, '/api/access/zzz/approve', { method: 'POST' })).status).toBe(404);
    expect(names(await feed(sim, checkpoint))).toEqual([
      'AccessApprovedEvent',
      'AccessActivatedEvent',
      'AccessRejectedEvent',
      'AccessCanceledEvent',
      'AccessDeactivatedEvent',
    ]);
    const canceled = await json(await call(sim, '/api/access/a1'));
    expect(canceled.info).toMatchObject({ status: 'approved', active: false, endDate: '2026-03-01' });
  });

  it('shows "unknown" for a deleted provider product or output port', async () => {
    sim = await start();
    sim.request(agreementDoc('to-orders'));
    sim.request(agreementDoc('to-clicks', { provider: { dataProductId: 'clicks', outputPortId: 'clicks' } }));

    const orders = smallMesh().dataProducts[1] as Doc;
    orders.outputPorts = [{ id: 'orders-glue', name: 'Glue' }];
    expect((await call(sim, '/api/dataproducts/orders', { method: 'PUT', body: orders })).status).toBe(200);
    expect((await json(await call(sim, '/api/access/to-orders'))).provider).toEqual({
      teamId: 'sales',
      dataProductId: 'orders',
      outputPortId: 'unknown',
    });

    expect((await call(sim, '/api/dataproducts/clicks', { method: 'DELETE' })).status).toBe(200);
    expect((await json(await call(sim, '/api/access/to-clicks'))).provider).toEqual({
      dataProductId: 'unknown',
      outputPortId: 'unknown',
    });
    expect(names(sim.state.events.slice(-5))).toEqual([
      'DataProductUpdatedEvent',
      'OutputPortCreatedEvent',
      'OutputPortDeletedEvent',
      'DataProductDeletedEvent',
      'OutputPortDeletedEvent',
    ]);
  });
});

describe('data products', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('serves DPS and ODPS documents exactly as stored', async () => {
    sim = await start();
    const mesh = smallMesh();
    expect(await json(await call(sim, '/api/dataproducts/orders'))).toEqual(mesh.dataProducts[1]);
    expect(await json(await call(sim, '/api/dataproducts/clicks'))).toEqual(mesh.dataProducts[2]);
  });

  it('pages the list at 1000 with a Link header', async () => {
    sim = await start({
      mesh: {
        dataProducts: Array.from({ length: 1001 }, (_, i) => ({
          dataProductSpecification: '0.0.1',
          id: `dp-${i}`,
          info: { title: `DP ${i}`, owner: 't' },
        })),
      },
    });
    const first = await call(sim, '/api/dataproducts');
    expect(await first.json()).toHaveLength(1000);
    expect(first.headers.get('link')).toBe(`<${sim.url}/api/dataproducts?p=1>; rel="next"`);
    const second = await call(sim, '/api/dataproducts?p=1');
    expect(((await second.json()) as Doc[]).map((d) => d.id)).toEqual(['dp-1000']);
    expect(second.headers.get('link')).toBeNull();
  });

  it('refuses documents that are neither DPS nor ODPS, and deleting a product an active access uses', async () => {
    sim = await start();
    const bad = await call(sim, '/api/dataproducts/x', { method: 'PUT', body: { id: 'x', title: 'no format' } });
    expect(bad.status).toBe(400);
    const odpsWithoutStatus = await call(sim, '/api/dataproducts/x', {
      method: 'PUT',
      body: { apiVersion: 'v1.0.0', kind: 'DataProduct', id: 'x' },
    });
    expect(((await odpsWithoutStatus.json()) as { violations: Array<{ field: string }> }).violations[0]!.field).toBe(
      'status',
    );

    sim.request(agreementDoc('a1'));
    sim.approve('a1');
    const refused = await call(sim, '/api/dataproducts/orders', { method: 'DELETE' });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { detail: string }).detail).toContain("'a1'");
    expect(sim.state.dataProducts.has('orders')).toBe(true);
  });
});
