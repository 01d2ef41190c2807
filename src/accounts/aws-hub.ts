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
import {
  createIamClient,
  createOrganizationsClient,
  createProviderBucketS3Client,
  type AwsClientOptions,
  type AwsCredentials,
} from '../aws/clients.js';
import type { GuardrailSettings } from '../sync/guardrail-settings.js';
import { errorMessage } from '../util/errors.js';
import { mapLimit } from '../util/map-limit.js';
import type { Logger } from '../util/log.js';
import { assumedRoleCredentials } from './assume-role.js';
import type { MemberAccount } from './directory.js';
import { type Hub, hubOver, memberGuardrails } from './hub.js';
import { accountsUnder, OrganizationMembers, OU_MEMBERS_TTL_MS } from './organizations.js';
import {
  type MemberGuardrailSettings,
  memberOf,
  memberRoleArn,
  type MultiAccountSettings,
  sessionNameOf,
} from './settings.js';

/** What the hub calls in a member beyond the adapters' own lists: finding the owner of a bucket (terraform/modules/member). */
export const MEMBER_S3_ACTIONS_USED = ['s3:ListAllMyBuckets'] as const;

export interface AwsHubOptions {
  hubAccountId: string;
  partition: string;
  /** As parsed; `organizationalUnits` may be left out (no OUs). */
  settings: Omit<MultiAccountSettings, 'organizationalUnits'> & { organizationalUnits?: readonly string[] };
  /** The hub's guardrail settings; each member's own role settings are laid over them. */
  guardrails: GuardrailSettings;
  /** Read when a member session starts; never logged. */
  externalId: () => Promise<string>;
  /** Region, endpoint, attempts of every client; credentials are set per member. */
  clientOptions: AwsClientOptions;
  /** Read tags for ownership proof (only when that guardrail is on). */
  readTags: boolean;
  /** Where changes of the OUs' accounts and failed listings are told. */
  log?: Logger;
  /** The clock of the OU listing's TTL (tests). */
  now?: () => number;
}

/** The members' adapters and the routing adapters the core writes resource-side grants through. */
export interface AwsHub extends Hub {
  /**
   * The member account ids, kept up to date by `refresh` in place: pass this array itself where
   * the members are the default (allowed resource accounts, the resolve options' member accounts).
   */
  memberIds: string[];
}

export function awsHub(options: AwsHubOptions): AwsHub {
  const { settings, hubAccountId } = options;
  const sts = new STSClient(stsOptions(options.clientOptions));
  const explicit = new Map(settings.members.map((m) => [memberOf(m).account, memberOf(m).guardrails]));
  // One array and one map, updated in place when the OUs' accounts change: the guardrails'
  // allowed resource accounts and the resolve options hold this very array (wiring.ts, runtime.ts).
  const memberIds: string[] = [...explicit.keys()];
  const members = new Map<string, MemberAccount>();
  const built = new Map<string, Built>();
  const memberFor = (account: string): Built => {
    let member = built.get(account);
    if (!member) {
      member = buildMember(options, sts, account, explicit.get(account) ?? {}, memberIds);
      built.set(account, member);
    }
    return member;
  };
  for (const account of memberIds) members.set(account, memberFor(account).member);
  // The routing holds this very map: refresh below changes its members in place.
  const hub = hubOver(hubAccountId, members, settings, options.readTags);
  const fromUnits = organizationMembers(options, sts);
  const now = options.now ?? Date.now;
  // OU accounts whose member role could not be assumed when they joined, and when that was tried.
  const unreachable = new Map<string, number>();
  /**
   * An OU account joins once its member role can be assumed: a new account may be in the OU
   * minutes before the role is deployed in it, and it must not fail every full
   * reconcile meanwhile. Tried again once per TTL. A member that was admitted stays a member
   * when its role fails later: that is an error to retry, never a reason to revoke.
   */
  const admits = async (account: string): Promise<boolean> => {
    if (members.has(account)) return true;
    const triedAt = unreachable.get(account);
    if (triedAt !== undefined && now() - triedAt < OU_MEMBERS_TTL_MS) return false;
    try {
      await memberFor(account).session?.();
      unreachable.delete(account);
      return true;
    } catch (error) {
      unreachable.set(account, now());
      options.log?.warn('account of the organizational units not a member yet: its member role cannot be assumed', {
        account,
        roleArn: memberRoleArn(settings, account, options.partition),
        error: errorMessage(error),
      });
      return false;
    }
  };
  return {
    ...hub,
    memberIds,
    ...(fromUnits
      ? {
          async refresh() {
            // The hub's own account joins only when listed in members (ADR 0010): an OU holding it
            // does not make the hub write its own account's roles with its own credentials.
            const listed = (await fromUnits.current()).filter((a) => a !== hubAccountId && !explicit.has(a));
            // A few sessions at a time: a first listing of a large OU must not burst STS.
            const admitted = await mapLimit(listed, 8, admits);
            const ids = [...explicit.keys(), ...listed.filter((_, i) => admitted[i])];
            if (ids.length === memberIds.length && ids.every((id, i) => id === memberIds[i])) return;
            memberIds.splice(0, memberIds.length, ...ids);
            members.clear();
            for (const account of ids) members.set(account, memberFor(account).member);
            hub.owners.forget();
          },
        }
      : {}),
  };
}

