import type { OutputPort } from '../model/data-product.js';
import type { TargetGrant } from '../model/grants.js';
import { arnFields, s3LocationOf, serverString } from './fields.js';
import { glueTable } from './glue-table.js';
import { type Consumer, PortFieldError, type PortType, type ProviderResource, type ResolveOptions } from './port-type.js';
import { s3Bucket } from './s3-bucket.js';
import { s3Prefix } from './s3-prefix.js';

/** Every supported output port type; adding one means adding a module and a line here. */
export const PORT_TYPES: readonly PortType[] = [s3Bucket, s3Prefix, glueTable];

const BY_NAME = new Map(PORT_TYPES.map((t) => [t.type, t]));
const SUPPORTED = PORT_TYPES.map((t) => t.type).join(', ');

export type PortPlan =
  | { ok: true; portType: string; grants: TargetGrant[]; summary: string; providerResources: ProviderResource[] }
  | { ok: false; field: string; problem: string };

/**
 * Which port type a port is. An explicit `custom.output-port-type` (the reference
 * integration's convention) wins; otherwise the port's `type`, or its server's `type`, decides:
 * `s3` is `s3_prefix` when its location has a prefix and `s3_bucket` when it is a bare bucket,
 * `glue` is `glue_table`. Throws `PortFieldError` for anything else.
 */
export function portTypeOf(port: OutputPort, opts: ResolveOptions): PortType {
  const explicit = port.custom['output-port-type']?.trim();
  if (explicit) {
    const found = BY_NAME.get(explicit);
    if (!found) throw new PortFieldError('custom.output-port-type', `is "${explicit}", which is not a supported output port type (supported: ${SUPPORTED})`);
    return found;
  }
  const declared = port.type?.trim() || serverString(port, 'type')?.value;
  const technical = declared?.toLowerCase();
  if (technical === undefined) {
    throw new PortFieldError('custom.output-port-type', `is missing and the port has no type: set it to one of ${SUPPORTED}, or give the port type s3 or glue with a server block`);
  }
  if (technical === 's3') {
    const location = s3LocationOf(port, arnFields(port, 's3', ['s3', 'kms-key'], opts), opts);
    return location && location.value.prefix !== '' ? s3Prefix : s3Bucket;
  }
  if (technical === 'glue') return glueTable;
  const direct = BY_NAME.get(technical);
  if (direct) return direct;
  throw new PortFieldError(port.type?.trim() ? 'type' : 'server.type', `is "${declared}", which this tool cannot grant access to (supported: s3, glue, or custom.output-port-type ${SUPPORTED})`);
}

/**
 * Whether a port is addressed to this tool: it names an output-port-type, is of type s3 or glue
 * (or a port type name), or carries the reference integration's `aws-…-arn` fields. Anything
 * else (snowflake, bigquery, kafka, ...) belongs to other integrations.
 */
export function isAwsPort(port: OutputPort): boolean {
  if (port.custom['output-port-type']?.trim()) return true;
  const declared = (port.type?.trim() || serverString(port, 'type')?.value)?.toLowerCase();
  if (declared !== undefined && (declared === 's3' || declared === 'glue' || BY_NAME.has(declared))) return true;
  return Object.keys(port.custom).some((key) => /^aws.*arn$/.test(key));
}

/** The port's type, resources and grants for `consumer`, or the field that prevents a grant and why. */
export function planPort(port: OutputPort, opts: ResolveOptions, consumer: Consumer): PortPlan {
  try {
    const type = portTypeOf(port, opts);
    const resources = type.resourcesFrom(port, opts);
    return {
      ok: true,
      portType: type.type,
      grants: type.grants(resources, consumer),
      summary: type.summary(resources),
      providerResources: type.providerResources(resources),
    };
  } catch (error) {
    if (error instanceof PortFieldError) return { ok: false, field: error.field, problem: error.message };
    throw error;
  }
}
