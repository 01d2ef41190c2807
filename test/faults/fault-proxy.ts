/**
 * A loopback HTTP proxy that injects faults, with a seeded random so a failing run can be
 * replayed: server errors, rate limits, hangs past the client's timeout, 200s whose body is
 * truncated (complete HTTP, incomplete JSON) and responses cut off mid-body (the connection
 * dies). Everything else is forwarded unchanged, the Host header included, so the target's own
 * links (the simulator's `Link: rel="next"`) point back at the proxy.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault = 'error500' | 'rate429' | 'hang' | 'truncated' | 'cut';

export interface FaultMix {
  /** Probability of each fault per request; the rest are forwarded untouched. */
  rates: Partial<Record<Fault, number>>;
  /** How long a hang holds the connection before dropping it; longer than the client's timeout. */
  hangMs?: number;
  /**
   * The body of an error the target would send, e.g. AWS's Query-protocol throttling XML.
   * Default: a problem+json document.
   */
  errorBody?: (status: number) => { contentType: string; body: string };
}

export interface FaultProxy {
  url: string;
  /** Faults are injected only while enabled (default: enabled). */
  enabled: boolean;
  /** Requests seen, and how many of them met each fault. */
  readonly counts: Record<Fault | 'forwarded', number>;
  close(): Promise<void>;
}

/** mulberry32: a small, well-distributed 32-bit PRNG; the same seed gives the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One roll of `random` against per-fault probabilities: the fault it lands on, or none. */
export function pickFault<F extends string>(rates: Partial<Record<F, number>>, random: () => number): F | undefined {
  const roll = random();
  let sum = 0;
  for (const [fault, rate] of Object.entries(rates) as [F, number][]) {
    sum += rate;
    if (roll < sum) return fault;
  }
  return undefined;
}

export async function startFaultProxy(target: string, mix: FaultMix, random: () => number): Promise<FaultProxy> {
  const upstream = new URL(target);
  const hangMs = mix.hangMs ?? 2_000;
  const counts: FaultProxy['counts'] = { forwarded: 0, error500: 0, rate429: 0, hang: 0, truncated: 0, cut: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const errorBody =
    mix.errorBody ??
    ((status: number) => ({
      contentType: 'application/problem+json',
      body: JSON.stringify({ title: 'Injected fault', status }),
    }));

  const pick = (): Fault | undefined => pickFault(mix.rates, random);

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const fault = proxy.enabled ? pick() : undefined;
      counts[fault ?? 'forwarded']++;
      if (fault === 'error500' || fault === 'rate429') {
        const status = fault === 'error500' ? 500 : 429;
        const { contentType, body: text } = errorBody(status);
        res
          .writeHead(status, { 'content-type': contentType, ...(status === 429 ? { 'retry-after': '0' } : {}) })
          .end(text);
        return;
      }
      if (fault === 'hang') {
        // Answer nothing; drop the connection later, so the proxy itself stays bounded.
        const timer = setTimeout(() => {
          timers.delete(timer);
          req.socket.destroy();
        }, hangMs);
        timers.add(timer);
        return;
      }
      const answer = await forward(upstream, req, body);
      if (fault === 'truncated') {
        const half = answer.body.subarray(0, Math.floor(answer.body.length / 2));
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(half.length) }).end(half);
        return;
      }
      if (fault === 'cut') {
        // Promise the whole body, send half, and drop the connection.
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)), () => req.socket.destroy());
        return;
      }
      res
        .writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) })
        .end(answer.body);
    })().catch((error: unknown) => fail(res, error));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    enabled: true,
    counts,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Sends the request on to `upstream` unchanged and reads the whole answer. */
export function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (response) => {
        void readBody(response).then((buffer) => {
          const headers: Record<string, string | string[]> = {};
          for (const [key, value] of Object.entries(response.headers))
            if (value !== undefined && key !== 'content-length' && key !== 'transfer-encoding' && key !== 'connection')
              headers[key] = value;
          resolve({ status: response.statusCode ?? 502, headers, body: buffer });
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent) res.destroy();
  else res.writeHead(502).end(String(error));
}

export async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
