import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { S3AgreementIndex } from '../aws/agreement-index.js';
import { AwsIamAccount } from '../aws/iam-account.js';
import { createIamClient, createS3Client } from '../aws/clients.js';
import { localStandInFile, type Config } from '../config.js';
import type { DmmApi } from '../interfaces/dmm-api.js';
import { SimulatorOnlyWriteBack, simulatorProbe } from './local-write-back.js';
import { DmmHttpClient } from '../dmm/client.js';
import { hedgeDelayMs } from '../dmm/http.js';
import { FileAgreementIndex } from '../local/file-agreement-index.js';
import { FileTargetLeases } from '../local/file-target-leases.js';
import { S3TargetLeases } from '../aws/s3-target-leases.js';
import { TargetLocks } from '../sync/target-locks.js';
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
import { awsHub } from '../accounts/aws-hub.js';
import { localHub, type LocalStandIn } from '../local/local-accounts.js';
import { FileResourceTags } from '../local/file-resource-tags.js';
import { guardrailsFrom } from '../sync/guardrail-settings.js';
import { OWNERSHIP_PROOF_OFF } from '../sync/ownership-proof.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';

/** The converging core wired to Data Mesh Manager over HTTP and the configured AWS target. */
export async function buildContext(config: Config, log: Logger): Promise<SyncContext> {
  const dmm = new DmmHttpClient({
    baseUrl: config.dmm.baseUrl,
    apiKey: config.dmm.apiKey ?? '',
    apiGeneration: config.dmm.apiGeneration,
    timeoutMs: config.dmm.timeoutMs,
    hedgeAfterMs: hedgeDelayMs(config.dmm.timeoutMs),
    onRetry: (info) => log.warn('retrying Data Mesh Manager request', { ...info }),
    onUnreadableEvent: (error) => log.error('feed event without a readable id left out', { error: error.message }),
  });
  const iam = await iamAccount(config);
  const guardrailSettings = { ...config.guardrails, managedRolePath: config.aws.managedRolePath };
  const readTags = config.guardrails.ownershipProof !== 'off';
  const hub = !config.multiAccount
    ? undefined
    : config.aws.target === 'local'
      ? await localHub({
          ...localStandIn(config, iam.accountId),
          settings: config.multiAccount,
          guardrails: guardrailSettings,
          readTags,
        })
      : awsHub({
          hubAccountId: iam.accountId,
          partition: iam.partition,
          settings: config.multiAccount,
          guardrails: guardrailSettings,
          externalId: async () => config.multiAccount?.externalId ?? '',
          clientOptions: { region: config.aws.region },
          readTags,
          log: log,
        });
  const multiAccountLocations = config.multiAccount?.athenaQueryResultsLocations;
  const guardrails = guardrailsFrom(iam.accountId, {
    ...guardrailSettings,
    ...(hub && !guardrailSettings.allowedResourceAccounts ? { allowedResourceAccounts: hub.memberIds } : {}),
  });
  const resourceTags =
    guardrails.ownership.mode !== 'required'
      ? undefined
      : (hub?.resourceTags ?? (await resourceTagReader(config, log)));
  if (guardrails.ownership.mode === 'off') log.warn(OWNERSHIP_PROOF_OFF);
  return {
    dmm: writeBackTo(dmm, config, log),
    iam,
    log,
    guardrails,
    agreementIndex: agreementIndex(config),
    locks: targetLocks(config, log),
    ...(hub
      ? {
          accounts: hub,
          resourcePolicies: hub.resourcePolicies,
          lakeFormation: hub.lakeFormation,
        }
      : grantTargets(config)),
    ...(resourceTags ? { resourceTags } : {}),
    resolve: {
      accountId: iam.accountId,
      ...(hub ? { memberAccounts: hub.memberIds } : {}),
      ...(multiAccountLocations ? { athenaQueryResultsLocations: multiAccountLocations } : {}),
      partition: iam.partition,
      defaultRegion: config.aws.region,
      ...(config.glue.athenaWorkgroup ? { defaultAthenaWorkgroup: config.glue.athenaWorkgroup } : {}),
      ...(config.glue.athenaQueryResultsLocation
        ? { athenaQueryResultsLocation: config.glue.athenaQueryResultsLocation }
        : {}),
      ...(config.glue.athenaResultsShared ? { athenaResultsShared: true } : {}),
      dataContracts: { ...config.dataContracts },
      ...(config.glue.tablesGovernedBy ? { glueTablesGovernedBy: config.glue.tablesGovernedBy } : {}),
    },
  };
}

/** Where the local stand-in keeps the hub's account, and beside it every member's (src/local/local-accounts.ts). */
export function localStandIn(config: Config, hubAccountId = config.aws.accountId ?? DEFAULT_ACCOUNT_ID): LocalStandIn {
  return {
    stateFile: config.aws.localStateFile,
    hubAccountId,
    ...(config.aws.localResourceTagsFile ? { hubResourceTagsFile: config.aws.localResourceTagsFile } : {}),
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
    return {
      resourcePolicies: new FileResourcePolicies({ file: localStandInFile(config, 'resource-policies.json') }),
      lakeFormation: new FileLakeFormation({ file: localStandInFile(config, 'lake-formation.json') }),
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

/**
 * Leases on grant targets (docs/adr/0017-target-leases.md): in the deployment's state bucket when
 * the CLI shares it (so an `apply` takes turns with the Lambda functions), else in a file in the
 * state folder (so a `run` and an `apply` on one local state take turns).
 */
function targetLocks(config: Config, log: Logger): TargetLocks {
  const leases =
    config.aws.target === 'aws' && config.aws.indexBucket
      ? new S3TargetLeases({ client: createS3Client({ region: config.aws.region }), bucket: config.aws.indexBucket })
      : new FileTargetLeases(join(config.stateDir, 'target-leases.json'));
  // A CLI holder lives as long as it likes, but holds a target only for one read-plan-write:
  // the Lambda functions' longest timeout is ample.
  return new TargetLocks(leases, { ttlMs: CLI_LEASE_MS, log });
}

const CLI_LEASE_MS = 16 * 60_000;

/**
 * Ownership proof reads provider tags: from AWS, or for the local stand-in from its tags file
 * (written by `local-aws seed` from a fixture's `resourceTags`). Without that file no resource is
 * proven, which the refusals say; the warning says where the tags would come from.
 */
async function resourceTagReader(config: Config, log: Logger): Promise<ResourceTagReader> {
  if (config.aws.target === 'aws') return new AwsResourceTagReader({ region: config.aws.region });
  const file = config.aws.localResourceTagsFile ?? localStandInFile(config, 'resource-tags.yaml');
  if (!existsSync(file)) {
    log.warn(
      `the local stand-in has no provider resource tags (${file}), so ownership proof can only pass through guardrails.ownershipAllowList: seed them with \`dmm-aws local-aws seed\` from a file with resourceTags (see examples/local-aws.yaml)`,
    );
    return new FileResourceTags({}, file);
  }
  return FileResourceTags.fromFile(file);
}

/** The local stand-in reports only to the bundled simulator, unless the operator opts in. */
function writeBackTo(dmm: DmmApi, config: Config, log: Logger): DmmApi {
  if (config.aws.target !== 'local' || config.aws.localWriteBack) return dmm;
  const probe = simulatorProbe(config.dmm.baseUrl, config.dmm.apiKey ?? '', config.dmm.timeoutMs);
  return new SimulatorOnlyWriteBack(dmm, probe, config.dmm.baseUrl, log);
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
