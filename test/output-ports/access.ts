/**
 * Access matrices for the port types: the statements a plan grants, constrained by the default
 * guardrails as the sync writes them, evaluated by an IAM policy simulator (iam-simulate).
 */
import { expect } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import type { OutputPort } from '../../src/model/data-product.js';
import type { ResolveOptions } from '../../src/output-ports/port-type.js';
import { planPort } from '../../src/output-ports/registry.js';
import { constrainStatements, defaultGuardrails } from '../../src/sync/guardrails.js';
import { evaluatePolicies, type Decision, type Request } from '../security/helpers.js';
import { ACCOUNT, CONSUMER, OPTS } from './fixtures.js';

/** A key policy that lets the account's identity policies use the key (KMS needs one). */
const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

export type AccessRequest = Omit<Request, 'resourceAccount'> & { resourceAccount?: string };

/**
 * Grants the port to the fixtures' consumer role and expects every request of `allowed` to be
 * Allowed and every one of `denied` denied. Requests are in the fixtures' account by default.
 */
export async function expectAccess(
  port: OutputPort,
  allowed: AccessRequest[],
  denied: AccessRequest[],
  opts: ResolveOptions = OPTS,
): Promise<void> {
  const plan = planPort(port, opts, CONSUMER);
  if (!plan.ok) throw new Error(plan.problem);
  const statements = constrainStatements(identityStatements(plan.grants), defaultGuardrails(ACCOUNT));
  const policies = [{ name: 'grants', policy: { Version: '2012-10-17', Statement: statements } }];
  const decide = async (requests: AccessRequest[]) => {
    const out: Record<string, Decision> = {};
    for (const r of requests) {
      const request: Request = {
        ...r,
        resourceAccount: r.resourceAccount ?? ACCOUNT,
        ...(r.action.startsWith('kms:') && !r.resourcePolicy ? { resourcePolicy: KEY_POLICY } : {}),
      };
      const key = `${r.action} ${r.resource}${r.context ? ` ${JSON.stringify(r.context)}` : ''}`;
      out[key] = await evaluatePolicies(policies, request, CONSUMER.roleArn);
    }
    return out;
  };
  const onlyAllowed = await decide(allowed);
  expect(onlyAllowed).toEqual(Object.fromEntries(Object.keys(onlyAllowed).map((k) => [k, 'Allowed'])));
  const onlyDenied = await decide(denied);
  expect(onlyDenied).toEqual(Object.fromEntries(Object.keys(onlyDenied).map((k) => [k, 'ImplicitlyDenied'])));
}
