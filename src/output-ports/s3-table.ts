import {
  checkS3TableBucketName,
  checkS3TableName,
  kmsKeyArn,
  s3TableBucketArn,
  s3TablesArn,
  type KmsKey,
  type S3TableBucket,
} from './arn.js';
import { arnFields, checkKeyRegion, kmsKeyOf, sameResource, serverPlacement, serverString } from './fields.js';
import { PortFieldError, type PortType } from './port-type.js';
import { allow, kmsDecrypt } from './statements.js';

export interface S3TableResources {
  bucket: S3TableBucket;
  namespace: string;
  table: string;
  kmsKey?: KmsKey;
  consumerAccount: string;
}

/**
 * Read one Apache Iceberg table in an S3 table bucket through the S3 Tables API (its Iceberg REST
 * endpoint, or the S3 Tables Catalog for Apache Iceberg): the bucket, the table's namespace, the
 * table, its metadata location and its data.
 */
export const s3Table: PortType<S3TableResources> = {
  type: 's3_table',
  describe: 'Read one Iceberg table in an S3 table bucket through the S3 Tables API (no writes).',
  technicalTypes: ['s3tables'],

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 's3_table', ['s3tables-bucket', 'kms-key'], opts);
    const fromArn = arns['s3tables-bucket'] && {
      field: arns['s3tables-bucket'].field,
      value: arns['s3tables-bucket'].value.tableBucket,
    };
    const name = serverString(port, 'tableBucket');
    const fromServer = name && {
      field: name.field,
      value: { ...serverPlacement(port, opts), bucket: checkS3TableBucketName(name.field, name.value) },
    };
    const bucket = sameResource(fromArn, fromServer, s3TableBucketArn);
    if (!bucket) {
      throw new PortFieldError(
        'custom.aws-s3tables-bucket-arn',
        'is missing: an s3_table port needs its table bucket (or set server.tableBucket, with server.region and server.account when they are not the defaults)',
      );
    }
    const namespace = serverString(port, 'namespace');
    if (!namespace)
      throw new PortFieldError('server.namespace', "is missing: an s3_table port needs the table's namespace");
    const table = serverString(port, 'table');
    if (!table) throw new PortFieldError('server.table', 'is missing: an s3_table port needs its table');
    const key = kmsKeyOf(port, arns, opts);
    checkKeyRegion(key, bucket.value.region, 'table bucket');
    return {
      bucket: bucket.value,
      namespace: checkS3TableName(namespace.field, namespace.value),
      table: checkS3TableName(table.field, table.value),
      ...(key ? { kmsKey: key.value } : {}),
      consumerAccount: opts.accountId,
    };
  },

  grants({ bucket, namespace, table, kmsKey }) {
    const inNamespace = { 's3tables:namespace': namespace };
    const statements = [
      allow(['s3tables:GetTableBucket'], [s3TableBucketArn(bucket)]),
      allow(['s3tables:GetNamespace'], [s3TableBucketArn(bucket)], { StringEquals: inNamespace }),
      // A table's ARN ends in its id, which metadata does not know: the bucket's tables, narrowed
      // to this one by namespace and name (both conditions must hold).
      allow(
        ['s3tables:GetTable', 's3tables:GetTableMetadataLocation', 's3tables:GetTableData'],
        [s3TablesArn(bucket)],
        { StringEquals: { ...inNamespace, 's3tables:tableName': table } },
      ),
      ...(kmsKey ? [kmsDecrypt(kmsKey, 's3')] : []),
    ];
    return [{ target: 'identity-policy', statements }];
  },

  providerResources({ bucket, kmsKey }) {
    // The table bucket carries the tags (a table's ARN, with its id, is not known ahead).
    return [{ arn: s3TableBucketArn(bucket) }, ...(kmsKey ? [{ arn: kmsKeyArn(kmsKey) }] : [])];
  },

  summary({ bucket, namespace, table, kmsKey, consumerAccount }) {
    const parts = [
      `Read Iceberg table ${namespace}.${table} in S3 table bucket ${bucket.bucket} (${bucket.region}, account ${bucket.account}) through the S3 Tables API`,
      kmsKey ? `; decrypt with KMS key ${kmsKeyArn(kmsKey)}` : '',
      bucket.account !== consumerAccount
        ? `. Cross-account: account ${bucket.account} must also allow this role in the table bucket policy`
        : '',
    ];
    return `${parts.join('')}.`;
  },
};
