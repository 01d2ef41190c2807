import type { OutputPort } from '../model/data-product.js';
import {
  athenaWorkgroupArn,
  checkGlueName,
  checkPartition,
  checkRegion,
  checkWorkgroupName,
  glueCatalogArn,
  glueDatabaseArn,
  glueTableArn,
  kmsKeyArn,
  normalizeAccount,
  parseS3Url,
  s3LocationArn,
  s3ObjectsArn,
  s3Url,
  type AthenaWorkgroup,
  type GlueTable,
  type KmsKey,
  type S3Location,
} from './arn.js';
import { arnFields, partitionOf, s3LocationOf, serverString } from './fields.js';
import { locationResources, PortFieldError, type PortType, type ResolveOptions } from './port-type.js';
import {
  allow,
  bucketPolicyGrant,
  forPrincipal,
  keyPolicyGrant,
  kmsDecrypt,
  listBuckets,
  locateAndRead,
} from './statements.js';

export interface GlueTableResources {
  table: GlueTable;
  workgroup: AthenaWorkgroup;
  /** The table's data location. */
  data: S3Location;
  /** Where the workgroup writes query results (tool configuration), if configured. */
  results?: S3Location;
  kmsKey?: KmsKey;
  /** The account of the consumer role, to point out cross-account grants. */
  consumerAccount: string;
}

type ArnsOf = ReturnType<typeof arnFields>;

/**
 * Query one Glue table with Athena, end to end: start and follow the query in the workgroup,
 * read the table's metadata (Athena checks catalog, database and table), read its data files,
 * and write and read the query's results.
 */
export const glueTable: PortType<GlueTableResources> = {
  type: 'glue_table',
  describe: 'Query one Glue table with Athena (table metadata, its S3 data, the query-result location).',
  technicalTypes: ['glue'],

  resourcesFrom(port, opts) {
    const arns = arnFields(
      port,
      'glue_table',
      ['s3', 'glue-catalog', 'glue-database', 'glue-table', 'athena-workgroup', 'kms-key'],
      opts,
    );
    const table = tableOf(port, arns, opts);
    const data = s3LocationOf(port, arns, opts);
    if (!data) {
      throw new PortFieldError(
        'server.location',
        "is missing: a glue_table port needs the table's S3 data location (s3://<bucket>/<prefix>/, or an S3 folder ARN in a custom aws-…-arn field)",
      );
    }
    const results = opts.athenaQueryResultsLocation
      ? parseS3Url(
          'athenaQueryResultsLocation (tool configuration)',
          opts.athenaQueryResultsLocation,
          partitionOf(opts),
        )
      : undefined;
    return {
      table,
      workgroup: workgroupOf(port, arns, table, opts),
      data: data.value,
      ...(results ? { results } : {}),
      ...(arns['kms-key'] ? { kmsKey: arns['kms-key'].value.key } : {}),
      consumerAccount: opts.accountId,
    };
  },

  grants({ table, workgroup, data, results, kmsKey }, consumer) {
    const catalogRead = allow(
      ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
      [glueCatalogArn(table), glueDatabaseArn(table), glueTableArn(table)],
    );
    const statements = [
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
      catalogRead,
      ...listBuckets(results ? [data, results] : [data]),
      locateAndRead(results ? [data, results] : [data], [data]),
      // Athena writes the results as the caller and reads them back for GetQueryResults.
      ...(results ? [allow(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], [s3ObjectsArn(results)])] : []),
      ...(kmsKey ? [kmsDecrypt(kmsKey)] : []),
    ];
    // A table in another account (docs/adr/XXXX-multi-account.md): its catalog's resource policy
    // and its data bucket's policy allow the role too. The query results and the workgroup are the
    // consumer's own.
    const roleArn = consumer.roleArn;
    return [
      { target: 'identity-policy', statements },
      {
        target: 'resource-policy',
        resource: { service: 'glue', arn: glueCatalogArn(table), region: table.region, account: table.account },
        statements: forPrincipal(roleArn, [catalogRead]),
        acrossAccounts: true,
      },
      bucketPolicyGrant(data, roleArn, [...listBuckets([data]), locateAndRead([data], [data])]),
      ...(kmsKey ? [keyPolicyGrant(kmsKey, roleArn)] : []),
    ];
  },

  providerResources({ table, data, kmsKey }) {
    // Not the query-result location or the workgroup: they are the tool's configuration (or the
    // consumer's account), not the provider's.
    return [{ arn: glueTableArn(table) }, ...locationResources(s3LocationArn(data), kmsKey && kmsKeyArn(kmsKey))];
  },

  summary({ table, workgroup, data, results, kmsKey, consumerAccount }) {
    const parts = [
      `Query Glue table ${table.database}.${table.table} (${table.region}, account ${table.account}) with Athena workgroup ${workgroup.name} and read its data in ${s3Url(data)}`,
      results
        ? `; write query results to ${s3Url(results)}`
        : '; no query-result location is configured, so the workgroup must use managed query results',
      kmsKey ? `; decrypt with KMS key ${kmsKeyArn(kmsKey)}` : '',
      table.account !== consumerAccount
        ? `. Cross-account: account ${table.account} must also allow this role in its Glue catalog policy and bucket policy (a hub writes both when it is a member account)`
        : '',
    ];
    return `${parts.join('')}.`;
  },
};

