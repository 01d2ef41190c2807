export * from './aws-account-fixture.js';
export * from './fifo-queue.js';
export * from './file-agreement-index.js';
export * from './file-checkpoint.js';
export * from './file-iam-account.js';
export * from './file-queue.js';
export * from './file-resource-tags.js';
export * from './memory-queue.js';
export { JsonFileStore, MemoryStore, readJsonFile, writeFileAtomic, type StateStore } from './state-store.js';
