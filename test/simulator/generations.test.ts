import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, feed, names, start, type Doc } from './helpers.js';

describe("generation 'datausageagreements' (servers of 2024 and earlier)", () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('serves agreements under /api/datausageagreements and 404 under /api/access', async () => {
    sim = await start({ generation: 'datausageagreements' });
    sim.request(agreementDoc('dua-1'));
    expect((await call(sim, '/api/access')).status).toBe(404);
    expect((await call(sim, '/api/access/dua-1')).status).toBe(404);

    const list = (await (await call(sim, '/api/datausageagreements')).json()) as Doc[];
    expect(list.map((a) => a.id)).toEqual(['dua-1']);
    const one = (await (await call(sim, '/api/datausageagreements/dua-1')).json()) as Doc;
    // The reference integration read the id from info.id on this endpoint.
    expect(one.info).toMatchObject({ id: 'dua-1', status: 'requested', active: false });

    expect((await call(sim, '/api/datausageagreements/dua-1/approve', { method: 'POST' })).status).toBe(200);
    expect(
      (
        await call(sim, '/api/datausageagreements/dua-1', {
          method: 'PUT',
          // info.id, status and active are served here but are the server's: a strict PUT leaves them out.
          body: {
            ...one,
            info: { purpose: one.info.purpose, startDate: one.info.startDate },
            tags: ['aws-integration'],
          },
        })
      ).status,
    ).toBe(200);
  });

  it('names agreement events DataUsageAgreement…Event and has no provisioning endpoints', async () => {
    sim = await start({ generation: 'datausageagreements' });
    const checkpoint = sim.state.lastEventId;
    sim.request(agreementDoc('dua-1'));
    sim.approve('dua-1');
    sim.cancel('dua-1');
    expect(names(await feed(sim, checkpoint))).toEqual([
      'DataUsageAgreementCreatedEvent',
      'DataUsageAgreementRequestedEvent',
      'DataUsageAgreementApprovedEvent',
      'DataUsageAgreementActivatedEvent',
      'DataUsageAgreementCanceledEvent',
      'DataUsageAgreementDeactivatedEvent',
    ]);
    expect(
      (await call(sim, '/api/datausageagreements/dua-1/provisioning/provisioning-started', { method: 'POST' })).status,
    ).toBe(404);
    expect((await call(sim, '/api/access/dua-1/provisioning/provisioning-started', { method: 'POST' })).status).toBe(
      404,
    );
    expect(sim.state.config.provisioning).toBe(false);
  });

  it('refuses to start with provisioning switched on explicitly', async () => {
    await expect(startSimulator({ port: 0, generation: 'datausageagreements', provisioning: true })).rejects.toThrow(
      /no provisioning endpoints/,
    );
    sim = await start();
  });
});
