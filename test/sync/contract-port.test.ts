import { describe, expect, it } from 'vitest';
import type { Agreement } from '../../src/model/agreement.js';
import type { OutputPort } from '../../src/model/data-product.js';
import { readDataContract } from '../../src/model/read-data-contract.js';
import { applyContract } from '../../src/sync/contract-port.js';

const opts = { accountId: '123456789012' };

function agreementWith(extra: Partial<Agreement> = {}): Agreement {
  return {
    id: 'a1',
    status: 'approved',
    active: true,
    provider: { dataProductId: 'p', outputPortId: 'port' },
    consumer: { dataProductId: 'c' },
    tags: [],
    custom: {},
    raw: {},
    ...extra,
  };
}

const port = (extra: Partial<OutputPort> = {}): OutputPort => ({ id: 'port', name: 'port', custom: {}, ...extra });

/** A contract lookup over raw documents that records which ids were read. */
function lookup(docs: Record<string, unknown>) {
  const read: string[] = [];
  const get = async (id: string) => {
    read.push(id);
    return id in docs ? readDataContract(docs[id]) : undefined;
  };
  return { get, read };
}

const odcs = (servers: unknown[], roles: unknown[] = []) => ({
  apiVersion: 'v3.0.2',
  kind: 'DataContract',
  id: 'k',
  servers,
  roles,
});

describe('applyContract', () => {
  it('does not read the contract of a port with its own data when no roles are requested', async () => {
    const { get, read } = lookup({});
    const own = port({ dataContractId: 'k', server: { type: 's3', location: 's3://a/b/' } });
    expect(await applyContract(agreementWith(), own, 'p', get, opts)).toEqual({ ok: true, port: own });
    expect(read).toEqual([]);
  });

  it('leaves ports of other platforms alone, roles or not: nothing read, nothing refused', async () => {
    const { get, read } = lookup({});
    const snowflake = port({ type: 'snowflake', dataContractId: 'k' });
    const withRoles = agreementWith({ roles: ['r'] });
    expect(await applyContract(withRoles, snowflake, 'p', get, opts)).toEqual({ ok: true, port: snowflake });
    const ownSnowflake = port({ type: 'snowflake', server: { type: 'snowflake' }, dataContractId: 'k' });
    expect(await applyContract(withRoles, ownSnowflake, 'p', get, opts)).toEqual({ ok: true, port: ownSnowflake });
    expect(read).toEqual([]);
  });

  it('marks an untyped port whose contract has only servers of other platforms as not ours', async () => {
    const { get } = lookup({ k: odcs([{ server: 'sf', type: 'snowflake' }]) });
    expect(await applyContract(agreementWith(), port({ dataContractId: 'k' }), 'p', get, opts)).toMatchObject({
      ok: false,
      notOurs: true,
    });
  });

  it("falls back to the agreement's contract and makes the chosen server the port's server block", async () => {
    const { get, read } = lookup({ k: odcs([{ server: 'main', type: 's3', location: 's3://a/b/', format: 'csv' }]) });
    const agreement = agreementWith({ provider: { dataProductId: 'p', outputPortId: 'port', dataContractId: 'k' } });
    expect(await applyContract(agreement, port(), 'p', get, opts)).toEqual({
      ok: true,
      port: port({ server: { type: 's3', location: 's3://a/b/', format: 'csv' } }),
      source: { dataContractId: 'k', server: 'main' },
    });
    expect(read).toEqual(['k']);
  });

  it('reports a contract it cannot read with the field, and leaves other errors (outages) to the caller', async () => {
    const { get } = lookup({ k: { apiVersion: 'v2.2.2', id: 'k' } });
    expect(await applyContract(agreementWith(), port({ dataContractId: 'k' }), 'p', get, opts)).toMatchObject({
      ok: false,
      field: 'dataContract.apiVersion',
      reason: expect.stringContaining('Data contract "k": apiVersion: is "v2.2.2"'),
    });
    const down = async () => {
      throw Object.assign(new Error('503'), { name: 'DmmApiError', status: 503 });
    };
    await expect(applyContract(agreementWith(), port({ dataContractId: 'k' }), 'p', down, opts)).rejects.toThrow('503');
  });

  it("grants a role's server instead of the port's own block, and says which roles were honoured", async () => {
    const { get } = lookup({
      k: odcs([{ server: 'eu', type: 's3', location: 's3://a/b/eu/', roles: [{ role: 'eu.read', access: 'read' }] }]),
    });
    const own = port({ dataContractId: 'k', server: { type: 's3', location: 's3://a/b/' } });
    expect(await applyContract(agreementWith({ roles: ['eu.read'] }), own, 'p', get, opts)).toEqual({
      ok: true,
      port: { ...own, server: { type: 's3', location: 's3://a/b/eu/' } },
      source: { dataContractId: 'k', server: 'eu', roles: ['eu.read'] },
    });
  });
});
