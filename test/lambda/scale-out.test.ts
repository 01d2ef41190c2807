/**
 * process-events with concurrency > 1 (docs/adr/0017-target-leases.md): several warm containers
 * handle batches side by side, every batch naming agreements on the same roles. Each role is
 * read, planned and written by one invocation at a time (S3 leases in the state bucket, on
 * moto), and every role ends up with exactly its agreements' statements.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import {
  agreement,
  consumerProduct,
  createFifoQueue,
  createRole,
  deliverQueue,
  feedEvent,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  queueCounts,
  s3Product,
  sendEvents,
  sqsRecord,
  statementsFor,
  useLambdaHarness,
} from './helpers.js';

const { world, out } = useLambdaHarness();

/** Which invocation an IAM call belongs to: the batch it runs for. */
const invocation = new AsyncLocalStorage<string>();

interface RoleCall {
  invocation: string;
  role: string;
  start: number;
  end: number;
}

/** Every IAM call on a role made from now on, with its invocation and when it ran. */
function instrumentRoleCalls(): RoleCall[] {
  const calls: RoleCall[] = [];
  let clock = 0;
  const methods = [
    'getRole',
    'listInlinePolicies',
    'putInlinePolicy',
    'deleteInlinePolicy',
    'listAttachedPolicies',
    'putManagedPolicy',
    'deleteManagedPolicy',
  ] as const;
  for (const name of methods) {
    const original = AwsIamAccount.prototype[name] as (this: AwsIamAccount, ...args: unknown[]) => Promise<unknown>;
    vi.spyOn(AwsIamAccount.prototype, name).mockImplementation(async function (
      this: AwsIamAccount,
      ...args: unknown[]
    ) {
      // A logical clock: an order of events, not a measure of time.
      const start = clock++;
      try {
        return await original.apply(this, args);
      } finally {
        calls.push({ invocation: invocation.getStore() ?? '(none)', role: String(args[0]), start, end: clock++ });
      }
    } as never);
  }
  return calls;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('process-events scaled out', () => {
  it('four containers on overlapping roles: no role is read-planned-written by two invocations at once, and all converge', async () => {
    const calls = instrumentRoleCalls();
    const perRole = 6;
    const roleCount = 3;
    // Agreement i is on role floor(i / perRole).
    const { ids, roles, rolePath, env } = await agreementsOnRoles('lambda-scale-out', perRole, roleCount);
    const containers = Array.from({ length: 4 }, () =>
      createProcessEventsHandler({ ...env, MANAGED_ROLE_PATH: rolePath, MAX_RECEIVE_COUNT: '5' }),
    );
    // Batch b holds agreements b, b+6 and b+12: one on each role, so every batch writes every role.
    const batches = Array.from({ length: perRole }, (_, b) =>
      Array.from({ length: roleCount }, (_, r) => {
        const id = ids[b + r * perRole]!;
        return sqsRecord({ body: JSON.stringify(feedEvent('AccessActivatedEvent', id)), groupId: `agreement:${id}` });
      }),
    );
    // Container k handles batches k and k+4 one after the other, as a warm Lambda container does.
    const responses = await Promise.all(
      containers.map(async (handler, k) => {
        const answers = [];
        for (let b = k; b < batches.length; b += containers.length)
          answers.push(await invocation.run(`batch-${b}`, () => handler({ Records: batches[b]! }, lambdaContext())));
        return answers;
      }),
    );
    expect(responses.flat().flatMap((r) => r.batchItemFailures)).toEqual([]);

    // Every role was read and written by every invocation, one at a time, and no grant was lost.
    for (const name of roles)
      expect(new Set(calls.filter((c) => c.role === name).map((c) => c.invocation)).size).toBe(perRole);
    expectOneInvocationAtATime(calls, roles);
    await expectEachRoleHoldsItsAgreements(roles, ids, perRole);
  });

  it('two containers topping up their batches from one FIFO queue: every message received once, one writer per role, every role right', async () => {
    const calls = instrumentRoleCalls();
    const perRole = 8;
    const { ids, roles, rolePath, env } = await agreementsOnRoles('lambda-top-up', perRole, 3);
    // Two events per agreement in its own group: 48 messages, each container's batch at most 20. Two
    // pollers hand over at most 20 of the 24 first events, so the handlers receive the rest.
    const queue = await createFifoQueue({ VisibilityTimeout: '300' });
    const event = (id: string) => ({
      body: JSON.stringify(feedEvent('AccessActivatedEvent', id)),
      groupId: `agreement:${id}`,
    });
    await sendEvents(queue, [...ids.map(event), ...ids.map(event)]);
    const containers = Array.from({ length: 2 }, () =>
      createProcessEventsHandler({
        ...env,
        MANAGED_ROLE_PATH: rolePath,
        MAX_RECEIVE_COUNT: '5',
        MAX_BATCH_EVENTS: '20',
      }),
    );
    let batch = 0;
    const delivered = await Promise.all(
      containers.map((handler) =>
        deliverQueue(queue, (e) => invocation.run(`batch-${batch++}`, () => handler(e, lambdaContext())), 20),
      ),
    );

    expect(delivered.flat().flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    expect(await queueCounts(queue)).toEqual({ visible: 0, inFlight: 0 });
    // Each message was received once, by an event source poller or by a handler topping up its batch.
    const handedOver = delivered.flat().reduce((n, b) => n + b.records.length, 0);
    const toppedUp = out
      .logs('info')
      .filter((l) => l.message === 'received more events from the queue')
      .reduce((n, l) => n + Number(l.received), 0);
    expect(toppedUp).toBeGreaterThan(0);
    expect(handedOver + toppedUp).toBe(48);
    expectOneInvocationAtATime(calls, roles);
    await expectEachRoleHoldsItsAgreements(roles, ids, perRole);
  });
});

/**
 * `perRole` active agreements (`agr-<i>`, each on its own provider bucket) on each of `roleCount`
 * consumer roles under one managed path: agreement i is on role floor(i / perRole).
 */
async function agreementsOnRoles(rolePrefix: string, perRole: number, roleCount: number) {
  const ids = Array.from({ length: perRole * roleCount }, (_, i) => `agr-${i}`);
  const buckets = await Promise.all(ids.map((_, i) => providerBucket(`p${i}`)));
  const { rolePath, role, dmm, env } = await world({
    rolePrefix,
    mesh: (first) => ({
      dataProducts: [
        ...ids.map((_, i) => s3Product(`p${i}`, buckets[i]!)),
        // The other consumers get their roles below, once those exist under the world's managed path.
        ...Array.from({ length: roleCount }, (_, c) => consumerProduct(`c${c}`, c === 0 ? first : 'not-yet')),
      ],
      agreements: ids.map((id, i) => agreement(id, `p${i}`, `c${Math.floor(i / perRole)}`, true)),
    }),
  });
  const roles = [role];
  for (let c = 1; c < roleCount; c++) {
    roles.push(await createRole(rolePath));
    dmm.sim.putDataProduct(consumerProduct(`c${c}`, roles[c]!));
  }
  return { ids, roles, rolePath, env };
}

/** On each role, the span from an invocation's first call to its last never overlaps another invocation's. */
function expectOneInvocationAtATime(calls: RoleCall[], roles: string[]): void {
  for (const name of roles) {
    const on = calls.filter((c) => c.role === name);
    const spans = [...new Set(on.map((c) => c.invocation))].map((inv) => {
      const mine = on.filter((c) => c.invocation === inv);
      return { inv, start: Math.min(...mine.map((c) => c.start)), end: Math.max(...mine.map((c) => c.end)) };
    });
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]!.start, `${name}: ${spans[i - 1]!.inv} and ${spans[i]!.inv} overlap`).toBeGreaterThan(
        spans[i - 1]!.end,
      );
  }
}

/** Each role holds exactly its own agreements' statements: no grant lost to a concurrent write. */
async function expectEachRoleHoldsItsAgreements(roles: string[], ids: string[], perRole: number): Promise<void> {
  for (const [r, name] of roles.entries()) {
    const policies = await inlinePolicies(name);
    for (const [i, id] of ids.entries())
      expect(statementsFor(policies, id).length > 0, `${id} on ${name}`).toBe(Math.floor(i / perRole) === r);
  }
}
