/**
 * Output ports described by their data contract (ODCS v3 served by GET /api/datacontracts/{id}),
 * and the roles an agreement requests (docs/adr/0007-requested-roles.md): the real client against
 * the simulator, the converging core unchanged.
 */
import { describe, expect, it } from 'vitest';
import { explainAgreement } from '../../src/sync/explain.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  expectFailed,
  grantsOn,
  odpsProduct,
  ordersProduct,
  provisioningOf,
  resourcesOf,
  startWorld,
  view,
  type World,
} from './harness.js';

type Doc = Record<string, unknown>;

const s3Server = (server: string, environment: string, location: string, roles: Doc[] = []): Doc => ({
  server,
  type: 's3',
  environment,
  location,
  ...(roles.length > 0 ? { roles } : {}),
});

function contract(id: string, servers: Doc[], roles: Doc[] = []): Doc {
  return {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id,
    version: '1.0.0',
    status: 'active',
    team: { name: 'team-a' },
    servers,
    ...(roles.length > 0 ? { roles } : {}),
  };
}

/** An ODPS port with no server of its own: only `contractId` says where its data is. */
const contractPort = (name: string, contractId: string): Doc => ({ name, version: '1.0.0', contractId });

const withRoles = (doc: Doc, roles: string[]): Doc => ({ ...doc, roles });

/** The prefixes of the S3 locations an agreement's statements read (`bucket/prefix/*`). */
async function readLocations(world: World, agreementId: string): Promise<string[]> {
  const statements = (await grantsOn(world.iam)).get(agreementId)?.statements ?? [];
  return [...new Set(resourcesOf(statements).filter((r) => r.endsWith('/*')))].sort();
}

async function reasons(world: World): Promise<Record<string, string>> {
  const result = await reconcileAll(world.ctx, { dryRun: true });
  return Object.fromEntries(result.outcomes.map((o) => [o.agreementId, o.reason]));
}

