import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileAgreementIndex } from '../../src/local/file-agreement-index.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();
const A = 'arn:aws:iam::123456789012:role/analytics';
const B = 'arn:aws:iam::123456789012:role/reporting';

describe('FileAgreementIndex', () => {
  it('has no entries before the file exists', async () => {
    expect(
      await new FileAgreementIndex(join(await newTempDir(), 'agreement-index.json')).holdingsOf('agr-1'),
    ).toBeUndefined();
  });

  it('persists entries across instances in one JSON file, written atomically', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'state', 'agreement-index.json');
    await new FileAgreementIndex(file).record('agr-1', [B, A]);
    await new FileAgreementIndex(file).record('agr-2', [B]);

    const reopened = new FileAgreementIndex(file);
    expect(await reopened.holdingsOf('agr-1')).toEqual([A, B]);
    expect(await reopened.holdingsOf('agr-2')).toEqual([B]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      entries: [
        { agreementId: 'agr-1', roleArns: [A, B] },
        { agreementId: 'agr-2', roleArns: [B] },
      ],
    });
    // No temp files left behind.
    expect(await readdir(join(dir, 'state'))).toEqual(['agreement-index.json']);
  });

  it('[] is kept as "holds nothing", forget deletes; ids that are Object properties are plain ids', async () => {
    const file = join(await newTempDir(), 'agreement-index.json');
    const index = new FileAgreementIndex(file);
    expect(await index.holdingsOf('constructor')).toBeUndefined();
    await index.record('__proto__', [A]);
    await index.record('agr-1', [A]);
    await index.record('agr-1', []);
    expect(await index.holdingsOf('agr-1')).toEqual([]);
    await index.forget('agr-1');
    expect(await index.holdingsOf('agr-1')).toBeUndefined();
    expect(await new FileAgreementIndex(file).holdingsOf('__proto__')).toEqual([A]);
  });

  it('concurrent records in one process are not lost', async () => {
    const file = join(await newTempDir(), 'agreement-index.json');
    const index = new FileAgreementIndex(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => index.record(`agr-${i}`, [A])));
    const reread = JSON.parse(await readFile(file, 'utf8')) as { entries: unknown[] };
    expect(reread.entries).toHaveLength(20);
  });

  it('a deleted file is an empty index again; a damaged one is an error naming the file', async () => {
    const file = join(await newTempDir(), 'agreement-index.json');
    const index = new FileAgreementIndex(file);
    await index.record('agr-1', [A]);
    await rm(file);
    expect(await index.holdingsOf('agr-1')).toBeUndefined();
    await writeFile(file, '{"entries": ');
    await expect(index.holdingsOf('agr-1')).rejects.toThrow(`${file} is not valid JSON`);
  });
});
