/**
 * The AWS side of the fault suite: a seeded loopback proxy in front of moto that answers some
 * requests with the errors AWS itself sends, in each service's own protocol, so the real SDK
 * clients parse, classify and retry them exactly as they would in an account:
 *
 * - IAM and STS (Query protocol): `<ErrorResponse><Error><Code>Throttling</Code>...` with HTTP 400,
 *   `InternalFailure` 500, `ServiceUnavailable` 503;
 * - S3 (REST-XML): `SlowDown` 503, `InternalError` 500, `ServiceUnavailable` 503;
 * - SQS and Secrets Manager (JSON protocol): `ThrottlingException` 400 (SQS also names the Query
 *   code in `x-amzn-query-error`), `InternalFailure` 500, `ServiceUnavailable` 503.
 *
 * The service is read from the request's SigV4 credential scope, the operation from the Query
 * `Action`, the JSON `X-Amz-Target` or the S3 method. Random faults follow per-service rates a
 * test may change at any time (a throttling spike); rules answer chosen requests with a chosen
 * error every time (AWS refusing one role's write). Point the SDK at it with
 * `AWS_ENDPOINT_URL_<SERVICE>` (the handlers' clients read it themselves).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { forward, pickFault, readBody } from './fault-proxy.js';

/** Faults every service has: its throttling error, an internal error, and unavailability. */
export type AwsFault = 'throttle' | 'internal' | 'unavailable';

/** A specific error, as AWS would send it for this request (e.g. IAM's `DeleteConflict`, 409). */
export interface AwsErrorAnswer {
  status: number;
  code: string;
  message: string;
}

export interface AwsRequest {
  /** From the credential scope: `iam`, `s3`, `sqs`, `secretsmanager`, `sts`, ... */
  service: string;
  /** `PutRolePolicy`, `SendMessage`, or for S3 the HTTP method and path. */
  operation: string;
  /** Query parameters of an IAM/STS call (`RoleName`, `PolicyName`, ...); empty for the others. */
  params: URLSearchParams;
  method: string;
  path: string;
}

export interface AwsFaultRule {
  when: (request: AwsRequest) => boolean;
  answer: AwsFault | AwsErrorAnswer;
}

export interface AwsFaultProxy {
  url: string;
  /** Probability of each fault per request, per service; change it to start or end a spike. */
  rates: Partial<Record<string, Partial<Record<AwsFault, number>>>>;
  /** Checked first, in order; a matching rule answers whatever the rates say. */
  rules: AwsFaultRule[];
  /** Faults are injected only while enabled (default: enabled). */
  enabled: boolean;
  /** Per service: requests forwarded, and how many met each fault (rules count under `rule`). */
  readonly counts: Record<string, Record<AwsFault | 'rule' | 'forwarded', number>>;
  close(): Promise<void>;
}

const JSON_SERVICES = new Set(['sqs', 'secretsmanager']);

export async function startAwsFaultProxy(
  target: string,
  options: { rates?: AwsFaultProxy['rates']; rules?: AwsFaultRule[]; random: () => number },
): Promise<AwsFaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const counts: AwsFaultProxy['counts'] = {};
  const countsOf = (service: string) =>
    (counts[service] ??= { forwarded: 0, rule: 0, throttle: 0, internal: 0, unavailable: 0 });

  const pick = (service: string): AwsFault | undefined => {
    const rates = proxy.rates[service];
    return rates ? pickFault(rates, options.random) : undefined;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const request = describe(req, body);
      const tally = countsOf(request.service);
      if (proxy.enabled) {
        const rule = proxy.rules.find((r) => r.when(request));
        const fault = rule ? rule.answer : pick(request.service);
        if (fault !== undefined) {
          tally[rule ? 'rule' : (fault as AwsFault)]++;
          answerError(res, request.service, typeof fault === 'string' ? standardError(request.service, fault) : fault);
          return;
        }
      }
      tally.forwarded++;
      const answer = await forward(upstream, req, body);
      res
        .writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) })
        .end(answer.body);
    })().catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end(String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: AwsFaultProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rates: options.rates ?? {},
    rules: options.rules ?? [],
    enabled: true,
    counts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}

function describe(req: IncomingMessage, body: Buffer): AwsRequest {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
  const service = scope?.[1] ?? 'unknown';
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string')
    return { service, operation: target.split('.').pop() ?? target, params: new URLSearchParams(), method, path };
  const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (form) {
    const params = new URLSearchParams(body.toString('utf8'));
    return { service, operation: params.get('Action') ?? method, params, method, path };
  }
  return { service, operation: `${method} ${path}`, params: new URLSearchParams(), method, path };
}

function standardError(service: string, fault: AwsFault): AwsErrorAnswer {
  if (fault === 'throttle')
    return service === 's3'
      ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }
      : JSON_SERVICES.has(service)
        ? { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' }
        : { status: 400, code: 'Throttling', message: 'Rate exceeded' };
  if (fault === 'internal')
    return service === 's3'
      ? { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' }
      : {
          status: 500,
          code: 'InternalFailure',
          message: 'The request processing has failed because of an unknown error.',
        };
  return { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.' };
}

/** The error as the service's protocol carries it. */
function answerError(res: ServerResponse, service: string, error: AwsErrorAnswer): void {
  const requestId = randomUUID();
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  let body: string;
  if (JSON_SERVICES.has(service)) {
    headers['content-type'] = 'application/x-amz-json-1.0';
    // SQS is "query compatible": the SDK takes the Query protocol's code from this header.
    if (service === 'sqs')
      headers['x-amzn-query-error'] = `${error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}`;
    body = JSON.stringify({ __type: `com.amazonaws.${service}#${error.code}`, message: error.message });
  } else if (service === 's3') {
    headers['content-type'] = 'application/xml';
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>${requestId}</RequestId></Error>`;
  } else {
    headers['content-type'] = 'text/xml';
    const type = error.status >= 500 ? 'Receiver' : 'Sender';
    body = `<ErrorResponse xmlns="https://${service}.amazonaws.com/doc/2010-05-08/"><Error><Type>${type}</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  }
  res.writeHead(error.status, { ...headers, 'content-length': String(Buffer.byteLength(body)) }).end(body);
}
