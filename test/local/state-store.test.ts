import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonFileStore, MemoryStore, writeFileAtomic } from '../../src/local/state-store.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();
const schema = z.object({ items: z.array(z.number()) });
const empty = () => ({ items: [] as number[] });

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file behind', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'a', 'b.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a'))).toEqual(['b.json']);
  });

  it('cleans up its temporary file when the rename fails', async () => {
    const dir = await newTempDir();
    // A directory in the way makes the rename fail after the temp file was written.
    const target = join(dir, 'occupied');
    await writeFileAtomic(join(target, 'x'), 'x');
    await expect(writeFileAtomic(target, 'text')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['occupied']);
  });
});

describe.each([
  ['MemoryStore', async () => new MemoryStore(empty())],
  ['JsonFileStore', async () => new JsonFileStore(join(await newTempDir(), 's.json'), schema, empty)],
] as const)('%s', (_name, create) => {
  it('saves a change and returns its result', async () => {
    const store = await create();
    expect(await store.update((s) => s.items.push(1))).toBe(1);
    expect(await store.read()).toEqual({ items: [1] });
  });

  it('discards a change that throws, even after it mutated the state', async () => {
    const store = await create();
    await store.update((s) => s.items.push(1));
    await expect(
      store.update((s) => {
        s.items.push(2);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.read()).toEqual({ items: [1] });
  });

  it('hands out snapshots that do not write through', async () => {
    const store = await create();
    (await store.read()).items.push(99);
    expect(await store.read()).toEqual({ items: [] });
  });

  it('runs concurrent updates one after another', async () => {
    const store = await create();
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.update((s) => s.items.push(i))));
    expect((await store.read()).items).toHaveLength(25);
  });
});

describe('JsonFileStore', () => {
  it('starts empty without a file and rejects content that does not fit the schema', async () => {
    const file = join(await newTempDir(), 's.json');
    const store = new JsonFileStore(file, schema, empty);
    expect(await store.read()).toEqual({ items: [] });
    await writeFile(file, '{"items":["x"]}');
    await expect(store.read()).rejects.toThrow(`${file} has unexpected content (items.0:`);
  });
});

describe('JsonFileStore with a reader in another process', () => {
  it('never shows the reader a partly written file', async () => {
    const file = join(await newTempDir(), 's.json');
    const store = new JsonFileStore(file, schema, empty);
    await store.update((s) => s.items.push(0));
    // The child re-reads and parses the file as fast as it can while we keep replacing it.
    const reader = `
      const fs = require('node:fs');
      let reads = 0, torn = 0;
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        try { JSON.parse(fs.readFileSync(process.argv[1], 'utf8')); reads++; } catch { torn++; }
      }
      process.stdout.write(JSON.stringify({ reads, torn }));`;
    const { execFile } = await import('node:child_process');
    const child = new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', reader, file], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const big = Array.from({ length: 5_000 }, (_, i) => i);
    for (let i = 0; i < 60; i++) await store.update((s) => (s.items = i % 2 ? big : [i]));
    const { reads, torn } = JSON.parse(await child) as { reads: number; torn: number };
    expect(reads).toBeGreaterThan(0);
    expect(torn).toBe(0);
  });
});
