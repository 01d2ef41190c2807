import { kmsKeyArn, s3LocationArn, s3Url, type KmsKey, type S3Location } from './arn.js';
import { arnFields, kmsKeyOf, namesS3Folder, s3LocationOf } from './fields.js';
import { locationResources, PortFieldError, type PortType } from './port-type.js';
import { bucketPolicyGrant, keyPolicyGrant, kmsDecrypt, listBuckets, locateAndRead } from './statements.js';

export interface S3PrefixResources {
  location: S3Location;
  kmsKey?: KmsKey;
}

/** Read one folder of a bucket: list and get under the prefix, nothing else in the bucket. */
export const s3Prefix: PortType<S3PrefixResources> = {
  type: 's3_prefix',
  describe: 'Read the objects under one prefix of an S3 bucket (list and get, prefix only).',
  technicalTypes: ['s3'],
  fits: namesS3Folder,

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 's3_prefix', ['s3', 'kms-key'], opts);
    const location = s3LocationOf(port, arns, opts);
    if (!location) {
      throw new PortFieldError(
        'server.location',
        'is missing: an s3_prefix port needs s3://<bucket>/<prefix>/ (or an S3 folder ARN in a custom aws-…-arn field)',
      );
    }
    if (location.value.prefix === '') {
      throw new PortFieldError(
        location.field,
        `names the whole bucket ${s3Url(location.value)}, but output port type s3_prefix needs a prefix; add the folder or use output-port-type s3_bucket`,
      );
    }
    const key = kmsKeyOf(port, arns, opts);
    return { location: location.value, ...(key ? { kmsKey: key.value } : {}) };
  },

  grants({ location, kmsKey }, consumer) {
    // Apart from ListBucket: its s3:prefix condition would never match GetBucketLocation.
    const read = [...listBuckets([location]), locateAndRead([location], [location])];
    const statements = [...read, ...(kmsKey ? [kmsDecrypt(kmsKey)] : [])];
    return [
      { target: 'identity-policy', statements },
      bucketPolicyGrant(location, consumer.roleArn, read),
      ...(kmsKey ? [keyPolicyGrant(kmsKey, consumer.roleArn)] : []),
    ];
  },

  providerResources({ location, kmsKey }) {
    // The folder itself, so an allow-list can name it; its bucket's tags prove who owns it.
    return locationResources(s3LocationArn(location), kmsKey && kmsKeyArn(kmsKey));
  },

  summary({ location, kmsKey }) {
    const kms = kmsKey ? `, decrypting with KMS key ${kmsKeyArn(kmsKey)}` : '';
    return `List and read the objects under ${s3Url(location)}${kms}.`;
  },
};
