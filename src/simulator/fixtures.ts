import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DataContracts } from './contract-routes.js';
import type { Lifecycle } from './lifecycle.js';
import { SimulatorProblem, invalidBody, type Violation } from './problem.js';
import { provisioningRecordFrom } from './provisioning.js';
import {
  PROVISIONING_STATUSES,
  agreementSchema,
  isObject,
  provisioningReportSchema,
  validate,
  type JsonObject,
} from './schemas.js';
import type { ProvisioningRecord, StoredAgreement } from './state.js';

/** A mesh given in memory instead of a fixtures folder; documents have the same shapes as the files. */
export interface MeshData {
  teams?: unknown[];
  dataProducts?: unknown[];
  agreements?: unknown[];
  /** ODCS data contracts, loaded before the data products. */
  dataContracts?: unknown[];
}

/** Fixtures that cannot be loaded. `problems` name the file (or mesh entry) and the field. */
export class FixtureError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Cannot load the mesh from ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FixtureError';
  }
}

interface Entry {
  /** Where the document came from, e.g. `agreements/agr-orders-s3.yaml` or `mesh.agreements[0]`. */
  origin: string;
  value: unknown;
}

interface FixtureSet {
  source: string;
  /** Files that could not be read; reported together with the validation problems. */
  unreadable: string[];
  teams: Entry[];
  dataProducts: Entry[];
  agreements: Entry[];
  dataContracts: Entry[];
}

const FOLDERS = {
  teams: 'teams',
  dataContracts: 'datacontracts',
  dataProducts: 'dataproducts',
  agreements: 'agreements',
} as const;
const FIXTURE_FILE = /\.(ya?ml|json)$/i;

/** Reads `teams/`, `datacontracts/`, `dataproducts/` and `agreements/` (each optional, files sorted by name). */
export async function readFixturesDir(dir: string): Promise<FixtureSet> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new FixtureError(dir, [
      `'${dir}' is not a folder. Expected a folder with teams/, dataproducts/ and agreements/.`,
    ]);
  const set: FixtureSet = {
    source: dir,
    unreadable: [],
    teams: [],
    dataProducts: [],
    agreements: [],
    dataContracts: [],
  };
  let foldersFound = 0;
  for (const [key, folder] of Object.entries(FOLDERS) as [keyof typeof FOLDERS, string][]) {
    const names = await readdir(join(dir, folder)).catch(() => undefined);
    if (!names) continue;
    foldersFound += 1;
    for (const name of names.filter((n) => FIXTURE_FILE.test(n)).sort()) {
      const origin = `${folder}/${name}`;
      try {
        set[key].push({ origin, value: parseYaml(await readFile(join(dir, folder, name), 'utf8')) });
      } catch (error) {
        set.unreadable.push(`${origin}: not valid YAML: ${(error as Error).message.split('\n')[0]?.replace(/:$/, '')}`);
      }
    }
  }
  if (foldersFound === 0)
    throw new FixtureError(dir, [
      `'${dir}' has none of the folders teams/, dataproducts/, agreements/ (or datacontracts/).`,
    ]);
  return set;
}

export function meshFixtures(mesh: MeshData): FixtureSet {
  const entries = (list: unknown[] | undefined, name: string): Entry[] =>
    (list ?? []).map((value, index) => ({ origin: `mesh.${name}[${index}]`, value }));
  return {
    source: 'the in-memory mesh',
    unreadable: [],
    teams: entries(mesh.teams, 'teams'),
    dataProducts: entries(mesh.dataProducts, 'dataProducts'),
    agreements: entries(mesh.agreements, 'agreements'),
    dataContracts: entries(mesh.dataContracts, 'dataContracts'),
  };
}

/**
 * Loads teams, then data contracts, then data products, then agreements, emitting the events the real server would
 * have emitted for them, so a sync reading the feed from the start sees the whole mesh. Every
 * bad entry is reported, not only the first.
 */
export function loadFixtures(set: FixtureSet, lifecycle: Lifecycle, contracts: DataContracts): void {
  const problems = [...set.unreadable];
  const each = (entries: Entry[], apply: (value: unknown) => void): void => {
    for (const entry of entries) {
      try {
        apply(entry.value);
      } catch (error) {
        if (!(error instanceof SimulatorProblem)) throw error;
        problems.push(...describe(entry.origin, error));
      }
    }
  };
  each(set.teams, (value) => lifecycle.putTeam(value));
  each(set.dataContracts, (value) => contracts.put(value));
  each(set.dataProducts, (value) => lifecycle.putDataProduct(value));
  each(set.agreements, (value) => {
    const fixture = agreementFixture(value);
    lifecycle.restoreAgreement(fixture.doc, fixture.status, fixture.active, fixture.provisioning);
  });
  if (problems.length > 0) throw new FixtureError(set.source, problems);
}

const simulatorHintSchema = z.strictObject({ active: z.boolean().optional() });
const seededProvisioningSchema = provisioningReportSchema.extend({ status: z.enum(PROVISIONING_STATUSES) });

interface AgreementFixture {
  doc: JsonObject;
  status: StoredAgreement['status'];
  active: boolean;
  provisioning?: ProvisioningRecord;
}

/**
 * An agreement file is an Access document. Unlike a PUT, its `info.status`/`info.active` (or a
 * `simulator: {active: true}` hint) and `provisioning` are honoured: they describe the starting state.
 */
function agreementFixture(value: unknown): AgreementFixture {
  if (!isObject(value)) throw invalidBody([{ field: '', message: 'expected an Access document (a YAML mapping)' }]);
  const { simulator, ...doc } = value;
  const violations: Violation[] = [];
  const hint = validate(simulatorHintSchema, simulator ?? {});
  if (hint.violations) violations.push(...prefixed('simulator', hint.violations));
  const checked = validate(agreementSchema, doc);
  if (checked.violations) violations.push(...checked.violations);
  let provisioning: ProvisioningRecord | undefined;
  if (doc.provisioning !== undefined) {
    const seeded = validate(seededProvisioningSchema, doc.provisioning);
    if (seeded.violations) violations.push(...prefixed('provisioning', seeded.violations));
    else provisioning = provisioningRecordFrom(seeded.value);
  }
  if (checked.violations || violations.length > 0) throw invalidBody(violations);
  const info = checked.value.info;
  const active = hint.value?.active ?? info.active ?? false;
  const status = info.status ?? (active ? 'approved' : 'requested');
  if (active && status !== 'approved') {
    throw invalidBody([{ field: 'info.status', message: `an active agreement must be approved, not ${status}` }]);
  }
  return { doc: checked.value, status, active, provisioning };
}

function prefixed(prefix: string, violations: Violation[]): Violation[] {
  return violations.map((v) => ({ field: v.field ? `${prefix}.${v.field}` : prefix, message: v.message }));
}

function describe(origin: string, problem: SimulatorProblem): string[] {
  const violations = problem.extensions.violations as Violation[] | undefined;
  if (!violations) return [`${origin}: ${problem.detail}`];
  return violations.map((v) => `${origin}: ${v.field ? `${v.field}: ` : ''}${v.message}`);
}
