#!/usr/bin/env node
// The CLI is compiled to lib/ by `npm ci` / `npm install` (the `prepare` script) or `npm run compile`.
try {
  await import('../lib/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('lib/cli/main.js')) {
    process.stderr.write('dmm-aws: error: the CLI is not built yet; run `npm run compile` (or `npm ci`) in the dmm-aws folder first\n');
    process.exit(1);
  }
  throw error;
}
