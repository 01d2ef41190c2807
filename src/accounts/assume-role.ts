/**
 * Credentials of a member account: the hub assumes the member role (`sts:AssumeRole` with the
 * external ID) and every client of that account shares one cached session. The SDK's own
 * `fromTemporaryCredentials` would call STS once per client (IAM, S3, one KMS and Glue client per
 * region), so one provider per account, shared by all of its clients, is kept here instead.
 */
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials } from '../aws/clients.js';
import { TargetError } from '../interfaces/target-error.js';
import { awsErrorCode, messageOf } from '../aws/errors.js';

/** Ask STS again this long before the session ends, so no call starts with credentials about to expire. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** One hour: the longest a role chained from the Lambda's own role may last. */
export const SESSION_SECONDS = 3600;

export interface AssumeRoleOptions {
  sts: STSClient;
  roleArn: string;
  /** Read when a session is started (a secret may rotate); never logged or put into an error. */
  externalId: () => Promise<string>;
  /** Names dmm-aws in the member's CloudTrail: `dmm-aws-<hub account>`. */
  sessionName: string;
  now?: () => number;
}

/**
 * A credentials provider for one member account. Concurrent callers share one AssumeRole call;
 * a failed call is not cached, so the next caller tries again. A refusal (the member role does
 * not exist or does not trust the hub) becomes a TargetError `AccessDenied` naming the role,
 * which the core treats as "retry later" like any other denial.
 */
export function assumedRoleCredentials(options: AssumeRoleOptions): () => Promise<AwsCredentials> {
  const now = options.now ?? Date.now;
  let session: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  const fresh = (c: AwsCredentials | undefined): c is AwsCredentials =>
    c !== undefined && (c.expiration === undefined || c.expiration.getTime() - now() > REFRESH_BEFORE_EXPIRY_MS);
  return async () => {
    if (fresh(session)) return session;
    pending ??= start(options).then(
      (credentials) => {
        session = credentials;
        pending = undefined;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

async function start(options: AssumeRoleOptions): Promise<AwsCredentials> {
  let response: AssumeRoleCommandOutput;
  try {
    response = await options.sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName,
        ExternalId: await options.externalId(),
        DurationSeconds: SESSION_SECONDS,
      }),
    );
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'AccessDenied') {
      const mapped = new TargetError(
        'AccessDenied',
        `cannot assume the member role ${options.roleArn}: ${messageOf(error)} (does the member account deploy terraform/modules/member with this hub's role and external ID?)`,
      );
      mapped.cause = error;
      throw mapped;
    }
    throw error;
  }
  const c = response.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`STS returned no credentials for ${options.roleArn}`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  };
}
