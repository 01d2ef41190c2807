import { kmsKeyArn, s3BucketArn, s3LocationArn, s3ObjectsArn, s3Url, type KmsKey, type S3Location } from './arn.js';
import { arnFields, kmsKeyOf, namesS3Folder, s3LocationOf } from './fields.js';
import { locationResources, PortFieldError, type PortType } from './port-type.js';
import { allow, bucketPolicyGrant, keyPolicyGrant, kmsDecrypt } from './statements.js';

export interface S3BucketResources {
  location: S3Location;
  kmsKey?: KmsKey;
}

/** Read a whole bucket: list it and get every object. */
export const s3Bucket: PortType<S3BucketResources> = {
  type: 's3_bucket',
  describe: 'Read a whole S3 bucket (list and get objects).',
  technicalTypes: ['s3'],
  fits: (port, opts) => !namesS3Folder(port, opts),

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 's3_bucket', ['s3', 'kms-key'], opts);
    const location = s3LocationOf(port, arns, opts);
    if (!location) {
      throw new PortFieldError(
        'custom.aws-s3-bucket-arn',
        'is missing: an s3_bucket port needs its bucket (or set server.location to s3://<bucket>/)',
      );
    }
    // Granting the whole bucket when the metadata names a folder would widen access.
    if (location.value.prefix !== '') {
      throw new PortFieldError(
        location.field,
        `names the folder ${s3Url(location.value)}, but output port type s3_bucket grants the whole bucket; use output-port-type s3_prefix or name the bucket only`,
      );
    }
    const key = kmsKeyOf(port, arns, opts);
    return { location: location.value, ...(key ? { kmsKey: key.value } : {}) };
  },

  grants({ location, kmsKey }, consumer) {
    // One statement: bucket actions only match the bucket ARN and GetObject only `bucket/*`
    // (see locateAndRead), so this is exactly "list the bucket, read its objects".
    const read = allow(
      ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
      [s3BucketArn(location), s3ObjectsArn(location)],
    );
    const statements = [read, ...(kmsKey ? [kmsDecrypt(kmsKey)] : [])];
    return [
      { target: 'identity-policy', statements },
      bucketPolicyGrant(location, consumer.roleArn, [read]),
      ...(kmsKey ? [keyPolicyGrant(kmsKey, consumer.roleArn)] : []),
    ];
  },

  providerResources({ location, kmsKey }) {
    return locationResources(s3LocationArn(location), kmsKey && kmsKeyArn(kmsKey));
  },

  summary({ location, kmsKey }) {
    const kms = kmsKey ? `, decrypting with KMS key ${kmsKeyArn(kmsKey)}` : '';
    return `List and read all objects in ${s3Url(location)}${kms}.`;
  },
};
