import { afterEach, describe, expect, it } from 'vitest';
import { SimulatorProblem, type RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, feed, names, smallMesh, start, type Doc } from './helpers.js';

describe('lifecycle (programmatic API)', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('request → approve (start date reached) → deactivate emits what the real server emits', async () => {
    sim = await start();
    const requested = sim.request(agreementDoc('a1'));
    expect(names(requested.events)).toEqual(['AccessCreatedEvent', 'AccessRequestedEvent']);
    expect(requested.document!.info).toMatchObject({ status: 'requested', active: false });

    const approved = sim.approve('a1');
    expect(names(approved.events)).toEqual(['AccessApprovedEvent', 'AccessActivatedEvent']);
    expect(approved.document!.info).toMatchObject({ status: 'approved', active: true });

    expect(names(sim.deactivate('a1').events)).toEqual(['AccessDeactivatedEvent']);
    // Idempotent: nothing to emit a second time.
    expect(sim.deactivate('a1').events).toEqual([]);
    expect(names(sim.activate('a1').events)).toEqual(['AccessActivatedEvent']);
    expect(sim.activate('a1').events).toEqual([]);
    // The returned events are the ones in the feed.
    expect((await feed(sim)).at(-1)!.id).toBe(sim.state.lastEventId);
  });

  it('approve before the start date only approves; activate() plays the start date', async () => {
    sim = await start();
    sim.request(agreementDoc('future', { info: { purpose: 'later', startDate: '2027-01-01' } }));
    expect(names(sim.approve('future').events)).toEqual(['AccessApprovedEvent']);
    expect(sim.state.agreements.get('future')!.active).toBe(false);
    expect(names(sim.activate('future').events)).toEqual(['AccessActivatedEvent']);
  });

  it('cancel emits Canceled then Deactivated by default, only Canceled when told to wait for the end date', async () => {
    sim = await start();
    sim.request(agreementDoc('now'));
    sim.approve('now');
    expect(names(sim.cancel('now').events)).toEqual(['AccessCanceledEvent', 'AccessDeactivatedEvent']);

    sim.request(agreementDoc('later', { info: { purpose: 'p', startDate: '2025-01-01', endDate: '2026-12-31' } }));
    sim.approve('later');
    const canceled = sim.cancel('later', { deactivate: false });
    expect(names(canceled.events)).toEqual(['AccessCanceledEvent']);
    expect(canceled.document!.info).toMatchObject({ active: true, endDate: '2026-12-31' });
  });

  it('reject and delete: delete emits only AccessDeletedEvent, even for an active agreement', async () => {
    sim = await start();
    sim.request(agreementDoc('r'));
    expect(names(sim.reject('r').events)).toEqual(['AccessRejectedEvent']);
    sim.request(agreementDoc('d'));
    sim.approve('d');
    const deleted = sim.deleteAgreement('d');
    expect(names(deleted.events)).toEqual(['AccessDeletedEvent']);
    expect(deleted.document).toBeUndefined();
    expect(sim.state.agreements.has('d')).toBe(false);
  });

  it('refuses impossible steps with a SimulatorProblem carrying the HTTP status', async () => {
    sim = await start();
    sim.request(agreementDoc('a1'));
    const statusOf = (action: () => unknown): number | undefined => {
      try {
        action();
      } catch (error) {
        if (error instanceof SimulatorProblem) return error.status;
        throw error;
      }
      return undefined;
    };
    expect(statusOf(() => sim.activate('a1'))).toBe(422);
    expect(statusOf(() => sim.cancel('a1'))).toBe(422);
    expect(statusOf(() => sim.approve('missing'))).toBe(404);
    expect(statusOf(() => sim.request(agreementDoc('a1')))).toBe(409);
    expect(
      statusOf(() => sim.request(agreementDoc('a2', { provider: { dataProductId: 'orders', outputPortId: 'nope' } }))),
    ).toBe(422);
    expect(statusOf(() => sim.request({ info: {} }))).toBe(400);
  });

  it('request generates an id when the document has none', async () => {
    sim = await start();
    const doc = agreementDoc('x');
    delete doc.id;
    const { document } = sim.request(doc);
    expect(document!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.state.agreements.has(document!.id as string)).toBe(true);
  });

  it('putDataProduct emits Created then Updated; deleteDataProduct with force works on a used product', async () => {
    sim = await start();
    const consumer = smallMesh().dataProducts[0] as Doc;
    expect(names(sim.putDataProduct({ ...consumer, custom: { 'aws-role-name': 'new-role' } }).events)).toEqual([
      'DataProductUpdatedEvent',
    ]);
    expect((sim.state.dataProducts.get('consumer')!.custom as Doc)['aws-role-name']).toBe('new-role');
    const fresh = { dataProductSpecification: '0.0.1', id: 'fresh', info: { title: 'Fresh', owner: 'sales' } };
    expect(names(sim.putDataProduct(fresh).events)).toEqual(['DataProductCreatedEvent']);

    sim.request(agreementDoc('a1'));
    sim.approve('a1');
    expect(() => sim.deleteDataProduct('orders')).toThrow(/active access 'a1'/);
    expect(names(sim.deleteDataProduct('orders', { force: true }).events)).toEqual([
      'DataProductDeletedEvent',
      'OutputPortDeletedEvent',
    ]);
    expect(sim.state.agreementView('a1')!.provider).toMatchObject({
      dataProductId: 'unknown',
      outputPortId: 'unknown',
    });
  });
});

