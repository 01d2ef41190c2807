import { describe, expect, it } from 'vitest';
import type { ContractServer, DataContract } from '../../src/model/data-contract.js';
import type { OutputPort } from '../../src/model/data-product.js';
import { servableServerTypes } from '../../src/output-ports/registry.js';
import { honourRoles, selectServer } from '../../src/sync/contract-server.js';

const server = (
  name: string,
  type: string,
  environment?: string,
  roles: ContractServer['roles'] = [],
): ContractServer => ({
  name,
  type,
  ...(environment ? { environment } : {}),
  block: { type, location: `s3://${name}/` },
  roles,
  problems: [],
});

const contract = (servers: ContractServer[], roles: DataContract['roles'] = []): DataContract => ({
  id: 'c1',
  format: 'odcs-3.1.0',
  servers,
  roles,
  raw: {},
});

const S3 = ['s3'];

describe('selectServer', () => {
  it('takes the only server of a type the port can be granted from, ignoring other platforms', () => {
    const chosen = selectServer(contract([server('sf', 'snowflake', 'prod'), server('lake', 's3', 'dev')]), S3, {});
    expect(chosen).toMatchObject({ ok: true, server: { name: 'lake' } });
  });

  it('prefers the single prod/production server when several fit and no environment is configured', () => {
    const c = contract([server('dev', 's3', 'dev'), server('main', 's3', 'Production'), server('test', 's3')]);
    expect(selectServer(c, S3, {})).toMatchObject({ ok: true, server: { name: 'main' } });
  });

  it('refuses several fitting servers without one production server, naming them and the settings', () => {
    const c = contract([server('eu', 's3', 'prod'), server('us', 's3', 'prod')]);
    expect(selectServer(c, S3, {})).toEqual({
      ok: false,
      problem:
        'data contract c1 has 2 servers this tool could grant from (eu (s3, prod), us (s3, prod)), so which one the agreement means is ambiguous: set dataContracts.server (DMM_DATA_CONTRACT_SERVER) or dataContracts.environment (DMM_DATA_CONTRACT_ENVIRONMENT), or give the output port its own server block',
    });
  });

  it('applies the operator settings: a server name and an environment, strictly', () => {
    const c = contract([server('eu', 's3', 'prod'), server('us', 's3', 'prod'), server('eu-dev', 's3', 'dev')]);
    expect(selectServer(c, S3, { server: 'us' })).toMatchObject({ ok: true, server: { name: 'us' } });
    expect(selectServer(c, S3, { environment: 'DEV' })).toMatchObject({ ok: true, server: { name: 'eu-dev' } });
    // A configured environment is a filter, not a preference: two prod servers stay ambiguous.
    expect(selectServer(c, S3, { environment: 'prod' })).toMatchObject({ ok: false });
    expect(selectServer(c, S3, { server: 'apac' })).toEqual({
      ok: false,
      problem:
        'data contract c1 has no server named "apac" (setting dataContracts.server) among the servers this tool can grant from: eu (s3, prod), us (s3, prod), eu-dev (s3, dev)',
    });
  });

  it('refuses a contract without a server of a servable type, and a chosen server with problems', () => {
    expect(selectServer(contract([server('sf', 'snowflake')]), S3, {})).toEqual({
      ok: false,
      problem:
        'data contract c1 has no server this tool can grant from (its servers: sf (snowflake); served types: s3)',
    });
    const broken = { ...server('lake', 's3'), problems: ['servers[0].customProperties: "location" contradicts'] };
    expect(selectServer(contract([broken]), S3, {})).toMatchObject({
      ok: false,
      problem: expect.stringContaining('server lake: servers[0].customProperties'),
    });
  });
});

describe('servableServerTypes', () => {
  const port = (extra: Partial<OutputPort>): OutputPort => ({ id: 'p', name: 'p', custom: {}, ...extra });
  it('follows the port: its output-port-type, its declared type, or every served type', () => {
    expect(servableServerTypes(port({ custom: { 'output-port-type': 's3_prefix' } }))).toEqual(['s3']);
    expect(servableServerTypes(port({ type: 'glue' }))).toEqual(['glue']);
    expect(servableServerTypes(port({ type: 'glue_table' }))).toEqual(['glue', 'athena']);
    expect(servableServerTypes(port({ type: 'snowflake' }))).toEqual([]);
    expect(servableServerTypes(port({}))).toEqual(expect.arrayContaining(['s3', 'glue']));
  });
});

describe('honourRoles', () => {
  const eu = server('eu', 's3', 'prod-eu', [{ role: 'eu.read', access: 'read' }]);
  const all = server('all', 's3', 'prod', [{ role: 'all.read', access: 'Read' }]);
  const c = contract(
    [all, eu],
    [{ role: 'analyst', access: 'read' }, { role: 'writer', access: 'write' }, { role: 'nothing' }],
  );

  it("honours top-level read roles as the port's data", () => {
    expect(honourRoles(['analyst'], c, undefined)).toEqual({ ok: true, honoured: ['analyst'] });
  });

  it("honours a server's role as that server's data, or the port's when it is the port's server", () => {
    expect(honourRoles(['eu.read'], c, all)).toEqual({ ok: true, honoured: ['eu.read'], server: eu });
    expect(honourRoles(['all.read', 'analyst'], c, all)).toEqual({ ok: true, honoured: ['all.read', 'analyst'] });
  });

  it('refuses undefined roles, roles that are not read, and roles leading to different data', () => {
    expect(honourRoles(['apac'], c, undefined)).toEqual({
      ok: false,
      problem:
        'requested role "apac" is not defined in data contract c1 (its roles: analyst, writer, nothing, all.read, eu.read), so it cannot be honoured',
    });
    expect(honourRoles(['writer'], c, undefined)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('has access "write", but this tool grants read only'),
    });
    expect(honourRoles(['nothing'], c, undefined)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('has no access defined'),
    });
    expect(honourRoles(['analyst', 'eu.read'], c, all)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('request these roles in separate agreements'),
    });
    expect(honourRoles(['eu.read', 'all.read'], c, undefined)).toMatchObject({ ok: false });
  });

  it('refuses a role defined on several servers when none is the port server', () => {
    const twice = contract([
      server('a', 's3', 'prod', [{ role: 'r', access: 'read' }]),
      server('b', 's3', 'dev', [{ role: 'r', access: 'read' }]),
    ]);
    expect(honourRoles(['r'], twice, undefined)).toEqual({
      ok: false,
      problem:
        'requested role "r" is defined on 2 servers of data contract c1 (a, b), so the data it grants is ambiguous',
    });
    expect(honourRoles(['r'], twice, twice.servers[1])).toEqual({ ok: true, honoured: ['r'] });
  });
});
