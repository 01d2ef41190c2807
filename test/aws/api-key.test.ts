import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretApiKey, apiKeyFromSecret } from '../../src/aws/api-key.js';
import { motoSecrets, recordCommands, unique } from './moto.js';

async function secret(client: SecretsManagerClient, value: string): Promise<string> {
  const name = unique('dmm-api-key');
  await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return name;
}

/** The rejection's message, which must never contain the secret's value. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('SecretApiKey on moto', () => {
  it('reads a plain-string secret once and caches it', async () => {
    const client = motoSecrets();
    const secretId = await secret(client, 'plain-key-123\n');
    const sent = recordCommands(client);
    const key = new SecretApiKey({ client, secretId });
    const [a, b] = await Promise.all([key.get(), key.get()]);
    expect([a, b, await key.get()]).toEqual(['plain-key-123', 'plain-key-123', 'plain-key-123']);
    expect(sent.names()).toEqual(['GetSecretValueCommand']);
  });

  it('reads {"apiKey": "..."} JSON, also by ARN', async () => {
    const client = motoSecrets();
    const name = unique('dmm-api-key');
    const { ARN } = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ apiKey: 'json-key-456', note: 'x' }) }),
    );
    expect(await new SecretApiKey({ client, secretId: name }).get()).toBe('json-key-456');
    expect(await new SecretApiKey({ client, secretId: ARN! }).get()).toBe('json-key-456');
  });

  it('invalidate() makes the next get() read the rotated value', async () => {
    const client = motoSecrets();
    const secretId = await secret(client, 'before-rotation');
    const key = new SecretApiKey({ client, secretId });
    expect(await key.get()).toBe('before-rotation');
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'after-rotation' }));
    expect(await key.get()).toBe('before-rotation');
    key.invalidate();
    expect(await key.get()).toBe('after-rotation');
  });

  it('a missing secret is an error naming it; the failure is not cached', async () => {
    const client = motoSecrets();
    const secretId = unique('missing-secret');
    const key = new SecretApiKey({ client, secretId });
    const message = await failure(key.get());
    expect(message).toContain(secretId);
    expect(message).toContain('ResourceNotFound');
    await client.send(new CreateSecretCommand({ Name: secretId, SecretString: 'created-later' }));
    expect(await key.get()).toBe('created-later');
  });

  it('JSON without a usable apiKey is an error naming the secret, never its value', async () => {
    const client = motoSecrets();
    for (const value of [
      '{"api_key": "sup3r-s3cret"}',
      '{"apiKey": 42, "x": "sup3r-s3cret"}',
      '{"apiKey": "sup3r-s3cret"',
      '   ',
    ]) {
      const secretId = await secret(client, value);
      const message = await failure(new SecretApiKey({ client, secretId }).get());
      expect(message).toContain(secretId);
      expect(message).not.toContain('sup3r');
    }
  });
});

describe('apiKeyFromSecret', () => {
  it('accepts a plain string or {"apiKey"}, trimmed', () => {
    expect(apiKeyFromSecret('  k1  ', 's')).toBe('k1');
    expect(apiKeyFromSecret(' {"apiKey": " k2 "} ', 's')).toBe('k2');
    expect(() => apiKeyFromSecret('{"apiKey": ""}', 'my-secret')).toThrow(/my-secret/);
  });
});