describe('ports described by a data contract', () => {
  it("grants a port without a server block from its contract's production server; the contract's update moves the grant", async () => {
    const world = await startWorld({
      mesh: {
        dataContracts: [
          contract('clicks-contract', [
            s3Server('clicks-dev', 'dev', 's3://acme-clicks-dev/curated/'),
            s3Server('clicks-prod', 'prod', 's3://acme-clicks/curated/'),
            { server: 'clicks-snowflake', type: 'snowflake', environment: 'prod', account: 'acme', database: 'WEB' },
          ]),
        ],
        dataProducts: [
          odpsProduct('clicks', { ports: [contractPort('clicks-port', 'clicks-contract')] }),
          consumerProduct(),
        ],
        agreements: [agreement('agr-contract', 'clicks', 'clicks-port', { active: true })],
      },
    });
    await world.settle();
    expect(await readLocations(world, 'agr-contract')).toEqual(['arn:aws:s3:::acme-clicks/curated/*']);
    expect(view(world, 'agr-contract').tags).toContain('aws-integration-active');
    const explained = await explainAgreement(world.ctx, 'agr-contract');
    expect(explained.outcome.reason).toContain('Granted from data contract clicks-contract, server clicks-prod.');

    // The provider moves the production data: DataContractUpdatedEvent reconciles the port's agreements.
    world.sim.putDataContract(
      contract('clicks-contract', [
        s3Server('clicks-dev', 'dev', 's3://acme-clicks-dev/curated/'),
        s3Server('clicks-prod', 'prod', 's3://acme-clicks/curated/v2/'),
      ]),
    );
    const runs = await world.settle();
    const contractEvents = runs.flatMap((r) => r.results).filter((r) => r.target.kind === 'dataContract');
    expect(contractEvents.map((r) => r.outcomes.map((o) => o.agreementId))).toEqual([['agr-contract']]);
    expect(await readLocations(world, 'agr-contract')).toEqual(['arn:aws:s3:::acme-clicks/curated/v2/*']);
  });

  it('refuses a contract whose servers are ambiguous, naming the candidates and the setting; the setting picks one', async () => {
    const world = await startWorld({
      mesh: {
        dataContracts: [
          contract('twin-contract', [
            s3Server('eu', 'prod', 's3://acme-twin-eu/data/'),
            s3Server('us', 'prod', 's3://acme-twin-us/data/'),
          ]),
        ],
        dataProducts: [
          odpsProduct('twin', { ports: [contractPort('twin-port', 'twin-contract')] }),
          ordersProduct(),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-twin', 'twin', 'twin-port', { active: true }),
          agreement('agr-orders', 'orders', 'orders-s3', { active: true }),
        ],
      },
    });
    await world.settle();
    const error = await expectFailed(
      world,
      'agr-twin',
      'data contract twin-contract has 2 servers this tool could grant from (eu (s3, prod), us (s3, prod)), so which one the agreement means is ambiguous: set dataContracts.server (DMM_DATA_CONTRACT_SERVER) or dataContracts.environment',
    );
    expect(error).toMatch(/^Agreement agr-twin: output port twin-port of provider data product twin: /);
    expect((await grantsOn(world.iam)).has('agr-twin')).toBe(false);
    // The other agreement is not held back.
    expect((await grantsOn(world.iam)).get('agr-orders')?.statements).toEqual([bucketReadStatement('agr-orders')]);

    world.ctx.resolve = { ...world.ctx.resolve, dataContracts: { server: 'us' } };
    await reconcileAll(world.ctx);
    expect(await readLocations(world, 'agr-twin')).toEqual(['arn:aws:s3:::acme-twin-us/data/*']);
    expect(view(world, 'agr-twin').tags).toContain('aws-integration-active');
  });

  it('reports an agreement whose contract does not exist as failed, and grants the others', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          odpsProduct('ghost', { ports: [contractPort('ghost-port', 'no-such-contract')] }),
          ordersProduct(),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-ghost', 'ghost', 'ghost-port', { active: true }),
          agreement('agr-orders', 'orders', 'orders-s3', { active: true }),
        ],
      },
    });
    const runs = await world.settle();
    expect(runs[0]?.stats).toMatchObject({ deadLettered: 0 });
    await expectFailed(
      world,
      'agr-ghost',
      'Agreement agr-ghost: data contract no-such-contract, named by output port ghost-port of provider data product ghost, does not exist (HTTP 404), so the location of its data is unknown.',
    );
    expect((await grantsOn(world.iam)).get('agr-orders')?.statements).toEqual([bucketReadStatement('agr-orders')]);

    // Creating the contract (DataContractCreatedEvent) grants the waiting agreement.
    world.sim.putDataContract(contract('no-such-contract', [s3Server('main', 'prod', 's3://acme-ghost/data/')]));
    await world.settle();
    expect(await readLocations(world, 'agr-ghost')).toEqual(['arn:aws:s3:::acme-ghost/data/*']);
  });
});

