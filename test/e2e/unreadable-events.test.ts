/**
 * One feed event the client cannot read must not stop the feed: it is dead-lettered with its
 * reason, the checkpoint moves past it, and the transitions after it are applied.
 */
import { describe, expect, it } from 'vitest';
import { agreement, consumerProduct, grantsOn, ordersProduct, startWorld } from './harness.js';

describe('an unreadable feed event', () => {
  it('is dead-lettered with its reason while the events after it are applied', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: false })],
      },
    });
    await world.settle();
    // A server bug or a newer schema: data.id is a number.
    const injected = await fetch(`${world.sim.url}/simulator/events`, {
      method: 'POST',
      headers: { 'x-api-key': world.sim.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'AccessActivatedEvent', subject: 'agr-1', data: { id: 42 } }),
    });
    expect(injected.status).toBe(201);
    world.sim.approve('agr-1');

    const deadLetters: string[] = [];
    const run = await world.sync({
      onDeadLetter: (message, error) => void deadLetters.push(`${message.event.id}: ${String(error)}`),
    });
    expect(run.stats.deadLettered).toBe(1);
    expect(deadLetters).toEqual([expect.stringMatching(/data\.id: /)]);
    // The approval after it was applied.
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-1']);
    // The checkpoint is past it: the next pass does not read it again.
    const again = await world.sync();
    expect(again.stats.deadLettered).toBe(0);
    const gaveUp = world.log.entries.filter((e) => e.level === 'error' && JSON.stringify(e).includes('data.id'));
    expect(gaveUp.length).toBeGreaterThan(0);
  });
});
