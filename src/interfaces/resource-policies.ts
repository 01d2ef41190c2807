import type { PolicyResource } from '../model/grants.js';

/**
 * Resource policies of provider resources (S3 bucket policies, KMS key policies, Glue Data Catalog
 * resource policies): the resource-policy grant target reads and writes whole documents through
 * this, and merges its own statements (recognised by Sid) with everyone else's. Implemented over
 * the AWS SDK (src/aws/resource-policies.ts) and locally (src/local/file-resource-policies.ts).
 *
 * Errors are `TargetError`s: `NoSuchEntity` when the resource does not exist,
 * `MalformedPolicyDocument` for a document the service refuses, `LimitExceeded` over the
 * service's size limit, `AccessDenied`, `Throttling`.
 */
export interface ResourcePolicies {
  /** The policy document as JSON text, or `undefined` when the resource has no policy. */
  getPolicy(resource: PolicyResource): Promise<string | undefined>;
  /** Replace the resource's policy with `document`. */
  putPolicy(resource: PolicyResource, document: string): Promise<void>;
  /**
   * Remove the resource's policy; a resource without one is success. KMS keys always have a
   * policy: deleting one is `InvalidInput`.
   */
  deletePolicy(resource: PolicyResource): Promise<void>;
}

/** Largest policy document each service accepts, in bytes of the document as sent. */
export const RESOURCE_POLICY_LIMITS: Readonly<Record<PolicyResource['service'], number>> = {
  s3: 20_480,
  kms: 32_768,
  glue: 10_240,
};
