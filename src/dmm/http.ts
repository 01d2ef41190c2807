import { DmmApiError, DmmResponseFormatError, readProblem, redactor } from './errors.js';
import { backoffDelayMs, isRetryableStatus, retryAfterMs } from './retry-policy.js';

/**
 * The request layer under `DmmHttpClient`: base URL, API key header, a timeout on every
 * attempt, retries with backoff for transient trouble, RFC 7807 errors, and 404 as a value.
 */

/** Returned instead of a response when the server answers 404: the resource is gone. */
export const GONE: unique symbol = Symbol('dmm.gone');
export type Gone = typeof GONE;

export interface DmmResponse {
  status: number;
  headers: Headers;
  /** The URL that answered (after any redirect); used to resolve relative Link headers. */
  url: string;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export interface RetryInfo {
  method: string;
  url: string;
  /** The attempt that just failed, starting at 1. */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  /** HTTP status, or undefined for a network error or timeout. */
  status: number | undefined;
  reason: string;
}

export interface HttpOptions {
  baseUrl: string;
  apiKey: string;
  /** Per attempt, including reading the body. Default 10 s. */
  timeoutMs?: number;
  /** Total attempts including the first. Default 7 (see DEFAULT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Backoff base; attempt n waits up to base·2^(n-1). Default 100 ms. */
  retryBaseDelayMs?: number;
  /** Upper bound for one backoff delay. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Upper bound for a server's Retry-After. Default 60 s. */
  maxRetryAfterMs?: number;
  /**
   * A GET not answered within this long is sent once more alongside the first; the first answer
   * wins and the other is cancelled. Default off; the CLI and the Lambda functions set a quarter of
   * the timeout (see {@link hedgeDelayMs}).
   */
  hedgeAfterMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onRetry?: (info: RetryInfo) => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Serialised as JSON. */
  body?: unknown;
  accept?: string;
}

const MAX_REDIRECTS = 5;

/**
 * Retry defaults, chosen for convergence under intermittent faults (bench/faults.ts, issue 10).
 * A request that exhausts its attempts is an outage: it aborts the whole event (a data product
 * event reconciles every agreement of the product, tens of requests) and the daemon's pass, and
 * all of that work is redone. With 40 % of attempts failing, 5 attempts lose 1 request in 100
 * and with it a third of such events; 7 attempts lose 1 in 600. The 100 ms base (the AWS SDK's
 * too) keeps the common case, one or two failed attempts, quick: under that mix the waits of a
 * 500 ms base added up to more than the work. Full jitter still spreads retries; a request that
 * fails every attempt waits at most 6.3 s (3.2 s on average) before it is an outage, and from
 * then on the daemon's pass backoff (1 s doubling to a minute) paces a longer outage. A healthy
 * server sees no retries at all; a server's Retry-After is honoured (capped) instead.
 */
export const DEFAULT_MAX_ATTEMPTS = 7;
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;

/** How long one attempt may take unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * When a GET gets a twin: after a quarter of the attempt's timeout. A request that hangs (a proxy
 * or server that never answers) otherwise holds up its whole batch for the full timeout, and the
 * batch's other work waits behind it (bench/faults.ts). Reads are safe to send twice; writes
 * (PUT, POST) never are hedged. A healthy server answers long before this, so it sees no twins.
 */
export function hedgeDelayMs(timeoutMs: number = DEFAULT_TIMEOUT_MS): number {
  return Math.round(timeoutMs / 4);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

type Attempt =
  | { kind: 'response'; response: DmmResponse | Gone }
  | {
      kind: 'retryable';
      status: number | undefined;
      reason: string;
      retryAfterMs?: number;
      error: DmmApiError | DmmResponseFormatError;
    };

export class DmmHttp {
  readonly baseUrl: URL;
  private readonly apiKey: string;
  private readonly redact: (text: string) => string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly hedgeAfterMs: number | undefined;

  constructor(options: HttpOptions) {
    // A trailing slash makes `new URL('api/...', base)` keep a path prefix such as /dmm/.
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.apiKey = options.apiKey;
    this.redact = redactor(options.apiKey);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.baseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    this.maxDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onRetry = options.onRetry;
    this.hedgeAfterMs = options.hedgeAfterMs;
  }

  /**
   * Resolves an API path (`/api/access/x`) against the base URL, or checks that an absolute
   * URL (from a Link header) stays on the base URL's origin: the API key must never be sent
   * to another host because a server or proxy pointed us there.
   */
  resolve(pathOrUrl: string, relativeTo?: string): URL {
    const url =
      pathOrUrl.startsWith('/') && relativeTo === undefined
        ? new URL(pathOrUrl.slice(1), this.baseUrl)
        : new URL(pathOrUrl, relativeTo ?? this.baseUrl);
    if (url.origin !== this.baseUrl.origin) {
      throw new Error(
        `Refusing to follow ${url.origin} from ${this.baseUrl.origin}: the API key is only sent to the configured server`,
      );
    }
    return url;
  }

  /**
   * The target of a `Link: rel="next"` header, on the configured server. A proxy or load balancer
   * in front of Data Mesh Manager may write its own host, an internal port or `http://` into the
   * links it passes on; following that would send the API key elsewhere (or in clear text), and
   * refusing it would stop every list. So only the path and query are taken from such a link, and
   * they are put on the configured base URL (under its path prefix, when the link lacks it).
   */
  resolveLink(reference: string, relativeTo: string): URL {
    const link = new URL(reference, relativeTo);
    if (link.origin === this.baseUrl.origin) return link;
    const prefix = this.baseUrl.pathname; // always ends with '/'
    const path = link.pathname.startsWith(prefix) ? link.pathname : `${prefix}${link.pathname.replace(/^\/+/, '')}`;
    const rebuilt = new URL(path, this.baseUrl.origin);
    rebuilt.search = link.search;
    return rebuilt;
  }

  async request(method: string, target: string | URL, options: RequestOptions = {}): Promise<DmmResponse | Gone> {
    const url = typeof target === 'string' ? this.resolve(target) : new URL(target);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const urlText = this.redact(url.toString());

    for (let attempt = 1; ; attempt++) {
      const outcome =
        method === 'GET' && this.hedgeAfterMs !== undefined && this.hedgeAfterMs > 0
          ? await this.hedged(this.hedgeAfterMs, url, urlText, options, attempt)
          : await this.attempt(method, url, urlText, options, attempt);
      if (outcome.kind === 'response') return outcome.response;
      if (attempt >= this.maxAttempts) throw outcome.error;

      const delayMs = outcome.retryAfterMs ?? backoffDelayMs(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
      this.onRetry?.({
        method,
        url: urlText,
        attempt,
        maxAttempts: this.maxAttempts,
        delayMs,
        status: outcome.status,
        reason: outcome.reason,
      });
      await this.sleep(delayMs);
    }
  }

  /**
   * One attempt of a GET, sent a second time when the first has not answered after `afterMs`.
   * The first answer wins (a response, or an error the server meant); a retryable failure of one
   * waits for the other. The loser is cancelled.
   */
  private async hedged(
    afterMs: number,
    url: URL,
    urlText: string,
    options: RequestOptions,
    attempt: number,
  ): Promise<Attempt> {
    const cancel = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const first = this.attempt('GET', url, urlText, options, attempt, cancel.signal);
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), afterMs);
    });
    try {
      const early = await Promise.race([first, late]);
      if (early !== 'late') return early;
      const second = this.attempt('GET', url, urlText, options, attempt, cancel.signal);
      return await new Promise<Attempt>((resolve, reject) => {
        let failed = 0;
        for (const one of [first, second]) {
          one.then((outcome) => {
            if (outcome.kind === 'response' || ++failed === 2) resolve(outcome);
          }, reject);
        }
      });
    } finally {
      clearTimeout(timer);
      cancel.abort();
    }
  }

  private async attempt(
    method: string,
    url: URL,
    urlText: string,
    options: RequestOptions,
    attempt: number,
    cancel?: AbortSignal,
  ): Promise<Attempt> {
    const headers: Record<string, string> = {
      'x-api-key': this.apiKey,
      accept: options.accept ?? 'application/json',
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }

    let status: number;
    let statusText: string;
    let responseHeaders: Headers;
    let responseUrl: string;
    let text: string;
    try {
      // One signal covers connect, headers and body, so a server that stalls mid-body times out too.
      const timeout = AbortSignal.timeout(this.timeoutMs);
      // AbortSignal.any arrived in Node 20.3: without it the loser of a hedge runs to its timeout.
      const signal = cancel && typeof AbortSignal.any === 'function' ? AbortSignal.any([timeout, cancel]) : timeout;
      let response = await this.fetchImpl(url, { method, headers, body, signal, redirect: 'manual' });
      // fetch would forward x-api-key across origins on redirect (it only strips Authorization),
      // so redirects are followed by hand and only within the configured origin.
      for (let hops = 0; isRedirect(response.status) && hops < MAX_REDIRECTS; hops++) {
        const location = response.headers.get('location');
        if (!location) break;
        await response.body?.cancel();
        const next = new URL(location, response.url || url);
        if (next.origin !== this.baseUrl.origin) {
          throw new DmmApiError({
            status: response.status,
            title: 'Redirected to another origin',
            detail: `the server redirects to ${this.redact(next.origin)}; configure that as the base URL if it is trusted`,
            url: urlText,
            method,
            attempts: attempt,
          });
        }
        response = await this.fetchImpl(next, { method, headers, body, signal, redirect: 'manual' });
      }
      status = response.status;
      statusText = response.statusText;
      responseHeaders = response.headers;
      responseUrl = response.url || url.toString();
      text = await response.text();
    } catch (error) {
      if (error instanceof DmmApiError) throw error;
      const reason = this.describeFailure(error);
      return {
        kind: 'retryable',
        status: undefined,
        reason,
        // A fresh Error, not the original: fetch errors can carry the request (and its headers).
        error: new DmmApiError({
          status: undefined,
          title: reason,
          url: urlText,
          method,
          attempts: attempt,
          cause: new Error(reason),
        }),
      };
    }

    if (status === 404) return { kind: 'response', response: GONE };
    if (status >= 200 && status < 300) {
      let body: unknown;
      try {
        body = this.parseJson(method, urlText, text);
      } catch (error) {
        // A success whose body does not parse was most likely cut short on the way (a proxy, a
        // dropped connection that still ended the stream): asked again, it usually arrives whole.
        if (!(error instanceof DmmResponseFormatError)) throw error;
        return { kind: 'retryable', status, reason: `${status} with a body that is not JSON (truncated?)`, error };
      }
      return { kind: 'response', response: { status, headers: responseHeaders, url: responseUrl, body } };
    }

    const problem = readProblem(status, statusText, text, this.redact);
    const error = new DmmApiError({
      status,
      title: this.redact(problem.title),
      detail: problem.detail === undefined ? undefined : this.redact(problem.detail),
      type: problem.type,
      url: urlText,
      method,
      attempts: attempt,
    });
    if (!isRetryableStatus(status)) throw error;
    const retryAfter = retryAfterMs(responseHeaders.get('retry-after'), this.now(), this.maxRetryAfterMs);
    return {
      kind: 'retryable',
      status,
      reason: `${status} ${problem.title}`,
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
      error,
    };
  }

  private parseJson(method: string, url: string, text: string): unknown {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new DmmResponseFormatError(method, url, `body is not JSON: ${this.redact(text).slice(0, 120)}`);
    }
  }

  private describeFailure(error: unknown): string {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return `timed out after ${this.timeoutMs} ms`;
    }
    // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, ...) in `cause`.
    const parts: string[] = [];
    let current: unknown = error;
    for (let depth = 0; current instanceof Error && depth < 3; depth++) {
      parts.push(current.message);
      current = current.cause;
    }
    return this.redact(`network error: ${parts.join(': ') || String(error)}`);
  }
}
