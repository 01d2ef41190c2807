/**
 * LakeFormationPermissions on real AWS, through the AWS SDK v3: one client per Data Catalog
 * region, permissions always without grant option, and AWS's errors mapped to TargetError codes
 * so the core decides retry vs. report the same way as against the local stand-in.
 */
import {
  GrantPermissionsCommand,
  ListPermissionsCommand,
  RevokePermissionsCommand,
  type LakeFormationClient,
  type Permission,
  type PrincipalResourcePermissions,
  type Resource,
} from '@aws-sdk/client-lakeformation';
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import { TargetError, type TargetErrorCode } from '../interfaces/target-error.js';
import { lakeFormationResourceName, type LakeFormationResource } from '../model/grants.js';
import { createLakeFormationClient, type AwsClientOptions } from './clients.js';
import { awsErrorCode, messageOf } from './errors.js';

/** Every action this adapter calls: the processing and reconcile functions' policies need these. */
export const LAKE_FORMATION_ACTIONS_USED = [
  'lakeformation:GrantPermissions',
  'lakeformation:ListPermissions',
  'lakeformation:RevokePermissions',
] as const;

export interface AwsLakeFormationPermissionsOptions {
  /**
   * Default: one client per catalog region (permissions live in the region of their catalog). An
   * injected client is used for every region: for tests and single-region setups.
   */
  client?: LakeFormationClient;
  /** Base of the default clients (endpoint, credentials, attempts); each gets the resource's region. */
  clientOptions?: AwsClientOptions;
}

/** Lake Formation error codes (with `Exception` dropped) and the shared code each one means. */
const ERROR_CODES: ReadonlyMap<string, TargetErrorCode> = new Map([
  ['EntityNotFound', 'NoSuchEntity'],
  ['InvalidInput', 'InvalidInput'],
  ['ConcurrentModification', 'ConcurrentModification'],
  ['AccessDenied', 'AccessDenied'],
  ['Throttled', 'Throttling'],
  ['Throttling', 'Throttling'],
  ['TooManyRequests', 'Throttling'],
]);

/** The TargetError for an SDK error with a known code; any other error is returned unchanged. */
function toTargetError(error: unknown, context: string): unknown {
  if (error instanceof TargetError) return error;
  const awsCode = awsErrorCode(error);
  const code = awsCode === undefined ? undefined : ERROR_CODES.get(awsCode);
  if (awsCode === undefined || code === undefined) return error;
  const mapped = new TargetError(code, `${context}: ${awsCode === code ? '' : `${awsCode}: `}${messageOf(error)}`);
  mapped.cause = error;
  return mapped;
}

/**
 * AWS's answer to revoking what the principal does not hold ("No permissions revoked. Grantee has
 * no permissions and no grantable permissions on resource."); moto simply succeeds.
 */
function isNothingRevoked(error: unknown): boolean {
  return awsErrorCode(error) === 'InvalidInput' && /no permissions revoked/i.test(messageOf(error));
}

function lakeFormationResource(resource: LakeFormationResource): Resource {
  return resource.kind === 'table'
    ? { Table: { CatalogId: resource.catalogId, DatabaseName: resource.database, Name: resource.table } }
    : { Database: { CatalogId: resource.catalogId, Name: resource.database } };
}

/** Absent in an answer means the caller's catalog; the request named ours, so only a different one is another. */
function sameCatalog(catalogId: string | undefined, resource: LakeFormationResource): boolean {
  return catalogId === undefined || catalogId === resource.catalogId;
}

/**
 * Whether a listed permission is `principal`'s on exactly `resource`. ListPermissions filters by
 * both already, but not exactly: AWS lists SELECT on a table as SELECT on the table's columns
 * (TableWithColumns with a bare ColumnWildcard), which is the same grant; column subsets, table
 * wildcards and conditional grants are other grants and are left out.
 */
