import { invalidBody } from './problem.js';
import type { JsonObject } from './schemas.js';

/**
 * Strict PUT (on by default): an update of an existing agreement may change its tags and custom
 * fields and nothing else. That is all a connector has any business writing, and it is what a
 * real server's PUT can damage: a stale copy, a read-only field echoed back or the placeholder
 * "unknown" written over a deleted provider's id. Refused with 400 naming the first such field.
 */

/** Server-managed members (readOnly in the vendor schemas) and `info.id`, which no schema has. */
const READ_ONLY = [
  'provisioning',
  'info.status',
  'info.active',
  'info.id',
  'provider.dataContractId',
  'provider.dataContractVersion',
] as const;

/** Members a connector may change. */
const WRITABLE = new Set(['tags', 'custom']);

/** Throws a 400 problem when `body` does more than edit the tags and custom fields of `stored`. */
export function checkStrictPut(stored: JsonObject, body: JsonObject): void {
  for (const path of READ_ONLY) {
    if (get(body, path) !== undefined)
      throw invalidBody([{ field: path, message: 'is managed by the server and must not be sent in a PUT' }]);
  }
  const field = firstDifference(withoutWritable(stored), withoutWritable(body), '');
  if (field !== undefined)
    throw invalidBody([
      {
        field: field || '(body)',
        message:
          'differs from the stored agreement; this strict simulator accepts PUTs that change only tags and custom',
      },
    ]);
}

function withoutWritable(document: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(document)) if (!WRITABLE.has(key)) copy[key] = value;
  // Read-only members are compared by their absence in the body above, never by value here.
  for (const path of READ_ONLY) {
    const [parent, field] = path.split('.') as [string, string | undefined];
    if (field === undefined) delete copy[parent];
    else if (isObject(copy[parent])) {
      const { [field]: _readOnly, ...rest } = copy[parent] as JsonObject;
      copy[parent] = rest;
    }
  }
  return copy;
}

/** Dotted path of the first member that differs ('' for the values themselves), or undefined when equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return path;
    for (let i = 0; i < a.length; i++) {
      const diff = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const diff = firstDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : path;
}

function get(document: JsonObject, path: string): unknown {
  let value: unknown = document;
  for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
