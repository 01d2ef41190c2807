/**
 * ResourcePolicies on real AWS: S3 bucket policies, KMS key policies and Glue Data Catalog
 * resource policies, through the AWS SDK v3.
 *
 * It checks each service's size limit before sending (so the error, and what is written, are the
 * same as against the local stand-in), answers "no policy" as `undefined` rather than an error,
 * and maps AWS's errors to TargetError codes so the core decides retry vs. report the same way
 * everywhere.
 */
import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type GlueClient,
  type PutResourcePolicyRequest,
} from '@aws-sdk/client-glue';
import { GetKeyPolicyCommand, PutKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RESOURCE_POLICY_LIMITS, type ResourcePolicies } from '../interfaces/resource-policies.js';
import { TargetError, type TargetErrorCode } from '../interfaces/target-error.js';
import type { PolicyResource } from '../model/grants.js';
import { createGlueClient, createKmsClient, createProviderBucketS3Client, type AwsClientOptions } from './clients.js';
import { awsErrorCode, messageOf } from './errors.js';

/** Per service, because test/aws/actions.test.ts checks each against that SDK's imported commands. */
export const RESOURCE_POLICY_S3_ACTIONS_USED = [
  's3:DeleteBucketPolicy',
  's3:GetBucketPolicy',
  's3:PutBucketPolicy',
] as const;
export const RESOURCE_POLICY_KMS_ACTIONS_USED = ['kms:GetKeyPolicy', 'kms:PutKeyPolicy'] as const;
export const RESOURCE_POLICY_GLUE_ACTIONS_USED = [
  'glue:DeleteResourcePolicy',
  'glue:GetResourcePolicy',
  'glue:PutResourcePolicy',
] as const;
/** Every action this adapter calls: the processing and reconcile functions' policies need these. */
export const RESOURCE_POLICY_ACTIONS_USED = [
  ...RESOURCE_POLICY_S3_ACTIONS_USED,
  ...RESOURCE_POLICY_KMS_ACTIONS_USED,
  ...RESOURCE_POLICY_GLUE_ACTIONS_USED,
] as const;

export interface AwsResourcePoliciesOptions {
  /** Default: a client from `clientOptions` that follows buckets into their region. */
  s3Client?: S3Client;
  /**
   * Default: one client per key region (a key policy is served only in the key's region). An
   * injected client is used for every key, whatever its region: for tests and single-region setups.
   */
  kmsClient?: KMSClient;
  /** Default: one client per catalog region; an injected one is used for every region, as `kmsClient`. */
  glueClient?: GlueClient;
  /**
   * Base of the default clients (endpoint, credentials, attempts); KMS and Glue clients get the
   * resource's region instead of `region`. Default: the standard AWS configuration.
   */
  clientOptions?: AwsClientOptions;
}

type Kms = Extract<PolicyResource, { service: 'kms' }>;
type Glue = Extract<PolicyResource, { service: 'glue' }>;

/**
 * What the last call told us about a catalog's policy, for Glue's optimistic concurrency: a
 * write names the state it was based on, and Glue refuses it if the policy has changed since.
 */
type CatalogPolicyState = { exists: true; hash: string } | { exists: false };

/** Error codes (with `Exception` dropped) every service uses alike. */
const COMMON_CODES: ReadonlyMap<string, TargetErrorCode> = new Map([
  ['AccessDenied', 'AccessDenied'],
  ['Throttling', 'Throttling'],
  ['Throttled', 'Throttling'],
  ['TooManyRequests', 'Throttling'],
  ['RequestLimitExceeded', 'Throttling'],
  ['SlowDown', 'Throttling'],
]);

const S3_CODES: ReadonlyMap<string, TargetErrorCode> = new Map([
  ['NoSuchBucket', 'NoSuchEntity'],
  ['MalformedPolicy', 'MalformedPolicyDocument'],
  // S3 answers 405 to a caller of another account than the bucket owner's, even with permission:
  // only the owner account may touch a bucket policy, and retrying will not change that.
  ['MethodNotAllowed', 'AccessDenied'],
]);

