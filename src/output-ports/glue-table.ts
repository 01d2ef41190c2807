import type { OutputPort } from '../model/data-product.js';
import {
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
  s3Url,
  type AthenaWorkgroup,
  type GlueTable,
  type KmsKey,
  type S3Location,
} from './arn.js';
import { arnFields, kmsKeyOf, partitionOf, s3LocationOf, serverString, type Sourced } from './fields.js';
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
import { athenaQueryStatements } from './athena-query.js';
import { type GlueGovernance, governanceOf, lakeFormationTableGrants } from './lake-formation-table.js';

export interface GlueTableResources {
  table: GlueTable;
  workgroup: AthenaWorkgroup;
  /** Who governs the table: IAM (this grant reads its data) or Lake Formation (./lake-formation-table.ts). */
  governedBy: GlueGovernance;
  /** The table's data location; Lake Formation-governed tables need none (Lake Formation reads it). */
  data?: S3Location;
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
  // An Athena server names the same thing as a Glue one (ODCS: `schema` is the Glue database,
  // `catalog` the Glue Data Catalog), and querying it needs exactly this grant.
  technicalTypes: ['glue', 'athena'],

  resourcesFrom(port, opts) {
    const arns = arnFields(
      port,
      'glue_table',
      ['s3', 'glue-catalog', 'glue-database', 'glue-table', 'athena-workgroup', 'kms-key'],
      opts,
    );
    const table = tableOf(port, arns, opts);
    const governedBy = governanceOf(port, opts);
    const data = s3LocationOf(port, arns, opts);
    if (!data && governedBy === 'iam') {
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
    const key = kmsKeyOf(port, arns, opts);
    return {
      table,
      workgroup: workgroupOf(port, arns, table, opts),
      governedBy,
      ...(data ? { data: data.value } : {}),
      ...(results ? { results } : {}),
      ...(key ? { kmsKey: key.value } : {}),
      consumerAccount: opts.accountId,
    };
  },

  grants({ table, workgroup, governedBy, data, results, kmsKey }, consumer) {
    if (governedBy === 'lake-formation' || !data) return lakeFormationTableGrants(table, workgroup, results);
    const catalogRead = allow(
      ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
      [glueCatalogArn(table), glueDatabaseArn(table), glueTableArn(table)],
    );
    const statements = [
      catalogRead,
      ...listBuckets([data]),
      locateAndRead([data], [data]),
      ...(kmsKey ? [kmsDecrypt(kmsKey)] : []),
    ];
    // A table in another account (docs/adr/0010-multi-account.md): its catalog's resource policy
    // and its data bucket's policy allow the role too. The query results and the workgroup are the
    // consumer's own.
    const roleArn = consumer.roleArn;
    return [
      { target: 'identity-policy', statements, shared: athenaQueryStatements(workgroup, results) },
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

  providerResources({ table, governedBy, data, kmsKey }) {
    // Not the query-result location or the workgroup: they are the tool's configuration (or the
    // consumer's account), not the provider's. Under Lake Formation only the table is opened.
    if (governedBy === 'lake-formation' || !data) return [{ arn: glueTableArn(table) }];
    return [{ arn: glueTableArn(table) }, ...locationResources(s3LocationArn(data), kmsKey && kmsKeyArn(kmsKey))];
  },

  summary({ table, workgroup, governedBy, data, results, kmsKey, consumerAccount }) {
    if (governedBy === 'lake-formation' || !data)
      return lakeFormationSummary(table, workgroup, results, consumerAccount);
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

function lakeFormationSummary(
  table: GlueTable,
  workgroup: AthenaWorkgroup,
  results: S3Location | undefined,
  consumerAccount: string,
): string {
  return [
    `Query Glue table ${table.database}.${table.table} (${table.region}, account ${table.account}), governed by Lake Formation, with Athena workgroup ${workgroup.name}: `,
    `Lake Formation SELECT and DESCRIBE on the table and DESCRIBE on database ${table.database}; `,
    'the role may ask Lake Formation for data access and read the catalog metadata Lake Formation shows it',
    results
      ? `; write query results to ${s3Url(results)}`
      : '; no query-result location is configured, so the workgroup must use managed query results',
    table.account !== consumerAccount
      ? `. Cross-account: account ${table.account} must share the table with this account through Lake Formation`
      : '',
    '.',
  ].join('');
}

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
  const databaseOnly = arns['glue-database']?.value.database.database ?? serverDatabase(port)?.value;
  if (!table && databaseOnly !== undefined) {
    // Refused rather than granted database-wide: such a grant would also open every table
    // created in the database later, which the agreement never saw and ownership proof never
    // checked (proof is per table). docs/port-types.md#glue-servers-without-a-table.
    throw new PortFieldError(
      'server.table',
      `is missing: the port names Glue database ${databaseOnly.toLowerCase()} but no table, and dmm-aws grants one table per port, never a whole database (its future tables included); name the table in server.table or custom.aws-glue-table-arn, or publish one output port per table`,
    );
  }
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
 * `server: {account?, database, table, region?}` (DPS, ODCS `glue`), or ODCS `athena`'s spelling
 * `{schema, table, regionName?, catalog?}`. Missing region and account fall back to a given
 * database or catalog ARN, then to the tool's defaults (same account as the consumer).
 */
function tableFromServer(port: OutputPort, arns: ArnsOf, opts: ResolveOptions): GlueTable | undefined {
  checkCatalog(port);
  const tableName = serverString(port, 'table');
  if (!tableName) return undefined;
  const known = arns['glue-database']?.value.database ?? arns['glue-catalog']?.value.catalog;
  const database = serverDatabase(port);
  const databaseName = database
    ? checkGlueName(database.field, database.value)
    : arns['glue-database']?.value.database.database;
  if (databaseName === undefined)
    throw new PortFieldError('server.database', 'is missing: the server block names a table but not its database');
  const region = oneOf(port, 'region', 'regionName');
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

/** `server.database`, or ODCS Athena's `server.schema` for the same Glue database. */
const serverDatabase = (port: OutputPort) => oneOf(port, 'database', 'schema');

/** One value given under either of two server keys; both given must agree. */
function oneOf(port: OutputPort, key: string, alias: string): Sourced<string> | undefined {
  const a = serverString(port, key);
  const b = serverString(port, alias);
  if (a && b && a.value.toLowerCase() !== b.value.toLowerCase()) {
    throw new PortFieldError(b.field, `("${b.value}") and ${a.field} ("${a.value}") disagree; give one`);
  }
  return a ?? b;
}

/**
 * ODCS Athena servers name a data source (`catalog`, default `awsdatacatalog`). Only the Glue Data
 * Catalog is granted: other Athena data sources are federated connectors (Lambda functions) or
 * other catalogs whose access this grant would not describe.
 */
function checkCatalog(port: OutputPort): void {
  const catalog = serverString(port, 'catalog');
  if (catalog && catalog.value.toLowerCase() !== 'awsdatacatalog') {
    throw new PortFieldError(
      catalog.field,
      `is "${catalog.value}", but dmm-aws grants only tables of the Glue Data Catalog (Athena data source AwsDataCatalog); federated and other Athena data sources are not supported`,
    );
  }
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
