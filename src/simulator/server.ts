import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProvisioningTransition, ProvisioningReport } from '../interfaces/dmm-api.js';
import { addAdminRoutes } from './admin-routes.js';
import { addApiRoutes, page, type SimulatorParts } from './api-routes.js';
import { addContractRoutes, DataContracts } from './contract-routes.js';
import { loadFixtures, meshFixtures, readFixturesDir, type MeshData } from './fixtures.js';
import { Router, presentedApiKey, readJsonBody, send, sendProblem } from './http.js';
import { Lifecycle, type ActionResult, type CancelOptions } from './lifecycle.js';
import { SimulatorProblem } from './problem.js';
import { Provisioning, type ProvisioningResult } from './provisioning.js';
import { SimulatorState, type Generation } from './state.js';

export type { MeshData } from './fixtures.js';
export { FixtureError } from './fixtures.js';
export { SimulatorProblem } from './problem.js';
export type { Generation, ProvisioningRecord } from './state.js';

export interface SimulatorOptions {
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1: the simulator accepts any client with the key, so keep it off the network. */
  host?: string;
  /** Default 'local-dev-key'. Sent as `x-api-key` or `Authorization: Bearer`. */
  apiKey?: string;
  /** 'access' (2025+: /api/access, Access*Event) or 'datausageagreements' (2024 and earlier). Default 'access'. */
  generation?: Generation;
  /** Serve /api/access/{id}/provisioning*. Default true for 'access'; false answers 404 like older servers. */
  provisioning?: boolean;
  /**
   * Default true: a PUT of an existing agreement that changes anything but `tags` and `custom`, or
   * sends a read-only field, is refused with 400 naming the field. false accepts any PUT.
   */
  strictPut?: boolean;
  /** A folder with teams/, datacontracts/, dataproducts/ and agreements/ (see docs/simulator.md). */
  fixturesDir?: string;
  /** An in-memory mesh, loaded after `fixturesDir` when both are given. */
  mesh?: MeshData;
  /** Default 'com.datamesh-manager.events'; newer servers may use 'com.entropy-data.events'. */
  eventPrefix?: string;
  /** The simulator's clock (event times, "today" for start and end dates). Default: the system clock. */
  now?: () => Date;
}

export interface RunningSimulator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  apiKey: string;
  state: SimulatorState;
  close(): Promise<void>;
  /** Creates a requested agreement (AccessCreatedEvent + AccessRequestedEvent); `id` is generated when absent. */
  request(agreement: Record<string, unknown>): ActionResult;
  approve(id: string): ActionResult;
  reject(id: string): ActionResult;
  activate(id: string): ActionResult;
  deactivate(id: string): ActionResult;
  cancel(id: string, options?: CancelOptions): ActionResult;
  deleteAgreement(id: string): ActionResult;
  putDataProduct(dataProduct: Record<string, unknown>): ActionResult;
  deleteDataProduct(id: string, options?: { force?: boolean }): ActionResult;
  putTeam(team: Record<string, unknown>): ActionResult;
  /** Creates or replaces a data contract (DataContractCreatedEvent / DataContractUpdatedEvent). */
  putDataContract(contract: Record<string, unknown>): ActionResult;
  /** Deletes a data contract (DataContractDeletedEvent); `force` even while an output port uses it. */
  deleteDataContract(id: string, options?: { force?: boolean }): ActionResult;
  /** Appends any event, e.g. one a sync must skip: `emitEvent('TagCreatedEvent', 'tag-1')`. */
  emitEvent(type: string, subject: string, data?: Record<string, unknown>): ActionResult;
  /** Reports provisioning as a connector would (POST /api/access/{id}/provisioning/{transition}). */
  reportProvisioning(id: string, transition: ProvisioningTransition, report?: ProvisioningReport): ProvisioningResult;
}

