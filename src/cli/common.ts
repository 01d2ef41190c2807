import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createLogger, jsonLinesSink, type Logger, type LogLevel } from '../util/log.js';
import { prettySink } from './format.js';

export interface GlobalOptions {
  config?: string;
  dmmUrl?: string;
  apiGeneration?: string;
  stateDir?: string;
  awsState?: string;
  logLevel?: LogLevel;
  logFormat?: 'pretty' | 'json';
}

/** Options every command that talks to Data Mesh Manager and AWS understands. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'YAML config file (default: ./dmm-aws.yaml when present)')
    .option(
      '--dmm-url <url>',
      'Data Mesh Manager / Entropy Data API base URL (env DMM_BASE_URL; default the local simulator http://127.0.0.1:8080). The API key is read from DMM_API_KEY, never from a flag',
    )
    .option('--api-generation <generation>', 'auto | access | datausageagreements (env DMM_API_GENERATION)')
    .option(
      '--state-dir <dir>',
      'where the checkpoint, queue and dead letters live (env DMM_STATE_DIR; default ./.dmm-aws)',
    )
    .option(
      '--aws-state <file>',
      'state file of the local stand-in AWS account (env DMM_AWS_STATE_FILE; default ./.dmm-aws/aws-account.json)',
    )
    .option('--log-level <level>', 'debug | info | warn | error (env LOG_LEVEL; default info, warn for explain)')
    .option('--log-format <format>', 'pretty (default on a terminal) | json (one JSON object per line)');
}

export function configFrom(options: GlobalOptions): Config {
  return loadConfig({
    ...(options.config ? { configFile: options.config } : {}),
    flags: {
      'dmm.baseUrl': options.dmmUrl,
      'dmm.apiGeneration': options.apiGeneration,
      stateDir: options.stateDir,
      'aws.localStateFile': options.awsState,
      logLevel: options.logLevel,
    },
  });
}

/** The configured level (flag, LOG_LEVEL, config file), else the command's own default. */
export function loggerFrom(options: GlobalOptions, config: Config, defaultLevel: LogLevel = 'info'): Logger {
  const format = options.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty' && format !== 'json')
    throw new Error(`--log-format must be pretty or json, got '${String(format)}'`);
  return createLogger(format === 'json' ? jsonLinesSink() : prettySink(), config.logLevel ?? defaultLevel);
}

/** Progress on stderr: a rewritten line on a terminal, a line per 10 % elsewhere. */
export function progressReporter(label: string): (p: { phase: string; done: number; total: number }) => void {
  let lastShown = -1;
  return ({ phase, done, total }) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label}: ${phase} ${done}/${total} (${percent}%)   ${done === total ? '\n' : ''}`);
    } else if (Math.floor(percent / 10) !== Math.floor(lastShown / 10) || done === total) {
      process.stderr.write(`${label}: ${phase} ${done}/${total} (${percent}%)\n`);
    }
    lastShown = done === total ? -1 : percent;
  };
}
