/**
 * The poller's checkpoint in a JSON file `{ lastEventId, updatedAt }`. A missing file means "start
 * from the beginning"; a damaged one is an error, because silently starting over would replay
 * the whole feed (and re-grant revoked access until the later events arrive). Written under the
 * state file lock (state-store.ts), so a second poller cannot interleave its write.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Checkpoint } from '../interfaces/event-queue.js';
import { readJsonFile, withStateFileLock, writeFileAtomic } from './state-store.js';

const checkpointSchema = z.object({
  lastEventId: z.string().min(1),
  updatedAt: z.string(),
});

export type CheckpointFile = z.infer<typeof checkpointSchema>;

export interface FileCheckpointOptions {
  /** Clock for `updatedAt`; injectable for tests. */
  now?: () => Date;
}

export class FileCheckpoint implements Checkpoint {
  readonly path: string;
  private readonly now: () => Date;

  constructor(path: string, options: FileCheckpointOptions = {}) {
    this.path = resolve(path);
    this.now = options.now ?? (() => new Date());
  }

  async read(): Promise<string | undefined> {
    return (await this.readFile())?.lastEventId;
  }

  /** The whole file, including when it was last written (for status output). */
  async readFile(): Promise<CheckpointFile | undefined> {
    return readJsonFile(this.path, checkpointSchema);
  }

  async write(lastEventId: string): Promise<void> {
    if (lastEventId.length === 0) throw new Error('checkpoint: lastEventId must not be empty');
    const content: CheckpointFile = { lastEventId, updatedAt: this.now().toISOString() };
    await withStateFileLock(this.path, (lock) =>
      writeFileAtomic(this.path, `${JSON.stringify(content, null, 2)}\n`, lock),
    );
  }
}
