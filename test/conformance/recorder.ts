import type { Exchange } from './openapi-validator.js';

/**
 * A `fetch` that passes every call on unchanged and keeps a copy of the request and the answer.
 * Given to the real client (its `fetch` option, or as the global fetch it picks up), it records
 * exactly what went over the wire, with nothing in between.
 */
export interface Recorder {
  fetch: typeof fetch;
  exchanges: Exchange[];
}

export function recordingFetch(inner: typeof fetch = globalThis.fetch): Recorder {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const response = await inner(input, init);
    const contentType = headers.get('content-type');
    const responseContentType = response.headers.get('content-type');
    exchanges.push({
      method,
      url,
      ...(contentType ? { requestContentType: contentType } : {}),
      ...(typeof init?.body === 'string' ? { requestBody: init.body } : {}),
      status: response.status,
      ...(responseContentType ? { responseContentType } : {}),
      responseBody: await response.clone().text(),
    });
    return response;
  };
  return { fetch: recording, exchanges };
}