describe('requested roles', () => {
  const rolesContract = contract(
    'orders-contract',
    [
      s3Server('all', 'prod', 's3://acme-orders-lake/orders/'),
      s3Server('eu', 'prod-eu', 's3://acme-orders-lake/orders/region=eu/', [
        { role: 'orders.analyst.eu.read', access: 'read' },
      ]),
    ],
    [
      { role: 'orders.analyst.read', access: 'read' },
      { role: 'orders.writer', access: 'write' },
    ],
  );
  const mesh = {
    dataContracts: [rolesContract],
    dataProducts: [
      // The port's own server block is the whole data set; the contract defines the roles.
      dpsProduct('orders', {
        ports: [
          {
            id: 'orders-port',
            name: 'Orders',
            type: 's3',
            server: { type: 's3', location: 's3://acme-orders-lake/orders/' },
            dataContractId: 'orders-contract',
          },
        ],
      }),
      consumerProduct(),
    ],
    agreements: [
      withRoles(agreement('agr-all', 'orders', 'orders-port', { active: true }), ['orders.analyst.read']),
      withRoles(agreement('agr-eu', 'orders', 'orders-port', { active: true }), ['orders.analyst.eu.read']),
      withRoles(agreement('agr-undefined', 'orders', 'orders-port', { active: true }), ['orders.analyst.apac.read']),
      withRoles(agreement('agr-write', 'orders', 'orders-port', { active: true }), ['orders.writer']),
      withRoles(agreement('agr-mixed', 'orders', 'orders-port', { active: true }), [
        'orders.analyst.read',
        'orders.analyst.eu.read',
      ]),
    ],
  };

  it('honours roles the contract defines with read access, narrowing to the server a role is defined on, and says so', async () => {
    const world = await startWorld({ mesh });
    await world.settle();
    expect(await readLocations(world, 'agr-all')).toEqual(['arn:aws:s3:::acme-orders-lake/orders/*']);
    // Requested "eu" only: the grant is the eu server's data, never the whole port.
    expect(await readLocations(world, 'agr-eu')).toEqual(['arn:aws:s3:::acme-orders-lake/orders/region=eu/*']);

    // The write-back PUT (strict simulator: only tags and custom may change) kept the roles verbatim.
    expect(view(world, 'agr-eu').tags).toContain('aws-integration-active');
    expect(world.sim.state.agreements.get('agr-eu')?.doc.roles).toEqual(['orders.analyst.eu.read']);
    const record = await provisioningOf(world, 'agr-eu');
    expect(record.body?.status).toBe('provisioned');
    expect(record.body?.reference).toContain('roles honoured: orders.analyst.eu.read');
    const explained = await explainAgreement(world.ctx, 'agr-eu');
    expect(explained.outcome.reason).toContain(
      'Granted from data contract orders-contract, server eu. Requested roles honoured: orders.analyst.eu.read.',
    );
    expect((await explainAgreement(world.ctx, 'agr-all')).outcome.reason).toContain(
      'Requested roles honoured: orders.analyst.read.',
    );
  });

  it('refuses roles it cannot honour exactly, with a stable message in the write-back and explain, and grants nothing for them', async () => {
    const world = await startWorld({ mesh });
    await world.settle();
    const grants = await grantsOn(world.iam);
    for (const id of ['agr-undefined', 'agr-write', 'agr-mixed']) expect(grants.has(id), id).toBe(false);

    await expectFailed(
      world,
      'agr-undefined',
      'Agreement agr-undefined: requested role "orders.analyst.apac.read" is not defined in data contract orders-contract (its roles: orders.analyst.read, orders.writer, orders.analyst.eu.read), so it cannot be honoured.',
    );
    await expectFailed(
      world,
      'agr-write',
      /requested role "orders.writer" in data contract orders-contract has access "write", but this tool grants read only/,
    );
    await expectFailed(
      world,
      'agr-mixed',
      /requested roles lead to different data \("orders.analyst.read" → the port's data, "orders.analyst.eu.read" → server eu\)/,
    );
    expect((await explainAgreement(world.ctx, 'agr-undefined')).outcome).toMatchObject({
      decision: 'failed',
      refusedBy: 'roles',
      reason: expect.stringContaining('"orders.analyst.apac.read" is not defined'),
    });

    // Stable: the next full reconcile decides the same and writes nothing (no retry loop).
    const before = world.sim.state.events.length;
    const again = await reasons(world);
    await reconcileAll(world.ctx);
    expect(world.sim.state.events.length).toBe(before);
    expect(again['agr-write']).toMatch(/has access "write"/);
  });

  it('refuses roles on a port whose agreement and port name no data contract', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [withRoles(agreement('agr-roles', 'orders', 'orders-s3', { active: true }), ['orders.read'])],
      },
    });
    await world.settle();
    await expectFailed(
      world,
      'agr-roles',
      'Agreement agr-roles requests roles "orders.read", but neither output port orders-s3 of provider data product orders nor the agreement names a data contract that defines them, so they cannot be honoured.',
    );
  });
});

describe('a contract server the port type refuses', () => {
  it('names the contract and its server in the refusal, so the provider knows where to fix it', async () => {
    const world = await startWorld({
      mesh: {
        dataContracts: [contract('wild-contract', [s3Server('main', 'prod', 's3://Not_A_Bucket/data/')])],
        dataProducts: [odpsProduct('wild', { ports: [contractPort('wild-port', 'wild-contract')] }), consumerProduct()],
        agreements: [agreement('agr-wild', 'wild', 'wild-port', { active: true })],
      },
    });
    await world.settle();
    const error = await expectFailed(
      world,
      'agr-wild',
      'Agreement agr-wild: output port wild-port of provider data product wild (server main of data contract wild-contract): server.location',
    );
    expect(error).toContain('Not_A_Bucket');
    expect((await grantsOn(world.iam)).has('agr-wild')).toBe(false);
  });
});
