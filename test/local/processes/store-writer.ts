/**
 * A separate process for the locking tests: `store-writer.ts <file> <writer> <count> <barrier>`
 * appends `<writer>-<i>` to the JSON file store `<file>` `count` times, each a read-modify-write
 * of its own. So that all writers really run at once, each first creates `<barrier>/ready-<writer>`
 * and then waits until `<barrier>/go` exists.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { JsonFileStore } from '../../../src/local/state-store.js';

const [file, writer, count, barrier] = process.argv.slice(2);
if (!file || !writer || !count || !barrier) throw new Error('usage: store-writer.ts <file> <writer> <count> <barrier>');
const store = new JsonFileStore(file, z.object({ items: z.array(z.string()) }), () => ({ items: [] as string[] }));
await writeFile(join(barrier, `ready-${writer}`), '');
for (;;) {
  try {
    await access(join(barrier, 'go'));
    break;
  } catch {
    await sleep(5);
  }
}
for (let i = 0; i < Number(count); i++) await store.update((state) => state.items.push(`${writer}-${i}`));
