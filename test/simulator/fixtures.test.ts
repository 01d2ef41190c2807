import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLED_FIXTURES } from '../../src/simulator/cli.js';
import { FixtureError, startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { KEY, call, feed, names, type Doc } from './helpers.js';

const TEAM = 'id: t\nname: T\ntype: Team\n';
const PROVIDER = `dataProductSpecification: 0.0.1
id: p
info: {title: P, owner: t}
outputPorts:
  - {id: port, name: Port}
`;
const CONSUMER = 'dataProductSpecification: 0.0.1\nid: c\ninfo: {title: C, owner: t}\n';
const agreement = (id: string, extra = ''): string => `id: ${id}
info:
  purpose: test
${extra}provider: {dataProductId: p, outputPortId: port}
consumer: {dataProductId: c}
`;

async function fixtureDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-sim-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

async function loadError(files: Record<string, string>): Promise<FixtureError> {
  const dir = await fixtureDir(files);
  try {
    const sim = await startSimulator({ port: 0, fixturesDir: dir });
    await sim.close();
    throw new Error('expected the fixtures to be refused');
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureError);
    return error as FixtureError;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('fixtures', () => {
  let sim: RunningSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('loads the bundled demo mesh with readable ids, all agreements requested', async () => {
    sim = await startSimulator({ port: 0, apiKey: KEY, fixturesDir: BUNDLED_FIXTURES });
    expect([...sim.state.teams.keys()]).toEqual(['marketing', 'sales']);
    expect([...sim.state.dataProducts.keys()].sort()).toEqual([
      'clickstream',
      'marketing-analytics',
      'orders',
      'transactions',
    ]);
    expect([...sim.state.agreements.keys()]).toEqual(['agr-clickstream-s3', 'agr-orders-s3', 'agr-transactions-glue']);
    for (const stored of sim.state.agreements.values())
      expect(stored).toMatchObject({ status: 'requested', active: false });

    const consumer = (await (await call(sim, '/api/dataproducts/marketing-analytics')).json()) as Doc;
    expect(consumer.custom['aws-role-name']).toBe('marketing-analytics-consumer');
    const orders = (await (await call(sim, '/api/dataproducts/orders')).json()) as Doc;
    expect(orders.outputPorts[0].custom).toEqual({
      'output-port-type': 's3_bucket',
      'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders-data',
    });
    const glue = (await (await call(sim, '/api/dataproducts/transactions')).json()) as Doc;
    expect(Object.keys(glue.outputPorts[0].custom).sort()).toEqual([
      'aws-athena-workgroup-arn',
      'aws-glue-catalog-arn',
      'aws-glue-database-arn',
      'aws-glue-table-arn',
      'aws-s3-aws-s3-folder-arn',
      'output-port-type',
    ]);
    for (const value of Object.values(glue.outputPorts[0].custom as Record<string, string>).filter(
      (v) => v.includes(':athena:') || v.includes(':glue:'),
    )) {
      expect(value).toContain(':eu-central-1:123456789012:');
    }
    const clickstream = (await (await call(sim, '/api/dataproducts/clickstream')).json()) as Doc;
    expect(clickstream.kind).toBe('DataProduct');
    // The clickstream port has no server of its own: its data contract says where the data is.
    expect(clickstream.outputPorts[0].contractId).toBe('clickstream-contract');
    expect(clickstream.outputPorts[0].customProperties).not.toContainEqual(
      expect.objectContaining({ property: 'server' }),
    );
    const contract = (await (await call(sim, '/api/datacontracts/clickstream-contract')).json()) as Doc;
    expect(contract).toMatchObject({ apiVersion: 'v3.1.0', kind: 'DataContract', id: 'clickstream-contract' });
    expect(contract.servers.map((s: Doc) => `${s.server}:${s.type}:${s.environment}`)).toEqual([
      'clickstream-prod:s3:prod',
      'clickstream-dev:s3:dev',
      'clickstream-snowflake:snowflake:prod',
    ]);

    // The demo's point: approving an agreement activates it.
    expect(names(sim.approve('agr-orders-s3').events)).toEqual(['AccessApprovedEvent', 'AccessActivatedEvent']);
  });

  it('emits the history of each loaded document so a sync from the start sees the mesh', async () => {
    const dir = await fixtureDir({
      'teams/t.yaml': TEAM,
      'dataproducts/c.yaml': CONSUMER,
      'dataproducts/p.yaml': PROVIDER,
      'agreements/1-requested.yaml': agreement('requested'),
      'agreements/2-active.yaml': agreement('active', '  status: approved\n  active: true\n'),
      'agreements/3-hinted.yaml': `${agreement('hinted')}simulator: {active: true}\n`,
      'agreements/4-provisioned.yaml': `${agreement('provisioned', '  active: true\n')}provisioning: {status: provisioned, reference: policy-x}\n`,
      'agreements/README.md': 'not a fixture',
    });
    try {
      sim = await startSimulator({ port: 0, apiKey: KEY, fixturesDir: dir });
      const events = await feed(sim);
      expect(events.map((e) => `${e.subject}:${names([e])[0]}`)).toEqual([
        't:TeamCreatedEvent',
        'c:DataProductCreatedEvent',
        'p:DataProductCreatedEvent',
        'p:OutputPortCreatedEvent',
        'requested:AccessCreatedEvent',
        'requested:AccessRequestedEvent',
        'active:AccessCreatedEvent',
        'active:AccessRequestedEvent',
        'active:AccessApprovedEvent',
        'active:AccessActivatedEvent',
        'hinted:AccessCreatedEvent',
        'hinted:AccessRequestedEvent',
        'hinted:AccessApprovedEvent',
        'hinted:AccessActivatedEvent',
        'provisioned:AccessCreatedEvent',
        'provisioned:AccessRequestedEvent',
        'provisioned:AccessApprovedEvent',
        'provisioned:AccessActivatedEvent',
      ]);
      const hinted = (await (await call(sim, '/api/access/hinted')).json()) as Doc;
      expect(hinted).not.toHaveProperty('simulator');
      expect(hinted.info).toMatchObject({ status: 'approved', active: true });
      expect(((await (await call(sim, '/api/access/provisioned')).json()) as Doc).provisioning).toMatchObject({
        status: 'provisioned',
        reference: 'policy-x',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports every bad file with its path and field', async () => {
    const error = await loadError({
      'teams/t.yaml': TEAM,
      'teams/typo.yaml': 'id: u\nname: U\ntype: Squad\n',
      'dataproducts/c.yaml': CONSUMER,
      'dataproducts/p.yaml': PROVIDER,
      'dataproducts/broken.yaml': 'id: [unclosed\n',
      'agreements/no-port.yaml':
        'id: a\ninfo: {purpose: x}\nprovider: {dataProductId: p}\nconsumer: {dataProductId: c}\n',
      'agreements/wrong-port.yaml': agreement('b').replace('outputPortId: port', 'outputPortId: other'),
      'agreements/active-requested.yaml': agreement('d', '  status: requested\n  active: true\n'),
      'agreements/bad-hint.yaml': `${agreement('e')}simulator: {activ: true}\n`,
    });
    expect(error.problems).toEqual([
      expect.stringMatching(/^dataproducts\/broken\.yaml: not valid YAML/),
      expect.stringMatching(/^teams\/typo\.yaml: type: /),
      'agreements/active-requested.yaml: info.status: an active agreement must be approved, not requested',
      expect.stringMatching(/^agreements\/bad-hint\.yaml: simulator: .*activ/),
      expect.stringMatching(/^agreements\/no-port\.yaml: provider\.outputPortId: /),
      "agreements/wrong-port.yaml: provider.outputPortId: data product 'p' has no output port 'other'.",
    ]);
    expect(error.message).toContain('Cannot load the mesh from');
  });

  it('refuses a missing folder, a folder without fixture subfolders, and duplicate ids', async () => {
    await expect(startSimulator({ port: 0, fixturesDir: '/no/such/dir' })).rejects.toThrow(
      /'\/no\/such\/dir' is not a folder/,
    );
    const empty = await loadError({ 'notes.txt': 'hello' });
    expect(empty.problems[0]).toMatch(/has none of the folders teams\/, dataproducts\/, agreements\//);
    const duplicate = await loadError({
      'dataproducts/c.yaml': CONSUMER,
      'dataproducts/p.yaml': PROVIDER,
      'agreements/a.yaml': agreement('same'),
      'agreements/b.yaml': agreement('same'),
    });
    expect(duplicate.problems).toEqual(["agreements/b.yaml: Access 'same' already exists."]);
  });

  it('validates an in-memory mesh the same way, naming the entry', async () => {
    await expect(startSimulator({ port: 0, mesh: { teams: [{ id: 't', name: 'T' }] } })).rejects.toThrow(
      /mesh\.teams\[0\]: type: /,
    );
  });
});
