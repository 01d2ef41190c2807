import { z } from 'zod';
import { isDeepStrictEqual } from 'node:util';
import type { DataProduct, FieldConflict, OutputPort } from './data-product.js';

/**
 * Reads a data product in Data Product Specification 0.0.1 or ODPS (v0.9.0, v1.0.0, v1.1.0) into one
 * `DataProduct`. Values are copied, not interpreted (the port types do that); only what the
 * sync relies on to find ports and custom fields is checked, and a document that fails those
 * checks throws with the product and the field, instead of silently producing no grant.
 */

export class DataProductFormatError extends Error {
  override readonly name = 'DataProductFormatError';
  constructor(
    /** The product's id, when the document had a usable one. */
    readonly dataProductId: string | undefined,
    /** Path of the offending field, e.g. `outputPorts[1].id`. */
    readonly field: string,
    problem: string,
  ) {
    super(`Data product ${dataProductId === undefined ? '(without id)' : `"${dataProductId}"`}: ${field}: ${problem}`);
  }
}

const nonEmpty = z.string().trim().min(1, 'must be a non-empty string');

// Custom fields are strings in the UI, but YAML and other API writers produce numbers and
// booleans; those are unambiguous as text. Nulls mean "not set". Objects and arrays are kept as
// JSON text (as ODPS values are): no field this tool reads accepts that, so a port type reading
// one fails on that field alone, and the rest of the document stays readable.
const dpsCustom = z
  .record(z.string(), z.unknown())
  .optional()
  .transform((record) => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(record ?? {})) {
      const text = customText(value);
      if (text !== undefined) out[key] = text;
    }
    return out;
  });

/** Supported ODPS `apiVersion`s: the schema's v0.9.0 and v1.0.0, and v1.1.0 as served today. */
const ODPS_VERSIONS = ['v0.9.0', 'v1.0.0', 'v1.1.0'];

const server = z.record(z.string(), z.unknown());

const dpsSchema = z.looseObject({
  id: nonEmpty.optional(),
  info: z
    .looseObject({
      // The reference integration's examples put the id and name into `info`.
      id: nonEmpty.optional(),
      // Display fields only: a surprising shape here must not block access grants.
      title: z.unknown().optional(),
      name: z.unknown().optional(),
      owner: z.unknown().optional(),
    })
    .optional(),
  // The reference integration's README uses a top-level `owner: {teamId}`.
  owner: z.unknown().optional(),
  custom: dpsCustom,
  outputPorts: z
    .array(
      z.looseObject({
        id: nonEmpty,
        name: z.string().nullish(),
        type: z.string().nullish(),
        server: server.nullish(),
        custom: dpsCustom,
        dataContractId: z.string().nullish(),
      }),
    )
    .nullish(),
});

const customProperties = z
  .array(z.looseObject({ property: nonEmpty, value: z.unknown().optional() }))
  .nullish()
  .transform((list) => list ?? []);

const odpsSchema = z.looseObject({
  id: nonEmpty,
  name: z.unknown().optional(),
  customProperties,
  team: z.unknown().optional(),
  outputPorts: z
    .array(
      z.looseObject({
        // Not in the ODPS schema, but a port id is what some servers and agreements use.
        id: z.string().nullish(),
        name: nonEmpty,
        type: z.string().nullish(),
        contractId: z.string().nullish(),
        version: z.union([z.string(), z.number()]).nullish(),
        customProperties,
      }),
    )
    .nullish(),
});

export function readDataProduct(raw: unknown): DataProduct {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DataProductFormatError(undefined, '(document)', 'is not a JSON object');
  }
  const doc = raw as Record<string, unknown>;
  if (doc['kind'] === 'DataProduct' || doc['apiVersion'] !== undefined) return readOdps(doc);
  if (doc['dataProductSpecification'] !== undefined || isObject(doc['info'])) return readDps(doc);
  throw new DataProductFormatError(
    idHint(doc),
    '(document)',
    'is neither Data Product Specification 0.0.1 (dataProductSpecification or info) nor ODPS (kind: DataProduct, apiVersion)',
  );
}