const KMS_CODES: ReadonlyMap<string, TargetErrorCode> = new Map([
  ['NotFound', 'NoSuchEntity'],
  ['MalformedPolicyDocument', 'MalformedPolicyDocument'],
  ['LimitExceeded', 'LimitExceeded'],
  ['InvalidArn', 'InvalidInput'],
  // A key pending deletion or import: its policy cannot be written until someone changes that.
  ['KMSInvalidState', 'InvalidInput'],
  ['UnsupportedOperation', 'InvalidInput'],
]);

const GLUE_CODES: ReadonlyMap<string, TargetErrorCode> = new Map([
  ['EntityNotFound', 'NoSuchEntity'],
  ['InvalidInput', 'InvalidInput'],
  ['MalformedPolicyDocument', 'MalformedPolicyDocument'],
  // AWS's answer to a write whose hash or existence condition no longer holds (moto: ConcurrentModification).
  ['ConditionCheckFailure', 'ConcurrentModification'],
  ['ConcurrentModification', 'ConcurrentModification'],
  ['ResourceNumberLimitExceeded', 'LimitExceeded'],
]);

/** The TargetError for an SDK error with a known code; any other error is returned unchanged. */
function toTargetError(error: unknown, codes: ReadonlyMap<string, TargetErrorCode>, context: string): unknown {
  if (error instanceof TargetError) return error;
  const awsCode = awsErrorCode(error);
  const code = awsCode === undefined ? undefined : (codes.get(awsCode) ?? COMMON_CODES.get(awsCode));
  if (awsCode === undefined || code === undefined) return error;
  return targetError(code, `${context}: ${awsCode === code ? '' : `${awsCode}: `}${messageOf(error)}`, error);
}

