import type { OutputPort } from '../model/data-product.js';
import type { TargetGrant } from '../model/grants.js';
import { serverString } from './fields.js';
import { dynamodbTable } from './dynamodb-table.js';
import { glueTable } from './glue-table.js';
import { kinesisStream } from './kinesis-stream.js';
import { mskTopic } from './msk-topic.js';
import {
  type Consumer,
  PortFieldError,
  type PortType,
  type ProviderResource,
  type ResolveOptions,
} from './port-type.js';
import { s3Bucket } from './s3-bucket.js';
import { s3Prefix } from './s3-prefix.js';
import { s3Table } from './s3-table.js';

/** Every supported output port type; adding one means adding a module and a line here. */
export const PORT_TYPES: readonly PortType[] = [
  s3Bucket,
  s3Prefix,
  glueTable,
  kinesisStream,
  dynamodbTable,
  mskTopic,
  s3Table,
];

/**
 * Technical types of AWS services whose access is not an IAM grant, with the reason. Their ports
 * are this tool's to report on (a person must learn why nothing was granted), never silently left
 * to "another platform".
 */
export const UNSUPPORTED_TECHNICAL_TYPES: ReadonlyMap<string, string> = new Map([
  [
    'redshift',
    'Amazon Redshift is not supported: read access to Redshift tables is a SQL GRANT inside the database (or a data share), which IAM policies cannot express, and dmm-aws grants through IAM only; grant it with Redshift itself',
  ],
]);

/** The lookups over one list of port types: PORT_TYPES, or the list a test passes as `portTypes`. */
interface Registry {
  types: readonly PortType[];
  byName: ReadonlyMap<string, PortType>;
  /** For messages: `s3_bucket, s3_prefix, glue_table`. */
  supported: string;
  technical: readonly string[];
}
const registries = new WeakMap<readonly PortType[], Registry>();

function registryOf(types: readonly PortType[] = PORT_TYPES): Registry {
  let registry = registries.get(types);
  if (!registry) {
    registry = {
      types,
      byName: new Map(types.map((t) => [t.type, t])),
      supported: types.map((t) => t.type).join(', '),
      technical: [...new Set(types.flatMap((t) => t.technicalTypes))],
    };
    registries.set(types, registry);
  }
  return registry;
}

export type PortPlan =
  | { ok: true; portType: string; grants: TargetGrant[]; summary: string; providerResources: ProviderResource[] }
  | { ok: false; field: string; problem: string };

/**
 * Which port type a port is. An explicit `custom.output-port-type` (the reference
 * integration's convention) wins; otherwise the port's `type`, or its server's `type`, chooses
 * among the types that list it in `technicalTypes`: the first registered one that `fits`. A port
 * type's own name works there too. Throws `PortFieldError` for anything else.
 */
export function portTypeOf(port: OutputPort, opts: ResolveOptions): PortType {
  const { types, byName, supported, technical } = registryOf(opts.portTypes);
  const explicit = port.custom['output-port-type']?.trim();
  if (explicit) {
    const found = byName.get(explicit);
    if (!found)
      throw new PortFieldError(
        'custom.output-port-type',
        `is "${explicit}", which is not a supported output port type (supported: ${supported})`,
      );
    return found;
  }
  const declared = declaredType(port);
  if (declared === undefined) {
    throw new PortFieldError(
      'custom.output-port-type',
      `is missing and the port has no type: set it to one of ${supported}, or give the port type ${orList(technical)} with a server block`,
    );
  }
  const lower = declared.toLowerCase();
  const field = port.type?.trim() ? 'type' : 'server.type';
  const unsupported = UNSUPPORTED_TECHNICAL_TYPES.get(lower);
  if (unsupported !== undefined && !byName.has(lower))
    throw new PortFieldError(field, `is "${declared}": ${unsupported}`);
  const candidates = types.filter((t) => t.technicalTypes.includes(lower) && (t.claims?.(port) ?? true));
  const chosen = candidates.find((t) => t.fits === undefined || t.fits(port, opts)) ?? byName.get(lower);
  if (chosen) return chosen;
  if (candidates.length > 0) {
    throw new PortFieldError(
      field,
      `is "${declared}", but none of its output port types (${candidates.map((t) => t.type).join(', ')}) fits this port: set custom.output-port-type`,
    );
  }
  throw new PortFieldError(
    field,
    `is "${declared}", which this tool cannot grant access to (supported: ${technical.join(', ')}, or custom.output-port-type ${supported})`,
  );
}

/**
 * Whether a port is addressed to this tool: it names an output-port-type, has a type some port
 * type serves and claims (or a port type's name, or an AWS type it cannot grant, to say why), or
 * carries the reference integration's `aws-…-arn` fields. Anything else (snowflake, bigquery, a
 * Kafka cluster outside MSK, ...) belongs to other integrations.
 */
export function isAwsPort(port: OutputPort, portTypes?: readonly PortType[]): boolean {
  if (port.custom['output-port-type']?.trim()) return true;
  const { types, byName } = registryOf(portTypes);
  const declared = declaredType(port)?.toLowerCase();
  if (declared !== undefined) {
    if (byName.has(declared) || UNSUPPORTED_TECHNICAL_TYPES.has(declared)) return true;
    if (types.some((t) => t.technicalTypes.includes(declared) && (t.claims?.(port) ?? true))) return true;
  }
  return Object.keys(port.custom).some((key) => /^aws.*arn$/.test(key));
}

const declaredType = (port: OutputPort): string | undefined => port.type?.trim() || serverString(port, 'type')?.value;

/** `a`, `a or b`, `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : items.join('');
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

/**
 * The server types a port can be granted from, for choosing among its data contract's servers
 * (src/sync/contract-server.ts): those of its `custom.output-port-type`, or of its declared `type`
 * (a technical type, or a port type's name), or, when it declares neither, every technical type
 * a registered port type serves. Empty when the port declares a type no port type serves.
 */
export function servableServerTypes(port: OutputPort, portTypes?: readonly PortType[]): readonly string[] {
  const { byName, technical } = registryOf(portTypes);
  const named = port.custom['output-port-type']?.trim() || port.type?.trim().toLowerCase();
  if (!named) return technical;
  const portType = byName.get(named);
  if (portType) return portType.technicalTypes;
  return technical.includes(named) ? [named] : [];
}
