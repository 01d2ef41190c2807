import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3TargetLeases } from '../../src/aws/s3-target-leases.js';
import { LeaseBusyError, type HeldLease, type TakeResult } from '../../src/interfaces/target-leases.js';
import { TargetLocks } from '../../src/sync/target-locks.js';
import { REGION, motoS3, recordCommands, unique } from './moto.js';

async function bucket(client: S3Client): Promise<string> {
  const name = unique('leases');
  await client.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  return name;
}

const T0 = Date.parse('2026-12-01T10:00:00Z');
const claim = (holder: string, expiresAt = T0 + 60_000) => ({ holder, expiresAt });
const leaseOf = (result: TakeResult): HeldLease => {
  if (!result.taken) throw new Error(`not taken: held by ${result.holder}`);
  return result.lease;
};

describe('S3TargetLeases on moto (conditional PutObject)', () => {
  it('of holders taking one lease at the same moment exactly one wins; the others learn who holds it', async () => {
    const client = motoS3();
    const leases = new S3TargetLeases({ client, bucket: await bucket(client) });
    for (let round = 0; round < 5; round++) {
      const target = `role:123456789012:contended-${round}`;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => leases.tryTake(target, claim(`holder-${i}`), T0)),
      );
      const winners = results.flatMap((r, i) => (r.taken ? [`holder-${i}`] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) if (!r.taken) expect(r).toEqual({ taken: false, ...claim(winners[0]!) });
    }
  });

  it('a held lease is refused until released; released, the next holder takes it over with If-Match', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const leases = new S3TargetLeases({ client, bucket: name });
    const target = 'resource-policy:arn:aws:s3:::orders-data';
    const sent = recordCommands(client);

    const first = leaseOf(await leases.tryTake(target, claim('a'), T0));
    expect(await leases.tryTake(target, claim('b'), T0 + 1_000)).toEqual({ taken: false, ...claim('a') });
    await first.release();
    const second = leaseOf(await leases.tryTake(target, claim('b'), T0 + 2_000));

    const puts = sent.inputs('PutObjectCommand');
    expect(puts[0]).toMatchObject({ IfNoneMatch: '*' });
    expect(puts.slice(1).every((p) => typeof p.IfMatch === 'string' || p.IfNoneMatch === '*')).toBe(true);
    const object = await client.send(new GetObjectCommand({ Bucket: name, Key: leases.objectKey(target) }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual({ target, ...claim('b') });
    await second.release();
  });

  it('taken again where it was given back, a lease costs one PutObject; changed elsewhere meanwhile, the full check runs', async () => {
    const client = motoS3();
    const leases = new S3TargetLeases({ client, bucket: await bucket(client) });
    const other = new S3TargetLeases({ client, bucket: leases['bucket'] });
    const target = 'role:123456789012:busy-consumer';
    await leaseOf(await leases.tryTake(target, claim('a'), T0)).release();

    const sent = recordCommands(client);
    const again = leaseOf(await leases.tryTake(target, claim('a2'), T0 + 1_000));
    expect(sent.names()).toEqual(['PutObjectCommand']);
    expect(sent.inputs('PutObjectCommand')[0]).toMatchObject({ IfMatch: expect.any(String) });
    // Held here: another process is refused, whatever it remembers.
    expect(await other.tryTake(target, claim('b'), T0 + 1_500)).toEqual({ taken: false, ...claim('a2') });
    await again.release();

    // Taken and given back by another process: the remembered version is stale, so it is read.
    await leaseOf(await other.tryTake(target, claim('b'), T0 + 2_000)).release();
    const held = leaseOf(await leases.tryTake(target, claim('a3'), T0 + 3_000));
    expect(sent.names().slice(-4)).toEqual([
      'PutObjectCommand',
      'PutObjectCommand',
      'GetObjectCommand',
      'PutObjectCommand',
    ]);
    expect(await other.tryTake(target, claim('c'), T0 + 3_500)).toEqual({ taken: false, ...claim('a3') });
    await held.release();
  });

  it('an expired lease (a crashed holder) is taken over, and the old holder’s late release leaves it alone', async () => {
    const client = motoS3();
    const leases = new S3TargetLeases({ client, bucket: await bucket(client) });
    const target = 'role:123456789012:crashed';
    const crashed = leaseOf(await leases.tryTake(target, claim('crashed', T0 + 10_000), T0));

    expect(await leases.tryTake(target, claim('next', T0 + 70_000), T0 + 9_999)).toMatchObject({ taken: false });
    // Two contenders for the expired lease: one takes it over.
    const after = await Promise.all([
      leases.tryTake(target, claim('next', T0 + 70_000), T0 + 10_000),
      leases.tryTake(target, claim('other', T0 + 70_000), T0 + 10_000),
    ]);
    expect(after.filter((r) => r.taken)).toHaveLength(1);
    const winner = after[0]!.taken ? 'next' : 'other';

    await crashed.release();
    expect(await leases.tryTake(target, claim('third'), T0 + 20_000)).toEqual({
      taken: false,
      ...claim(winner, T0 + 70_000),
    });
  });

  it('refuses to take over an object under the prefix that is not a lease', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const leases = new S3TargetLeases({ client, bucket: name, prefix: 'locks/' });
    const target = 'role:123456789012:foreign';
    await client.send(new PutObjectCommand({ Bucket: name, Key: leases.objectKey(target), Body: 'not json' }));
    await expect(leases.tryTake(target, claim('a'), T0)).rejects.toThrow(/is not a lease of this tool/);
  });
});

describe('TargetLocks over S3 leases', () => {
  it('runs the work of holders of overlapping targets one after another, never side by side', async () => {
    const client = motoS3();
    const leases = new S3TargetLeases({ client, bucket: await bucket(client) });
    const locks = () => new TargetLocks(leases, { ttlMs: 60_000, waitMs: 20_000 });
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    // Each holder names the shared targets in another order: taking them sorted avoids a deadlock.
    const work = (name: string, targets: string[]) =>
      locks().hold(targets, async () => {
        inside++;
        most = Math.max(most, inside);
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`${name}-`);
        inside--;
      });
    await Promise.all([
      work('a', ['role:1:x', 'role:1:y']),
      work('b', ['role:1:y', 'role:1:x']),
      work('c', ['role:1:y', 'role:1:z', 'role:1:x']),
    ]);
    expect(most).toBe(1);
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i]!.replace('+', '-'));
  });

  it('gives up with LeaseBusyError, before the work runs, when a target stays held past the wait', async () => {
    const client = motoS3();
    const leases = new S3TargetLeases({ client, bucket: await bucket(client) });
    const held = leaseOf(await leases.tryTake('role:1:busy', claim('elsewhere', Date.now() + 60_000), Date.now()));
    let ran = false;
    const error = await new TargetLocks(leases, { ttlMs: 60_000, waitMs: 200 })
      .hold(['role:1:free', 'role:1:busy'], async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseBusyError);
    expect((error as LeaseBusyError).holder).toBe('elsewhere');
    expect(ran).toBe(false);
    // What it had taken already is given back.
    expect(await leases.tryTake('role:1:free', claim('x', Date.now() + 1_000), Date.now())).toMatchObject({
      taken: true,
    });
    await held.release();
  });
});
