import { z } from 'zod';
import { isDeepStrictEqual } from 'node:util';
import type { ContractRole, ContractServer, DataContract } from './data-contract.js';

/**
 * Reads a data contract as Data Mesh Manager / Entropy Data serves it: ODCS v3 (`apiVersion`
 * v3.x, `kind: DataContract`, `servers` a list), or the deprecated Data Contract Specification
 * (`dataContractSpecification`, `servers` a map by name). Only `servers`, `roles` and the schema
 * objects' names are read; unknown fields are kept in `raw` and ignored. A document without a
 * usable id or with unreadable servers or roles throws with the contract and the field.
 */

export class DataContractFormatError extends Error {
  override readonly name = 'DataContractFormatError';
  constructor(
    readonly dataContractId: string | undefined,
    /** Path of the offending field, e.g. `servers[1].type`. */
    readonly field: string,
    problem: string,
  ) {
    super(
      `Data contract ${dataContractId === undefined ? '(without id)' : `"${dataContractId}"`}: ${field}: ${problem}`,
    );
  }
}

const nonEmpty = z.string().trim().min(1, 'must be a non-empty string');

const customProperties = z
  .array(z.looseObject({ property: nonEmpty, value: z.unknown().optional() }))
  .nullish()
  .transform((list) => list ?? []);

const role = z.looseObject({ role: nonEmpty, access: z.string().nullish() });
const roles = z
  .array(role)
  .nullish()
  .transform((list) => list ?? []);

const odcsServer = z.looseObject({
  server: nonEmpty,
  type: nonEmpty,
  environment: z.string().nullish(),
  roles,
  customProperties,
});

const odcsSchema = z.looseObject({
  id: nonEmpty,
  version: z.union([z.string(), z.number()]).nullish(),
  servers: z
    .array(odcsServer)
    .nullish()
    .transform((list) => list ?? []),
  roles,
  schema: z.array(z.looseObject({ name: z.string().nullish(), physicalName: z.string().nullish() })).nullish(),
});

const dcsServer = z.looseObject({ type: nonEmpty, environment: z.string().nullish() });
const dcsSchema = z.looseObject({
  id: nonEmpty,
  info: z.looseObject({ version: z.union([z.string(), z.number()]).nullish() }).nullish(),
  servers: z
    .record(z.string(), dcsServer)
    .nullish()
    .transform((map) => map ?? {}),
  models: z.record(z.string(), z.unknown()).nullish(),
});

/** Fields of an ODCS server that describe the server entry itself, not where its data is. */
const META_FIELDS = new Set(['id', 'server', 'description', 'environment', 'roles', 'customProperties']);

export function readDataContract(raw: unknown): DataContract {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DataContractFormatError(undefined, '(document)', 'is not a JSON object');
  }
  const doc = raw as Record<string, unknown>;
  if (doc['dataContractSpecification'] !== undefined) return readDcs(doc);
  const apiVersion = doc['apiVersion'];
  if (typeof apiVersion !== 'string' || !/^v3\.\d+\.\d+$/.test(apiVersion)) {
    throw new DataContractFormatError(
      idHint(doc),
      'apiVersion',
      apiVersion === undefined
        ? 'is missing: expected ODCS v3 (apiVersion v3.x.x, kind DataContract) or the Data Contract Specification (dataContractSpecification)'
        : `is "${String(apiVersion)}", only ODCS v3 (v3.0.0 to v3.1.0 and later v3.x) is supported`,
    );
  }
  const p = parse(odcsSchema, doc);
  // ODCS gives tables in `schema`, not on the server: a contract with one object names the table.
  const objects = p.schema ?? [];
  const onlyTable = objects.length === 1 ? (text(objects[0]?.physicalName) ?? text(objects[0]?.name)) : undefined;
  const servers = p.servers.map((server, i): ContractServer => {
    const block: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(server)) if (!META_FIELDS.has(key)) block[key] = value;
    block['type'] = server.type.trim().toLowerCase();
    const problems: string[] = [];
    const path = `servers[${i}].customProperties`;
    const seen = new Map<string, unknown>();
    for (const { property, value } of server.customProperties) {
      if (value === null || value === undefined) continue;
      if (seen.has(property) && !isDeepStrictEqual(seen.get(property), value))
        problems.push(`${path}: "${property}" is given more than once with different values`);
      seen.set(property, value);
      if (META_FIELDS.has(property) || property === 'type') continue;
      if (!(property in server)) block[property] = value;
      else if (!isDeepStrictEqual(server[property], value))
        problems.push(`${path}: "${property}" contradicts the server's own ${property}`);
    }
    if (block['table'] === undefined && onlyTable !== undefined) block['table'] = onlyTable;
    return {
      name: server.server,
      type: server.type.trim().toLowerCase(),
      ...(text(server.environment) ? { environment: server.environment!.trim() } : {}),
      block,
      roles: server.roles.map(roleOf),
      problems,
    };
  });
  const version = p.version === null || p.version === undefined ? undefined : String(p.version);
  return {
    id: p.id,
    format: `odcs-${apiVersion.slice(1)}`,
    ...(version ? { version } : {}),
    servers,
    roles: p.roles.map(roleOf),
    raw: doc,
  };
}

/** The Data Contract Specification has no roles; its servers are a map whose keys name them. */
function readDcs(doc: Record<string, unknown>): DataContract {
  const p = parse(dcsSchema, doc);
  const models = Object.keys(p.models ?? {});
  const servers = Object.entries(p.servers).map(([name, server]): ContractServer => {
    const block: Record<string, unknown> = { ...server, type: server.type.trim().toLowerCase() };
    delete block['environment'];
    delete block['description'];
    delete block['roles'];
    if (block['table'] === undefined && models.length === 1) block['table'] = models[0];
    return {
      name,
      type: server.type.trim().toLowerCase(),
      ...(text(server.environment) ? { environment: server.environment!.trim() } : {}),
      block,
      roles: [],
      problems: [],
    };
  });
  const version = p.info?.version === null || p.info?.version === undefined ? undefined : String(p.info.version);
  return { id: p.id, format: 'dcs', ...(version ? { version } : {}), servers, roles: [], raw: doc };
}

function roleOf(r: z.output<typeof role>): ContractRole {
  return { role: r.role.trim(), ...(text(r.access) ? { access: r.access!.trim() } : {}) };
}

function parse<T extends z.ZodType>(schema: T, doc: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) : '(document)';
  throw new DataContractFormatError(idHint(doc), field, issue?.message ?? 'is invalid');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function idHint(doc: Record<string, unknown>): string | undefined {
  const id = doc['id'];
  return typeof id === 'string' && id.trim() !== '' ? id : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
