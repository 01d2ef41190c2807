import { describe, expect, it } from 'vitest';
import { routeEvent } from '../../src/sync/event-routing.js';
import {
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  grantsOn,
  s3BucketPort,
  startWorld,
  type World,
} from './harness.js';

/**
 * OutputPort{Created,Updated,Deleted}Event as the 2026-07 OpenAPI defines them: data = {id: <data
 * product id>, outputPortId, timestamp}. The simulator emits them beside the product's own event;
 * the sync routes them to the agreements on that port and never dead-letters them.
 */

function portEvents(world: World, from: number) {
  return world.sim.state.events
    .slice(from)
    .filter((e) => /OutputPort|DataProduct/.test(e.type))
    .map((e) => [e.type.slice(e.type.lastIndexOf('.') + 1), e.data]);
}

const twoPorts = (euBucket = 'acme-orders-eu') =>
  dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders'), s3BucketPort('orders-eu', euBucket)] });

describe('output port events', () => {
  it('the simulator emits them in the spec’s shape after the data product’s own event', async () => {
    const world = await startWorld({ mesh: { dataProducts: [twoPorts(), consumerProduct()] } });
    const timestamp = expect.any(String);
    let from = world.sim.state.events.length;

    world.sim.putDataProduct(twoPorts('acme-orders-eu-2'));
    expect(portEvents(world, from)).toEqual([
      ['DataProductUpdatedEvent', { id: 'orders', timestamp }],
      ['OutputPortUpdatedEvent', { id: 'orders', outputPortId: 'orders-eu', timestamp }],
    ]);

    from = world.sim.state.events.length;
    world.sim.putDataProduct(
      dpsProduct('orders', { ports: [s3BucketPort('orders-eu', 'acme-orders-eu-2'), s3BucketPort('orders-us', 'u')] }),
    );
    expect(portEvents(world, from)).toEqual([
      ['DataProductUpdatedEvent', { id: 'orders', timestamp }],
      ['OutputPortCreatedEvent', { id: 'orders', outputPortId: 'orders-us', timestamp }],
      ['OutputPortDeletedEvent', { id: 'orders', outputPortId: 'orders-s3', timestamp }],
    ]);

    from = world.sim.state.events.length;
    world.sim.deleteDataProduct('orders');
    expect(portEvents(world, from)).toEqual([
      ['DataProductDeletedEvent', { id: 'orders', timestamp }],
      ['OutputPortDeletedEvent', { id: 'orders', outputPortId: 'orders-eu', timestamp }],
      ['OutputPortDeletedEvent', { id: 'orders', outputPortId: 'orders-us', timestamp }],
    ]);
  });

  it('a port change reconciles the agreements on that port only, and nothing is dead-lettered', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [twoPorts(), consumerProduct()],
        agreements: [
          agreement('agr-s3', 'orders', 'orders-s3', { active: true }),
          agreement('agr-eu', 'orders', 'orders-eu', { active: true }),
        ],
      },
    });
    await world.settle();
    world.sim.putDataProduct(twoPorts('acme-orders-eu-2'));
    const run = await world.sync();
    expect(run.stats.deadLettered).toBe(0);
    const portResult = run.results.find((r) => r.event.type.endsWith('OutputPortUpdatedEvent'))!;
    expect(portResult.target).toEqual({ kind: 'dataProduct', dataProductId: 'orders', outputPortId: 'orders-eu' });
    expect(portResult.outcomes.map((o) => o.agreementId)).toEqual(['agr-eu']);
    expect(world.log.entries.filter((r) => r.level === 'error')).toEqual([]);
    expect((await grantsOn(world.iam)).get('agr-eu')!.statements).toEqual([
      bucketReadStatement('agr-eu', 'acme-orders-eu-2'),
    ]);
  });

  it('routes the spec’s data.id, accepts the older data.dataProductId, and refuses an event naming no product', () => {
    const event = (data: Record<string, unknown>) => ({
      id: 'e1',
      type: 'com.entropy-data.events.OutputPortDeletedEvent',
      subject: 'orders-eu',
      data,
    });
    expect(routeEvent(event({ id: 'orders', outputPortId: 'orders-eu' }))).toEqual({
      kind: 'dataProduct',
      dataProductId: 'orders',
      outputPortId: 'orders-eu',
    });
    expect(routeEvent(event({ dataProductId: 'orders', outputPortId: 'orders-eu' }))).toMatchObject({
      dataProductId: 'orders',
    });
    // The subject may name the port, so it is no fallback for the product.
    expect(routeEvent(event({ outputPortId: 'orders-eu' }))).toMatchObject({ kind: 'invalid' });
  });
});
