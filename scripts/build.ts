/**
 * `npm run build`: bundles each Lambda handler and zips it reproducibly.
 *
 *   dist/<function>/index.mjs   the bundle (ESM, Node 22, minified)
 *   dist/<function>.zip         index.mjs alone (handler `index.handler`)
 *
 * `@aws-sdk/*` stays external (the nodejs22.x runtime provides it); everything else is bundled.
 * The same sources, lockfile and Node version give byte-identical zips: fixed entry timestamps
 * and permissions, sorted entries, and no source map unless `--sourcemap` is given.
 *
 * Options: --outdir <dir> (default dist), --sourcemap (adds index.mjs.map to each zip).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import yazl from 'yazl';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const FUNCTIONS = {
  'poll-feed': 'src/lambda/poll-feed.ts',
  'process-events': 'src/lambda/process-events.ts',
  reconcile: 'src/lambda/reconcile.ts',
} as const;

/** ESM bundles have no `require`; CommonJS dependencies that call it for Node builtins need one. */
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * The zip's entry time. DOS timestamps are local time, so the date is built from local fields:
 * the bytes are then the same in every time zone. (The Unix "UT" extra field is left out.)
 */
const ENTRY_TIME = new Date(2000, 0, 1, 0, 0, 0);
/** A regular file, rw-r--r--: readable by the Lambda runtime's user. */
const ENTRY_MODE = 0o100644;

export interface BuiltFunction {
  name: string;
  bundle: string;
  zip: string;
  bytes: number;
  sha256: string;
}

export async function buildAll(options: { outdir: string; sourcemap: boolean }): Promise<BuiltFunction[]> {
  const built: BuiltFunction[] = [];
  for (const [name, entry] of Object.entries(FUNCTIONS)) built.push(await buildFunction(name, entry, options));
  return built;
}

async function buildFunction(
  name: string,
  entry: string,
  options: { outdir: string; sourcemap: boolean },
): Promise<BuiltFunction> {
  const folder = join(options.outdir, name);
  await rm(folder, { recursive: true, force: true });
  const bundle = join(folder, 'index.mjs');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // Prefer the ESM builds of dependencies that ship both.
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    banner: { js: BANNER },
    minify: true,
    legalComments: 'none',
    sourcemap: options.sourcemap,
    metafile: true,
    logLevel: 'warning',
  });
  refuseNativeCode(name, result.metafile);

  const files = ['index.mjs', ...(options.sourcemap ? ['index.mjs.map'] : [])].sort();
  const zipBytes = await zipFiles(
    await Promise.all(files.map(async (file) => ({ name: file, content: await readFile(join(folder, file)) }))),
  );
  const zip = join(options.outdir, `${name}.zip`);
  await writeFile(zip, zipBytes);
  return { name, bundle, zip, bytes: zipBytes.length, sha256: createHash('sha256').update(zipBytes).digest('hex') };
}

/** The runtime is arm64: a `.node` addon built here (x86_64, glibc of this machine) would not load there. */
function refuseNativeCode(name: string, metafile: Metafile): void {
  const native = Object.keys(metafile.inputs).filter((input) => input.endsWith('.node'));
  if (native.length)
    throw new Error(
      `${name}: the bundle would contain native code, which cannot run on Lambda arm64: ${native.join(', ')}`,
    );
}

function zipFiles(files: { name: string; content: Buffer }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of files)
    zip.addBuffer(file.content, file.name, {
      mtime: ENTRY_TIME,
      mode: ENTRY_MODE,
      compress: true,
      forceDosTimestamp: true,
    });
  zip.end();
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolvePromise(Buffer.concat(chunks)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { outdir: { type: 'string', default: 'dist' }, sourcemap: { type: 'boolean', default: false } },
  });
  const outdir = resolve(values.outdir);
  await mkdir(outdir, { recursive: true });
  const built = await buildAll({ outdir, sourcemap: values.sourcemap });
  for (const fn of built) {
    console.log(
      `${relative(process.cwd(), fn.zip).padEnd(28)} ${String(fn.bytes).padStart(9)} bytes  sha256 ${fn.sha256}`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