/** The table from `custom.aws-glue-table-arn` or the server block; catalog and database ARNs, if given, must be the table's. */
function tableOf(port: OutputPort, arns: ArnsOf, opts: ResolveOptions): GlueTable {
  const fromServer = tableFromServer(port, arns, opts);
  const fromArn = arns['glue-table'];
  if (fromArn && fromServer && glueTableArn(fromArn.value.table) !== glueTableArn(fromServer)) {
    throw new PortFieldError(
      fromArn.field,
      `(${glueTableArn(fromArn.value.table)}) and the server block (${glueTableArn(fromServer)}) name different Glue tables`,
    );
  }
  const table = fromArn?.value.table ?? fromServer;
  if (!table) {
    throw new PortFieldError(
      'custom.aws-glue-table-arn',
      'is missing: a glue_table port needs its table (or set server.database and server.table)',
    );
  }
  const db = arns['glue-database'];
  if (db && glueDatabaseArn(db.value.database) !== glueDatabaseArn(table)) {
    throw new PortFieldError(db.field, `is not the database of table ${glueTableArn(table)}`);
  }
  const catalog = arns['glue-catalog'];
  if (catalog && glueCatalogArn(catalog.value.catalog) !== glueCatalogArn(table)) {
    throw new PortFieldError(catalog.field, `is not the catalog of table ${glueTableArn(table)}`);
  }
  return table;
}

/**
 * `server: {account?, database, table, region?}`. Missing region and account fall back to a
 * given database or catalog ARN, then to the tool's defaults (same account as the consumer).
 */
function tableFromServer(port: OutputPort, arns: ArnsOf, opts: ResolveOptions): GlueTable | undefined {
  const tableName = serverString(port, 'table');
  if (!tableName) return undefined;
  const known = arns['glue-database']?.value.database ?? arns['glue-catalog']?.value.catalog;
  const database = serverString(port, 'database');
  const databaseName = database
    ? checkGlueName(database.field, database.value)
    : arns['glue-database']?.value.database.database;
  if (databaseName === undefined)
    throw new PortFieldError('server.database', 'is missing: the server block names a table but not its database');
  const region = serverString(port, 'region');
  const regionName = region ? checkRegion(region.field, region.value) : (known?.region ?? opts.defaultRegion);
  if (regionName === undefined)
    throw new PortFieldError('server.region', 'is missing and no default region is configured');
  const account = serverString(port, 'account');
  return {
    partition: partitionOf(opts),
    region: regionName,
    account: account ? normalizeAccount(account.field, account.value) : (known?.account ?? opts.accountId),
    database: databaseName,
    table: checkGlueName(tableName.field, tableName.value),
  };
}

/**
 * The workgroup runs in the consumer's account: workgroups cannot be shared across accounts,
 * so a workgroup ARN of another account could never be used by the consumer role.
 */
function workgroupOf(port: OutputPort, arns: ArnsOf, table: GlueTable, opts: ResolveOptions): AthenaWorkgroup {
  const fromArn = arns['athena-workgroup'];
  if (fromArn) {
    const w = fromArn.value.workgroup;
    checkPartition(fromArn.field, w.partition, partitionOf(opts));
    if (w.account !== opts.accountId) {
      throw new PortFieldError(
        fromArn.field,
        `is in account ${w.account}, but Athena workgroups cannot be used across accounts and the consumer role is in account ${opts.accountId}`,
      );
    }
    if (w.region !== table.region) {
      throw new PortFieldError(fromArn.field, `is in region ${w.region}, but the Glue table is in ${table.region}`);
    }
    return w;
  }
  const named = serverString(port, 'workgroup');
  // No fallback to `primary`: a workgroup nobody named would be granted.
  if (!named && opts.defaultAthenaWorkgroup === undefined) {
    throw new PortFieldError(
      'server.workgroup',
      'is missing: the port names no Athena workgroup (server.workgroup or custom.aws-athena-workgroup-arn) and the operator configured no default (glue.athenaWorkgroup, DMM_ATHENA_WORKGROUP, Terraform athena_workgroup)',
    );
  }
  const name = named
    ? checkWorkgroupName(named.field, named.value)
    : checkWorkgroupName('defaultAthenaWorkgroup (tool configuration)', opts.defaultAthenaWorkgroup ?? '');
  return { partition: partitionOf(opts), region: table.region, account: opts.accountId, name };
}
