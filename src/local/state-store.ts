/**
 * Where the local adapters keep their state: in memory (tests) or in one JSON file (demo, CLI
 * daemon). Every change is all-or-nothing: it runs on a fresh copy of the state and is saved only
 * when it returns normally, so a rejected IAM call or queue operation leaves no trace.
 *
 * The file store is safe with several processes on one file (two `local-aws seed`s, `apply` next
 * to `run`). Every change happens under a lock: in this process a queue per file, across processes
 * a lock directory `<file>.lock` (proper-lockfile), taken for the whole read-modify-write, so no
 * change is lost. The lock is bounded: its holder refreshes it, one that was not refreshed for
 * 10 s belongs to a dead process and is taken over, and a process that cannot get it within 30 s
 * fails with an error naming the file. The file is replaced atomically (temp file + rename), so
 * readers need no lock and always see a complete state; temp files a killed process left behind
 * are removed the next time the store opens or writes the file.
 */
import { OutageError } from '../interfaces/outage.js';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import type { z } from 'zod';

export interface StateStore<T> {
  /** A snapshot of the current state; mutating it changes nothing. */
  read(): Promise<T>;
  /**
   * What `pick` takes from the current state, as a copy: a read of one role need not copy a
   * whole account of 10,000. `pick` must not change the state it is given.
   */
  view<R>(pick: (state: T) => R): Promise<R>;
  /**
   * Run `change` on a copy of the state and save the copy, unless `change` throws (or its promise
   * rejects). Changes to one store run one after another, never interleaved.
   */
  update<R>(change: (state: T) => R | Promise<R>): Promise<R>;
}

export class MemoryStore<T> implements StateStore<T> {
  private state: T;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(initial: T) {
    this.state = structuredClone(initial);
  }

  async read(): Promise<T> {
    return structuredClone(this.state);
  }

  async view<R>(pick: (state: T) => R): Promise<R> {
    return structuredClone(pick(this.state));
  }

