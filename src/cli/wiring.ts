import { join } from 'node:path';
import type { Config } from '../config.js';
import { DmmHttpClient } from '../dmm/client.js';
import { FileCheckpoint } from '../local/file-checkpoint.js';
import { FileIamAccount } from '../local/file-iam-account.js';
import { FileFifoQueue } from '../local/file-queue.js';
import type { SyncContext } from '../sync/context.js';
import type { Logger } from '../util/log.js';

/** The converging core wired to Data Mesh Manager over HTTP and the configured AWS target. */
export function buildContext(config: Config, log: Logger): SyncContext {
  const dmm = new DmmHttpClient({
    baseUrl: config.dmm.baseUrl,
    apiKey: config.dmm.apiKey ?? '',
    apiGeneration: config.dmm.apiGeneration,
    timeoutMs: config.dmm.timeoutMs,
    onRetry: (info) => log.warn('retrying Data Mesh Manager request', { ...info }),
  });
  const iam = new FileIamAccount({ file: config.aws.localStateFile, accountId: config.aws.accountId });
  return {
    dmm,
    iam,
    log,
    resolve: {
      accountId: iam.accountId,
      partition: iam.partition,
      defaultRegion: config.aws.region,
      defaultAthenaWorkgroup: config.glue.athenaWorkgroup,
      ...(config.glue.athenaQueryResultsLocation ? { athenaQueryResultsLocation: config.glue.athenaQueryResultsLocation } : {}),
    },
  };
}

/** The daemon's durable local pipeline: checkpoint, FIFO queue and dead letters in the state folder. */
export function localPipeline(config: Config) {
  return {
    checkpoint: new FileCheckpoint(join(config.stateDir, 'checkpoint.json')),
    queue: new FileFifoQueue(join(config.stateDir, 'queue.json')),
    deadLetterFile: join(config.stateDir, 'dead-letter.jsonl'),
  };
}