describe('admin endpoints under /simulator', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('drive the same lifecycle over HTTP and answer with the document and the emitted events', async () => {
    sim = await start();
    const requested = await call(sim, '/simulator/access', { method: 'POST', body: agreementDoc('a1') });
    expect(requested.status).toBe(201);
    expect(names(((await requested.json()) as Doc).events)).toEqual(['AccessCreatedEvent', 'AccessRequestedEvent']);

    const approved = (await (await call(sim, '/simulator/access/a1/approve', { method: 'POST' })).json()) as Doc;
    expect(approved.document.info).toMatchObject({ status: 'approved', active: true });
    expect(names(approved.events)).toEqual(['AccessApprovedEvent', 'AccessActivatedEvent']);

    const canceled = (await (
      await call(sim, '/simulator/access/a1/cancel?deactivate=false', { method: 'POST' })
    ).json()) as Doc;
    expect(names(canceled.events)).toEqual(['AccessCanceledEvent']);
    const deactivated = (await (await call(sim, '/simulator/access/a1/deactivate', { method: 'POST' })).json()) as Doc;
    expect(names(deactivated.events)).toEqual(['AccessDeactivatedEvent']);

    const state = (await (await call(sim, '/simulator/state')).json()) as Doc;
    expect(state.agreements).toEqual([{ id: 'a1', status: 'approved', active: false, provisioning: null }]);
    expect(state.lastEventId).toBe(deactivated.events[0].id);

    const deleted = (await (await call(sim, '/simulator/access/a1', { method: 'DELETE' })).json()) as Doc;
    expect(deleted).toEqual({
      document: null,
      events: [expect.objectContaining({ type: 'com.datamesh-manager.events.AccessDeletedEvent' })],
    });
    expect((await call(sim, '/simulator/access/a1/frobnicate', { method: 'POST' })).status).toBe(404);
  });

  it('update and force-delete data products, and append arbitrary events', async () => {
    sim = await start();
    const consumer = { ...(smallMesh().dataProducts[0] as Doc), custom: { 'aws-role-name': 'other-role' } };
    const updated = (await (
      await call(sim, '/simulator/dataproducts/consumer', { method: 'PUT', body: consumer })
    ).json()) as Doc;
    expect(names(updated.events)).toEqual(['DataProductUpdatedEvent']);

    sim.request(agreementDoc('a1'));
    sim.approve('a1');
    expect((await call(sim, '/simulator/dataproducts/orders', { method: 'DELETE' })).status).toBe(422);
    expect((await call(sim, '/simulator/dataproducts/orders?force=true', { method: 'DELETE' })).status).toBe(200);

    const custom = await call(sim, '/simulator/events', {
      method: 'POST',
      body: { type: 'DataUsageAgreementActivatedEvent', subject: 'a1' },
    });
    expect(custom.status).toBe(201);
    expect((await feed(sim)).at(-1)).toMatchObject({
      type: 'com.datamesh-manager.events.DataUsageAgreementActivatedEvent',
      subject: 'a1',
      data: { id: 'a1' },
    });
    expect((await call(sim, '/simulator/events', { method: 'POST', body: { subject: 'a1' } })).status).toBe(400);
  });

  it('need the API key like the vendor API', async () => {
    sim = await start();
    expect((await fetch(`${sim.url}/simulator/access/a1/approve`, { method: 'POST' })).status).toBe(403);
  });
});
