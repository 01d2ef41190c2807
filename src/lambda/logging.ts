import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogFields, Logger } from '../util/log.js';

/**
 * The project's Logger over Powertools: one JSON line per entry with Powertools' standard keys
 * (level, timestamp, service, the Lambda request id) and our fields, such as `agreementId`, as
 * top-level keys. Child fields are kept here and passed on every call rather than creating a
 * Powertools child logger, which the core does once per event and per agreement.
 *
 * Nothing here adds secrets: the core never puts the API key in fields, and DmmApiError
 * messages are redacted where they are built.
 */
export function powertoolsLogger(powertools: PowertoolsLogger, base: LogFields = {}): Logger {
  const fields = (extra: LogFields | undefined): LogFields => ({ ...base, ...extra });
  return {
    debug: (message, extra) => powertools.debug(message, fields(extra)),
    info: (message, extra) => powertools.info(message, fields(extra)),
    warn: (message, extra) => powertools.warn(message, fields(extra)),
    error: (message, extra) => powertools.error(message, fields(extra)),
    child: (extra) => powertoolsLogger(powertools, fields(extra)),
  };
}