/** A member's adapters, and its member role session (none for the hub's own account). */
interface Built {
  member: MemberAccount;
  session?: () => Promise<AwsCredentials>;
}

/** The adapters of one member account, over its member role (or the hub's own credentials). */
function buildMember(
  options: AwsHubOptions,
  sts: STSClient,
  account: string,
  own: MemberGuardrailSettings,
  memberIds: string[],
): Built {
  const { settings, hubAccountId, partition } = options;
  const session =
    account === hubAccountId
      ? undefined
      : assumedRoleCredentials({
          sts,
          roleArn: memberRoleArn(settings, account, partition),
          externalId: options.externalId,
          sessionName: sessionNameOf(hubAccountId),
        });
  const credentials = session ?? options.clientOptions.credentials;
  const clientOptions: AwsClientOptions = {
    ...options.clientOptions,
    ...(credentials ? { credentials } : {}),
  };
  const guardrails = memberGuardrails({ account, ...own }, options.guardrails, memberIds);
  const s3 = createProviderBucketS3Client(clientOptions);
  const member: MemberAccount = {
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
  };
  return { member, ...(session ? { session } : {}) };
}

/**
 * The OU accounts, listed with the hub's own credentials or, with `organizationsRoleArn`, through
 * that role (in the management account or a delegated administrator), with the members' external ID.
 */
function organizationMembers(options: AwsHubOptions, sts: STSClient): OrganizationMembers | undefined {
  const { settings } = options;
  const units = settings.organizationalUnits ?? [];
  if (units.length === 0) return undefined;
  const credentials = settings.organizationsRoleArn
    ? assumedRoleCredentials({
        sts,
        roleArn: settings.organizationsRoleArn,
        externalId: options.externalId,
        sessionName: sessionNameOf(options.hubAccountId),
      })
    : options.clientOptions.credentials;
  const client = createOrganizationsClient({
    ...options.clientOptions,
    ...(credentials ? { credentials } : {}),
  });
  return new OrganizationMembers({
    organizationalUnits: units,
    list: () => accountsUnder(client, units),
    ...(options.log ? { log: options.log } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

function stsOptions(clientOptions: AwsClientOptions) {
  return {
    ...(clientOptions.region ? { region: clientOptions.region } : {}),
    ...(clientOptions.endpoint ? { endpoint: clientOptions.endpoint } : {}),
    ...(clientOptions.credentials ? { credentials: clientOptions.credentials } : {}),
  };
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
