import { emptyFifoState, FifoQueue, type FifoQueueOptions } from './fifo-queue.js';
import { MemoryStore } from './state-store.js';

/** SQS FIFO semantics in memory (see fifo-queue.ts): for tests and one-process runs. */
export class MemoryFifoQueue extends FifoQueue {
  constructor(options: FifoQueueOptions = {}) {
    super(new MemoryStore(emptyFifoState()), options);
  }
}
