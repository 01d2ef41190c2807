/**
 * A Glue table governed by Lake Formation (docs/adr/0012-lake-formation-tables.md): Lake
 * Formation decides what the consumer may read, so the grant is Lake Formation's SELECT and
 * DESCRIBE on the table and DESCRIBE on its database. The consumer role's identity policy only
 * lets it ask: Lake Formation's credential vending, the Glue reads Athena makes (Lake Formation
 * filters them), the workgroup and the role's result folder. Those are the same for every
 * governed table of one catalog, so they are all `shared`: one role holds hundreds of tables.
 */
import type { OutputPort } from '../model/data-product.js';
import type { TargetGrant } from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import type { AthenaWorkgroup, GlueTable, S3Location } from './arn.js';
import { athenaQueryStatements } from './athena-query.js';
import { PortFieldError, type ResolveOptions } from './port-type.js';
import { allow } from './statements.js';

export type GlueGovernance = 'iam' | 'lake-formation';

export const LAKE_FORMATION_FIELD = 'aws-lake-formation';

/**
 * Who governs the port's table. The operator decides (`glueTablesGovernedBy`, default `iam`);
 * a port may only step back to IAM (`custom.aws-lake-formation: false`, for a table that is not
 * registered with Lake Formation). A port cannot switch Lake Formation on: its identity
 * statements let the role read the whole catalog's metadata, which only a catalog Lake
 * Formation governs filters, and only the operator knows whether it does.
 */
export function governanceOf(port: OutputPort, opts: ResolveOptions): GlueGovernance {
  const operator = opts.glueTablesGovernedBy ?? 'iam';
  const raw = port.custom[LAKE_FORMATION_FIELD];
  if (raw === undefined) return operator;
  const value = raw.trim().toLowerCase();
  const field = `custom.${LAKE_FORMATION_FIELD}`;
  if (value !== 'true' && value !== 'false') throw new PortFieldError(field, `must be true or false: got "${raw}"`);
  if (value === 'false') return 'iam';
  if (operator !== 'lake-formation') {
    throw new PortFieldError(
      field,
      'is true, but Lake Formation grants are off: only the operator can turn them on (glue.tablesGovernedBy: lake-formation, DMM_GLUE_TABLES_GOVERNED_BY, Terraform glue_tables_governed_by), because they open the Data Catalog to Glue reads that only Lake Formation filters',
    );
  }
  return 'lake-formation';
}

const GLUE_READS = [
  'glue:GetDatabase',
  'glue:GetTable',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
];

export function lakeFormationTableGrants(
  table: GlueTable,
  workgroup: AthenaWorkgroup,
  results: S3Location | undefined,
): TargetGrant[] {
  const catalog = { catalogId: table.account, region: table.region, database: table.database };
  return [
    {
      target: 'lake-formation',
      resource: { kind: 'table', ...catalog, table: table.table },
      permissions: ['SELECT', 'DESCRIBE'],
    },
    { target: 'lake-formation', resource: { kind: 'database', ...catalog }, permissions: ['DESCRIBE'] },
    { target: 'identity-policy', statements: [], shared: lakeFormationQueryStatements(table, workgroup, results) },
  ];
}

function lakeFormationQueryStatements(
  table: GlueTable,
  workgroup: AthenaWorkgroup,
  results: S3Location | undefined,
): PolicyStatement[] {
  const base = `arn:${table.partition}:glue:${table.region}:${table.account}`;
  return [
    // Lake Formation vends credentials for the table's data only where it granted SELECT;
    // GetDataAccess has no resource-level permissions.
    allow(['lakeformation:GetDataAccess'], ['*']),
    // The catalog of the table, not one table: Lake Formation filters what the role sees in it.
    allow(GLUE_READS, [`${base}:catalog`, `${base}:database/*`, `${base}:table/*/*`]),
    ...athenaQueryStatements(workgroup, results),
  ];
}
