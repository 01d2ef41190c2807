import { z } from 'zod';
import type { DataProduct, OutputPort } from './data-product.js';

/**
 * Reads a data product in Data Product Specification 0.0.1 or ODPS v1.0.0 into one
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
// booleans; those are unambiguous as text. Nulls mean "not set".
const dpsCustom = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullish())
  .optional()
  .transform((record) => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(record ?? {}))
      if (value !== null && value !== undefined) out[key] = String(value);
    return out;
  });

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
        name: nonEmpty,
        type: z.string().nullish(),
        contractId: z.string().nullish(),
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
  if (apiVersion !== undefined && apiVersion !== 'v1.0.0') {
    throw new DataProductFormatError(
      idHint(doc),
      'apiVersion',
      `is "${String(apiVersion)}", only ODPS v1.0.0 is supported`,
    );
  }
  const p = parse(odpsSchema, doc);
  const outputPorts = (p.outputPorts ?? []).map((port, i): OutputPort => {
    const { custom, server } = flattenProperties(port.customProperties, p.id, `outputPorts[${i}].customProperties`);
    return {
      // ODPS ports have no id; Data Mesh Manager's agreements refer to them by name.
      id: port.name,
      name: port.name,
      ...(port.type ? { type: port.type } : {}),
      ...(server ? { server } : {}),
      custom,
      ...(port.contractId ? { dataContractId: port.contractId } : {}),
    };
  });
  const { custom } = flattenProperties(p.customProperties, p.id, 'customProperties');
  const ownerTeamId = isObject(p.team) ? text(p.team['name']) : undefined;
  const title = text(p.name);
  return {
    id: p.id,
    format: 'odps-1.0.0',
    ...(title ? { title } : {}),
    ...(ownerTeamId ? { ownerTeamId } : {}),
    custom,
    outputPorts,
    raw: doc,
  };
}

/**
 * ODPS `[{property, value}]` to a string map. Non-string values are kept as JSON text so no
 * information is lost; an object-valued `server` is the port's server block, as in the vendor
 * connectors. A property given twice is ambiguous and rejected.
 */
function flattenProperties(
  list: readonly { property: string; value?: unknown }[],
  productId: string,
  path: string,
): { custom: Record<string, string>; server?: Record<string, unknown> } {
  const custom: Record<string, string> = {};
  let server: Record<string, unknown> | undefined;
  list.forEach(({ property, value }, i) => {
    if (property in custom || (property === 'server' && server)) {
      throw new DataProductFormatError(productId, `${path}[${i}].property`, `"${property}" is given more than once`);
    }
    if (value === null || value === undefined) return;
    if (property === 'server' && isObject(value)) server = value;
    else custom[property] = typeof value === 'string' ? value : JSON.stringify(value);
  });
  return server ? { custom, server } : { custom };
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
