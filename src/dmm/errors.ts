import { STATUS_CODES } from 'node:http';
import { parseJson } from '../util/parse-json.js';

/**
 * A failed call to Data Mesh Manager. `status` is undefined when no HTTP answer arrived
 * (network error, timeout). Built only from redacted text: neither the message, the fields
 * nor `cause` may ever contain the API key, because these errors end up in logs.
 */
export class DmmApiError extends Error {
  override readonly name = 'DmmApiError';
  readonly status: number | undefined;
  readonly title: string;
  readonly detail: string | undefined;
  /** RFC 7807 `type`, when the server sent one. */
  readonly type: string | undefined;
  readonly url: string;
  readonly method: string;
  readonly attempts: number;

  constructor(init: {
    status: number | undefined;
    title: string;
    detail?: string | undefined;
    type?: string | undefined;
    url: string;
    method: string;
    attempts: number;
    cause?: Error;
  }) {
    const target = pathOf(init.url);
    const what = init.status === undefined ? init.title : `${init.status} ${init.title}`;
    const detail = init.detail ? ` – ${init.detail}` : '';
    const tries = init.attempts > 1 ? ` (after ${init.attempts} attempts)` : '';
    super(`${init.method} ${target} failed: ${what}${detail}${tries}`, init.cause ? { cause: init.cause } : undefined);
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.url = init.url;
    this.method = init.method;
    this.attempts = init.attempts;
  }
}

/** A response that arrived but cannot be what the API promises (not JSON, wrong shape). */
export class DmmResponseFormatError extends Error {
  override readonly name = 'DmmResponseFormatError';
  constructor(
    readonly method: string,
    readonly url: string,
    readonly problem: string,
  ) {
    super(`${method} ${pathOf(url)}: unexpected response: ${problem}`);
  }
}

export interface Problem {
  title: string;
  detail: string | undefined;
  type: string | undefined;
}

/**
 * Reads an RFC 7807 problem document, or falls back to the status text and a short excerpt
 * of whatever the server sent (proxies answer with HTML or plain text).
 */
export function readProblem(
  status: number,
  statusText: string,
  bodyText: string,
  redact: (text: string) => string = (t) => t,
): Problem {
  // Redact before anything is cut: a cut through an echoed key would leave part of it behind.
  bodyText = redact(bodyText);
  const fallbackTitle = statusText || STATUS_CODES[status] || 'Error';
  const parsed = parseJson(bodyText);
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const p = parsed as Record<string, unknown>;
    return {
      title: typeof p['title'] === 'string' && p['title'] ? p['title'] : fallbackTitle,
      detail: typeof p['detail'] === 'string' && p['detail'] ? p['detail'] : undefined,
      type: typeof p['type'] === 'string' ? p['type'] : undefined,
    };
  }
  const excerpt = bodyText.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { title: fallbackTitle, detail: excerpt || undefined, type: undefined };
}

/** Replaces every occurrence of the secret; servers sometimes echo a rejected key back. */
export function redactor(secret: string): (text: string) => string {
  if (secret.length === 0) return (text) => text;
  return (text) => text.split(secret).join('***');
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
