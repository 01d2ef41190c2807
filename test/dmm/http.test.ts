import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DmmApiError, DmmResponseFormatError } from '../../src/dmm/errors.js';
import { DmmHttp, GONE, type HttpOptions, type RetryInfo } from '../../src/dmm/http.js';
import { backoffDelayMs, retryAfterMs } from '../../src/dmm/retry-policy.js';
import { json, problem, sequence, startScriptedServer, type Handler, type ScriptedServer } from './scripted-server.js';

const API_KEY = 'dmm-secret-key-4711';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The real client against a loopback server; sleeps are recorded instead of waited. */
async function setup(handler: Handler, options: Partial<HttpOptions> = {}) {
  server = await startScriptedServer(handler);
  const sleeps: number[] = [];
  const retries: RetryInfo[] = [];
  const http = new DmmHttp({
    baseUrl: server.url,
    apiKey: API_KEY,
    retryBaseDelayMs: 100,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: (info) => retries.push(info),
    ...options,
  });
  return { http, sleeps, retries, requests: server.requests };
}

async function failure(promise: Promise<unknown>): Promise<DmmApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DmmApiError);
  return error as DmmApiError;
}

function expectNoKey(error: unknown): void {
  const everything = [String(error), inspect(error, { depth: 10 }), JSON.stringify(error)].join('\n');
  expect(everything).not.toContain(API_KEY);
}

