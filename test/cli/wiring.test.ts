import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { buildContext } from '../../src/cli/wiring.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import { memoryLogger, silentLogger } from '../../src/util/log.js';
import { OWNERSHIP_PROOF_OFF } from '../../src/sync/ownership-proof.js';

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

describe("the CLI's ownership proof", () => {
  it('is on by default; the local stand-in reads the provider tags `local-aws seed` wrote beside its state file', async () => {
    await mkdir(join(cwd, '.dmm-aws'), { recursive: true });
    await writeFile(
      join(cwd, '.dmm-aws', 'aws-account.resource-tags.yaml'),
      'buckets:\n  acme-orders: { "dmm:data-product": orders }\n',
    );
    const log = memoryLogger();
    const ctx = await buildContext(loadConfig({ cwd, env: {} }), log);
    expect(ctx.guardrails?.ownership).toEqual({ mode: 'required', productTagKey: 'dmm:data-product', allowList: [] });
    expect(await ctx.resourceTags?.tagsOf({ arn: 'arn:aws:s3:::acme-orders' })).toEqual({
      'dmm:data-product': 'orders',
    });
    expect(log.entries.filter((e) => e.level === 'warn')).toEqual([]);
  });

  it('without a tags file, warns where the tags would come from (and proves nothing by tag)', async () => {
    const log = memoryLogger();
    const ctx = await buildContext(loadConfig({ cwd, env: {} }), log);
    expect(await ctx.resourceTags?.tagsOf({ arn: 'arn:aws:s3:::acme-orders' })).toBeUndefined();
    expect(log.entries.map((e) => e.message)).toEqual([
      expect.stringContaining('local stand-in has no provider resource tags'),
    ]);
  });

  it('turned off: says so at warn on every run, and reads no tags', async () => {
    const log = memoryLogger();
    const ctx = await buildContext(loadConfig({ cwd, env: { DMM_OWNERSHIP_PROOF: 'off' } }), log);
    expect(ctx.guardrails?.ownership).toEqual({ mode: 'off' });
    expect(ctx.resourceTags).toBeUndefined();
    expect(log.entries).toEqual([{ level: 'warn', message: OWNERSHIP_PROOF_OFF, fields: {} }]);
  });
});
