import { defineConfig } from 'vitest/config';

/**
 * Known holes, written as failing tests and kept OUT of the committed suite (the main config only
 * runs *.test.ts). Each file's header says where the hole is and what should happen instead.
 * Run them with:  npx vitest run --config test/security/holes/vitest.config.ts
 * When a hole is fixed, rename its file to *.test.ts so it guards the fix.
 */
export default defineConfig({
  test: {
    include: ['test/security/holes/*.hole.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
  },
});
