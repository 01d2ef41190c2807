/**
 * What giving up on an event tells Data Mesh Manager: only a problem with the agreement's own
 * documents, once, with a message that does not change from event to event; never an outage.
 */
import { describe, expect, it } from 'vitest';
import { DmmApiError } from '../../src/dmm/errors.js';
import { DataProductFormatError } from '../../src/model/read-data-product.js';
import { giveUp } from '../../src/sync/give-up.js';
import { agreement, consumerProduct, ordersProduct, provisioningOf, startWorld, view } from '../e2e/harness.js';

const event = (id: string, agreementId: string) => ({
  id,
  type: 'com.datamesh-manager.events.AccessActivatedEvent',
  data: { id: agreementId },
});

async function world(active: boolean) {
  return startWorld({
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct()],
      agreements: [agreement('agr-1', 'orders', 'orders-s3', { active })],
    },
  });
}

describe('giveUp', () => {
  it("reports a document problem as the agreement's failure, with the same message for every event", async () => {
    const w = await world(true);
    const broken = new DataProductFormatError('orders', 'outputPorts', 'expected an array');
    await giveUp(w.ctx, event('e1', 'agr-1'), 5, broken);
    const first = (await provisioningOf(w, 'agr-1')).body;
    expect(first).toMatchObject({
      status: 'provisioning-failed',
      diagnostics: 'dmm-aws cannot process this agreement: Data product "orders": outputPorts: expected an array',
    });
    const writes = w.sim.state.events.length;
    await giveUp(w.ctx, event('e2', 'agr-1'), 5, broken);
    // Nothing new to say: no second write, so no write-back event to fail again.
    expect(w.sim.state.events.length).toBe(writes);
  });

  it('reports deprovisioning-failed for an agreement that is no longer active', async () => {
    const w = await world(false);
    await giveUp(w.ctx, event('e1', 'agr-1'), 5, new DataProductFormatError('orders', 'outputPorts', 'bad'));
    expect((await provisioningOf(w, 'agr-1')).body?.status).toBe('deprovisioning-failed');
  });

  it('never reports an outage: Data Mesh Manager or AWS unavailable is not the agreement failing', async () => {
    const w = await world(true);
    const writes = w.sim.state.events.length;
    const outage = new DmmApiError({
      method: 'GET',
      url: 'http://127.0.0.1/api/dataproducts/orders',
      status: 503,
      title: 'Service Unavailable',
      attempts: 3,
    });
    await giveUp(w.ctx, event('e1', 'agr-1'), 5, outage);
    expect(w.sim.state.events.length).toBe(writes);
    expect(view(w, 'agr-1').tags).not.toContain('aws-integration-failed');
    expect(w.log.entries.find((e) => e.message === 'event dead-lettered')?.fields).toMatchObject({
      reportedToDataMeshManager: false,
      attempts: 5,
    });
  });
});
