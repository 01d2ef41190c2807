import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimulatorProblem, problemBody } from './problem.js';

/** Bodies above this are refused: every real document is far smaller, a runaway client is not. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  /** The parsed JSON body; `undefined` when the request has none. 400 when it is not JSON. */
  body(): Promise<unknown>;
}

export interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

export type Match = { handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined;

/** Path patterns like `/api/access/:id/provisioning/:transition`; `:name` matches one segment. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    this.routes.push({ method, segments: path.split('/').filter(Boolean), handler });
    return this;
  }

  match(method: string, pathname: string): Match {
    const segments = pathname.split('/').filter(Boolean).map(safeDecode);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method) return { handler: route.handler, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchSegments(pattern: string[], actual: (string | undefined)[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const value = actual[index];
    if (value === undefined || value === '') return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = value;
    else if (part !== value) return undefined;
  }
  return params;
}

/** A malformed escape cannot name a resource; treating it as no match gives a 404. */
function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimulatorProblem(413, `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SimulatorProblem(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Newer servers accept `Authorization: Bearer <key>` as well as `x-api-key`. */
export function presentedApiKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1]?.trim();
}

/** Whether the Accept header admits `type` (absent header, exact type, `type/*` or `*\/*`). */
export function accepts(req: IncomingMessage, type: string): boolean {
  const header = req.headers.accept;
  if (!header) return true;
  const [major] = type.split('/');
  return header
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase())
    .some((range) => range === type || range === '*/*' || range === `${major}/*`);
}

export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = reply.contentType ?? 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function sendProblem(
  res: ServerResponse,
  problem: SimulatorProblem,
  instance: string,
  headers: Record<string, string> = {},
): void {
  send(res, {
    status: problem.status,
    body: problemBody(problem.status, problem.detail, instance, problem.extensions),
    contentType: 'application/problem+json',
    headers,
  });
}

export const ok = (body?: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