function targetError(code: TargetErrorCode, message: string, cause?: unknown): TargetError {
  const error = new TargetError(code, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** How a resource is named in errors. */
function describe(resource: PolicyResource): string {
  switch (resource.service) {
    case 's3':
      return `bucket ${resource.bucket}`;
    case 'kms':
      return `KMS key ${resource.arn}`;
    case 'glue':
      return `the Glue Data Catalog of account ${resource.account} in ${resource.region}`;
  }
}

const SERVICE_NAME: Record<PolicyResource['service'], string> = {
  s3: 'S3 bucket policies',
  kms: 'KMS key policies',
  glue: 'Glue Data Catalog resource policies',
};

/** AWS counts the document as sent, whitespace included (unlike IAM's identity policies). */
function checkSize(resource: PolicyResource, document: string): void {
  const size = Buffer.byteLength(document, 'utf8');
  const limit = RESOURCE_POLICY_LIMITS[resource.service];
  if (size > limit) {
    throw new TargetError(
      'LimitExceeded',
      `Policy of ${size} bytes for ${describe(resource)} exceeds the ${limit}-byte limit of ${SERVICE_NAME[resource.service]} (${resource.arn}).`,
    );
  }
}

export class AwsResourcePolicies implements ResourcePolicies {
  private readonly s3: S3Client;
  private readonly injectedKms: KMSClient | undefined;
  private readonly injectedGlue: GlueClient | undefined;
  private readonly clientOptions: AwsClientOptions;
  private readonly kmsByRegion = new Map<string, KMSClient>();
  private readonly glueByRegion = new Map<string, GlueClient>();
  private readonly catalogPolicies = new Map<string, CatalogPolicyState>();

  constructor(options: AwsResourcePoliciesOptions = {}) {
    this.clientOptions = options.clientOptions ?? {};
    this.s3 = options.s3Client ?? createProviderBucketS3Client(this.clientOptions);
    this.injectedKms = options.kmsClient;
    this.injectedGlue = options.glueClient;
  }

  async getPolicy(resource: PolicyResource): Promise<string | undefined> {
    switch (resource.service) {
      case 's3':
        return this.getBucketPolicy(resource.bucket);
      case 'kms':
        return this.getKeyPolicy(resource);
      case 'glue':
        return this.getCatalogPolicy(resource);
    }
  }

  async putPolicy(resource: PolicyResource, document: string): Promise<void> {
    checkSize(resource, document);
    switch (resource.service) {
      case 's3':
        return this.putBucketPolicy(resource.bucket, document);
      case 'kms':
        return this.putKeyPolicy(resource, document);
      case 'glue':
        return this.putCatalogPolicy(resource, document);
    }
  }

  async deletePolicy(resource: PolicyResource): Promise<void> {
    switch (resource.service) {
      case 's3':
        return this.deleteBucketPolicy(resource.bucket);
      case 'kms':
        // KMS has no call to remove a key policy: a key without one would be unusable.
        throw new TargetError(
          'InvalidInput',
          `KMS key ${resource.arn} always has a key policy; it cannot be deleted, only replaced.`,
        );
      case 'glue':
        return this.deleteCatalogPolicy(resource);
    }
  }

  // ---- S3 -------------------------------------------------------------------------------------------

  private async getBucketPolicy(bucket: string): Promise<string | undefined> {
    try {
      const { Policy } = await this.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      return Policy;
    } catch (error) {
      // S3 answers "no policy" with an error rather than an empty answer.
      if (awsErrorCode(error) === 'NoSuchBucketPolicy') return undefined;
      throw toTargetError(error, S3_CODES, `GetBucketPolicy on bucket ${bucket}`);
    }
  }

  private async putBucketPolicy(bucket: string, document: string): Promise<void> {
    await this.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: document })).catch((error: unknown) => {
      throw toTargetError(error, S3_CODES, `PutBucketPolicy on bucket ${bucket}`);
    });
  }

  private async deleteBucketPolicy(bucket: string): Promise<void> {
    // DeleteBucketPolicy on a bucket without a policy succeeds; NoSuchBucketPolicy is accepted too
    // in case an S3-compatible endpoint answers it.
    await this.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket })).catch((error: unknown) => {
      if (awsErrorCode(error) === 'NoSuchBucketPolicy') return;
      throw toTargetError(error, S3_CODES, `DeleteBucketPolicy on bucket ${bucket}`);
    });
  }

  // ---- KMS ------------------------------------------------------------------------------------------

  private async getKeyPolicy(key: Kms): Promise<string | undefined> {
    const { Policy } = await this.kmsFor(key.region)
      .send(new GetKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default' }))
      .catch((error: unknown) => {
        throw toTargetError(error, KMS_CODES, `GetKeyPolicy on ${describe(key)}`);
      });
    return Policy;
  }

  private async putKeyPolicy(key: Kms, document: string): Promise<void> {
    // BypassPolicyLockoutSafetyCheck stays off: KMS then refuses a policy that would lock this
    // tool (and so every later correction) out of the key.
    await this.kmsFor(key.region)
      .send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: document }))
      .catch((error: unknown) => {
        throw toTargetError(error, KMS_CODES, `PutKeyPolicy on ${describe(key)}`);
      });
  }

  private kmsFor(region: string): KMSClient {
    if (this.injectedKms) return this.injectedKms;
    let client = this.kmsByRegion.get(region);
    if (!client) {
      client = createKmsClient({ ...this.clientOptions, region });
      this.kmsByRegion.set(region, client);
    }
    return client;
  }

  // ---- Glue -----------------------------------------------------------------------------------------
  //
  // Glue addresses the catalog policy of the caller's account in the client's region: its
  // PutResourcePolicy ResourceArn is "for internal use only", so none of the three calls names it
  // and `account` only names the catalog in errors and in the remembered state.

  private async getCatalogPolicy(catalog: Glue): Promise<string | undefined> {
    const key = catalogKey(catalog);
    try {
      const { PolicyInJson, PolicyHash } = await this.glueFor(catalog.region).send(new GetResourcePolicyCommand({}));
      if (PolicyInJson === undefined) {
        // moto answers an empty result where AWS answers EntityNotFound.
        this.catalogPolicies.set(key, { exists: false });
        return undefined;
      }
      if (PolicyHash === undefined) this.catalogPolicies.delete(key);
      else this.catalogPolicies.set(key, { exists: true, hash: PolicyHash });
      return PolicyInJson;
    } catch (error) {
      // The catalog always exists: "not found" is its policy.
      if (awsErrorCode(error) === 'EntityNotFound') {
        this.catalogPolicies.set(key, { exists: false });
        return undefined;
      }
      throw toTargetError(error, GLUE_CODES, `GetResourcePolicy on ${describe(catalog)}`);
    }
  }

  /**
   * The write is conditional on the policy being what the last getPolicy (or this adapter's last
   * write) saw: a policy changed, created or deleted by someone else meanwhile is
   * ConcurrentModification, and the caller reads and merges again instead of overwriting it.
   * Without an earlier read the write is unconditional. A refused write leaves the remembered
   * state as it was, so retrying the same write without reading again keeps being refused.
   */
  private async putCatalogPolicy(catalog: Glue, document: string): Promise<void> {
    const key = catalogKey(catalog);
    const known = this.catalogPolicies.get(key);
    const input: PutResourcePolicyRequest = {
      PolicyInJson: document,
      // Lake Formation's cross-account grants write to this policy too; without 'TRUE', Glue
      // refuses the write once any exist.
      EnableHybrid: 'TRUE',
    };
    if (known?.exists === true) {
      input.PolicyExistsCondition = 'MUST_EXIST';
      input.PolicyHashCondition = known.hash;
    } else if (known?.exists === false) {
      input.PolicyExistsCondition = 'NOT_EXIST';
    }
    try {
      const { PolicyHash } = await this.glueFor(catalog.region).send(new PutResourcePolicyCommand(input));
      if (PolicyHash === undefined) this.catalogPolicies.delete(key);
      else this.catalogPolicies.set(key, { exists: true, hash: PolicyHash });
    } catch (error) {
      throw this.glueWriteError(error, known !== undefined, `PutResourcePolicy on ${describe(catalog)}`, 'put');
    }
  }

  private async deleteCatalogPolicy(catalog: Glue): Promise<void> {
    const key = catalogKey(catalog);
    const known = this.catalogPolicies.get(key);
    try {
      await this.glueFor(catalog.region).send(
        new DeleteResourcePolicyCommand(known?.exists === true ? { PolicyHashCondition: known.hash } : {}),
      );
    } catch (error) {
      // Already without a policy: deleted, which is what was asked.
      if (awsErrorCode(error) !== 'EntityNotFound')
        throw this.glueWriteError(
          error,
          known?.exists === true,
          `DeleteResourcePolicy on ${describe(catalog)}`,
          'delete',
        );
    }
    this.catalogPolicies.set(key, { exists: false });
  }

  private glueWriteError(error: unknown, conditional: boolean, context: string, operation: 'put' | 'delete'): unknown {
    const awsCode = awsErrorCode(error);
    // A conditional write refused because the policy is gone or appeared meanwhile: AWS may say
    // EntityNotFound, moto says ResourceNumberLimitExceeded ("Policy does not exist" / "already exists").
    if (conditional && (awsCode === 'EntityNotFound' || awsCode === 'ResourceNumberLimitExceeded')) {
      return targetError(
        'ConcurrentModification',
        `${context}: the policy changed since it was read (${awsCode}: ${messageOf(error)})`,
        error,
      );
    }
    // The document is all a put sends: an input Glue refuses is the document.
    if (operation === 'put' && awsCode === 'InvalidInput') {
      return targetError('MalformedPolicyDocument', `${context}: InvalidInput: ${messageOf(error)}`, error);
    }
    return toTargetError(error, GLUE_CODES, context);
  }

  private glueFor(region: string): GlueClient {
    if (this.injectedGlue) return this.injectedGlue;
    let client = this.glueByRegion.get(region);
    if (!client) {
      client = createGlueClient({ ...this.clientOptions, region });
      this.glueByRegion.set(region, client);
    }
    return client;
  }
}

function catalogKey(catalog: Glue): string {
  return `${catalog.account}/${catalog.region}`;
}
