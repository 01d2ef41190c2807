/**
 * `npm run build`: reproducible zips whose bundles need nothing but Node builtins and the AWS
 * SDK v3 that the nodejs22.x runtime provides.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FUNCTIONS = ['poll-feed', 'process-events', 'reconcile'];
// Under dist/ so that importing a bundle finds @aws-sdk/* in the project's node_modules.
const OUT = [1, 2].map((n) => join(ROOT, 'dist', `.build-test-${process.pid}-${n}`));

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
let printed: string[] = [];

beforeAll(async () => {
  printed = [];
  for (const outdir of OUT) {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'build', '--', '--outdir', outdir], {
      cwd: ROOT,
    });
    printed.push(stdout);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(OUT.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('npm run build', () => {
  it('gives byte-identical zips on every build, and prints their size and sha256', async () => {
    for (const name of FUNCTIONS) {
      const [first, second] = await Promise.all(OUT.map((dir) => sha256(join(dir, `${name}.zip`))));
      expect(second).toBe(first);
      const size = (await readFile(join(OUT[0]!, `${name}.zip`))).length;
      expect(printed[0]).toMatch(new RegExp(`${name}\\.zip\\s+${size} bytes\\s+sha256 ${first}`));
    }
  });

  it('zips index.mjs alone, with a fixed time and mode', async () => {
    for (const name of FUNCTIONS) {
      const zip = await readFile(join(OUT[0]!, `${name}.zip`));
      const entries = centralDirectory(zip);
      expect(entries).toEqual([
        { name: 'index.mjs', mode: 0o100644, dosTime: 0, dosDate: ((2000 - 1980) << 9) | (1 << 5) | 1 },
      ]);
    }
  });

  it('imports nothing but Node builtins and @aws-sdk/*', async () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    for (const name of FUNCTIONS) {
      const code = await readFile(join(OUT[0]!, name, 'index.mjs'), 'utf8');
      const specifiers = [
        ...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*|\brequire\s*\(\s*)["']([^"']+)["']/g),
      ].map((m) => m[1]!);
      expect(specifiers.length).toBeGreaterThan(0);
      const foreign = specifiers.filter((s) => !builtins.has(s) && !s.startsWith('@aws-sdk/'));
      expect(foreign, name).toEqual([]);
      expect(
        code.startsWith("import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"),
      ).toBe(true);
      expect(code).not.toContain('sourceMappingURL');
    }
  });

  it('produces ESM bundles that load and export the handler', async () => {
    for (const name of FUNCTIONS) {
      const module = (await import(pathToFileURL(join(OUT[0]!, name, 'index.mjs')).href)) as { handler?: unknown };
      expect(typeof module.handler, name).toBe('function');
    }
  });
});

/** The entries of a zip's central directory (enough of the format to check what yazl wrote). */
function centralDirectory(zip: Buffer): { name: string; mode: number; dosTime: number; dosDate: number }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      mode: zip.readUInt32LE(offset + 38) >>> 16,
      dosTime: zip.readUInt16LE(offset + 12),
      dosDate: zip.readUInt16LE(offset + 14),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