describe('DmmHttp requests', () => {
  it('sends the API key and accept header and parses the JSON body', async () => {
    const { http, requests } = await setup((_req, res) => json(res, 200, { id: 'a1' }));
    const response = await http.request('GET', '/api/access/a1', { accept: 'application/cloudevents-batch+json' });
    expect(response).not.toBe(GONE);
    expect(response !== GONE && response.body).toEqual({ id: 'a1' });
    expect(requests[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(requests[0]?.headers['accept']).toBe('application/cloudevents-batch+json');
  });

  it('sends a JSON body with its content type', async () => {
    const { http, requests } = await setup((_req, res) => res.writeHead(200).end());
    const response = await http.request('PUT', '/api/access/a1', { body: { id: 'a1', tags: ['x'] } });
    expect(response !== GONE && response.body).toBeUndefined();
    expect(requests[0]?.method).toBe('PUT');
    expect(requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ id: 'a1', tags: ['x'] });
  });

  it('keeps a path prefix of the base URL and encodes query parameters', async () => {
    server = await startScriptedServer((_req, res) => json(res, 200, []));
    const http = new DmmHttp({ baseUrl: `${server.url}/dmm`, apiKey: API_KEY });
    await http.request('GET', '/api/events', { query: { lastEventId: 'a b&c', unused: undefined } });
    expect(server.requests[0]?.url).toBe('/dmm/api/events?lastEventId=a+b%26c');
  });

  it('returns GONE for 404 without retrying', async () => {
    const { http, requests } = await setup((_req, res) => problem(res, 404, 'Not Found'));
    expect(await http.request('GET', '/api/access/missing')).toBe(GONE);
    expect(requests).toHaveLength(1);
  });

  it('rejects a 2xx body that is not JSON, after asking again in case it was cut short', async () => {
    const { http, requests } = await setup(
      (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
      { maxAttempts: 3 },
    );
    await expect(http.request('GET', '/api/access/a1')).rejects.toBeInstanceOf(DmmResponseFormatError);
    expect(requests).toHaveLength(3);
  });

  it('retries a 200 whose JSON body arrived truncated, and returns the whole one', async () => {
    const whole = { id: 'a1', info: { status: 'approved' } };
    const { http, retries } = await setup(
      sequence(
        (_req, res) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(whole).slice(0, 12)),
        (_req, res) => json(res, 200, whole),
      ),
    );
    expect(await http.request('GET', '/api/access/a1')).toMatchObject({ status: 200, body: whole });
    expect(retries.map((r) => r.reason)).toEqual(['200 with a body that is not JSON (truncated?)']);
  });
});

describe('DmmHttp retries', () => {
  it('retries 503 and 429 with full-jitter exponential backoff, then succeeds', async () => {
    const { http, sleeps, retries, requests } = await setup(
      sequence(
        (_req, res) => problem(res, 503, 'Service Unavailable'),
        (_req, res) => problem(res, 429, 'Too Many Requests'),
        (_req, res) => problem(res, 502, 'Bad Gateway'),
        (_req, res) => json(res, 200, { ok: true }),
      ),
    );
    const response = await http.request('GET', '/api/access/a1');
    expect(response !== GONE && response.body).toEqual({ ok: true });
    expect(requests).toHaveLength(4);
    // random() = 0.5 of a ceiling of 100·2^(n-1)
    expect(sleeps).toEqual([50, 100, 200]);
    expect(retries.map((r) => [r.attempt, r.status, r.delayMs])).toEqual([
      [1, 503, 50],
      [2, 429, 100],
      [3, 502, 200],
    ]);
    expect(retries[0]?.url).toBe(`${server?.url}/api/access/a1`);
  });

  it('gives up after maxAttempts with the last status in a readable error', async () => {
    const { http, requests } = await setup((_req, res) => problem(res, 503, 'Service Unavailable', 'maintenance'), {
      maxAttempts: 3,
    });
    const error = await failure(http.request('GET', '/api/access/a1'));
    expect(requests).toHaveLength(3);
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.message).toBe('GET /api/access/a1 failed: 503 Service Unavailable – maintenance (after 3 attempts)');
  });

  it.each([400, 403, 409, 422])('does not retry %i', async (status) => {
    const { http, requests, sleeps } = await setup((_req, res) => problem(res, status, 'Nope'));
    const error = await failure(http.request('POST', '/api/access/a1/provisioning/provisioning-started', { body: {} }));
    expect(error.status).toBe(status);
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('honours Retry-After in seconds', async () => {
    const { http, sleeps } = await setup(
      sequence(
        (_req, res) => problem(res, 429, 'Too Many Requests', undefined, { 'retry-after': '7' }),
        (_req, res) => json(res, 200, []),
      ),
    );
    await http.request('GET', '/api/events');
    expect(sleeps).toEqual([7000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const now = Date.parse('2026-07-01T12:00:00Z');
    const { http, sleeps } = await setup(
      sequence(
        (_req, res) =>
          problem(res, 503, 'Service Unavailable', undefined, { 'retry-after': 'Wed, 01 Jul 2026 12:00:30 GMT' }),
        (_req, res) => json(res, 200, []),
      ),
      { now: () => now },
    );
    await http.request('GET', '/api/events');
    expect(sleeps).toEqual([30_000]);
  });

  it('caps Retry-After', async () => {
    const { http, sleeps } = await setup(
      sequence(
        (_req, res) => problem(res, 429, 'Too Many Requests', undefined, { 'retry-after': '86400' }),
        (_req, res) => json(res, 200, []),
      ),
      { maxRetryAfterMs: 5000 },
    );
    await http.request('GET', '/api/events');
    expect(sleeps).toEqual([5000]);
  });

  it('times out a request that never answers, retries, and reports the timeout', async () => {
    const { http, requests, retries } = await setup(() => undefined /* never responds */, {
      timeoutMs: 80,
      maxAttempts: 2,
    });
    const started = Date.now();
    const error = await failure(http.request('GET', '/api/events'));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(requests).toHaveLength(2);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe('GET /api/events failed: timed out after 80 ms (after 2 attempts)');
    expect(retries[0]?.reason).toBe('timed out after 80 ms');
  });

  it('recovers when only the first attempt times out', async () => {
    const { http, requests } = await setup(
      sequence(
        () => undefined,
        (_req, res) => json(res, 200, ['second']),
      ),
      { timeoutMs: 80 },
    );
    const response = await http.request('GET', '/api/events');
    expect(response !== GONE && response.body).toEqual(['second']);
    expect(requests).toHaveLength(2);
  });

  it('sends a GET that has not answered after hedgeAfterMs once more, and takes the first answer', async () => {
    const { http, requests, retries } = await setup(
      sequence(
        () => undefined /* never responds */,
        (_req, res) => json(res, 200, ['twin']),
      ),
      { timeoutMs: 5_000, hedgeAfterMs: 50 },
    );
    const started = Date.now();
    const response = await http.request('GET', '/api/events');
    expect(response !== GONE && response.body).toEqual(['twin']);
    // Answered by the twin, long before the first copy's timeout; one attempt, no retry.
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(requests).toHaveLength(2);
    expect(retries).toEqual([]);
  });

  it('sends no twin when the answer comes in time, and never hedges a write', async () => {
    const { http, requests } = await setup(
      (req, res) => {
        if (req.method === 'GET') json(res, 200, { ok: true });
        else setTimeout(() => res.writeHead(204).end(), 150);
      },
      { hedgeAfterMs: 50 },
    );
    await http.request('GET', '/api/access/a1');
    await http.request('PUT', '/api/access/a1', { body: { id: 'a1' } });
    expect(requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
  });

  it('retries network errors and describes the socket failure', async () => {
    // A port that was just closed refuses connections.
    const closed = await startScriptedServer(() => undefined);
    await closed.close();
    const retries: RetryInfo[] = [];
    const offline = new DmmHttp({
      baseUrl: closed.url,
      apiKey: API_KEY,
      maxAttempts: 2,
      sleep: async () => {},
      onRetry: (info) => retries.push(info),
    });
    const error = await failure(offline.request('GET', '/api/events'));
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(/^GET \/api\/events failed: network error: .*ECONNREFUSED.* \(after 2 attempts\)$/);
    expect(retries).toHaveLength(1);
    expectNoKey(error);
  });
});

describe('DmmHttp errors', () => {
  it('turns problem+json into a readable error', async () => {
    const { http } = await setup((_req, res) => problem(res, 403, 'Forbidden', 'Invalid API key'));
    const error = await failure(http.request('GET', '/api/access/x'));
    expect(error.message).toBe('GET /api/access/x failed: 403 Forbidden – Invalid API key');
    expect(error).toMatchObject({
      status: 403,
      title: 'Forbidden',
      detail: 'Invalid API key',
      method: 'GET',
      type: 'about:blank',
    });
    expect(error.url).toBe(`${server?.url}/api/access/x`);
  });

  it('falls back to the status text and a body excerpt when the body is not a problem', async () => {
    const { http } = await setup((_req, res) =>
      res.writeHead(422, { 'content-type': 'text/plain' }).end('  outputPortId\n is required '),
    );
    const error = await failure(http.request('PUT', '/api/access/x', { body: {} }));
    expect(error.message).toBe('PUT /api/access/x failed: 422 Unprocessable Entity – outputPortId is required');
  });

  it('never puts the API key into the error, even when the server echoes it', async () => {
    const { http } = await setup((_req, res) =>
      problem(res, 403, `Key ${API_KEY} rejected`, `The key ${API_KEY} is not valid for this organization`),
    );
    const error = await failure(http.request('GET', '/api/access/x'));
    expectNoKey(error);
    expect(error.detail).toBe('The key *** is not valid for this organization');
  });

  it('never puts the API key into retry errors and their cause', async () => {
    const { http } = await setup(
      (_req, res) => problem(res, 500, 'Internal Server Error', `while checking ${API_KEY}`),
      {
        maxAttempts: 2,
      },
    );
    const error = await failure(http.request('GET', '/api/access/x'));
    expectNoKey(error);
  });
});

describe('DmmHttp redirects', () => {
  it('follows a redirect within the same origin, keeping the key', async () => {
    const { http, requests } = await setup((req, res) => {
      if (req.url === '/api/old') res.writeHead(307, { location: '/api/new' }).end();
      else json(res, 200, { at: req.url });
    });
    const response = await http.request('GET', '/api/old');
    expect(response !== GONE && response.body).toEqual({ at: '/api/new' });
    expect(requests[1]?.headers['x-api-key']).toBe(API_KEY);
  });

  it('refuses to follow a redirect to another origin, so the key stays home', async () => {
    const other = await startScriptedServer((_req, res) => json(res, 200, {}));
    try {
      const { http } = await setup((_req, res) => res.writeHead(302, { location: `${other.url}/steal` }).end());
      const error = await failure(http.request('GET', '/api/access/x'));
      expect(error.message).toContain('Redirected to another origin');
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('retry policy', () => {
  it('grows the backoff ceiling exponentially up to the cap', () => {
    const max = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, 100, 1000, max))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(3, 100, 1000, () => 0)).toBe(0);
  });

  it('reads Retry-After seconds and dates, ignores garbage, treats past dates as now', () => {
    const now = Date.parse('2026-07-01T12:00:00Z');
    expect(retryAfterMs('3', now, 60_000)).toBe(3000);
    expect(retryAfterMs('Wed, 01 Jul 2026 12:00:10 GMT', now, 60_000)).toBe(10_000);
    expect(retryAfterMs('Wed, 01 Jul 2026 11:00:00 GMT', now, 60_000)).toBe(0);
    expect(retryAfterMs('soon', now, 60_000)).toBeUndefined();
    expect(retryAfterMs(null, now, 60_000)).toBeUndefined();
    expect(retryAfterMs('120', now, 60_000)).toBe(60_000);
  });
});
