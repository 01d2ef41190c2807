import type { ResourcePolicyGrant } from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import { kmsKeyArn, s3BucketArn, s3ObjectsArn, type KmsKey, type S3Location } from './arn.js';

/**
 * Statement builders shared by the port types. Every character counts against IAM's 10,240
 * per-role budget, so a single action or resource is written as a plain string, not an array.
 */

type Condition = NonNullable<PolicyStatement['Condition']>;

export function allow(
  actions: readonly string[],
  resources: readonly string[],
  condition?: Condition,
): PolicyStatement {
  const unique = [...new Set(resources)];
  return {
    Effect: 'Allow',
    Action: actions.length === 1 ? (actions[0] as string) : [...actions],
    Resource: unique.length === 1 ? (unique[0] as string) : unique,
    ...(condition ? { Condition: condition } : {}),
  };
}

/**
 * `s3:ListBucket` limited to the locations' prefixes: `prefix/` lists the folder itself and
 * `prefix/*` everything below it. One statement per bucket, because a condition applies to
 * every resource of its statement: merging buckets would let each prefix be listed in both.
 * A location without a prefix is the whole bucket and needs no condition.
 */
export function listBuckets(locations: readonly S3Location[]): PolicyStatement[] {
  const byBucket = new Map<string, S3Location[]>();
  for (const l of locations) byBucket.set(s3BucketArn(l), [...(byBucket.get(s3BucketArn(l)) ?? []), l]);
  return [...byBucket].map(([bucketArn, group]) => {
    if (group.some((l) => l.prefix === '')) return allow(['s3:ListBucket'], [bucketArn]);
    const prefixes = [...new Set(group.flatMap((l) => [l.prefix, `${l.prefix}*`]))];
    return allow(['s3:ListBucket'], [bucketArn], { StringLike: { 's3:prefix': prefixes } });
  });
}

/**
 * `s3:GetBucketLocation` on the buckets and `s3:GetObject` on the objects of `reads`, as one
 * statement. The cross-product grants nothing extra: S3 authorises bucket actions only against
 * bucket ARNs and object actions only against object ARNs, and no bucket ARN matches
 * `bucket/prefix/*`. One statement instead of two saves ~35 characters of the role's budget.
 */
export function locateAndRead(buckets: readonly S3Location[], reads: readonly S3Location[]): PolicyStatement {
  return allow(['s3:GetBucketLocation', 's3:GetObject'], [...buckets.map(s3BucketArn), ...reads.map(s3ObjectsArn)]);
}

const DNS_SUFFIX: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
};

/**
 * `kms:Decrypt` for data encrypted with a customer-managed key, only through the service that
 * stores the data (`s3`, `kinesis`, `dynamodb`, ...) in the key's region: the consumer needs the
 * key to read the port's data, not to decrypt arbitrary ciphertexts made with it. Partitions
 * whose endpoint suffix we do not know get the key without the condition rather than a condition
 * that would never match.
 */
export function kmsDecrypt(key: KmsKey, via = 's3', actions: readonly string[] = ['kms:Decrypt']): PolicyStatement {
  const suffix = DNS_SUFFIX[key.partition];
  return allow(
    actions,
    [kmsKeyArn(key)],
    suffix ? { StringEquals: { 'kms:ViaService': `${via}.${key.region}.${suffix}` } } : undefined,
  );
}

/**
 * The statements of a resource-side grant: the identity statements' actions and resources,
 * allowing the consumer role as `Principal`. IAM evaluates both sides when the consumer role is
 * in another account than the resource, so the resource side grants exactly what the identity
 * side does, no more.
 */
export function forPrincipal(roleArn: string, statements: readonly PolicyStatement[]): PolicyStatement[] {
  return statements.map(({ Effect, Action, Resource, Condition }) => ({
    Effect,
    Principal: { AWS: roleArn },
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  }));
}

/** The bucket policy grant for the consumer role: the S3 statements given, on `location`'s bucket. */
export function bucketPolicyGrant(
  location: S3Location,
  roleArn: string,
  statements: readonly PolicyStatement[],
): ResourcePolicyGrant {
  return {
    target: 'resource-policy',
    resource: { service: 's3', arn: s3BucketArn(location), bucket: location.bucket },
    statements: forPrincipal(roleArn, statements),
    acrossAccounts: true,
  };
}

/**
 * The key policy grant for the consumer role: decrypt through S3 only. In a key policy `Resource`
 * is always `*` (the key itself).
 */
export function keyPolicyGrant(key: KmsKey, roleArn: string): ResourcePolicyGrant {
  const decrypt = kmsDecrypt(key);
  return {
    target: 'resource-policy',
    resource: { service: 'kms', arn: kmsKeyArn(key), region: key.region, account: key.account, keyId: key.keyId },
    statements: forPrincipal(roleArn, [{ ...decrypt, Resource: '*' }]),
    acrossAccounts: true,
  };
}
