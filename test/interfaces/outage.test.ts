import { describe, expect, it } from 'vitest';
import { DmmApiError, DmmResponseFormatError } from '../../src/dmm/errors.js';
import { IamError } from '../../src/interfaces/iam-account.js';
import { isOutage } from '../../src/interfaces/outage.js';
import { AgreementFormatError } from '../../src/model/read-agreement.js';
import { StateFileError } from '../../src/local/state-store.js';

const dmm = (status: number | undefined) =>
  new DmmApiError({ method: 'GET', url: 'http://127.0.0.1/api/x', status, title: 't', attempts: 1 });

describe('isOutage', () => {
  it('counts what says nothing about the agreement: unreachable, throttled, no credentials, unreadable local state', () => {
    for (const error of [
      dmm(undefined),
      dmm(503),
      dmm(429),
      dmm(401),
      new DmmResponseFormatError('GET', 'http://127.0.0.1/api/x', 'body is not JSON'),
      new IamError('Throttling', 'Rate exceeded'),
      new StateFileError('/tmp/x.json', 'not valid JSON'),
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('InternalFailure'), { $fault: 'server' }),
      new Error('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
    ])
      expect(isOutage(error), String(error)).toBe(true);
  });

  it('does not count decisions and refusals about the agreement, or unknown errors', () => {
    for (const error of [
      dmm(400),
      dmm(409),
      new IamError('NoSuchEntity', 'role missing'),
      new IamError('LimitExceeded', 'too big'),
      new IamError('AccessDenied', 'not allowed'),
      new AgreementFormatError('agr-1', 'info.active', 'expected a boolean'),
      new Error('something else'),
      'a string',
      undefined,
    ])
      expect(isOutage(error), String(error)).toBe(false);
  });
});
