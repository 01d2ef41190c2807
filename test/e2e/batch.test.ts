/**
 * A batch of events as one unit of work (src/sync/batch.ts), over the real client and simulator:
 * coalesced per agreement and per role, the echo of our own write-back skipped, data products
 * listed once and read again when an event is newer than their copy.
 */
import { describe, expect, it } from 'vitest';
import type { DmmApi } from '../../src/interfaces/dmm-api.js';
import type { FeedEvent } from '../../src/model/events.js';
import { EventBatchProcessor } from '../../src/sync/batch.js';
import {
  agreement,
  consumerProduct,
  dpsProduct,
  grantsOn,
  ROLE,
  resourcesOf,
  s3BucketPort,
  startWorld,
  type World,
} from './harness.js';

const PROVIDERS = ['p0', 'p1', 'p2'];

async function world(): Promise<World> {
  return startWorld({
    mesh: {
      dataProducts: [
        consumerProduct(),
        ...PROVIDERS.map((id) => dpsProduct(id, { ports: [s3BucketPort(`${id}-s3`, `acme-${id}`)] })),
      ],
      agreements: PROVIDERS.map((id) => agreement(`agr-${id}`, id, `${id}-s3`)),
    },
  });
}

/** The client with every call named in `calls`. */
function counted(dmm: DmmApi): { dmm: DmmApi; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(dmm, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { dmm: proxy, calls };
}

/** The feed's events since `from` (an index into the simulator's feed). */
function eventsSince(w: World, from: number): FeedEvent[] {
  return w.sim.state.events.slice(from) as unknown as FeedEvent[];
}

describe('a batch of events', () => {
  it('reads each agreement once, lists the products once and writes the shared role once', async () => {
    const w = await world();
    const { dmm, calls } = counted(w.dmm);
    const processor = new EventBatchProcessor({ ...w.ctx, dmm });
    const from = w.sim.state.events.length;
    for (const id of PROVIDERS) w.sim.approve(`agr-${id}`);
    const events = eventsSince(w, from);
    expect(events).toHaveLength(6); // Approved and Activated for each

    const results = await processor.process(events);

    expect(results.every((r) => r.ok)).toBe(true);
    expect([...(await grantsOn(w.iam)).keys()].sort()).toEqual(PROVIDERS.map((id) => `agr-${id}`));
    expect(w.writes.filter((x) => x.roleName === ROLE)).toHaveLength(1);
    // One read for the reconcile and one right before each write-back PUT.
    expect(calls.filter((c) => c === 'getAgreement')).toHaveLength(6);
    expect(calls.filter((c) => c === 'putAgreement')).toHaveLength(3);
    expect(calls.filter((c) => c === 'listDataProductsInFull')).toHaveLength(1);
    expect(calls.filter((c) => c === 'getDataProduct')).toHaveLength(0);
    // Each agreement's outcome is counted once, on its last event.
    const outcomes = results.flatMap((r) => (r.ok ? r.result.outcomes : []));
    expect(outcomes.map((o) => o.agreementId).sort()).toEqual(PROVIDERS.map((id) => `agr-${id}`));
  });

  it('skips the echo of its own write-back, but not a change someone makes after it', async () => {
    const w = await world();
    const { dmm, calls } = counted(w.dmm);
    const processor = new EventBatchProcessor({ ...w.ctx, dmm });
    let from = w.sim.state.events.length;
    for (const id of PROVIDERS) w.sim.approve(`agr-${id}`);
    const approved = w.sim.state.events.length;
    await processor.process(eventsSince(w, from));

    // What our write-back caused: provisioning reports and one AccessUpdated per PUT.
    const echoes = eventsSince(w, approved);
    calls.length = 0;
    const updated = echoes.filter((e) => e.type.endsWith('UpdatedEvent'));
    expect(updated).toHaveLength(3);
    const results = await processor.process(echoes);
    expect(results.every((r) => r.ok && r.result.outcomes.length === 0)).toBe(true);
    expect(calls).toEqual([]);

    // Someone edits an agreement afterwards: that event is not ours, so it is converged.
    from = w.sim.state.events.length;
    const current = w.sim.state.agreementView('agr-p0')!;
    const { status: _s, active: _a, ...info } = current.info as Record<string, unknown>;
    const { provisioning: _p, ...rest } = current;
    await w.dmm.putAgreement('agr-p0', { ...rest, info, tags: [...(current.tags as string[]), 'reviewed'] });
    const edit = eventsSince(w, from);
    expect(edit.map((e) => e.type.split('.').at(-1))).toEqual(['AccessUpdatedEvent']);
    const [handled] = await processor.process(edit);
    expect(handled?.ok && handled.result.outcomes.map((o) => o.agreementId)).toEqual(['agr-p0']);
    expect(calls).toContain('getAgreement');
  });

  it('reads a data product again after its event, and grants what it says now', async () => {
    const w = await world();
    const processor = new EventBatchProcessor(w.ctx);
    let from = w.sim.state.events.length;
    for (const id of PROVIDERS) w.sim.approve(`agr-${id}`);
    await processor.process(eventsSince(w, from));
    expect(resourcesOf((await grantsOn(w.iam)).get('agr-p0')!.statements)).toContain('arn:aws:s3:::acme-p0');

    from = w.sim.state.events.length;
    w.sim.putDataProduct(dpsProduct('p0', { ports: [s3BucketPort('p0-s3', 'acme-p0-moved')] }));
    const results = await processor.process(eventsSince(w, from));
    expect(results.every((r) => r.ok)).toBe(true);
    const resources = resourcesOf((await grantsOn(w.iam)).get('agr-p0')!.statements);
    expect(resources).toContain('arn:aws:s3:::acme-p0-moved');
    expect(resources).not.toContain('arn:aws:s3:::acme-p0');
  });
});
