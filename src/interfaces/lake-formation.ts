import type { LakeFormationResource } from '../model/grants.js';

/**
 * Lake Formation permissions of IAM principals on Data Catalog resources, for the lake-formation
 * grant target. Lake Formation has no place to mark a permission as this tool's, so the target
 * records what it granted in the agreement index and only ever revokes that. Implemented over
 * the AWS SDK (src/aws/lake-formation.ts) and locally (src/local/file-lake-formation.ts).
 *
 * Errors are `TargetError`s (`NoSuchEntity` for a database or table that does not exist,
 * `InvalidInput`, `AccessDenied`, `ConcurrentModification`, `Throttling`).
 */
export interface LakeFormationPermissions {
  /** The permissions (without grant option) `principal` holds on exactly `resource`; `[]` when none. */
  listPermissions(principal: string, resource: LakeFormationResource): Promise<string[]>;
  /** Grant `permissions` (without grant option); permissions already held are success. */
  grant(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void>;
  /** Revoke `permissions`; permissions not held are success. */
  revoke(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void>;
}
