import { TargetError } from '../../src/interfaces/target-error.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A fresh temporary directory per test, removed afterwards. */
export function useTempDir(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dmm-aws-local-'));
    dirs.push(dir);
    return dir;
  };
}

/** A minimal valid identity policy; `padding` grows it without whitespace. */
export function policy(resource = 'arn:aws:s3:::bucket', padding = 0): string {
  const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: `${resource}${'x'.repeat(padding)}` };
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

/** The TargetError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function targetError(promise: Promise<unknown>): Promise<TargetError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TargetError)) throw new Error(`expected a TargetError, got ${String(err)}`);
  return err;
}
