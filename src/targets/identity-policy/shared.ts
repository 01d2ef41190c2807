/**
 * Statements that many agreements on one role need word for word (the role's Athena result folder,
 * a workgroup, the generic statements Athena with Lake Formation needs) are stored once per role
 * and kept while at least one agreement needs them (docs/adr/0011-shared-statements.md).
 *
 * An agreement's shared statements form a *bundle*, named by a hash of their content. On the role
 * a bundle is stored as:
 *
 * - *member records*: copies of the bundle's first statement whose Sid lists the agreements that
 *   need the bundle, `DmmB<key>N<n><agreement>…` (each agreement encoded as in src/targets/sid.ts);
 *   a record holds members up to MAX_RECORD_SID characters, more members take more records;
 * - the *body*: the bundle's other statements, `DmmB<key>P<n>`.
 *
 * So who needs a bundle is read from the role itself: an event for one agreement adds or removes
 * exactly that agreement from a record, and the body goes with the last member.
 */
import { createHash } from 'node:crypto';
import type { PolicyStatement } from '../../model/policy.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { decodeAgreementId, encodeAgreementId } from '../sid.js';

/** AWS documents no Sid length limit; records stay far below the smallest policy (6,144 characters). */
export const MAX_RECORD_SID = 1_200;

/** A shared unit's key in a pack: `<bundle key>:body` or `<bundle key>:<record number>`. */
export type SharedUnitKey = string;

export interface SharedUnit {
  bundle: string;
  /** The record number, or undefined for the body. */
  record?: number;
  /** Members named by a record's Sid (none for the body). */
  members: string[];
}

/** The key of a bundle: the same statements give the same key on every role. */
export function bundleKey(statements: readonly PolicyStatement[]): string {
  return createHash('sha256')
    .update(canonicalJson(statements.map(withoutSid)))
    .digest('hex')
    .slice(0, 12);
}

export function bodyUnitKey(bundle: string): SharedUnitKey {
  return `${bundle}:body`;
}

export function recordUnitKey(bundle: string, record: number): SharedUnitKey {
  return `${bundle}:${record}`;
}

export function parseUnitKey(key: SharedUnitKey): { bundle: string; record?: number } {
  const [bundle, part] = key.split(':') as [string, string];
  return part === 'body' ? { bundle } : { bundle, record: Number(part) };
}

/** The shared unit a statement's Sid names, or undefined when it is not a shared statement. */
export function sharedUnitFromSid(sid: unknown): (SharedUnit & { part?: number }) | undefined {
  if (typeof sid !== 'string') return undefined;
  const body = /^DmmB([0-9a-f]{12})P(\d+)$/.exec(sid);
  if (body) return { bundle: body[1]!, members: [], part: Number(body[2]) };
  const record = /^DmmB([0-9a-f]{12})N(\d+)((?:[UH][0-9a-f]+)+)$/.exec(sid);
  if (!record) return undefined;
  const members: string[] = [];
  for (const encoded of record[3]!.match(/[UH][0-9a-f]+/g) ?? []) {
    const id = decodeAgreementId(encoded);
    if (id === undefined) return undefined;
    members.push(id);
  }
  return { bundle: record[1]!, record: Number(record[2]), members };
}

export function recordSid(bundle: string, record: number, members: readonly string[]): string {
  return `DmmB${bundle}N${record}${members.map(encodeAgreementId).join('')}`;
}

/** A member record: the bundle's first statement, marked with the members it records. */
export function recordStatement(
  bundle: string,
  record: number,
  members: readonly string[],
  first: PolicyStatement,
): PolicyStatement {
  return { Sid: recordSid(bundle, record, members), ...withoutSid(first) };
}

/** The body: the bundle's statements after the first, numbered by their place in the bundle. */
export function bodyStatements(bundle: string, statements: readonly PolicyStatement[]): PolicyStatement[] {
  return statements.slice(1).map((s, i) => ({ Sid: `DmmB${bundle}P${i + 2}`, ...withoutSid(s) }));
}

export function withoutSid(statement: PolicyStatement): PolicyStatement {
  const { Sid: _ignored, ...rest } = statement;
  return rest;
}
