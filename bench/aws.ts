/**
 * The AWS side of the Lambda benchmarks: moto (python3 -m moto.server) on a free loopback port,
 * behind a small proxy that counts IAM calls per action and role, and a Data Mesh Manager
 * simulator behind a proxy that counts requests per kind. Outside vitest, so nothing here may
 * import the test harness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Moto {
  /** The counting proxy's URL (what AWS_ENDPOINT_URL points at). */
  url: string;
  iam: IamCounter;
  /** Every call, by service and action, with the time moto took to answer. */
  calls: CallTally;
  /** CPU seconds moto's process has used so far (Linux /proc), or undefined elsewhere. */
  cpuSeconds(): number | undefined;
  close(): Promise<void>;
}

export interface IamCall {
  action: string;
  role?: string;
  write: boolean;
}

export class IamCounter {
  calls: IamCall[] = [];
  reset(): IamCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }
}

const IAM_READ = /^(Get|List)/;

/** Calls and answer times per `service action`, since the last reset. */
export class CallTally {
  private tally = new Map<string, { count: number; ms: number }>();
  add(key: string, ms: number): void {
    const entry = this.tally.get(key) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.tally.set(key, entry);
  }
  reset(): Map<string, { count: number; ms: number }> {
    const tally = this.tally;
    this.tally = new Map();
    return tally;
  }
}

/** What the proxy needs of an AWS request: its service (the credential scope's) and its query parameters. */
function requestOf(req: IncomingMessage, body: Buffer): { service: string; params: URLSearchParams } {
  const service = /\/([a-z0-9-]+)\/aws4_request/.exec(req.headers.authorization ?? '')?.[1] ?? '?';
  // Query-protocol services (IAM, STS, SQS's older form) put the action in a form body; S3 bodies are objects.
  return { service, params: new URLSearchParams(service === 's3' ? '' : body.toString('utf8')) };
}

/** `service action`: the JSON target, the query Action, or for S3 the method and the key's first folder. */
function callKey(req: IncomingMessage, service: string, params: URLSearchParams): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return `${service} ${target.split('.').pop()}`;
  const action = params.get('Action');
  if (action) return `${service} ${action}`;
  // S3 (path style), e.g. `s3 PUT leases/`.
  const folder = /^\/[^/?]+\/([^/?]+\/)?/.exec(req.url ?? '')?.[1] ?? '';
  return `${service} ${req.method} ${folder}`.trimEnd();
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const moto: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const target = `http://127.0.0.1:${port}`;
  // A loaded machine starts moto slowly.
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      if ((await fetch(`${target}/moto-api/`)).ok) break;
    } catch {
      if (Date.now() > deadline) {
        moto.kill('SIGTERM');
        throw new Error('moto did not start (pip install "moto[server]")');
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const iam = new IamCounter();
  const calls = new CallTally();
  const proxy = await forward(port, (req, body) => {
    const { service, params } = requestOf(req, body);
    const key = callKey(req, service, params);
    const started = performance.now();
    if (service === 'iam') {
      const action = params.get('Action') ?? '?';
      const role = params.get('RoleName') ?? undefined;
      iam.calls.push({ action, ...(role ? { role } : {}), write: !IAM_READ.test(action) });
    }
    return () => calls.add(key, performance.now() - started);
  });
  return {
    url: proxy.url,
    iam,
    calls,
    cpuSeconds: () => processCpuSeconds(moto.pid),
    close: async () => {
      await proxy.close();
      moto.kill('SIGTERM');
    },
  };
}

export interface DmmCounter {
  url: string;
  /** Requests since the last reset, as "METHOD kind". */
  requests: string[];
  reset(): string[];
  close(): Promise<void>;
}

/** Counts the requests to a Data Mesh Manager (the simulator) by method and resource kind. */
export async function countingDmm(targetUrl: string): Promise<DmmCounter> {
  const port = Number(new URL(targetUrl).port);
  const counter = { requests: [] as string[] };
  const proxy = await forward(port, (req) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const kind = path
      .replace(/^\/api\//, '')
      .split('/')
      .map((part, i) => (i === 1 ? ':id' : part))
      .join('/');
    counter.requests.push(`${req.method} ${kind}`);
    return undefined;
  });
  return {
    url: proxy.url,
    get requests() {
      return counter.requests;
    },
    reset() {
      const seen = counter.requests;
      counter.requests = [];
      return seen;
    },
    close: () => proxy.close(),
  };
}

/**
 * A loopback HTTP proxy to `port` that shows each request (with its body) to `observe` first; a
 * function `observe` returns is called when the answer has been passed on.
 */
async function forward(
  port: number,
  observe: (req: IncomingMessage, body: Buffer) => (() => void) | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answered = observe(req, body);
      if (answered) res.once('finish', answered);
      const upstream = httpRequest(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const headers = { ...answer.headers };
          if (typeof headers.link === 'string')
            headers.link = headers.link.split(`127.0.0.1:${port}`).join(`127.0.0.1:${ownPort()}`);
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => res.writeHead(502).end(String(error)));
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ownPort = () => (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${ownPort()}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds (clock ticks are 100 per second on Linux). */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted from after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
