import { UNKNOWN_ID } from '../model/agreement.js';

/**
 * The body of the one PUT write-back makes: the agreement document exactly as the server sent
 * it, with our tag and custom-field edits applied and nothing else changed. PUT replaces the
 * whole document, so anything we add, drop or rewrite here is written over what people entered.
 */

/** Our edits: tags to add or remove, custom fields to set or remove. Everything else is left alone. */
export interface MarkerEdits {
  addTags: string[];
  removeTags: string[];
  setCustom: Record<string, string>;
  deleteCustom: string[];
}

export type WriteBackBody =
  | { ok: true; body: Record<string, unknown> }
  /** Writing would damage the agreement: do not PUT, say why. */
  | { ok: false; reason: string };

/**
 * Server-managed members (readOnly in the vendor's Access and DataUsageAgreement schemas) and
 * `info.id`, which only the reference integration's era served and no schema has. A server
 * ignores them at best and refuses the PUT at worst, so they are never sent back.
 */
const READ_ONLY: readonly (readonly [string, ...string[]])[] = [
  ['provisioning'],
  ['info', 'status'],
  ['info', 'active'],
  ['info', 'id'],
  ['provider', 'dataContractId'],
  ['provider', 'dataContractVersion'],
];

/** References the server rewrites to the placeholder "unknown" once the product or port is deleted. */
const PLACEHOLDER_REFERENCES: readonly (readonly [string, string])[] = [
  ['provider', 'dataProductId'],
  ['provider', 'outputPortId'],
  ['consumer', 'dataProductId'],
];

export function writeBackBody(raw: Record<string, unknown>, edits: MarkerEdits): WriteBackBody {
  for (const [parent, field] of PLACEHOLDER_REFERENCES) {
    // PUTting the placeholder back would point the agreement at a product literally named
    // "unknown" (or be refused); the real id is not ours to know, so no PUT at all.
    if (member(raw, parent)?.[field] === UNKNOWN_ID)
      return {
        ok: false,
        reason: `${parent}.${field} reads "${UNKNOWN_ID}" (deleted), and a PUT would write that placeholder back`,
      };
  }
  const body = structuredClone(raw);
  for (const [first, ...rest] of READ_ONLY) {
    if (rest.length === 0) delete body[first];
    else {
      const parent = member(body, first);
      if (parent) for (const field of rest) delete parent[field];
    }
  }
  body['tags'] = editedTags(raw['tags'], edits);
  body['custom'] = editedCustom(raw['custom'], edits);
  return { ok: true, body };
}

/** The tags as received, in their order; ours removed or appended. */
function editedTags(current: unknown, edits: MarkerEdits): unknown[] {
  const tags = (Array.isArray(current) ? current : []).filter(
    (tag) => !(typeof tag === 'string' && edits.removeTags.includes(tag)),
  );
  for (const tag of edits.addTags) if (!tags.includes(tag)) tags.push(tag);
  return tags;
}

/** Custom fields as received (others' values verbatim, whatever their type); ours set or removed. */
function editedCustom(current: unknown, edits: MarkerEdits): Record<string, unknown> {
  const custom: Record<string, unknown> = isObject(current) ? { ...current } : {};
  for (const key of edits.deleteCustom) delete custom[key];
  Object.assign(custom, edits.setCustom);
  return custom;
}

function member(document: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = document[key];
  return isObject(value) ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
