/**
 * Shared by the AWS adapter tests: SDK clients pointed at the moto started by test/global-setup.ts,
 * unique resource names (test files run in parallel against one moto that is never reset), and
 * a record of the commands an adapter sent.
 */
import { randomBytes } from 'node:crypto';
import { inject, vi } from 'vitest';
import {
  createIamClient,
  createS3Client,
  createSecretsManagerClient,
  createSqsClient,
  type AwsClientOptions,
} from '../../src/aws/clients.js';

export const REGION = 'eu-central-1';
/** moto's default account. */
export const MOTO_ACCOUNT = '123456789012';

export function motoOptions(): AwsClientOptions {
  return {
    endpoint: inject('motoEndpoint'),
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // moto does not throttle; a failure should surface at once, not after backoff.
    maxAttempts: 2,
  };
}

export const motoIam = () => createIamClient(motoOptions());
export const motoSqs = () => createSqsClient(motoOptions());
export const motoS3 = () => createS3Client(motoOptions());
export const motoSecrets = () => createSecretsManagerClient(motoOptions());

/** `prefix-<12 hex>`: unique across parallel test files. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Every command passed to `client.send` from now on, by class name (e.g. `PutRolePolicyCommand`). */
export function recordCommands(client: { send: (...args: never[]) => unknown }): {
  names(): string[];
  inputs(name: string): Record<string, unknown>[];
} {
  const spy = vi.spyOn(client as { send: (command: object) => unknown }, 'send');
  const calls = () =>
    spy.mock.calls.map(([command]) => command as { constructor: { name: string }; input: Record<string, unknown> });
  return {
    names: () => calls().map((c) => c.constructor.name),
    inputs: (name) =>
      calls()
        .filter((c) => c.constructor.name === name)
        .map((c) => c.input),
  };
}