  update<R>(change: (state: T) => R | Promise<R>): Promise<R> {
    const run = this.tail.then(async () => {
      const draft = structuredClone(this.state);
      const result = await change(draft);
      this.state = draft;
      return result;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * The state of a batch of changes that is saved or dropped as a whole (FileIamAccount.batch):
 * each change applies to the state in place rather than to a copy, so a batch of n changes costs
 * n changes, not n copies of the state. A change that fails may have left the state half-changed,
 * so after one every call fails, and `assertIntact` tells the batch not to save.
 */
export class DraftStore<T> implements StateStore<T> {
  private failure: { error: unknown } | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  /** `state` is changed in place: pass a copy the caller may discard. */
  constructor(private readonly state: T) {}

  async read(): Promise<T> {
    this.assertIntact();
    return structuredClone(this.state);
  }

  async view<R>(pick: (state: T) => R): Promise<R> {
    this.assertIntact();
    return structuredClone(pick(this.state));
  }

  update<R>(change: (state: T) => R | Promise<R>): Promise<R> {
    const run = this.tail.then(async () => {
      this.assertIntact();
      try {
        return await change(this.state);
      } catch (error) {
        this.failure ??= { error };
        throw error;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Throws when a change failed: the state may be half-changed and must not be saved. */
  assertIntact(): void {
    if (!this.failure) return;
    const cause = this.failure.error;
    throw new Error(
      `an earlier change of this batch failed (${cause instanceof Error ? cause.message : String(cause)}); nothing of the batch is saved`,
      { cause },
    );
  }
}

export interface JsonFileStoreOptions extends FileLockOptions {
  /**
   * What a change does when the file is not what we wrote (not JSON, or not the schema): 'fail'
   * (the default: for the IAM state, a queue or a checkpoint, starting over would lose or replay
   * things unnoticed), or 'set-aside' for a file that is only a cache and can be rebuilt: it is
   * renamed to `<file>.corrupt-<time>` (kept for a person to look at), `warn` says so, and the
   * change starts from the empty state. Reading such a file is an error either way.
   */
  unreadable?: 'fail' | 'set-aside';
  /** Where 'set-aside' reports; default: a JSON line on stderr. */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

export class JsonFileStore<T> implements StateStore<T> {
  readonly path: string;
  private opened = false;

  constructor(
    path: string,
    private readonly schema: z.ZodType<T>,
    private readonly empty: () => T,
    private readonly options: JsonFileStoreOptions = {},
  ) {
    this.path = resolve(path);
  }

  async view<R>(pick: (state: T) => R): Promise<R> {
    return pick(await this.read());
  }

  read(): Promise<T> {
    return serialized(this.path, async () => {
      await this.open();
      return this.load();
    });
  }

  update<R>(change: (state: T) => R | Promise<R>): Promise<R> {
    return withStateFileLock(
      this.path,
      async (lock) => {
        await this.open();
        const state = await this.loadForChange();
        const before = JSON.stringify(state);
        const result = await change(state);
        // Idempotent no-ops (deleting what is already gone) should not touch the file.
        if (JSON.stringify(state) !== before) {
          await writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`, lock);
        }
        return result;
      },
      this.options,
    );
  }

  private async load(): Promise<T> {
    return (await readJsonFile(this.path, this.schema)) ?? this.empty();
  }

  private async loadForChange(): Promise<T> {
    try {
      return await this.load();
    } catch (err) {
      if (!(err instanceof StateFileError) || this.options.unreadable !== 'set-aside') throw err;
      const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside);
      (this.options.warn ?? warnOnStderr)('unreadable state file set aside; starting it afresh', {
        file: this.path,
        setAsideAs: aside,
        error: err.message,
      });
      return this.empty();
    }
  }

  /** The first time this store touches its file: remove temp files a killed process left behind. */
  private async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    await removeStrayTempFiles(this.path);
  }
}

/**
 * A state file that exists but is not what we wrote (not JSON, or not the expected shape). An
 * outage of the local stand-in, not a fault of any agreement.
 */
export class StateFileError extends OutageError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'StateFileError';
  }
}

/**
 * Read and validate a JSON file; `undefined` when it does not exist. A file that exists but is
 * not what we wrote is an error naming the file (a StateFileError): silently starting from scratch
 * would, for a checkpoint or a queue, replay or drop events without anyone noticing.
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
    throw new StateFileError(path, `${path} is not valid JSON (${(err as Error).message}); fix or remove the file`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new StateFileError(path, `${path} has unexpected content (${issues.join('; ')}); fix or remove the file`);
  }
  return parsed.data;
}

/**
 * Replace `path` with `text` so that readers see either the old or the new content, never a mix.
 * With `lock` (from withStateFileLock) the file is only replaced while the lock is still ours.
 * Temp files of the same target that a killed process left behind are removed afterwards.
 */
export async function writeFileAtomic(path: string, text: string, lock?: HeldLock): Promise<void> {
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
    lock?.assertHeld();
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await removeStrayTempFiles(path);
}

// ---- stray temp files ---------------------------------------------------------------------------

/** A temp file whose writer still runs is left alone unless it is older than this. */
export const STRAY_TEMP_AGE_MS = 5 * 60_000;

/**
 * Remove the temp files writeFileAtomic left for `path` when its process was killed between
 * writing and renaming: those of a process that no longer runs, and any older than
 * STRAY_TEMP_AGE_MS (a process id may have been reused). Best effort: failures are ignored.
 */
export async function removeStrayTempFiles(path: string, now = Date.now()): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    const file = join(dir, name);
    try {
      const stray = (pid !== process.pid && !processRuns(pid)) || now - (await stat(file)).mtimeMs > STRAY_TEMP_AGE_MS;
      if (!stray) continue;
      await rm(file, { force: true });
      removed.push(file);
    } catch {
      // Gone meanwhile (its writer renamed it), or not ours to remove: either way, leave it.
    }
  }
  return removed;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- locking ------------------------------------------------------------------------------------

export interface FileLockOptions {
  /** How long to wait for a lock another process holds before giving up; default 30 s. */
  lockWaitMs?: number;
  /**
   * A lock its holder has not refreshed for this long is taken over (the holder died); default
   * 10 s, at least 2 s. Holders refresh every half of it.
   */
  lockStaleMs?: number;
}

export const DEFAULT_LOCK_WAIT_MS = 30_000;
export const DEFAULT_LOCK_STALE_MS = 10_000;

/** The lock a task runs under; `assertHeld` throws once another process may have taken it over. */
export interface HeldLock {
  assertHeld(): void;
}

/** The lock could not be taken in time, or was lost while held. */
export class StateLockError extends OutageError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'StateLockError';
  }
}

/** Where the lock of a state file lives: a directory next to it. */
export function lockPathOf(path: string): string {
  return `${resolve(path)}.lock`;
}

/**
 * Run `task` holding the lock on `path` (which need not exist yet): first behind the other tasks
 * of this process on the same file, then under the cross-process lock. The lock is released when
 * the task ends, however it ends, and also if the process exits meanwhile.
 */
export function withStateFileLock<R>(
  path: string,
  task: (lock: HeldLock) => Promise<R>,
  options: FileLockOptions = {},
): Promise<R> {
  const file = resolve(path);
  return serialized(file, () => underFileLock(file, task, options));
}

async function underFileLock<R>(
  file: string,
  task: (lock: HeldLock) => Promise<R>,
  options: FileLockOptions,
): Promise<R> {
  const wait = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const stale = Math.max(options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS, 2_000);
  const lockPath = lockPathOf(file);
  let lost: Error | undefined;
  const lock: HeldLock = {
    assertHeld() {
      if (lost) {
        throw new StateLockError(file, `lost the lock on ${file} (${lost.message}); the change was not saved`);
      }
    },
  };
  await mkdir(dirname(file), { recursive: true });
  const deadline = Date.now() + wait;
  let release: () => Promise<void>;
  for (let attempt = 0; ; attempt++) {
    try {
      release = await lockfile.lock(file, {
        realpath: false,
        lockfilePath: lockPath,
        stale,
        // Without this, proper-lockfile throws from a timer and the process dies.
        onCompromised: (err) => {
          lost = err;
        },
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new StateLockError(file, `could not lock ${file} (${lockPath}): ${(err as Error).message}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw await lockTimeout(file, lockPath, wait);
      // Exponential backoff with jitter, so waiting processes do not retry in step.
      const ceiling = Math.min(10 * 2 ** Math.min(attempt, 5), 250);
      await sleep(Math.min(left, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
  try {
    return await task(lock);
  } finally {
    try {
      await release();
    } catch {
      // Already lost (compromised) or removed by hand: nothing left to release.
    }
  }
}

async function lockTimeout(file: string, lockPath: string, wait: number): Promise<StateLockError> {
  let held = '';
  try {
    const age = Math.round((Date.now() - (await stat(lockPath)).mtimeMs) / 1000);
    held = `, last refreshed ${age} s ago`;
  } catch {
    // Released just now: the message still holds.
  }
  return new StateLockError(
    file,
    `${file} is locked by another process (${lockPath}${held}); gave up after ${wait / 1000} s. ` +
      `If no dmm-aws process uses this file, remove ${lockPath}.`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function warnOnStderr(message: string, fields: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', message, ...fields })}\n`);
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
