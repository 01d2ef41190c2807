/**
 * Local state shared by several processes: every read-modify-write is locked (state-store.ts), so
 * concurrent writers lose nothing; the lock is bounded and leaves nothing behind; temp files of
 * killed writers are removed; a damaged cache file is set aside instead of blocking writes.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseAwsAccountFixture, seedIamAccount } from '../../src/local/aws-account-fixture.js';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import { FileCheckpoint } from '../../src/local/file-checkpoint.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { FileLakeFormation } from '../../src/local/file-lake-formation.js';
import { FileFifoQueue } from '../../src/local/file-queue.js';
import {
  JsonFileStore,
  lockPathOf,
  removeStrayTempFiles,
  STRAY_TEMP_AGE_MS,
  StateLockError,
  withStateFileLock,
} from '../../src/local/state-store.js';
import { memoryLogger } from '../../src/util/log.js';
import { IamError } from '../../src/interfaces/iam-account.js';
import { policy, useTempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;
const WRITER = join(ROOT, 'test/local/processes/store-writer.ts');

const newTempDir = useTempDir();
const schema = z.object({ items: z.array(z.string()) });
const empty = () => ({ items: [] as string[] });

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('the state file lock', () => {
  it('10 processes writing one file at once lose no change, and leave no lock or temp file', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'state', 'shared.json');
    const barrier = join(dir, 'barrier');
    await mkdir(barrier);
    const writers = Array.from({ length: 10 }, (_, w) =>
      run(process.execPath, ['--import', TSX, WRITER, file, `w${w}`, '15', barrier], { cwd: ROOT }),
    );
    // Start them all at once (process start-up takes longer than the writes themselves).
    while ((await readdir(barrier)).length < 10) await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(join(barrier, 'go'), '');
    await Promise.all(writers);
    const { items } = schema.parse(JSON.parse(await readFile(file, 'utf8')));
    expect(items).toHaveLength(150);
    for (let w = 0; w < 10; w++)
      expect(items.filter((i) => i.startsWith(`w${w}-`))).toEqual(Array.from({ length: 15 }, (_, i) => `w${w}-${i}`));
    expect(await readdir(join(dir, 'state'))).toEqual(['shared.json']);
  }, 120_000);

  it('concurrent writers through separate store instances lose no change', async () => {
    const file = join(await newTempDir(), 's.json');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => new JsonFileStore(file, schema, empty).update((s) => s.items.push(`${i}`))),
    );
    expect((await new JsonFileStore(file, schema, empty).read()).items).toHaveLength(20);
  });

  it('locks a file (and folder) that does not exist yet, and removes the lock afterwards', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'new', 'deeper', 's.json');
    const store = new JsonFileStore(file, schema, empty);
    await store.update((s) => {
      s.items.push('first');
    });
    expect(await readdir(join(dir, 'new', 'deeper'))).toEqual(['s.json']);
    // A change that throws releases the lock too.
    await expect(
      store.update(() => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await readdir(join(dir, 'new', 'deeper'))).toEqual(['s.json']);
  });

  it('holds the lock for the whole change, so another process sees it taken', async () => {
    const file = join(await newTempDir(), 's.json');
    let seen: boolean | undefined;
    await new JsonFileStore(file, schema, empty).update(async (s) => {
      seen = (await stat(lockPathOf(file))).isDirectory();
      s.items.push('x');
    });
    expect(seen).toBe(true);
    await expect(stat(lockPathOf(file))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock its holder stopped refreshing (the holder died)', async () => {
    const file = join(await newTempDir(), 's.json');
    await mkdir(lockPathOf(file));
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(lockPathOf(file), minuteAgo, minuteAgo);
    const store = new JsonFileStore(file, schema, empty);
    await store.update((s) => s.items.push('after a crash'));
    expect((await store.read()).items).toEqual(['after a crash']);
    await expect(stat(lockPathOf(file))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives up on a lock another process holds, with an error naming the file', async () => {
    const file = join(await newTempDir(), 's.json');
    await mkdir(lockPathOf(file)); // fresh: a live holder
    const store = new JsonFileStore(file, schema, empty, { lockWaitMs: 200 });
    const err = await store.update((s) => s.items.push('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateLockError);
    expect((err as StateLockError).message).toContain(`${file} is locked by another process (${file}.lock`);
    expect((err as StateLockError).message).toContain(`remove ${file}.lock`);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // The next process gets it once the holder is gone.
    const checkpoint = new FileCheckpoint(file);
    await expect(withStateFileLock(file, async () => 'ok', { lockWaitMs: 200 })).rejects.toThrow(StateLockError);
    await rmdir(lockPathOf(file));
    await checkpoint.write('evt-1');
    expect(await checkpoint.read()).toBe('evt-1');
  });

  it('covers the IAM state, Lake Formation, queue, checkpoint and index files', async () => {
    const dir = await newTempDir();
    const files = {
      iam: join(dir, 'iam.json'),
      lakeFormation: join(dir, 'lake-formation.json'),
      queue: join(dir, 'queue.json'),
      checkpoint: join(dir, 'checkpoint.json'),
      index: join(dir, 'index.json'),
    };
    // Another process holds every file's lock.
    for (const file of Object.values(files)) await mkdir(lockPathOf(file));
    const writes = [
      new FileIamAccount({ file: files.iam }).createRole('r'),
      new FileLakeFormation({ file: files.lakeFormation }).addDatabase('123456789012', 'eu-central-1', 'sales'),
      new FileFifoQueue(files.queue).send([
        { groupId: 'g', dedupId: 'e1', event: { id: 'e1', type: 'AccessActivatedEvent', data: { id: 'g' } } },
      ]),
      new FileCheckpoint(files.checkpoint).write('evt-1'),
      new FileAgreementIndex(files.index).record('agr-1', ['arn:aws:iam::123456789012:role/r']),
    ];
    let settled = 0;
    for (const write of writes)
      void write.then(
        () => settled++,
        () => settled++,
      );
    // Give the writers time to retry: while the locks are held, none may write.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(0);
    for (const file of Object.values(files)) await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // Released: every waiting write goes through, and takes its lock away with it.
    for (const file of Object.values(files)) await rmdir(lockPathOf(file));
    await Promise.all(writes);
    expect((await readdir(dir)).sort()).toEqual(
      Object.values(files)
        .map((f) => f.slice(dir.length + 1))
        .sort(),
    );
  });
});

describe('stray temp files', () => {
  it('removes temp files of dead writers and old ones when the store opens, keeps a live writer’s', async () => {
    const dir = await newTempDir();
    const file = join(dir, 's.json');
    await writeFile(file, '{"items":[]}');
    const dead = join(dir, `.s.json.${await deadPid()}.0a1b2c.tmp`);
    const old = join(dir, `.s.json.${process.ppid}.0a1b2d.tmp`);
    const live = join(dir, `.s.json.${process.ppid}.0a1b2e.tmp`);
    const otherFile = join(dir, `.other.json.${await deadPid()}.0a1b2f.tmp`);
    for (const temp of [dead, old, live, otherFile]) await writeFile(temp, '{"items":["half');
    const long = new Date(Date.now() - STRAY_TEMP_AGE_MS - 60_000);
    await utimes(old, long, long);

    expect(await new JsonFileStore(file, schema, empty).read()).toEqual({ items: [] });
    expect((await readdir(dir)).sort()).toEqual(
      ['s.json', `.s.json.${process.ppid}.0a1b2e.tmp`, otherFile.slice(dir.length + 1)].sort(),
    );
  });

  it('removes them when the file is next written, also for the checkpoint', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'checkpoint.json');
    const stray = `.checkpoint.json.${await deadPid()}.abcdef.tmp`;
    await writeFile(join(dir, stray), '{"lastEv');
    await new FileCheckpoint(file).write('evt-9');
    expect(await readdir(dir)).toEqual(['checkpoint.json']);
  });

  it('removeStrayTempFiles reports what it removed and tolerates a missing folder', async () => {
    const dir = await newTempDir();
    expect(await removeStrayTempFiles(join(dir, 'missing', 's.json'))).toEqual([]);
    const stray = join(dir, `.s.json.${await deadPid()}.abc123.tmp`);
    await writeFile(stray, '');
    expect(await removeStrayTempFiles(join(dir, 's.json'))).toEqual([stray]);
  });
});

describe('a damaged state file', () => {
  it('the agreement index sets a damaged file aside on the next change and starts afresh', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'agreement-index.json');
    await writeFile(file, '{"entries": [{"agreementId": "agr-1", "roleA');
    const log = memoryLogger();
    const index = new FileAgreementIndex(file, { log });
    // Reading it stays an error: the sync then finds the roles without the index.
    await expect(index.holdingsOf('agr-1')).rejects.toThrow(`${file} is not valid JSON`);

    await index.record('agr-2', ['arn:aws:iam::123456789012:role/r']);
    expect(await index.list()).toEqual(new Map([['agr-2', ['arn:aws:iam::123456789012:role/r']]]));
    const names = await readdir(dir);
    const aside = names.find((n) => n.startsWith('agreement-index.json.corrupt-'));
    expect(names.sort()).toEqual(['agreement-index.json', aside].sort());
    expect(await readFile(join(dir, aside!), 'utf8')).toBe('{"entries": [{"agreementId": "agr-1", "roleA');
    expect(log.entries).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'agreement index: unreadable state file set aside; starting it afresh',
        fields: expect.objectContaining({ file, setAsideAs: join(dir, aside!) }),
      }),
    ]);
  });

  it('the IAM state, queue and checkpoint are never started afresh: a change fails and the file stays', async () => {
    const dir = await newTempDir();
    const iam = join(dir, 'iam.json');
    const queue = join(dir, 'queue.json');
    await writeFile(iam, '{"format": 1, "acc');
    await writeFile(queue, '[]');
    await expect(new FileIamAccount({ file: iam }).createRole('r')).rejects.toThrow(`${iam} is not valid JSON`);
    await expect(new FileFifoQueue(queue).send([])).rejects.toThrow(`${queue} has unexpected content`);
    expect((await readdir(dir)).sort()).toEqual(['iam.json', 'queue.json']);
    expect(await readFile(iam, 'utf8')).toBe('{"format": 1, "acc');
  });
});

describe('seeding is all-or-nothing', () => {
  const fixture = (bad: boolean) =>
    parseAwsAccountFixture(
      `roles:
  - name: first
    inlinePolicies: { p: '${policy()}' }
    attachedPolicies: [{ name: shared, document: '${policy('arn:aws:s3:::shared')}' }]
  - name: second
    inlinePolicies:
      p: ${bad ? '{ Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject" }] }' : `'${policy()}'`}
`,
      'account.yaml',
    );

  it('a refused policy leaves the account as it was; the fixed fixture then seeds every role', async () => {
    const file = join(await newTempDir(), 'iam.json');
    const account = new FileIamAccount({ file });
    await account.createRole('already-there');
    const before = await readFile(file, 'utf8');

    const err = await seedIamAccount(account, fixture(true), 'account.yaml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IamError);
    expect((err as IamError).code).toBe('MalformedPolicyDocument');
    expect((err as IamError).message).toMatch(/^account\.yaml: roles\.1 \(second\): .*\(nothing was seeded\)$/);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await account.listRoles()).map((r) => r.name)).toEqual(['already-there']);

    expect(await seedIamAccount(account, fixture(false), 'account.yaml')).toEqual({
      created: ['first', 'second'],
      skipped: [],
    });
    expect((await account.listInlinePolicies('second')).map((p) => p.name)).toEqual(['p']);
    expect((await account.listAttachedPolicies('first')).map((p) => p.name)).toEqual(['shared']);
  });

  it('in memory too', async () => {
    const account = new FileIamAccount();
    await expect(seedIamAccount(account, fixture(true))).rejects.toThrow(IamError);
    expect(await account.listRoles()).toEqual([]);
  });

  it('concurrent seeds of one account file each land whole', async () => {
    const file = join(await newTempDir(), 'iam.json');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        seedIamAccount(
          new FileIamAccount({ file }),
          parseAwsAccountFixture(`roles:\n  - name: role-${i}\n    inlinePolicies: { p: '${policy()}' }\n`, `${i}`),
        ),
      ),
    );
    const roles = await new FileIamAccount({ file }).listRoles();
    expect(roles.map((r) => r.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `role-${i}`).sort());
  });
});
