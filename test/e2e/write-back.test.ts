import { describe, expect, it } from 'vitest';
import {
  ROLE_ARN,
  agreement,
  consumerProduct,
  eventsNamed,
  ordersProduct,
  provisioningOf,
  startOrdersWorld,
  startWorld,
} from './harness.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';

/** What the sync writes back to the agreement is merged into what others wrote, and only when it changed. */

describe('write-back', () => {
  it('keeps tags and custom fields others wrote, flips our markers, and PUTs only on a change', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [
          agreement('agr-1', 'orders', 'orders-s3', { tags: ['from-ui'], custom: { 'owner-note': 'keep me' } }),
        ],
      },
    });
    const puts = () => eventsNamed(world, 'AccessUpdatedEvent', 'agr-1');
    const current = async () => {
      const a = (await world.dmm.getAgreement('agr-1'))!;
      return { tags: [...a.tags].sort(), custom: a.custom };
    };

    await world.settle();
    // Requested, never granted: untouched.
    expect(puts()).toBe(0);
    expect(await current()).toEqual({ tags: ['from-ui'], custom: { 'owner-note': 'keep me' } });

    world.sim.approve('agr-1');
    await world.settle();
    expect(puts()).toBe(1);
    expect(await current()).toEqual({
      tags: ['aws-integration', 'aws-integration-active', 'from-ui'],
      custom: { 'owner-note': 'keep me', 'aws-policy-name': 'dmm-aws-pack-1', 'aws-granted-role-arn': ROLE_ARN },
    });

    // Someone else edits the agreement through the API: their PUT is an event, ours does not follow.
    const raw = (await world.dmm.getAgreement('agr-1'))!.raw;
    const { provisioning: _serverManaged, info, ...doc } = raw;
    const { status: _status, active: _active, ...editableInfo } = info as Record<string, unknown>;
    await world.dmm.putAgreement('agr-1', {
      ...doc,
      info: editableInfo,
      tags: [...(raw.tags as string[]), 'reviewed'],
      custom: { ...(raw.custom as Record<string, string>), ticket: 'T-42' },
    });
    expect(puts()).toBe(2);
    const feed = world.sim.state.events.length;
    const [afterEdit] = await world.settle();
    expect(
      afterEdit!.results
        .flatMap((r) => r.outcomes)
        .map((o) => [o.agreementId, o.decision, o.effect, o.report?.tagsWritten, o.report?.provisioning]),
    ).toEqual([['agr-1', 'grant', 'unchanged', false, 'unchanged']]);
    expect(world.sim.state.events.length).toBe(feed);

    world.sim.deactivate('agr-1');
    await world.settle();
    expect(puts()).toBe(3);
    expect(await current()).toEqual({
      tags: ['aws-integration', 'aws-integration-inactive', 'from-ui', 'reviewed'],
      custom: { 'owner-note': 'keep me', ticket: 'T-42' },
    });
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('deprovisioned');

    world.sim.activate('agr-1');
    await world.settle();
    expect(puts()).toBe(4);
    expect(await current()).toEqual({
      tags: ['aws-integration', 'aws-integration-active', 'from-ui', 'reviewed'],
      custom: {
        'owner-note': 'keep me',
        ticket: 'T-42',
        'aws-policy-name': 'dmm-aws-pack-1',
        'aws-granted-role-arn': ROLE_ARN,
      },
    });
    expect((await provisioningOf(world, 'agr-1')).body).toMatchObject({
      status: 'provisioned',
      reference: `${ROLE_ARN} (policies: dmm-aws-pack-1)`,
    });

    // A sync with nothing new and a replayed event: no PUT, no provisioning report, no IAM write.
    const writes = world.writes.length;
    const before = world.sim.state.events.length;
    const idle = await world.sync();
    expect(idle.polled.events).toBe(0);
    world.sim.emitEvent('AccessUpdatedEvent', 'agr-1');
    await world.sync();
    expect(puts()).toBe(5); // only the one emitted above
    expect(world.sim.state.events.length).toBe(before + 1);
    expect(world.writes.length).toBe(writes);
  });

  it('PUTs the document exactly as received: unknown members verbatim, no read-only member, nothing added', async () => {
    const unmodelled = {
      // (`roles` is read now: requested roles are checked against the data contract, see
      // test/e2e/data-contracts.test.ts, where their write-back keeps them verbatim too.)
      labels: ['orders.analyst.eu.read'],
      links: { catalog: 'https://catalog.example.com/orders' },
      'x-vendor': { nested: [1, null, { deep: true }], empty: {} },
    };
    const doc = agreement('agr-1', 'orders', 'orders-s3', { active: true, tags: ['from-ui'] });
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [{ ...doc, ...unmodelled, info: { ...(doc.info as object), nextReassessmentDate: '2027-01-01' } }],
      },
    });
    const sent: Record<string, unknown>[] = [];
    const put = world.dmm.putAgreement.bind(world.dmm);
    world.ctx.dmm = Object.assign(Object.create(world.dmm), {
      putAgreement: async (id: string, body: Record<string, unknown>) => {
        sent.push(structuredClone(body));
        return put(id, body);
      },
    });
    const before = structuredClone(world.sim.state.agreements.get('agr-1')!.doc);
    const outcome = await reconcileAgreement(world.ctx, 'agr-1');
    expect(outcome.report).toMatchObject({ tagsWritten: true, provisioning: 'provisioning-succeeded' });
    // The simulator runs in strict mode: it would have refused anything but tags and custom.
    expect(sent).toEqual([
      {
        ...before,
        tags: ['from-ui', 'aws-integration', 'aws-integration-active'],
        custom: { 'aws-policy-name': 'dmm-aws-pack-1', 'aws-granted-role-arn': ROLE_ARN },
      },
    ]);
    expect(sent[0]!.info).toEqual({
      purpose: 'e2e agr-1',
      startDate: '2020-01-01',
      nextReassessmentDate: '2027-01-01',
    });
    expect(world.sim.state.agreements.get('agr-1')!.doc).toMatchObject(unmodelled);
  });

  it('the old API generation writes the same markers, through PUT /api/datausageagreements only', async () => {
    const world = await startWorld({
      generation: 'datausageagreements',
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [
          agreement('agr-1', 'orders', 'orders-s3', {
            active: true,
            tags: ['from-ui'],
            custom: { 'owner-note': 'keep me' },
          }),
        ],
      },
    });
    await world.settle();
    const stored = world.sim.state.agreements.get('agr-1')!;
    expect(stored.doc.tags).toEqual(['from-ui', 'aws-integration', 'aws-integration-active']);
    expect(stored.doc.custom).toEqual({
      'owner-note': 'keep me',
      'aws-policy-name': 'dmm-aws-pack-1',
      'aws-granted-role-arn': ROLE_ARN,
    });
    expect(stored.provisioning).toBeUndefined();
    expect(eventsNamed(world, 'DataUsageAgreementUpdatedEvent', 'agr-1')).toBe(1);
    // The server-managed fields the old API serves (status, active) are not stored from our PUT.
    expect(stored.doc.info).toEqual({ purpose: 'e2e agr-1', startDate: '2020-01-01' });
  });

  it('an agreement whose markers are already right is read once per event, not again before a write that is not needed', async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();
    let reads = 0;
    const get = world.dmm.getAgreement.bind(world.dmm);
    world.ctx.dmm = Object.assign(Object.create(world.dmm), {
      getAgreement: async (id: string) => {
        reads++;
        return get(id);
      },
    });
    const outcome = await reconcileAgreement(world.ctx, 'agr-1');
    expect(outcome.report).toMatchObject({ tagsWritten: false, provisioning: 'unchanged' });
    expect(reads).toBe(1);
  });
});
