import { describe, expect, it } from 'vitest';
import {
  entryChanges,
  MemoryAgreementIndex,
  readIndexEntry,
  updateIndexEntry,
  type AgreementIndex,
} from '../../src/sync/agreement-index.js';
import { memoryLogger } from '../../src/util/log.js';

const A = 'arn:aws:iam::123456789012:role/analytics';
const B = 'arn:aws:iam::123456789012:role/data-products/reporting';

/** An index whose every call fails, counting the calls. */
function brokenIndex(): AgreementIndex & { calls: number } {
  const index = {
    calls: 0,
    async list(): Promise<Map<string, string[]>> {
      index.calls++;
      throw new Error('s3 is down');
    },
    async holdingsOf(): Promise<string[] | undefined> {
      index.calls++;
      throw new Error('s3 is down');
    },
    async record(): Promise<void> {
      index.calls++;
      throw new Error('s3 is down');
    },
    async forget(): Promise<void> {
      index.calls++;
      throw new Error('s3 is down');
    },
  };
  return index;
}

describe('MemoryAgreementIndex', () => {
  it('has no entry for an agreement it was never told about', async () => {
    expect(await new MemoryAgreementIndex().holdingsOf('agr-1')).toBeUndefined();
  });

  it('keeps the recorded roles per agreement, sorted and without duplicates', async () => {
    const index = new MemoryAgreementIndex();
    await index.record('agr-1', [B, A, B]);
    await index.record('agr-2', [A]);
    expect(await index.holdingsOf('agr-1')).toEqual([A, B]);
    expect(await index.holdingsOf('agr-2')).toEqual([A]);
    expect(index.snapshot()).toEqual({ 'agr-1': [A, B], 'agr-2': [A] });
  });

  it('replaces an entry; [] is kept as "holds nothing"; forget drops it', async () => {
    const index = new MemoryAgreementIndex();
    await index.record('agr-1', [A]);
    await index.record('agr-1', [B]);
    expect(await index.holdingsOf('agr-1')).toEqual([B]);
    await index.record('agr-1', []);
    expect(await index.holdingsOf('agr-1')).toEqual([]);
    await index.forget('agr-1');
    expect(await index.holdingsOf('agr-1')).toBeUndefined();
    expect(index.snapshot()).toEqual({});
  });

  it('hands out copies: changing a returned entry changes nothing stored', async () => {
    const index = new MemoryAgreementIndex();
    const arns = [A];
    await index.record('agr-1', arns);
    arns.push(B);
    (await index.holdingsOf('agr-1'))!.push(B);
    expect(await index.holdingsOf('agr-1')).toEqual([A]);
  });
});

describe('entryChanges', () => {
  it('compares as sets; no entry differs from an empty one', () => {
    expect(entryChanges([A, B], [B, A, A])).toBe(false);
    expect(entryChanges(undefined, [])).toBe(true);
    expect(entryChanges([], [])).toBe(false);
    expect(entryChanges(undefined, [A])).toBe(true);
    expect(entryChanges([A], [])).toBe(true);
    expect(entryChanges([A], [B])).toBe(true);
  });
});

describe('readIndexEntry / updateIndexEntry', () => {
  it('writes only what changed', async () => {
    const index = new MemoryAgreementIndex();
    const writes: [string, string[]][] = [];
    const record = index.record.bind(index);
    index.record = async (id, arns) => {
      writes.push([id, arns]);
      await record(id, arns);
    };
    const log = memoryLogger();

    const forgotten: string[] = [];
    const forget = index.forget.bind(index);
    index.forget = async (id) => {
      forgotten.push(id);
      await forget(id);
    };

    await updateIndexEntry(index, 'agr-1', await readIndexEntry(index, 'agr-1', log), [A], log);
    await updateIndexEntry(index, 'agr-1', await readIndexEntry(index, 'agr-1', log), [A], log);
    await updateIndexEntry(index, 'agr-2', await readIndexEntry(index, 'agr-2', log), [], log);
    await updateIndexEntry(index, 'agr-2', await readIndexEntry(index, 'agr-2', log), [], log);
    await updateIndexEntry(index, 'agr-1', await readIndexEntry(index, 'agr-1', log), [], log);
    // Gone and holding nothing: the entry goes; gone but never known: nothing to do.
    await updateIndexEntry(index, 'agr-1', await readIndexEntry(index, 'agr-1', log), [], log, true);
    await updateIndexEntry(index, 'agr-3', await readIndexEntry(index, 'agr-3', log), [], log, true);
    expect(writes).toEqual([
      ['agr-1', [A]],
      ['agr-2', []],
      ['agr-1', []],
    ]);
    expect(forgotten).toEqual(['agr-1']);
    expect(index.snapshot()).toEqual({ 'agr-2': [] });
    expect(log.entries.filter((e) => e.level === 'warn')).toEqual([]);
  });

  it('an index that fails is logged, never thrown, and a failed read makes the next write unconditional', async () => {
    const index = brokenIndex();
    const log = memoryLogger();
    const before = await readIndexEntry(index, 'agr-1', log);
    expect(before).toBe('unreadable');
    await expect(updateIndexEntry(index, 'agr-1', before, [], log)).resolves.toBeUndefined();
    // The read and the write were both attempted.
    expect(index.calls).toBe(2);
    expect(
      log.entries.filter((e) => e.level === 'warn').map((e) => [e.message, e.fields.agreementId, e.fields.error]),
    ).toEqual([
      ['agreement index could not be read; finding the roles without it', 'agr-1', 's3 is down'],
      ['agreement index not updated; the next full reconcile repairs it', 'agr-1', 's3 is down'],
    ]);
  });
});
