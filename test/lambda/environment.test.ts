/** The environment contract of ADR 0003: defaults, and errors that name every bad variable. */
import { describe, expect, it } from 'vitest';
import { EnvironmentError, functionIdentity, readEnvironment } from '../../src/lambda/environment.js';
import { handler as pollFeed } from '../../src/lambda/poll-feed.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { lambdaContext, scheduledEvent } from './helpers.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:dmm-api-key-AbCdEf';
const common = { DMM_BASE_URL: 'https://api.entropy-data.com', DMM_API_KEY_SECRET_ARN: SECRET_ARN, AWS_REGION: 'eu-central-1' };

function problemsOf(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return Object.fromEntries((error as EnvironmentError).problems.map((p) => [p.variable, p.problem]));
  }
  throw new Error('expected an EnvironmentError');
}

describe('environment', () => {
  it('fills in the defaults of the contract', () => {
    const env = readEnvironment('poll-feed', { ...common, EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/dmm-aws-events.fifo', STATE_BUCKET: 'state' });
    expect(env).toMatchObject({
      DMM_API_GENERATION: 'auto',
      CHECKPOINT_KEY: 'checkpoint/last-event-id.json',
      POLL_REPEAT_SECONDS: 0,
      POWERTOOLS_SERVICE_NAME: 'dmm-aws',
      POWERTOOLS_METRICS_NAMESPACE: 'dmm-aws',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(readEnvironment('reconcile', { ...common, DMM_ATHENA_RESULTS_LOCATION: '' })).toMatchObject({ MANAGED_ROLE_PATH: '/', DMM_ATHENA_WORKGROUP: 'primary' });
    expect(readEnvironment('process-events', { ...common, MAX_RECEIVE_COUNT: '5', POWERTOOLS_LOG_LEVEL: 'debug' })).toMatchObject({ MAX_RECEIVE_COUNT: 5, POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  });

  it('names every missing variable at once', () => {
    const problems = problemsOf(() => readEnvironment('poll-feed', { POLL_REPEAT_SECONDS: '' }));
    expect(problems).toEqual({
      DMM_BASE_URL: 'is not set',
      DMM_API_KEY_SECRET_ARN: 'is not set',
      AWS_REGION: 'is not set',
      EVENT_QUEUE_URL: 'is not set',
      STATE_BUCKET: 'is not set',
    });
    expect(problemsOf(() => readEnvironment('process-events', common))).toEqual({ MAX_RECEIVE_COUNT: 'is not set' });
  });

  it('names every bad variable with what it must be', () => {
    const problems = problemsOf(() =>
      readEnvironment('process-events', {
        DMM_BASE_URL: 'api.entropy-data.com',
        DMM_API_KEY_SECRET_ARN: 'the-api-key-itself',
        DMM_API_GENERATION: 'v2',
        AWS_REGION: 'eu-central-1',
        MAX_RECEIVE_COUNT: '0',
        MANAGED_ROLE_PATH: 'data-products',
        DMM_ATHENA_RESULTS_LOCATION: 'bucket/prefix',
        POWERTOOLS_LOG_LEVEL: 'loud',
      }),
    );
    expect(Object.keys(problems).sort()).toEqual([
      'DMM_API_GENERATION',
      'DMM_API_KEY_SECRET_ARN',
      'DMM_ATHENA_RESULTS_LOCATION',
      'DMM_BASE_URL',
      'MANAGED_ROLE_PATH',
      'MAX_RECEIVE_COUNT',
      'POWERTOOLS_LOG_LEVEL',
    ]);
    expect(problems.MAX_RECEIVE_COUNT).toMatch(/whole number, 1 or more/);
    expect(problems.MANAGED_ROLE_PATH).toMatch(/starts and ends with \//);
    expect(problemsOf(() => readEnvironment('poll-feed', { ...common, EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/standard', STATE_BUCKET: 's', POLL_REPEAT_SECONDS: '1.5' }))).toEqual({
      EVENT_QUEUE_URL: 'must be a FIFO queue URL (ending in .fifo)',
      POLL_REPEAT_SECONDS: 'must be a whole number of seconds, 0 or more',
    });
  });

  it('fails the invocation with the error, naming the function and the variables', async () => {
    const processEvents = createProcessEventsHandler({ ...common, MAX_RECEIVE_COUNT: 'five' });
    await expect(processEvents({ Records: [] }, lambdaContext())).rejects.toThrow(
      /^The process-events function is misconfigured: MAX_RECEIVE_COUNT must be a whole number, 1 or more .*docs\/adr\/0003/,
    );
    const reconcile = createReconcileHandler({});
    await expect(reconcile({}, lambdaContext())).rejects.toThrow(/DMM_BASE_URL is not set; DMM_API_KEY_SECRET_ARN is not set; AWS_REGION is not set/);
  });

  it('reads the exported handler\'s environment from process.env', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['DMM_BASE_URL', 'DMM_API_KEY_SECRET_ARN', 'EVENT_QUEUE_URL', 'STATE_BUCKET']) delete process.env[name];
      await expect(pollFeed(scheduledEvent('dmm-aws-poll-feed'), lambdaContext())).rejects.toMatchObject({
        name: 'EnvironmentError',
        variables: expect.arrayContaining(['DMM_BASE_URL', 'DMM_API_KEY_SECRET_ARN', 'EVENT_QUEUE_URL', 'STATE_BUCKET']),
      });
    } finally {
      process.env = saved;
    }
  });

  it('takes the managed account from the function ARN', () => {
    expect(functionIdentity('arn:aws:lambda:eu-central-1:123456789012:function:dmm-aws-process-events')).toEqual({
      partition: 'aws',
      region: 'eu-central-1',
      accountId: '123456789012',
      functionName: 'dmm-aws-process-events',
    });
    expect(functionIdentity('arn:aws-cn:lambda:cn-north-1:210987654321:function:dmm-aws-reconcile:live')).toMatchObject({ partition: 'aws-cn', accountId: '210987654321' });
    expect(() => functionIdentity('dmm-aws-reconcile')).toThrow(/not a Lambda function ARN/);
  });
});
