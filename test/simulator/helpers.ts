import {
  startSimulator,
  type MeshData,
  type RunningSimulator,
  type SimulatorOptions,
} from '../../src/simulator/server.js';

export const KEY = 'test-key';

/** A JSON document the simulator answered, read ad hoc by the tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests walk answers of any shape without declaring each one
export type Doc = Record<string, any>;
export const BATCH = 'application/cloudevents-batch+json';

/** A small mesh: one consumer, one DPS provider with port `orders-s3`, one ODPS provider with port `clicks`. */
export function smallMesh(): Required<Omit<MeshData, 'dataContracts'>> {
  return {
    teams: [
      { id: 'marketing', name: 'Marketing', type: 'Team' },
      { id: 'sales', name: 'Sales', type: 'Team' },
    ],
    dataProducts: [
      {
        dataProductSpecification: '0.0.1',
        id: 'consumer',
        info: { title: 'Consumer', owner: 'marketing' },
        custom: { 'aws-role-name': 'consumer-role' },
      },
      {
        dataProductSpecification: '0.0.1',
        id: 'orders',
        info: { title: 'Orders', owner: 'sales' },
        outputPorts: [{ id: 'orders-s3', name: 'Orders', custom: { 'output-port-type': 's3_bucket' } }],
      },
      {
        apiVersion: 'v1.0.0',
        kind: 'DataProduct',
        id: 'clicks',
        status: 'active',
        outputPorts: [
          {
            name: 'clicks',
            version: '1',
            customProperties: [{ property: 'server', value: { type: 's3', location: 's3://c/' } }],
          },
        ],
      },
    ],
    agreements: [],
  };
}

export function agreementDoc(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    info: { purpose: 'testing', startDate: '2025-01-01' },
    provider: { teamId: 'sales', dataProductId: 'orders', outputPortId: 'orders-s3' },
    consumer: { teamId: 'marketing', dataProductId: 'consumer' },
    tags: [],
    custom: {},
    ...overrides,
  };
}

export async function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({
    port: 0,
    apiKey: KEY,
    mesh: smallMesh(),
    now: () => new Date('2026-03-01T10:00:00Z'),
    ...options,
  });
}

/** fetch against the simulator with the API key (unless headers override it). */
export async function call(
  sim: RunningSimulator,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'x-api-key': KEY, ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  return fetch(`${sim.url}${path}`, { method: init.method ?? 'GET', headers, body });
}

export async function feed(
  sim: RunningSimulator,
  lastEventId?: string,
): Promise<Array<{ id: string; type: string; subject: string; data: { id: string } }>> {
  const query = lastEventId ? `?lastEventId=${encodeURIComponent(lastEventId)}` : '';
  const res = await call(sim, `/api/events${query}`, { headers: { accept: BATCH } });
  if (res.status !== 200) throw new Error(`feed answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Array<{ id: string; type: string; subject: string; data: { id: string } }>;
}

/** Event names after the prefix, e.g. `AccessActivatedEvent`. */
export const names = (events: Array<{ type: string }>): string[] =>
  events.map((e) => e.type.slice(e.type.lastIndexOf('.') + 1));
