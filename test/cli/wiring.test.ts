import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { buildContext } from '../../src/cli/wiring.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import { silentLogger } from '../../src/util/log.js';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'dmm-aws-wiring-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** The aws target without STS: the account is given, so building the context calls nothing. */
const awsTarget = { DMM_AWS_TARGET: 'aws', DMM_AWS_ACCOUNT_ID: '123456789012' };

describe("the CLI's agreement index", () => {
  it('local target: a file in the state folder', async () => {
    const ctx = await buildContext(loadConfig({ cwd, env: { DMM_STATE_DIR: 'state' } }), silentLogger);
    expect(ctx.agreementIndex).toBeInstanceOf(FileAgreementIndex);
    expect((ctx.agreementIndex as FileAgreementIndex).path).toBe(join(cwd, 'state', 'agreement-index.json'));
  });

  it("local target: DMM_INDEX_BUCKET does not send the stand-in account's index to S3", async () => {
    const ctx = await buildContext(loadConfig({ cwd, env: { DMM_INDEX_BUCKET: 'dmm-aws-state' } }), silentLogger);
    expect(ctx.agreementIndex).toBeInstanceOf(FileAgreementIndex);
  });

  it('aws target: the file in the state folder unless a bucket is configured, then S3 under index/agreements/', async () => {
    const withoutBucket = await buildContext(loadConfig({ cwd, env: awsTarget }), silentLogger);
    expect((withoutBucket.agreementIndex as FileAgreementIndex).path).toBe(
      join(cwd, '.dmm-aws', 'agreement-index.json'),
    );

    const withBucket = await buildContext(
      loadConfig({ cwd, env: { ...awsTarget, DMM_INDEX_BUCKET: 'dmm-aws-state-123456789012-eu-central-1' } }),
      silentLogger,
    );
    expect(withBucket.agreementIndex).toBeInstanceOf(S3AgreementIndex);
    expect(withBucket.agreementIndex).toMatchObject({
      bucket: 'dmm-aws-state-123456789012-eu-central-1',
      prefix: 'index/agreements/',
    });
  });

  it('a bucket name S3 would refuse is a configuration error naming the variable', () => {
    expect(() => loadConfig({ cwd, env: { ...awsTarget, DMM_INDEX_BUCKET: 's3://dmm-aws-state' } })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ cwd, env: { ...awsTarget, DMM_INDEX_BUCKET: 's3://dmm-aws-state' } })).toThrow(
      /aws\.indexBucket: must be an S3 bucket name \(env DMM_INDEX_BUCKET\)/,
    );
  });
});
