/**
 * Starts moto (the AWS emulator, `python3 -m moto.server`) once for the whole test run, on a free
 * loopback port, so the real AWS SDK clients can be tested against IAM, SQS, S3 and Secrets
 * Manager. Tests read its URL with `inject('motoEndpoint')` and use unique resource names instead
 * of resetting moto, because test files run in parallel.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const check = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(
      'moto (the AWS emulator) is needed by the AWS adapter tests but `python3 -c "import moto.server"` failed.\n' +
        `Install it with: pip install 'moto[server]'\n${check.stderr ?? ''}`,
    );
  }
  const port = await freePort();
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  moto.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, () => stderr);
  project.provide('motoEndpoint', endpoint);
  return async () => {
    moto?.kill('SIGTERM');
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilUp(endpoint: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (moto?.exitCode !== null && moto?.exitCode !== undefined)
      throw new Error(`moto exited with ${moto.exitCode}:\n${stderr()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto did not answer on ${endpoint} within 30 s:\n${stderr()}`);
}
