import type { OutputPort } from '../model/data-product.js';
import {
  ARN_KINDS,
  arnPartition,
  checkPartition,
  checkRegion,
  normalizeAccount,
  classifyArn,
  kmsKeyArn,
  kindOfKnownField,
  parseS3Url,
  s3Url,
  type PortArn,
  type KmsKey,
  type PortArnKind,
  type S3Location,
} from './arn.js';
import { PortFieldError, type ResolveOptions } from './port-type.js';

/**
 * Reading a port's resources from the two places metadata puts them: the reference
 * integration's `custom.aws-…-arn` fields and the standard `server` block.
 */

export const partitionOf = (opts: ResolveOptions): string => opts.partition ?? 'aws';

/** A value found in metadata together with the field it came from, for messages. */
export interface Sourced<T> {
  field: string;
  value: T;
}

type ArnsByKind = { [K in PortArnKind]?: Sourced<Extract<PortArn, { kind: K }>> };

/**
 * The port's `aws…arn` custom fields (the reference integration's rule: any field starting
 * with `aws` and ending with `arn`; the text between only has to be unique), classified by
 * what the ARN is. Every such field must be a well-formed ARN without wildcards, and the
 * reference integration's well-known names must hold the kind their name promises. ARNs of a
 * kind this port type does not use are ignored, as the reference integration filtered by
 * service; one kind given twice with different values is an error, since picking one would
 * be a guess.
 */
export function arnFields(
  port: OutputPort,
  portType: string,
  allowed: readonly PortArnKind[],
  opts: ResolveOptions,
): ArnsByKind {
  const found: ArnsByKind = {};
  for (const [key, value] of Object.entries(port.custom).sort(([a], [b]) => a.localeCompare(b))) {
    if (!key.startsWith('aws') || !key.endsWith('arn')) continue;
    const field = `custom.${key}`;
    const arn = classifyArn(field, value.trim());
    const expected = kindOfKnownField(key);
    if (expected !== undefined && arn?.kind !== expected) {
      throw new PortFieldError(field, `must be ${ARN_KINDS[expected].format}: got "${value}"`);
    }
    if (arn === undefined || !allowed.includes(arn.kind)) continue;
    checkPartition(field, arnPartition(arn), partitionOf(opts));
    const previous = found[arn.kind];
    if (previous && JSON.stringify(previous.value) !== JSON.stringify(arn)) {
      throw new PortFieldError(
        field,
        `and ${previous.field} name two different resources of the same kind; a ${portType} port has one`,
      );
    }
    (found as Record<string, Sourced<PortArn>>)[arn.kind] = previous ?? { field, value: arn };
  }
  return found;
}

/** A string from the port's `server` block; absent or empty is `undefined`, anything else but a string is an error. */
export function serverString(port: OutputPort, key: string): Sourced<string> | undefined {
  const value = port.server?.[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new PortFieldError(`server.${key}`, `must be a string: got ${JSON.stringify(value)}`);
  return { field: `server.${key}`, value: value.trim() };
}

/**
 * The port's S3 location from an S3 ARN field and/or `server.location`. When both are given
 * they must agree: picking one silently could grant something the provider did not mean.
 */
export function s3LocationOf(
  port: OutputPort,
  arns: ArnsByKind,
  opts: ResolveOptions,
): Sourced<S3Location> | undefined {
  const fromArn = arns.s3 && { field: arns.s3.field, value: arns.s3.value.location };
  const location = serverString(port, 'location');
  const fromServer = location && {
    field: location.field,
    value: parseS3Url(location.field, location.value, partitionOf(opts)),
  };
  if (fromArn && fromServer && s3Url(fromArn.value) !== s3Url(fromServer.value)) {
    throw new PortFieldError(
      fromArn.field,
      `(${s3Url(fromArn.value)}) and ${fromServer.field} (${s3Url(fromServer.value)}) name different S3 locations`,
    );
  }
  return fromArn ?? fromServer;
}

/**
 * Whether the port's S3 location names a folder rather than a whole bucket: what tells the two S3
 * port types apart when the port only says `s3`. Messages call it an `s3` port, as its type is not
 * chosen yet.
 */
export function namesS3Folder(port: OutputPort, opts: ResolveOptions): boolean {
  const location = s3LocationOf(port, arnFields(port, 's3', ['s3', 'kms-key'], opts), opts);
  return location !== undefined && location.value.prefix !== '';
}

/** Where a regional resource named in a server block lives. */
export interface Placement {
  partition: string;
  region: string;
  account: string;
}

/**
 * Region and account of a resource a server block names: `server.region` (or ODCS's `regionName`)
 * and `server.account`, else the tool's default region and the managed account.
 */
export function serverPlacement(port: OutputPort, opts: ResolveOptions): Placement {
  const region = serverString(port, 'region') ?? serverString(port, 'regionName');
  const regionName = region ? checkRegion(region.field, region.value) : opts.defaultRegion;
  if (regionName === undefined)
    throw new PortFieldError('server.region', 'is missing and no default region is configured');
  const account = serverString(port, 'account');
  return {
    partition: partitionOf(opts),
    region: regionName,
    account: account ? normalizeAccount(account.field, account.value) : opts.accountId,
  };
}

/**
 * One resource named by an ARN field, by the server block, or by both (then they must be the same
 * resource, compared by their ARNs: picking one would be a guess).
 */
export function sameResource<T>(
  fromArn: Sourced<T> | undefined,
  fromServer: Sourced<T> | undefined,
  arnOf: (value: T) => string,
): Sourced<T> | undefined {
  if (fromArn && fromServer && arnOf(fromArn.value) !== arnOf(fromServer.value)) {
    throw new PortFieldError(
      fromArn.field,
      `(${arnOf(fromArn.value)}) and ${fromServer.field} (${arnOf(fromServer.value)}) name different resources`,
    );
  }
  return fromArn ?? fromServer;
}

/** A KMS key used with a regional resource must be in its region (KMS keys are regional). */
export function checkKeyRegion(key: Sourced<{ region: string }> | undefined, region: string, what: string): void {
  if (key && key.value.region !== region) {
    throw new PortFieldError(
      key.field,
      `is in region ${key.value.region}, but the ${what} is in ${region}; a key can only encrypt data in its own region`,
    );
  }
}

/**
 * The customer-managed KMS key the port's data is encrypted with: `custom.aws-kms-key-arn` (any
 * `aws…arn` field holding a key ARN) or `server.kmsKeyArn`; both given must be the same key. Keys
 * come only from the port, never from a default: a key nobody named is never granted.
 */
export function kmsKeyOf(port: OutputPort, arns: ArnsByKind, opts: ResolveOptions): Sourced<KmsKey> | undefined {
  const fromArn = arns['kms-key'] && { field: arns['kms-key'].field, value: arns['kms-key'].value.key };
  const named = serverString(port, 'kmsKeyArn');
  let fromServer: Sourced<KmsKey> | undefined;
  if (named) {
    const arn = classifyArn(named.field, named.value);
    if (arn?.kind !== 'kms-key')
      throw new PortFieldError(named.field, `must be ${ARN_KINDS['kms-key'].format}: got "${named.value}"`);
    checkPartition(named.field, arn.key.partition, partitionOf(opts));
    fromServer = { field: named.field, value: arn.key };
  }
  return sameResource(fromArn, fromServer, kmsKeyArn);
}
