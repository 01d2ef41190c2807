import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The vendor documents live beside the repository, in `../shared/reference` (a checkout in
 * /work/main, a worktree or a CI clone all have that sibling), not inside it: they are the
 * vendor's files, kept as reference material.
 */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REFERENCE_DIR = resolve(REPO_ROOT, '../shared/reference');

export const SPEC_2024_11 = 'datamesh-manager-openapi-2024-11.yaml';
export const SPEC_2026_07 = 'entropy-data-openapi-2026-07.yaml';
export const DPS_SCHEMA = 'dataproduct-specification-0.0.1.schema.json';
export const ODPS_SCHEMA = 'odps.schema.json';

export function referenceFile(name: string): string {
  const path = join(REFERENCE_DIR, name);
  if (!existsSync(path)) {
    throw new Error(
      `The vendor reference file ${name} is not at ${path}. The conformance tests read ../shared/reference ` +
        'relative to the repository root; check out or link the shared reference folder there.',
    );
  }
  return path;
}
