import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { S3AgreementIndex } from '../aws/agreement-index.js';
import { AwsIamAccount } from '../aws/iam-account.js';
import { createIamClient, createS3Client } from '../aws/clients.js';
import type { Config } from '../config.js';
import { DmmHttpClient } from '../dmm/client.js';
import { FileAgreementIndex } from '../local/file-agreement-index.js';
import { FileLakeFormation } from '../local/file-lake-formation.js';
import { FileResourcePolicies } from '../local/file-resource-policies.js';
import { AwsLakeFormationPermissions } from '../aws/lake-formation.js';
import { AwsResourcePolicies } from '../aws/resource-policies.js';
import { FileCheckpoint } from '../local/file-checkpoint.js';
import { DEFAULT_ACCOUNT_ID, FileIamAccount } from '../local/file-iam-account.js';
import { FileFifoQueue } from '../local/file-queue.js';
import type { AgreementIndex } from '../sync/agreement-index.js';
import type { SyncContext } from '../sync/context.js';
import type { IamAccount } from '../interfaces/iam-account.js';
import type { Logger } from '../util/log.js';
import { AwsResourceTagReader } from '../aws/resource-tags.js';
import { FileResourceTags } from '../local/file-resource-tags.js';
import { guardrailsFrom } from '../sync/guardrail-settings.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';

/** The converging core wired to Data Mesh Manager over HTTP and the configured AWS target. */
export async function buildContext(config: Config, log: Logger): Promise<SyncContext> {
  const dmm = new DmmHttpClient({
    baseUrl: config.dmm.baseUrl,
    apiKey: config.dmm.apiKey ?? '',
    apiGeneration: config.dmm.apiGeneration,
    timeoutMs: config.dmm.timeoutMs,
    onRetry: (info) => log.warn('retrying Data Mesh Manager request', { ...info }),
  });
  const iam = await iamAccount(config);
  const guardrails = guardrailsFrom(iam.accountId, {
    ...config.guardrails,
    managedRolePath: config.aws.managedRolePath,
  });
  const resourceTags = guardrails.ownershipTagKey ? await resourceTagReader(config) : undefined;
  return {
    dmm,
    iam,
    log,
    guardrails,
    agreementIndex: agreementIndex(config),
    ...grantTargets(config),
    ...(resourceTags ? { resourceTags } : {}),
    resolve: {
      accountId: iam.accountId,
      partition: iam.partition,
      defaultRegion: config.aws.region,
      defaultAthenaWorkgroup: config.glue.athenaWorkgroup,
      ...(config.glue.athenaQueryResultsLocation
        ? { athenaQueryResultsLocation: config.glue.athenaQueryResultsLocation }
        : {}),
      ...(config.glue.athenaResultsShared ? { athenaResultsShared: true } : {}),
    },
  };
}

/** `local`: the file-backed stand-in; `aws`: the account of the standard AWS credentials. */
async function iamAccount(config: Config): Promise<IamAccount> {
  if (config.aws.target === 'local') {
    return new FileIamAccount({
      file: config.aws.localStateFile,
      accountId: config.aws.accountId ?? DEFAULT_ACCOUNT_ID,
    });
  }
  const accountId = config.aws.accountId ?? (await callerAccount(config.aws.region));
  return new AwsIamAccount({
    client: createIamClient({ region: config.aws.region }),
    accountId,
    managedRolePath: config.aws.managedRolePath,
  });
}

/**
 * The grant targets beyond identity policies (docs/adr/0005-grant-targets.md): provider resource
 * policies and Lake Formation. Locally they live next to the stand-in account's state file.
 */
function grantTargets(config: Config): Pick<SyncContext, 'resourcePolicies' | 'lakeFormation'> {
  if (config.aws.target === 'local') {
    const base = config.aws.localStateFile.replace(/\.json$/, '');
    return {
      resourcePolicies: new FileResourcePolicies({ file: `${base}.resource-policies.json` }),
      lakeFormation: new FileLakeFormation({ file: `${base}.lake-formation.json` }),
    };
  }
  const clientOptions = { region: config.aws.region };
  return {
    resourcePolicies: new AwsResourcePolicies({ clientOptions }),
    lakeFormation: new AwsLakeFormationPermissions({ clientOptions }),
  };
}

/**
 * Where the CLI remembers which roles hold each agreement: in the deployment's S3 bucket when one
 * is configured for the aws target (so the CLI and the Lambda functions share one index), else in
 * a file in the state folder. A CLI without the shared index still converges: it falls back to a
 * role scan for deleted agreements it has no entry for.
 */
function agreementIndex(config: Config): AgreementIndex {
  if (config.aws.target === 'aws' && config.aws.indexBucket) {
    return new S3AgreementIndex({
      client: createS3Client({ region: config.aws.region }),
      bucket: config.aws.indexBucket,
    });
  }
  return new FileAgreementIndex(join(config.stateDir, 'agreement-index.json'));
}

/** Ownership proof reads provider tags: from AWS, or locally from a YAML file (it must exist). */
async function resourceTagReader(config: Config): Promise<ResourceTagReader> {
  if (config.aws.target === 'aws') return new AwsResourceTagReader({ region: config.aws.region });
  if (!config.aws.localResourceTagsFile) {
    throw new Error(
      'guardrails.ownershipTagKey is set, but the local target has no resource tags file: set DMM_LOCAL_RESOURCE_TAGS (aws.localResourceTagsFile)',
    );
  }
  return FileResourceTags.fromFile(config.aws.localResourceTagsFile);
}

async function callerAccount(region: string): Promise<string> {
  try {
    const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
    if (!identity.Account) throw new Error('STS returned no account');
    return identity.Account;
  } catch (error) {
    throw new Error(
      `cannot tell which AWS account to manage: ${(error as Error).message}. Configure AWS credentials, or set DMM_AWS_ACCOUNT_ID`,
    );
  }
}

/** The daemon's durable local pipeline: checkpoint, FIFO queue and dead letters in the state folder. */
export function localPipeline(config: Config) {
  return {
    checkpoint: new FileCheckpoint(join(config.stateDir, 'checkpoint.json')),
    queue: new FileFifoQueue(join(config.stateDir, 'queue.json')),
    deadLetterFile: join(config.stateDir, 'dead-letter.jsonl'),
  };
}
