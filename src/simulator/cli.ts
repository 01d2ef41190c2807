import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { FixtureError } from './fixtures.js';
import { SimulatorStartError, startSimulator, type RunningSimulator, type SimulatorOptions } from './server.js';
import type { Generation } from './state.js';

/**
 * The bundled demo mesh. Two levels up from this file is the package root both for
 * src/simulator/cli.ts (vitest, tsx) and for the compiled lib/simulator/cli.js.
 */
export const BUNDLED_FIXTURES = fileURLToPath(new URL('../../examples/mesh', import.meta.url));

export interface SimulatorCliOptions {
  port: number;
  host: string;
  fixtures: string;
  apiKey: string;
  generation: Generation;
  provisioning: boolean;
  /** commander's `--no-strict-put`: false turns strict PUT checking off. */
  strictPut?: boolean;
  eventPrefix?: string;
}

/** Adds `simulator`: a local Data Mesh Manager API for trying dmm-aws without an account. */
export function registerSimulatorCommand(program: Command): Command {
  return program
    .command('simulator')
    .description('Run a local Data Mesh Manager / Entropy Data API with a demo mesh (see docs/simulator.md)')
    .option('--port <port>', 'port to listen on (0 = any free port)', parsePort, 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--fixtures <dir>', 'folder with teams/, datacontracts/, dataproducts/, agreements/', BUNDLED_FIXTURES)
    .option('--api-key <key>', 'API key clients must send (default: $DMM_API_KEY or local-dev-key)')
    .addOption(
      new Option(
        '--generation <generation>',
        'API generation to serve: access (2026-07) or datausageagreements (2024-11: both agreement paths, no provisioning)',
      )
        .choices(['access', 'datausageagreements'])
        .default('access'),
    )
    .option('--no-provisioning', 'answer 404 on /api/access/{id}/provisioning* like servers before 2026')
    .option('--no-strict-put', 'accept agreement PUTs that change more than tags and custom fields')
    .option('--event-prefix <prefix>', 'event type prefix', 'com.datamesh-manager.events')
    .action(async (raw: Omit<SimulatorCliOptions, 'apiKey'> & { apiKey?: string }) => {
      const options: SimulatorCliOptions = { ...raw, apiKey: raw.apiKey ?? process.env.DMM_API_KEY ?? 'local-dev-key' };
      const simulator = await startFromCli(options, (line) => console.log(line));
      if (!simulator) return;
      // Resolve only once stopped, so a caller awaiting parseAsync() does not exit under a running server.
      await untilInterrupted();
      console.log('\nStopping the simulator…');
      await simulator.close();
    });
}

/**
 * Starts the simulator and prints the banner. Mistakes a user can fix (bad fixtures, port in
 * use) are printed without a stack trace and set a failing exit code; returns undefined then.
 */
export async function startFromCli(
  options: SimulatorCliOptions,
  print: (line: string) => void,
): Promise<RunningSimulator | undefined> {
  const simulatorOptions: SimulatorOptions = {
    port: options.port,
    host: options.host,
    fixturesDir: options.fixtures,
    apiKey: options.apiKey,
    generation: options.generation,
    eventPrefix: options.eventPrefix,
  };
  // Only pass `provisioning` when switched off, so the older generation keeps its own default.
  if (!options.provisioning) simulatorOptions.provisioning = false;
  if (options.strictPut === false) simulatorOptions.strictPut = false;
  try {
    const simulator = await startSimulator(simulatorOptions);
    for (const line of banner(simulator, options)) print(line);
    return simulator;
  } catch (error) {
    if (error instanceof FixtureError || error instanceof SimulatorStartError) {
      console.error(`dmm-aws simulator: ${error.message}`);
      process.exitCode = 1;
      return undefined;
    }
    throw error;
  }
}

function banner(simulator: RunningSimulator, options: Pick<SimulatorCliOptions, 'fixtures' | 'generation'>): string[] {
  const { state, url, apiKey } = simulator;
  const agreementPath = state.config.generation === 'access' ? 'access' : 'datausageagreements';
  const firstAgreement = [...state.agreements.keys()][0] ?? '<id>';
  const key = `-H 'x-api-key: ${apiKey}'`;
  return [
    '',
    `Data Mesh Manager simulator listening on ${url}`,
    `  API key      ${apiKey}   (header x-api-key or Authorization: Bearer)`,
    `  generation   ${state.config.generation}${state.config.provisioning ? ' with provisioning endpoints' : ', no provisioning endpoints'}`,
    `  fixtures     ${options.fixtures}`,
    `  loaded       ${state.teams.size} teams, ${state.dataProducts.size} data products, ${state.agreements.size} agreements, ${state.events.length} events`,
    '',
    'Try:',
    `  curl ${key} -H 'accept: application/cloudevents-batch+json' ${url}/api/events`,
    `  curl ${key} ${url}/api/${agreementPath}`,
    `  curl ${key} -X POST ${url}/simulator/access/${firstAgreement}/approve     # approve (and activate)`,
    `  curl ${key} -X POST ${url}/simulator/access/${firstAgreement}/deactivate  # end date reached`,
    `  curl ${key} ${url}/simulator/state`,
    '',
    'Press Ctrl-C to stop.',
  ];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535');
  return port;
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