function isExactly(entry: PrincipalResourcePermissions, principal: string, resource: LakeFormationResource): boolean {
  if (entry.Principal?.DataLakePrincipalIdentifier !== principal) return false;
  if (entry.Condition?.Expression) return false;
  const listed = entry.Resource;
  if (!listed) return false;
  if (resource.kind === 'database') {
    const db = listed.Database;
    return db !== undefined && db.Name === resource.database && sameCatalog(db.CatalogId, resource);
  }
  const table = listed.Table;
  if (table) {
    return (
      table.TableWildcard === undefined &&
      table.DatabaseName === resource.database &&
      table.Name === resource.table &&
      sameCatalog(table.CatalogId, resource)
    );
  }
  const columns = listed.TableWithColumns;
  if (columns) {
    const allColumns =
      columns.ColumnWildcard !== undefined &&
      (columns.ColumnWildcard.ExcludedColumnNames ?? []).length === 0 &&
      (columns.ColumnNames ?? []).length === 0;
    return (
      allColumns &&
      columns.DatabaseName === resource.database &&
      columns.Name === resource.table &&
      sameCatalog(columns.CatalogId, resource)
    );
  }
  return false;
}

export class AwsLakeFormationPermissions implements LakeFormationPermissions {
  private readonly injected: LakeFormationClient | undefined;
  private readonly clientOptions: AwsClientOptions;
  private readonly byRegion = new Map<string, LakeFormationClient>();

  constructor(options: AwsLakeFormationPermissionsOptions = {}) {
    this.injected = options.client;
    this.clientOptions = options.clientOptions ?? {};
  }

  async listPermissions(principal: string, resource: LakeFormationResource): Promise<string[]> {
    const client = this.clientFor(resource.region);
    const held = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await client
        .send(
          new ListPermissionsCommand({
            Principal: { DataLakePrincipalIdentifier: principal },
            Resource: lakeFormationResource(resource),
            NextToken: nextToken,
          }),
        )
        .catch((error: unknown) => {
          throw toTargetError(error, `ListPermissions of ${principal} on ${lakeFormationResourceName(resource)}`);
        });
      for (const entry of page.PrincipalResourcePermissions ?? []) {
        if (isExactly(entry, principal, resource))
          for (const permission of entry.Permissions ?? []) held.add(permission);
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return [...held].sort();
  }

  async grant(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void> {
    if (permissions.length === 0) return;
    // No PermissionsWithGrantOption: the consumer role must never pass its access on.
    await this.clientFor(resource.region)
      .send(
        new GrantPermissionsCommand({
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: lakeFormationResource(resource),
          Permissions: permissions as Permission[],
        }),
      )
      .catch((error: unknown) => {
        throw toTargetError(
          error,
          `GrantPermissions ${permissions.join(', ')} to ${principal} on ${lakeFormationResourceName(resource)}`,
        );
      });
  }

  async revoke(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void> {
    if (permissions.length === 0) return;
    try {
      await this.revokeCall(principal, resource, permissions);
    } catch (error) {
      if (!isNothingRevoked(error)) throw toTargetError(error, revokeContext(principal, resource, permissions));
      // Whether AWS revokes the held part of a partly held list or refuses the whole call is not
      // documented: one at a time settles it either way (and costs calls only in this case).
      if (permissions.length === 1) return;
      for (const permission of permissions) {
        await this.revokeCall(principal, resource, [permission]).catch((single: unknown) => {
          if (!isNothingRevoked(single)) throw toTargetError(single, revokeContext(principal, resource, [permission]));
        });
      }
    }
  }

  private async revokeCall(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void> {
    await this.clientFor(resource.region).send(
      new RevokePermissionsCommand({
        Principal: { DataLakePrincipalIdentifier: principal },
        Resource: lakeFormationResource(resource),
        Permissions: permissions as Permission[],
      }),
    );
  }

  private clientFor(region: string): LakeFormationClient {
    if (this.injected) return this.injected;
    let client = this.byRegion.get(region);
    if (!client) {
      client = createLakeFormationClient({ ...this.clientOptions, region });
      this.byRegion.set(region, client);
    }
    return client;
  }
}

function revokeContext(principal: string, resource: LakeFormationResource, permissions: string[]): string {
  return `RevokePermissions ${permissions.join(', ')} from ${principal} on ${lakeFormationResourceName(resource)}`;
}
