/**
 * Where the local adapters keep their state: in memory (tests) or in one JSON file (demo, CLI
 * daemon). Every change is all-or-nothing: it runs on a fresh copy of the state and is saved only
 * when it returns normally, so a rejected IAM call or queue operation leaves no trace.
 *
 * The file store is a single-writer stand-in. It re-reads the file before every operation and
 * replaces it atomically (temp file + rename), so a second process always sees a complete state;
 * but two processes changing the same file at the same moment can lose one of the changes. Within
 * one process, operations on the same file are queued so they never interleave.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';

export interface StateStore<T> {
  /** A snapshot of the current state; mutating it changes nothing. */
  read(): Promise<T>;
  /** Run `change` on a copy of the state and save the copy, unless `change` throws. */
  update<R>(change: (state: T) => R): Promise<R>;
}

export class MemoryStore<T> implements StateStore<T> {
  private state: T;

  constructor(initial: T) {
    this.state = structuredClone(initial);
  }

  async read(): Promise<T> {
    return structuredClone(this.state);
  }

  async update<R>(change: (state: T) => R): Promise<R> {
    const draft = structuredClone(this.state);
    const result = change(draft);
    this.state = draft;
    return result;
  }
}

export class JsonFileStore<T> implements StateStore<T> {
  readonly path: string;

  constructor(
    path: string,
    private readonly schema: z.ZodType<T>,
    private readonly empty: () => T,
  ) {
    this.path = resolve(path);
  }

  read(): Promise<T> {
    return serialized(this.path, () => this.load());
  }

  update<R>(change: (state: T) => R): Promise<R> {
    return serialized(this.path, async () => {
      const state = await this.load();
      const before = JSON.stringify(state);
      const result = change(state);
      // Idempotent no-ops (deleting what is already gone) should not touch the file.
      if (JSON.stringify(state) !== before) {
        await writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`);
      }
      return result;
    });
  }

  private async load(): Promise<T> {
    return (await readJsonFile(this.path, this.schema)) ?? this.empty();
  }
}

/**
 * Read and validate a JSON file; `undefined` when it does not exist. A file that exists but is
 * not what we wrote is an error naming the file: silently starting from scratch would, for a
 * checkpoint or a queue, replay or drop events without anyone noticing.
 */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); fix or remove the file`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${path} has unexpected content (${issues.join('; ')}); fix or remove the file`);
  }
  return parsed.data;
}

/** Replace `path` with `text` so that readers see either the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Same directory as the target: rename is only atomic within one file system.
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      // Flush before the rename, or a crash could leave a renamed but empty file.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

const tails = new Map<string, Promise<unknown>>();

/** Run tasks for the same key one after another (read-modify-write must not interleave). */
function serialized<R>(key: string, task: () => Promise<R>): Promise<R> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