/** A problem starting the simulator that the user can fix (port in use, bad options). */
export class SimulatorStartError extends Error {
  override name = 'SimulatorStartError';
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const generation = options.generation ?? 'access';
  if (generation !== 'access' && generation !== 'datausageagreements') {
    throw new SimulatorStartError(`Unknown generation '${String(generation)}': use 'access' or 'datausageagreements'.`);
  }
  if (generation === 'datausageagreements' && options.provisioning === true) {
    throw new SimulatorStartError(
      "The 'datausageagreements' generation has no provisioning endpoints; drop the provisioning option.",
    );
  }
  const apiKey = options.apiKey ?? 'local-dev-key';
  const state = new SimulatorState({
    generation,
    provisioning: generation === 'access' && (options.provisioning ?? true),
    strictPut: options.strictPut ?? true,
    eventPrefix: options.eventPrefix ?? 'com.datamesh-manager.events',
    now: options.now ?? (() => new Date()),
  });
  const parts: SimulatorParts = { state, lifecycle: new Lifecycle(state), provisioning: new Provisioning(state) };
  const contracts = new DataContracts(state);
  if (options.fixturesDir !== undefined)
    loadFixtures(await readFixturesDir(options.fixturesDir), parts.lifecycle, contracts);
  if (options.mesh !== undefined) loadFixtures(meshFixtures(options.mesh), parts.lifecycle, contracts);

  const router = new Router();
  addApiRoutes(router, parts);
  addAdminRoutes(router, parts);
  addContractRoutes(router, contracts, page);
  const server = createServer((req, res) => void handle(req, res, router, apiKey));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  const { lifecycle, provisioning } = parts;

  return {
    url: `http://${urlHost(host)}:${port}`,
    apiKey,
    state,
    close: () => closeServer(server),
    request: (agreement) => lifecycle.request(agreement),
    approve: (id) => lifecycle.approve(id),
    reject: (id) => lifecycle.reject(id),
    activate: (id) => lifecycle.activate(id),
    deactivate: (id) => lifecycle.deactivate(id),
    cancel: (id, cancelOptions) => lifecycle.cancel(id, cancelOptions),
    deleteAgreement: (id) => lifecycle.deleteAgreement(id),
    putDataProduct: (dataProduct) => lifecycle.putDataProduct(dataProduct),
    deleteDataProduct: (id, deleteOptions) => lifecycle.deleteDataProduct(id, deleteOptions),
    putTeam: (team) => lifecycle.putTeam(team),
    putDataContract: (contract) => contracts.put(contract),
    deleteDataContract: (id, deleteOptions) => contracts.delete(id, deleteOptions),
    emitEvent: (type, subject, data) => lifecycle.emitEvent(type, subject, data),
    reportProvisioning: (id, transition, report) => {
      if (!state.config.provisioning) throw new SimulatorProblem(404, 'Provisioning is disabled in this simulator.');
      return provisioning.report(id, transition, report ?? {});
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, router: Router, apiKey: string): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  try {
    if (presentedApiKey(req) !== apiKey) {
      throw new SimulatorProblem(
        403,
        'The API key was not found or not the expected value. Send it as x-api-key or Authorization: Bearer.',
      );
    }
    const match = router.match(req.method ?? 'GET', url.pathname);
    if (!match) throw new SimulatorProblem(404, `No endpoint ${req.method} ${url.pathname} in this simulator.`);
    if ('allowed' in match) {
      sendProblem(res, new SimulatorProblem(405, `${req.method} is not supported on ${url.pathname}.`), url.pathname, {
        allow: match.allowed.join(', '),
      });
      return;
    }
    send(res, await match.handler({ req, url, params: match.params, body: () => readJsonBody(req) }));
  } catch (error) {
    if (error instanceof SimulatorProblem) {
      sendProblem(res, error, url.pathname);
      return;
    }
    console.error('simulator: unexpected error', error);
    sendProblem(
      res,
      new SimulatorProblem(500, `Unexpected simulator error: ${(error as Error).message}`),
      url.pathname,
    );
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new SimulatorStartError(`Port ${port} on ${host} is already in use. Choose another port (--port).`));
      else if (error.code === 'EACCES')
        reject(new SimulatorStartError(`Not allowed to listen on ${host}:${port}. Choose a port above 1023.`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
        reject(new SimulatorStartError(`Cannot listen on host '${host}': no such local address.`));
      else reject(error);
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Keep-alive connections (fetch keeps them) would hold close() open; end them too. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/** A wildcard bind is reachable on loopback; IPv6 literals need brackets in a URL. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
