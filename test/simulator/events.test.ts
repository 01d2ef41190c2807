import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { BATCH, agreementDoc, call, feed, names, start } from './helpers.js';

describe('GET /api/events', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('serves the events of the loaded mesh from the start as a cloudevents batch', async () => {
    sim = await start();
    const res = await call(sim, '/api/events', { headers: { accept: BATCH } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(BATCH);
    const events = (await res.json()) as Array<Record<string, unknown>>;
    expect(names(events as Array<{ type: string }>)).toEqual([
      'TeamCreatedEvent',
      'TeamCreatedEvent',
      'DataProductCreatedEvent',
      'DataProductCreatedEvent',
      'OutputPortCreatedEvent',
      'DataProductCreatedEvent',
      'OutputPortCreatedEvent',
    ]);
    expect(events[2]).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'com.datamesh-manager.events.DataProductCreatedEvent',
      source: expect.any(String),
      subject: 'consumer',
      time: '2026-03-01T10:00:00.000Z',
      datacontenttype: 'application/json',
      principal: 'system',
      data: { id: 'consumer', timestamp: '2026-03-01T10:00:00.000Z' },
    });
  });

  it('pages at 1000 events and answers [] once caught up', async () => {
    sim = await start({ mesh: undefined });
    for (let i = 0; i < 1500; i++) sim.emitEvent('TagCreatedEvent', `tag-${i}`);
    const first = await feed(sim);
    expect(first).toHaveLength(1000);
    expect(first[0]!.subject).toBe('tag-0');
    const second = await feed(sim, first.at(-1)!.id);
    expect(second).toHaveLength(500);
    expect(second[0]!.subject).toBe('tag-1000');
    expect(second.at(-1)!.subject).toBe('tag-1499');
    expect(await feed(sim, second.at(-1)!.id)).toEqual([]);
    // Ids are unique across the whole feed.
    expect(new Set([...first, ...second].map((e) => e.id)).size).toBe(1500);
  });

  it('continues after a checkpoint with only the newer events', async () => {
    sim = await start();
    const checkpoint = (await feed(sim)).at(-1)!.id;
    sim.request(agreementDoc('a1'));
    const next = await feed(sim, checkpoint);
    expect(names(next)).toEqual(['AccessCreatedEvent', 'AccessRequestedEvent']);
    expect(next.every((e) => e.data.id === 'a1')).toBe(true);
  });

  it('answers 400 problem+json for an unknown lastEventId', async () => {
    sim = await start();
    const res = await call(sim, '/api/events?lastEventId=00000000-0000-0000-0000-000000000000', {
      headers: { accept: BATCH },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toContain('lastEventId');
  });

  it('answers 406 when the client accepts only application/json', async () => {
    sim = await start();
    const res = await call(sim, '/api/events', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(406);
  });

  it('uses the configured event prefix', async () => {
    sim = await start({ eventPrefix: 'com.entropy-data.events' });
    expect((await feed(sim))[0]!.type).toBe('com.entropy-data.events.TeamCreatedEvent');
  });
});
