import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, feed, names, start, type Doc } from './helpers.js';

describe("generation 'datausageagreements' (servers of 2024 and earlier)", () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  it('serves the same agreements under /api/datausageagreements and /api/access, as the 2024-11 API does', async () => {
    sim = await start({ generation: 'datausageagreements' });
    sim.request(agreementDoc('dua-1'));
    for (const base of ['/api/datausageagreements', '/api/access']) {
      const list = (await (await call(sim, base)).json()) as Doc[];
      expect(list.map((a) => a.id)).toEqual(['dua-1']);
      const one = (await (await call(sim, `${base}/dua-1`)).json()) as Doc;
      // No info.id: neither generation's schema has it.
      expect(one.info).toEqual({ purpose: 'testing', startDate: '2025-01-01', status: 'requested', active: false });
    }

    const one = (await (await call(sim, '/api/datausageagreements/dua-1')).json()) as Doc;
    expect((await call(sim, '/api/datausageagreements/dua-1/approve', { method: 'POST' })).status).toBe(200);
    expect(
      (
        await call(sim, '/api/access/dua-1', {
          method: 'PUT',
          // status and active are served but are the server's: a strict PUT leaves them out.
          body: {
            ...one,
            info: { purpose: one.info.purpose, startDate: one.info.startDate },
            tags: ['aws-integration'],
          },
        })
      ).status,
    ).toBe(200);
    expect(((await (await call(sim, '/api/datausageagreements/dua-1')).json()) as Doc).tags).toEqual([
      'aws-integration',
    ]);
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
