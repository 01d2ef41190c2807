import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BUNDLED_FIXTURES,
  registerSimulatorCommand,
  startFromCli,
  type SimulatorCliOptions,
} from '../../src/simulator/cli.js';
import { startSimulator } from '../../src/simulator/server.js';
import { BATCH } from './helpers.js';

function program(): Command {
  const root = new Command('dmm-aws').exitOverride();
  registerSimulatorCommand(root);
  return root;
}

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('timed out');
}

const cliOptions = (overrides: Partial<SimulatorCliOptions>): SimulatorCliOptions => ({
  port: 0,
  host: '127.0.0.1',
  fixtures: '/nonexistent',
  apiKey: 'k',
  generation: 'access',
  provisioning: true,
  ...overrides,
});

describe('simulator command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env.DMM_API_KEY;
    process.exitCode = undefined;
  });

  it('serves the bundled mesh, prints a banner with URL, key and counts, and stops on Ctrl-C', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    process.env.DMM_API_KEY = 'from-env';
    const run = program().parseAsync(['node', 'dmm-aws', 'simulator', '--port', '0']);

    const url = await waitFor(() => lines.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    const text = lines.join('\n');
    expect(text).toContain('API key      from-env');
    expect(text).toContain('2 teams, 4 data products, 3 agreements');
    expect(text).toContain(`curl -H 'x-api-key: from-env' -H 'accept: ${BATCH}' ${url}/api/events`);

    const res = await fetch(`${url}/api/access`, { headers: { 'x-api-key': 'from-env' } });
    expect(((await res.json()) as unknown[]).length).toBe(3);

    process.emit('SIGINT');
    await run;
    await expect(fetch(`${url}/api/access`, { headers: { 'x-api-key': 'from-env' } })).rejects.toThrow();
  });

  it('passes --api-key, --generation and --no-provisioning through', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const sim = await startFromCli(
      cliOptions({ fixtures: BUNDLED_FIXTURES, provisioning: false, apiKey: 'secret' }),
      () => undefined,
    );
    try {
      expect(sim!.apiKey).toBe('secret');
      expect(sim!.state.config.provisioning).toBe(false);
      const res = await fetch(`${sim!.url}/api/access/agr-orders-s3/provisioning/provisioning-started`, {
        method: 'POST',
        headers: { 'x-api-key': 'secret' },
      });
      expect(res.status).toBe(404);
    } finally {
      await sim!.close();
    }
    const old = program().commands[0]!;
    old.parseOptions(['--generation', 'datausageagreements', '--no-provisioning']);
    expect(old.opts()).toMatchObject({
      generation: 'datausageagreements',
      provisioning: false,
      port: 8080,
      host: '127.0.0.1',
    });
  });

  it('explains a bad fixtures folder without a stack trace and fails the exit code', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    expect(await startFromCli(cliOptions({ fixtures: '/no/such/mesh' }), () => undefined)).toBeUndefined();
    expect(process.exitCode).toBe(1);
    expect(errors.join('\n')).toContain("'/no/such/mesh' is not a folder");
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('explains a port in use', async () => {
    const busy = await startSimulator({ port: 0 });
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    try {
      const port = Number(new URL(busy.url).port);
      expect(await startFromCli(cliOptions({ port, fixtures: BUNDLED_FIXTURES }), () => undefined)).toBeUndefined();
      expect(errors.join('\n')).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(process.exitCode).toBe(1);
    } finally {
      await busy.close();
    }
  });
});
