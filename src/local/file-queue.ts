import { emptyFifoState, FifoQueue, fifoStateSchema, type FifoQueueOptions } from './fifo-queue.js';
import { JsonFileStore } from './state-store.js';

/**
 * SQS FIFO semantics (see fifo-queue.ts) in a JSON file, so a daemon restart loses no queued
 * event; messages in flight when the process died come back after the visibility timeout.
 * Every operation is one locked change of the file, like every file store here (state-store.ts),
 * so a poller and a drainer in two processes can share the queue.
 */
export class FileFifoQueue extends FifoQueue {
  readonly path: string;

  constructor(path: string, options: FifoQueueOptions = {}) {
    const store = new JsonFileStore(path, fifoStateSchema, emptyFifoState);
    super(store, options);
    this.path = store.path;
  }
}
