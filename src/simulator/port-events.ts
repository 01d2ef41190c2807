import { isDeepStrictEqual } from 'node:util';
import type { JsonObject } from './schemas.js';

/**
 * The `OutputPort{Created,Updated,Deleted}Event`s the real server emits in addition to a data
 * product's own event, with `data = {id: <data product id>, outputPortId, timestamp}` (the
 * 2026-07 OpenAPI). A port's id is the one agreements use: DPS `id`, ODPS `name` (ODPS ports of
 * one name in several versions share it, so they change together).
 */
export interface PortChange {
  action: 'Created' | 'Updated' | 'Deleted';
  outputPortId: string;
}

/** What changed between two versions of a product (`undefined` = not there), in document order. */
export function portChanges(before: JsonObject | undefined, after: JsonObject | undefined): PortChange[] {
  const old = portsById(before);
  const now = portsById(after);
  const changes: PortChange[] = [];
  for (const [id, ports] of now) {
    const previous = old.get(id);
    if (!previous) changes.push({ action: 'Created', outputPortId: id });
    else if (!isDeepStrictEqual(previous, ports)) changes.push({ action: 'Updated', outputPortId: id });
  }
  for (const id of old.keys()) if (!now.has(id)) changes.push({ action: 'Deleted', outputPortId: id });
  return changes;
}

function portsById(product: JsonObject | undefined): Map<string, unknown[]> {
  const byId = new Map<string, unknown[]>();
  const ports = product?.outputPorts;
  if (!Array.isArray(ports)) return byId;
  for (const port of ports) {
    const p = port as JsonObject;
    const id = typeof p.id === 'string' ? p.id : typeof p.name === 'string' ? p.name : undefined;
    if (id === undefined) continue;
    byId.set(id, [...(byId.get(id) ?? []), port]);
  }
  return byId;
}
