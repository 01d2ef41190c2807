/**
 * A stand-in for Lake Formation permissions, for the demo, the CLI daemon and tests. Keeps the
 * Data Catalog's databases and tables and the permissions granted on them in one JSON file (or in
 * memory), and refuses what Lake Formation refuses: grants on databases or tables that do not
 * exist, permission names the resource kind does not have, principals that are not IAM roles or
 * users.
 *
 * Safe with several processes on one file: every call is one locked change (state-store.ts).
 *
 * Deliberate differences from AWS:
 * - revoking permissions that are not held is success (AWS answers InvalidInputException, which
 *   the SDK adapter turns into success, as the interface asks);
 * - database and table names are matched exactly; addDatabase/addTable lower-case them as Glue
 *   does, so a grant naming `Sales` finds nothing where Lake Formation might find `sales`;
 * - listing permissions on a database or table that does not exist is NoSuchEntity.
 */
import { z } from 'zod';
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import { TargetError } from '../interfaces/target-error.js';
import { lakeFormationResourceName, type LakeFormationResource } from '../model/grants.js';
import { checkGlueName, checkRegion } from '../output-ports/arn.js';
import { PortFieldError } from '../output-ports/port-type.js';
import { JsonFileStore, MemoryStore, type StateStore } from './state-store.js';

/** The permission names Lake Formation knows for each resource kind (without grant option). */
export const LAKE_FORMATION_PERMISSIONS: Readonly<Record<LakeFormationResource['kind'], readonly string[]>> = {
  database: ['ALL', 'ALTER', 'CREATE_TABLE', 'DESCRIBE', 'DROP'],
  table: ['ALL', 'ALTER', 'DELETE', 'DESCRIBE', 'DROP', 'INSERT', 'SELECT'],
};

const databaseSchema = z.strictObject({ catalogId: z.string(), region: z.string(), database: z.string() });
const tableSchema = databaseSchema.extend({ table: z.string() });

const resourceSchema = z.discriminatedUnion('kind', [
  databaseSchema.extend({ kind: z.literal('database') }),
  tableSchema.extend({ kind: z.literal('table') }),
]) satisfies z.ZodType<LakeFormationResource>;

const grantSchema = z.strictObject({
  principal: z.string(),
  resource: resourceSchema,
  /** Sorted, no duplicates, never empty (an entry without permissions is removed). */
  permissions: z.array(z.string()).min(1),
});

const stateSchema = z.object({
  format: z.literal(1),
  databases: z.array(databaseSchema),
  tables: z.array(tableSchema),
  grants: z.array(grantSchema),
});

type State = z.infer<typeof stateSchema>;

export type CatalogDatabase = z.infer<typeof databaseSchema>;
export type CatalogTable = z.infer<typeof tableSchema>;
export type LakeFormationGrantState = z.infer<typeof grantSchema>;

/** Everything the stand-in holds, sorted, as `snapshot()` shows it. */
export interface LakeFormationSnapshot {
  databases: CatalogDatabase[];
  tables: CatalogTable[];
  grants: LakeFormationGrantState[];
}

export interface FileLakeFormationOptions {
  /** JSON state file; omitted = in memory, gone with the process. */
  file?: string;
}

export class FileLakeFormation implements LakeFormationPermissions {
  private readonly store: StateStore<State>;

  constructor(options: FileLakeFormationOptions = {}) {
    const empty = (): State => ({ format: 1, databases: [], tables: [], grants: [] });
    this.store = options.file ? new JsonFileStore(options.file, stateSchema, empty) : new MemoryStore(empty());
  }

  /** Path of the state file, or undefined in memory mode. */
  get file(): string | undefined {
    return this.store instanceof JsonFileStore ? this.store.path : undefined;
  }

  async listPermissions(principal: string, resource: LakeFormationResource): Promise<string[]> {
    checkPrincipal(principal);
    checkResource(resource);
    const state = await this.store.read();
    requireResource(state, resource);
    return [...(findGrant(state, principal, resource)?.permissions ?? [])];
  }

