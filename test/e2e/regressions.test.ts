/** Regression tests for bugs found in review: each failed before its fix. */
import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/model/events.js';
import { IamError } from '../../src/interfaces/iam-account.js';
import { processEvent } from '../../src/sync/processor.js';
import type { ReceivedMessage } from '../../src/interfaces/event-queue.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';
import {
  ROLE_ARN,
  agreement,
  consumerProduct,
  eventsNamed,
  grantsOn,
  ordersProduct,
  provisioningOf,
  startWorld,
} from './harness.js';

const mesh = () => ({
  dataProducts: [ordersProduct(), consumerProduct()],
  agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
});

describe('regressions', () => {
  it('an agreement deleted while it is being reconciled is not re-created by the write-back PUT', async () => {
    const world = await startWorld({ mesh: mesh() });
    // The agreement is deleted in DMM after the sync read it (here: right after the provisioning report).
    const report = world.dmm.reportProvisioning.bind(world.dmm);
    world.dmm.reportProvisioning = async (id, transition, body) => {
      const result = await report(id, transition, body);
      if (world.sim.state.agreements.has(id)) world.sim.deleteAgreement(id);
      return result;
    };
    await reconcileAgreement(world.ctx, 'agr-1');
    expect(eventsNamed(world, 'AccessDeletedEvent', 'agr-1')).toBe(1);
    expect(world.sim.state.agreements.has('agr-1')).toBe(false);
    expect(eventsNamed(world, 'AccessCreatedEvent', 'agr-1')).toBe(1);
  });

  it('a revoke AWS refuses keeps the record of the role, reports deprovisioning-failed, and a later event finishes it', async () => {
    const world = await startWorld({ mesh: mesh() });
    await world.settle();
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);
    const deactivated = world.sim.deactivate('agr-1').events[0] as unknown as FeedEvent;

    // AWS refuses the revoke once with a permanent error (reported as a failure, not retried).
    const del = world.iam.deleteInlinePolicy.bind(world.iam);
    let refuse = true;
    world.iam.deleteInlinePolicy = async (role, name) => {
      if (!refuse) return del(role, name);
      refuse = false;
      throw new IamError('InvalidInput', 'refused');
    };
    await world.sync();
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true); // the statements are still on the role
    const after = (await world.dmm.getAgreement('agr-1'))!;
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('deprovisioning-failed');
    expect(after.custom['aws-granted-role-arn']).toBe(ROLE_ARN);

    // The echo of our PUT, or a replay of the Deactivated event, finishes the revoke.
    await world.settle();
    await processEvent(world.ctx, deactivated);
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(false);
  });

  it('retries a failing event after growing delays instead of back to back', async () => {
    const world = await startWorld({ mesh: mesh() });
    // A transient refusal that is not an outage (an outage stops the pass instead: see processor tests).
    world.iam.putInlinePolicy = async () => {
      throw new Error('Conflicting update');
    };
    const delays: number[] = [];
    const release = world.queue.release.bind(world.queue);
    world.queue.release = async (receipt, delayMs) => {
      delays.push(delayMs ?? 0);
      return release(receipt, delayMs);
    };
    const deadLetters: ReceivedMessage[] = [];
    await world.sync({ maxReceives: 4, retryDelayMs: 5, onDeadLetter: (m) => void deadLetters.push(m) });
    expect(deadLetters.length).toBeGreaterThan(0);
    expect(deadLetters.every((m) => m.receiveCount === 4)).toBe(true);
    // Every failing event waited 5, 10, 20 ms before its 2nd, 3rd and 4th attempt.
    expect([...new Set(delays)].sort((a, b) => a - b)).toEqual([5, 10, 20]);
  });
});
