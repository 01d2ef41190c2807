import type { OutputPort } from '../../src/model/data-product.js';
import type { PolicyDocument, PolicyStatement } from '../../src/model/policy.js';
import type { Consumer, ResolveOptions } from '../../src/output-ports/port-type.js';

export const ACCOUNT = '111122223333';
export const OPTS: ResolveOptions = { accountId: ACCOUNT, defaultRegion: 'eu-central-1' };
/** The consumer role the plans grant to. */
export const CONSUMER: Consumer = { roleArn: `arn:aws:iam::${ACCOUNT}:role/consumer`, account: ACCOUNT };

export function port(partial: Partial<OutputPort> = {}): OutputPort {
  return { id: 'orders', name: 'orders', custom: {}, ...partial };
}

export function document(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** The characters IAM counts (whitespace excluded) for a minified document. */
export function iamSize(statements: PolicyStatement[]): number {
  return JSON.stringify(document(statements)).replace(/\s/g, '').length;
}