  async grant(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void> {
    checkRequest(principal, resource, permissions);
    await this.store.update((state) => {
      requireResource(state, resource);
      const grant = findGrant(state, principal, resource);
      if (grant) {
        grant.permissions = sortedUnique([...grant.permissions, ...permissions]);
      } else {
        state.grants.push({ principal, resource: copyResource(resource), permissions: sortedUnique(permissions) });
      }
    });
  }

  async revoke(principal: string, resource: LakeFormationResource, permissions: string[]): Promise<void> {
    checkRequest(principal, resource, permissions);
    await this.store.update((state) => {
      requireResource(state, resource);
      const grant = findGrant(state, principal, resource);
      if (!grant) return;
      grant.permissions = grant.permissions.filter((p) => !permissions.includes(p));
      if (grant.permissions.length === 0) state.grants.splice(state.grants.indexOf(grant), 1);
    });
  }

  // ---- Administration, for the demo, fixtures and tests (Glue has these) -------------------------

  /** Create a database; its name is lower-cased, as Glue stores it. */
  async addDatabase(catalogId: string, region: string, database: string): Promise<CatalogDatabase> {
    const created = {
      catalogId: checkCatalogId(catalogId),
      region: checked(() => checkRegion('region', region)),
      database: glueName('database', database),
    };
    return this.store.update((state) => {
      if (findDatabase(state, created)) {
        throw new TargetError(
          'EntityAlreadyExists',
          `AlreadyExistsException: Database ${created.database} already exists.`,
        );
      }
      state.databases.push(created);
      return { ...created };
    });
  }

  /** Create a table in an existing database; names are lower-cased, as Glue stores them. */
  async addTable(catalogId: string, region: string, database: string, table: string): Promise<CatalogTable> {
    const created = {
      catalogId: checkCatalogId(catalogId),
      region: checked(() => checkRegion('region', region)),
      database: glueName('database', database),
      table: glueName('table', table),
    };
    return this.store.update((state) => {
      requireResource(state, { kind: 'database', ...created });
      if (findTable(state, created)) {
        throw new TargetError(
          'EntityAlreadyExists',
          `AlreadyExistsException: Table ${created.database}.${created.table} already exists.`,
        );
      }
      state.tables.push(created);
      return { ...created };
    });
  }

  /** Delete a table, and with it every permission on it (as Glue's DeleteTable does). */
  async removeTable(catalogId: string, region: string, database: string, table: string): Promise<void> {
    const resource: LakeFormationResource = { kind: 'table', catalogId, region, database, table };
    await this.store.update((state) => {
      requireResource(state, resource);
      state.tables = state.tables.filter((t) => !sameResource({ kind: 'table', ...t }, resource));
      state.grants = state.grants.filter((g) => !sameResource(g.resource, resource));
    });
  }

  /** Delete a database with its tables, and every permission on them (as Glue's DeleteDatabase does). */
  async removeDatabase(catalogId: string, region: string, database: string): Promise<void> {
    const resource: LakeFormationResource = { kind: 'database', catalogId, region, database };
    const inDatabase = (r: CatalogDatabase): boolean =>
      r.catalogId === catalogId && r.region === region && r.database === database;
    await this.store.update((state) => {
      requireResource(state, resource);
      state.databases = state.databases.filter((d) => !inDatabase(d));
      state.tables = state.tables.filter((t) => !inDatabase(t));
      state.grants = state.grants.filter((g) => !inDatabase(g.resource));
    });
  }

  /** Databases, tables and grants, sorted; a copy, so changing it changes nothing. */
  async snapshot(): Promise<LakeFormationSnapshot> {
    const state = await this.store.read();
    return {
      databases: state.databases.sort(byKey(databaseKey)),
      tables: state.tables.sort(byKey((t) => resourceKey({ kind: 'table', ...t }))),
      grants: state.grants.sort(byKey((g) => `${g.principal}\n${resourceKey(g.resource)}`)),
    };
  }
}

// ---- Input rules -------------------------------------------------------------------------------------

/** A role or user ARN, with an optional path; Lake Formation's identifier is at most 255 characters. */
const IAM_PRINCIPAL = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const CATALOG_ID = /^\d{12}$/;
/** Glue's name limits; the character set is checked where names are created. */
const NAME_MAX = 255;

function invalid(message: string): TargetError {
  return new TargetError('InvalidInput', `InvalidInputException: ${message}`);
}

function checkRequest(principal: string, resource: LakeFormationResource, permissions: string[]): void {
  checkPrincipal(principal);
  checkResource(resource);
  if (permissions.length === 0) throw invalid('Permissions must not be empty.');
  const allowed = LAKE_FORMATION_PERMISSIONS[resource.kind];
  const unknown = permissions.filter((p) => !allowed.includes(p));
  if (unknown.length > 0) {
    throw invalid(
      `Permission(s) ${unknown.join(', ')} do not apply to a ${resource.kind}; valid are ${allowed.join(', ')}.`,
    );
  }
}

function checkPrincipal(principal: string): void {
  if (principal.length > 255 || !IAM_PRINCIPAL.test(principal)) {
    throw invalid(
      `Principal ${principal} is not an IAM role or user ARN (arn:<partition>:iam::<account>:role/<name>).`,
    );
  }
}

function checkResource(resource: LakeFormationResource): void {
  checkCatalogId(resource.catalogId);
  checked(() => checkRegion('region', resource.region));
  const names = resource.kind === 'table' ? [resource.database, resource.table] : [resource.database];
  for (const name of names) {
    if (name.length < 1 || name.length > NAME_MAX) {
      throw invalid(`Name '${name}' must be 1 to ${NAME_MAX} characters long.`);
    }
  }
}

function checkCatalogId(catalogId: string): string {
  if (!CATALOG_ID.test(catalogId)) throw invalid(`CatalogId '${catalogId}' is not a 12-digit account id.`);
  return catalogId;
}

function glueName(field: string, name: string): string {
  return checked(() => checkGlueName(field, name));
}

/** The port modules' checks throw PortFieldError; here they are Lake Formation's refusals. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof PortFieldError) throw invalid(err.message);
    throw err;
  }
}

// ---- State -------------------------------------------------------------------------------------------

function requireResource(state: State, resource: LakeFormationResource): void {
  const exists = resource.kind === 'table' ? findTable(state, resource) : findDatabase(state, resource);
  if (!exists) {
    throw new TargetError(
      'NoSuchEntity',
      `EntityNotFoundException: ${lakeFormationResourceName(resource)} does not exist.`,
    );
  }
}

function findDatabase(state: State, d: CatalogDatabase): CatalogDatabase | undefined {
  return state.databases.find((x) => databaseKey(x) === databaseKey(d));
}

function findTable(state: State, t: CatalogTable): CatalogTable | undefined {
  return state.tables.find((x) => databaseKey(x) === databaseKey(t) && x.table === t.table);
}

function findGrant(
  state: State,
  principal: string,
  resource: LakeFormationResource,
): LakeFormationGrantState | undefined {
  return state.grants.find((g) => g.principal === principal && sameResource(g.resource, resource));
}

function databaseKey(d: CatalogDatabase): string {
  return `${d.catalogId}\n${d.region}\n${d.database}`;
}

/** A database and a table of the same name are different resources, hence the kind. */
function resourceKey(r: LakeFormationResource): string {
  return r.kind === 'table' ? `table\n${databaseKey(r)}\n${r.table}` : `database\n${databaseKey(r)}`;
}

function sameResource(a: LakeFormationResource, b: LakeFormationResource): boolean {
  return resourceKey(a) === resourceKey(b);
}

/** Only the resource's own fields, whatever else the caller's object carries. */
function copyResource(r: LakeFormationResource): LakeFormationResource {
  const base = { catalogId: r.catalogId, region: r.region, database: r.database };
  return r.kind === 'table' ? { kind: 'table', ...base, table: r.table } : { kind: 'database', ...base };
}

function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function byKey<T>(key: (value: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}
