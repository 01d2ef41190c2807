/**
 * A hub on real AWS: per member account, the AWS adapters over the member role's assumed-role
 * credentials (or, for the hub's own account when it is listed, over the hub's own credentials).
 * Used by the CLI (src/cli/wiring.ts) and the Lambda functions (src/lambda/runtime.ts) alike.
 */
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsIamAccount } from '../aws/iam-account.js';
import { AwsLakeFormationPermissions } from '../aws/lake-formation.js';
import { AwsResourcePolicies } from '../aws/resource-policies.js';
import { AwsResourceTagReader } from '../aws/resource-tags.js';
import { createIamClient, createProviderBucketS3Client, type AwsClientOptions } from '../aws/clients.js';
import type { GuardrailSettings } from '../sync/guardrail-settings.js';
import { assumedRoleCredentials } from './assume-role.js';
import type { MemberAccount } from './directory.js';
import { type Hub, hubOver, memberGuardrails } from './hub.js';
import { memberOf, memberRoleArn, type MultiAccountSettings, sessionNameOf } from './settings.js';

/** What the hub calls in a member beyond the adapters' own lists: finding the owner of a bucket (terraform/modules/member). */
export const MEMBER_S3_ACTIONS_USED = ['s3:ListAllMyBuckets'] as const;

export interface AwsHubOptions {
  hubAccountId: string;
  partition: string;
  settings: MultiAccountSettings;
  /** The hub's guardrail settings; each member's own role settings are laid over them. */
  guardrails: GuardrailSettings;
  /** Read when a member session starts; never logged. */
  externalId: () => Promise<string>;
  /** Region, endpoint, attempts of every client; credentials are set per member. */
  clientOptions: AwsClientOptions;
  /** Read tags for ownership proof (only when that guardrail is on). */
  readTags: boolean;
}

/** The members' adapters and the routing adapters the core writes resource-side grants through. */
export type AwsHub = Hub;

export function awsHub(options: AwsHubOptions): AwsHub {
  const { settings, hubAccountId, partition } = options;
  const sts = new STSClient({
    ...(options.clientOptions.region ? { region: options.clientOptions.region } : {}),
    ...(options.clientOptions.endpoint ? { endpoint: options.clientOptions.endpoint } : {}),
    ...(options.clientOptions.credentials ? { credentials: options.clientOptions.credentials } : {}),
  });
  const members = new Map<string, MemberAccount>();
  for (const setting of settings.members) {
    const { account } = memberOf(setting);
    const credentials =
      account === hubAccountId
        ? options.clientOptions.credentials
        : assumedRoleCredentials({
            sts,
            roleArn: memberRoleArn(settings, account, partition),
            externalId: options.externalId,
            sessionName: sessionNameOf(hubAccountId),
          });
    const clientOptions: AwsClientOptions = {
      ...options.clientOptions,
      ...(credentials ? { credentials } : {}),
    };
    const guardrails = memberGuardrails(setting, settings, options.guardrails);
    const s3 = createProviderBucketS3Client(clientOptions);
    members.set(account, {
      accountId: account,
      guardrails,
      iam: new AwsIamAccount({
        client: createIamClient(clientOptions),
        accountId: account,
        partition,
        managedRolePath: guardrails.managedRolePath,
      }),
      resourcePolicies: new AwsResourcePolicies({ s3Client: s3, clientOptions }),
      lakeFormation: new AwsLakeFormationPermissions({ clientOptions }),
      ...(options.readTags ? { resourceTags: new AwsResourceTagReader({ s3Client: s3, clientOptions }) } : {}),
      listBuckets: () => bucketNames(s3),
    });
  }
  return hubOver(hubAccountId, members, settings, options.readTags);
}

/** Every bucket the account owns (ListBuckets pages by 10,000 when asked to). */
async function bucketNames(s3: S3Client): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ MaxBuckets: 10_000, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const bucket of page.Buckets ?? []) if (bucket.Name) names.push(bucket.Name);
    token = page.ContinuationToken;
  } while (token);
  return names;
}
