/**
 * HOLE: a piece of the API key leaks into error messages (and from there into logs and the
 * agreement's aws-integration-error) when a server or proxy echoes the key in a non-JSON error
 * body and the key straddles the excerpt cut.
 *
 * src/dmm/errors.ts readProblem(): `bodyText...slice(0, 200)` cuts the excerpt BEFORE
 * src/dmm/http.ts (title/detail: `this.redact(problem.detail)`, ~line 212) redacts it, and
 * src/dmm/http.ts ~line 235 does the same: `this.redact(text.slice(0, 120))`. The redactor only
 * replaces the whole key, so a key cut in half survives as its first part.
 *
 * Fix: redact the full text first, then cut (or redact every prefix of the key ≥ 8 chars at the end).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';

const KEY = 'dmmKEY_7Qx9Lr2Vb8Nc4Hw6Jt1Pz3Fm5Sd0Gk';

async function errorFrom(status: number, type: string, body: (key: string) => string): Promise<Error> {
  const server = createServer((req, res) =>
    res.writeHead(status, { 'content-type': type }).end(body(String(req.headers['x-api-key']))),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = new DmmHttpClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      apiKey: KEY,
      maxAttempts: 1,
    });
    return await client.getAgreement('agr-1').then(
      () => expect.fail('should fail'),
      (e: unknown) => e as Error,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('partial API key in error messages', () => {
  it('plain-text error body with the key at character 190 (readProblem excerpt of 200)', async () => {
    const error = await errorFrom(502, 'text/html', (key) => `${'x'.repeat(190)}${key}`);
    // Today: the message ends in "dmmKEY_7Qx" (10 characters of the key).
    expect(error.message).not.toContain(KEY.slice(0, 8));
  });

  it('non-JSON 200 body with the key at character 110 (http.ts "body is not JSON" excerpt of 120)', async () => {
    const error = await errorFrom(200, 'application/json', (key) => `${'x'.repeat(110)}${key}`);
    expect(error.message).not.toContain(KEY.slice(0, 8));
  });
});
