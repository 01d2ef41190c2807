import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCheckpoint } from '../../src/local/file-checkpoint.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();

describe('FileCheckpoint', () => {
  it('reads undefined before the first write', async () => {
    const checkpoint = new FileCheckpoint(join(await newTempDir(), 'checkpoint.json'));
    expect(await checkpoint.read()).toBeUndefined();
  });

  it('writes {lastEventId, updatedAt} atomically and survives re-opening', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'state', 'checkpoint.json');
    const now = new Date('2026-07-01T10:00:00.000Z');
    await new FileCheckpoint(file, { now: () => now }).write('evt-1');
    await new FileCheckpoint(file, { now: () => now }).write('evt-2');

    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      lastEventId: 'evt-2',
      updatedAt: '2026-07-01T10:00:00.000Z',
    });
    expect(await new FileCheckpoint(file).read()).toBe('evt-2');
    expect(await readdir(join(dir, 'state'))).toEqual(['checkpoint.json']);
  });

  it('fails on a damaged file, naming it, instead of starting over', async () => {
    const file = join(await newTempDir(), 'checkpoint.json');
    const checkpoint = new FileCheckpoint(file);
    await writeFile(file, '{"lastEventId": "evt-');
    await expect(checkpoint.read()).rejects.toThrow(`${file} is not valid JSON`);
    await writeFile(file, '{"lastEventId": 7, "updatedAt": "x"}');
    await expect(checkpoint.read()).rejects.toThrow(new RegExp(`${file} has unexpected content \\(lastEventId:`));
    await writeFile(file, '');
    await expect(checkpoint.read()).rejects.toThrow(file);
  });

  it('refuses an empty event id', async () => {
    const checkpoint = new FileCheckpoint(join(await newTempDir(), 'checkpoint.json'));
    await expect(checkpoint.write('')).rejects.toThrow(/must not be empty/);
    expect(await checkpoint.read()).toBeUndefined();
  });
});
