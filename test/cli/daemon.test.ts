/**
 * The `run` loop under an unreachable feed and a rejected key, with the real HTTP client, the
 * simulator and the local stand-in; time is injected (the sleeps are recorded, not waited).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { backoffMs, FatalSyncError, MAX_BACKOFF_MS, MAX_FAILED_PASSES, runDaemon } from '../../src/cli/daemon.js';
import { DmmApiError } from '../../src/dmm/errors.js';
import type { DmmApi } from '../../src/interfaces/dmm-api.js';
import { pollFeed } from '../../src/sync/poller.js';
import { startScriptedServer } from '../dmm/scripted-server.js';
import { agreement, consumerProduct, fastClient, grantsOn, ordersProduct, startWorld } from '../e2e/harness.js';

/** The same client, except that the feed answers `fail()`'s error while it returns one. */
function feedDown(dmm: DmmApi, fail: () => Error | undefined): DmmApi {
  return Object.assign(Object.create(dmm) as DmmApi, {
    pollEvents: (lastEventId?: string) => {
      const error = fail();
      return error ? Promise.reject(error) : dmm.pollEvents(lastEventId);
    },
  });
}

/** One active agreement, its events read from the feed into the queue, nothing converged yet. */
async function queuedWorld() {
  const world = await startWorld({
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct()],
      agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
    },
  });
  await pollFeed({ dmm: world.dmm, queue: world.queue, checkpoint: world.checkpoint, log: world.log });
  return world;
}

const unavailable = () =>
  new DmmApiError({
    method: 'GET',
    url: 'http://127.0.0.1/api/events',
    status: 503,
    title: 'Service Unavailable',
    attempts: 3,
  });

describe('runDaemon', () => {
  it('converges the events already queued while the feed is down, backs off, and recovers when it is back', async () => {
    // The feed was read into the queue before the outage; nothing converged yet.
    const world = await queuedWorld();
    expect(await world.queue.size()).toBeGreaterThan(0);

    let down = 3;
    world.ctx.dmm = feedDown(world.dmm, () => (down-- > 0 ? unavailable() : undefined));
    const sleeps: number[] = [];
    await runDaemon(
      { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
      {
        intervalMs: 10_000,
        shouldStop: () => sleeps.length >= 5,
        onDeadLetter: async () => {},
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0,
      },
    );
    // The grant was made in the first pass, while the feed was failing.
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-1']);
    // 1 s, 2 s, 4 s (jitter at its floor: half of each), then the normal interval once the feed is back.
    expect(sleeps).toEqual([500, 1000, 2000, 10_000, 10_000]);
    const retries = world.log.entries.filter((e) => e.message === 'sync pass failed; retrying');
    expect(retries.map((e) => e.fields.failedPasses)).toEqual([1, 2, 3]);
  });

  it('stops with a clear error when Data Mesh Manager rejects the API key, instead of retrying forever', async () => {
    const server = await startScriptedServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"title":"Unauthorized","status":401}');
    });
    try {
      const world = await startWorld({ mesh: { dataProducts: [], agreements: [] } });
      world.ctx.dmm = fastClient(server.url, 'wrong-key');
      const sleeps: number[] = [];
      const run = runDaemon(
        { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
        {
          intervalMs: 10_000,
          shouldStop: () => sleeps.length > 10,
          onDeadLetter: async () => {},
          sleep: async (ms) => void sleeps.push(ms),
        },
      );
      await expect(run).rejects.toThrow(FatalSyncError);
      await expect(run).rejects.toThrow(/rejects the API key .*check DMM_API_KEY.*retrying will not help/);
      expect(sleeps).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('an outage that does not end stops the daemon with its reason after MAX_FAILED_PASSES, losing nothing', async () => {
    const world = await queuedWorld();
    const queued = await world.queue.size();
    // Everything Data Mesh Manager answers is a 503: the feed and the agreement reads alike.
    const down = await startScriptedServer((_req, res) => res.writeHead(503).end());
    onTestFinished(() => down.close());
    world.ctx.dmm = fastClient(down.url, world.sim.apiKey, { maxAttempts: 1 });
    const sleeps: number[] = [];
    await expect(
      runDaemon(
        { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
        {
          intervalMs: 10_000,
          shouldStop: () => false,
          onDeadLetter: async () => {},
          sleep: async (ms) => void sleeps.push(ms),
        },
      ),
    ).rejects.toThrow(new RegExp(`^stopping after ${MAX_FAILED_PASSES} failed passes in a row .*Nothing is lost`));
    expect(sleeps).toHaveLength(MAX_FAILED_PASSES - 1);
    expect(await world.queue.size()).toBe(queued);
  });

  it('passes that make progress before an intermittent fault keep the backoff at its first step and never give up', async () => {
    const world = await queuedWorld();
    // The feed keeps moving (a new event per pass) while every agreement read meets a 503.
    world.ctx.dmm = Object.assign(Object.create(world.dmm) as DmmApi, {
      getAgreement: () => Promise.reject(unavailable()),
    });
    const sleeps: number[] = [];
    await runDaemon(
      { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
      {
        intervalMs: 10_000,
        shouldStop: () => sleeps.length >= MAX_FAILED_PASSES + 5,
        onDeadLetter: async () => {},
        sleep: async (ms) => {
          sleeps.push(ms);
          world.sim.emitEvent('TagCreatedEvent', `tag-${sleeps.length}`);
        },
        random: () => 0,
      },
    );
    expect(sleeps).toEqual(Array(MAX_FAILED_PASSES + 5).fill(500));
    expect(await world.queue.size()).toBeGreaterThan(0);
  });

  it('--once: a failing pass fails the run (after converging what was queued)', async () => {
    const world = await queuedWorld();
    world.ctx.dmm = feedDown(world.dmm, unavailable);
    await expect(
      runDaemon(
        { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
        { once: true, intervalMs: 1, shouldStop: () => false, onDeadLetter: async () => {}, sleep: async () => {} },
      ),
    ).rejects.toThrow(/503/);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-1']);
  });
});

describe('backoffMs', () => {
  it('doubles from 1 s to at most a minute, with jitter in the upper half', () => {
    expect([1, 2, 3, 4, 7, 20].map((n) => backoffMs(n, () => 0.999999))).toEqual([
      1000,
      2000,
      4000,
      8000,
      MAX_BACKOFF_MS,
      MAX_BACKOFF_MS,
    ]);
    expect(backoffMs(3, () => 0)).toBe(2000);
  });
});
