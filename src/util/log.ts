/**
 * Structured logging: one JSON object per line, always with a message and, where there is one,
 * the agreement id, so every decision is one line a person can grep. Secrets never go in fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (level: LogLevel, message: string, fields: LogFields) => void;

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', base: LogFields = {}): Logger {
  const emit =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}) => {
      if (ORDER[level] >= ORDER[minLevel]) sink(level, message, { ...base, ...fields });
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(sink, minLevel, { ...base, ...fields }),
  };
}

/** JSON lines on a stream (stderr by default, so stdout stays free for plan output). */
export function jsonLinesSink(stream: NodeJS.WritableStream = process.stderr): LogSink {
  return (level, message, fields) => {
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }, errorReplacer)}\n`);
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/** A logger that keeps entries in memory: for tests and for the demo's narration. */
export function memoryLogger(
  minLevel: LogLevel = 'debug',
): Logger & { entries: { level: LogLevel; message: string; fields: LogFields }[] } {
  const entries: { level: LogLevel; message: string; fields: LogFields }[] = [];
  const logger = createLogger((level, message, fields) => entries.push({ level, message, fields }), minLevel);
  return Object.assign(logger, { entries });
}

export const silentLogger: Logger = createLogger(() => {}, 'error');
