import type { PolicyStatement } from '../model/policy.js';
import { athenaWorkgroupArn, s3BucketArn, s3ObjectsArn, type AthenaWorkgroup, type S3Location } from './arn.js';
import { allow, listBuckets } from './statements.js';

/**
 * What running and following an Athena query needs besides the table: the workgroup, and the
 * role's query-result folder (Athena writes the results as the caller and reads them back for
 * GetQueryResults). They are the same for every table a role queries, so port types return them
 * as `shared` identity statements, stored once per role (docs/adr/0011-shared-statements.md).
 */
export function athenaQueryStatements(workgroup: AthenaWorkgroup, results: S3Location | undefined): PolicyStatement[] {
  return [
    allow(
      [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      [athenaWorkgroupArn(workgroup)],
    ),
    ...(results
      ? [
          ...listBuckets([results]),
          // Bucket and object actions in one statement grant nothing extra (see locateAndRead).
          allow(
            ['s3:GetBucketLocation', 's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
            [s3BucketArn(results), s3ObjectsArn(results)],
          ),
        ]
      : []),
  ];
}