function readDps(doc: Record<string, unknown>): DataProduct {
  const version = doc['dataProductSpecification'];
  if (version !== undefined && version !== '0.0.1') {
    throw new DataProductFormatError(
      idHint(doc),
      'dataProductSpecification',
      `is "${String(version)}", only 0.0.1 is supported`,
    );
  }
  const p = parse(dpsSchema, doc);
  const id = p.id ?? p.info?.id;
  if (id === undefined) throw new DataProductFormatError(undefined, 'id', 'is missing (neither id nor info.id is set)');
  const ownerTeamId = text(p.info?.owner) ?? (isObject(p.owner) ? text(p.owner['teamId']) : undefined);
  const title = text(p.info?.title) ?? text(p.info?.name);
  const outputPorts = (p.outputPorts ?? []).map(
    (port): OutputPort => ({
      id: port.id,
      name: port.name ?? port.id,
      ...(port.type ? { type: port.type } : {}),
      ...(port.server ? { server: port.server } : {}),
      custom: port.custom,
      ...(port.dataContractId ? { dataContractId: port.dataContractId } : {}),
    }),
  );
  return {
    id,
    format: 'dps-0.0.1',
    ...(title ? { title } : {}),
    ...(ownerTeamId ? { ownerTeamId } : {}),
    custom: p.custom,
    outputPorts,
    raw: doc,
  };
}

function readOdps(doc: Record<string, unknown>): DataProduct {
  const apiVersion = doc['apiVersion'];
  if (apiVersion !== undefined && !ODPS_VERSIONS.includes(String(apiVersion))) {
    throw new DataProductFormatError(
      idHint(doc),
      'apiVersion',
      `is "${String(apiVersion)}", supported are ODPS ${ODPS_VERSIONS.join(', ')}`,
    );
  }
  const p = parse(odpsSchema, doc);
  const outputPorts = (p.outputPorts ?? []).map((port, i): OutputPort => {
    const { custom, server, conflicts } = flattenProperties(
      port.customProperties,
      `outputPorts[${i}].customProperties`,
    );
    const version = port.version === null || port.version === undefined ? undefined : String(port.version);
    return {
      // ODPS ports have no id in the schema; agreements refer to them by name (and name + version
      // is the key: src/sync/resolve.ts picks one version). A port that does carry an id keeps it.
      id: port.id?.trim() ? port.id : port.name,
      name: port.name,
      ...(port.type ? { type: port.type } : {}),
      ...(server ? { server } : {}),
      custom,
      ...(conflicts.length > 0 ? { conflicts } : {}),
      ...(port.contractId ? { dataContractId: port.contractId } : {}),
      ...(version ? { version } : {}),
    };
  });
  const { custom, conflicts } = flattenProperties(p.customProperties, 'customProperties');
  const ownerTeamId = isObject(p.team) ? text(p.team['name']) : undefined;
  const title = text(p.name);
  return {
    id: p.id,
    format: `odps-${String(apiVersion ?? 'v1.0.0').slice(1)}`,
    ...(title ? { title } : {}),
    ...(ownerTeamId ? { ownerTeamId } : {}),
    custom,
    ...(conflicts.length > 0 ? { conflicts } : {}),
    outputPorts,
    raw: doc,
  };
}

/**
 * ODPS `[{property, value}]` to a string map. Non-string values are kept as JSON text so no
 * information is lost; an object-valued `server` is the port's server block, as in the vendor
 * connectors. A property repeated with the same value is read once; repeated with different
 * values it is left out and listed as a conflict (the resolver refuses a grant that would need
 * it), so neither value is guessed and the rest of the document stays readable.
 */
function flattenProperties(
  list: readonly { property: string; value?: unknown }[],
  path: string,
): { custom: Record<string, string>; server?: Record<string, unknown>; conflicts: FieldConflict[] } {
  const seen = new Map<string, unknown>();
  const conflicting = new Map<string, FieldConflict>();
  list.forEach(({ property, value }, i) => {
    if (!seen.has(property)) seen.set(property, value);
    else if (!isDeepStrictEqual(seen.get(property), value) && !conflicting.has(property))
      conflicting.set(property, {
        field: property,
        path: `${path}[${i}]`,
        problem: `"${property}" is given more than once with different values`,
      });
  });
  const custom: Record<string, string> = {};
  let server: Record<string, unknown> | undefined;
  for (const [property, value] of seen) {
    if (conflicting.has(property)) continue;
    if (property === 'server' && isObject(value)) server = value;
    else {
      const text = customText(value);
      if (text !== undefined) custom[property] = text;
    }
  }
  const conflicts = [...conflicting.values()];
  return server ? { custom, server, conflicts } : { custom, conflicts };
}

/** A custom value as text: strings as they are, other values as JSON; null means "not set". */
function customText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parse<T extends z.ZodType>(schema: T, doc: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) : '(document)';
  throw new DataProductFormatError(idHint(doc), field, issue?.message ?? 'is invalid');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The id for error messages, before the document is known to be valid. */
function idHint(doc: Record<string, unknown>): string | undefined {
  const info = doc['info'];
  const id = doc['id'] ?? (isObject(info) ? info['id'] : undefined);
  return typeof id === 'string' && id.trim() !== '' ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
