export * from './agreement-index.js';
export * from './api-key.js';
export * from './clients.js';
export * from './iam-account.js';
export * from './resource-tags.js';
export * from './s3-checkpoint.js';
export * from './sqs-queue.js';
