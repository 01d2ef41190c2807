import { z } from 'zod';
import type { ActionResult } from './lifecycle.js';
import { invalidBody, notFound, unprocessable } from './problem.js';
import { isObject, validate, type JsonObject } from './schemas.js';
import type { SimulatorState } from './state.js';
import { ok, type RequestContext, type Reply, type Router } from './http.js';

/**
 * Data contracts (ODCS v3 documents, as the vendor stores and serves them): the API routes the
 * sync reads (`GET /api/datacontracts`, `GET /api/datacontracts/{id}`), the vendor's PUT and
 * DELETE, and `/simulator/datacontracts/{id}` to play an edit in the UI. Every change emits
 * `DataContract{Created,Updated,Deleted}Event` with `data = {id, timestamp}`, as the spec says.
 * Documents are stored as given: the simulator serves what a tenant may hold, including
 * contracts the sync cannot read.
 */

/** The vendor's page size for the contract list. */
const PAGE_LIMIT = 1000;

const contractSchema = z.looseObject({ id: z.string().trim().min(1, 'must be a non-empty string') });

export class DataContracts {
  constructor(private readonly state: SimulatorState) {}

  get(id: string): JsonObject | undefined {
    const doc = this.state.dataContracts.get(id);
    return doc && structuredClone(doc);
  }

  list(): JsonObject[] {
    return [...this.state.dataContracts.values()].map((doc) => structuredClone(doc));
  }

  put(body: unknown, pathId?: string): ActionResult {
    const checked = validate(contractSchema, body);
    if (checked.violations) throw invalidBody(checked.violations);
    const doc = checked.value as JsonObject;
    const id = doc.id as string;
    if (pathId !== undefined && id !== pathId)
      throw unprocessable(`The id in the body ('${id}') must equal the id in the path ('${pathId}').`);
    const before = this.state.events.length;
    const existed = this.state.dataContracts.has(id);
    this.state.dataContracts.set(id, structuredClone(doc));
    this.state.emit(existed ? 'DataContractUpdatedEvent' : 'DataContractCreatedEvent', id);
    return { document: structuredClone(doc), events: this.state.events.slice(before) };
  }

  /** Like the vendor, a contract an output port still uses is refused (422) unless `force`. */
  delete(id: string, options: { force?: boolean } = {}): ActionResult {
    if (!this.state.dataContracts.has(id)) throw notFound('Data contract', id);
    if (!options.force) {
      const user = this.usedBy(id);
      if (user) throw unprocessable(`Data contract '${id}' is still used by output port ${user}.`);
    }
    const before = this.state.events.length;
    this.state.dataContracts.delete(id);
    this.state.emit('DataContractDeletedEvent', id);
    return { events: this.state.events.slice(before) };
  }

  /** `product/port` of the first output port referencing the contract (DPS `dataContractId`, ODPS `contractId`). */
  private usedBy(id: string): string | undefined {
    for (const [productId, product] of this.state.dataProducts) {
      const ports = Array.isArray(product.outputPorts) ? product.outputPorts : [];
      for (const port of ports) {
        if (isObject(port) && (port.dataContractId === id || port.contractId === id))
          return `${productId}/${String(port.id ?? port.name)}`;
      }
    }
    return undefined;
  }
}

export function addContractRoutes(router: Router, contracts: DataContracts, page: PageFn): void {
  router.on('GET', '/api/datacontracts', (ctx) => page(ctx, contracts.list(), PAGE_LIMIT));
  router.on('GET', '/api/datacontracts/:id', ({ params }) => {
    const doc = contracts.get(params.id!);
    if (!doc) throw notFound('Data contract', params.id!);
    return ok(doc);
  });
  router.on('PUT', '/api/datacontracts/:id', async (ctx) => {
    contracts.put(await ctx.body(), ctx.params.id!);
    return { status: 200 };
  });
  router.on('DELETE', '/api/datacontracts/:id', ({ params }) => {
    contracts.delete(params.id!);
    return { status: 200 };
  });

  router.on('PUT', '/simulator/datacontracts/:id', async (ctx) =>
    ok(result(contracts.put(await ctx.body(), ctx.params.id!))),
  );
  router.on('DELETE', '/simulator/datacontracts/:id', (ctx) =>
    ok(result(contracts.delete(ctx.params.id!, { force: ctx.url.searchParams.get('force') === 'true' }))),
  );
}

type PageFn = (ctx: RequestContext, items: unknown[], pageSize: number) => Reply;

function result(action: ActionResult): { document: unknown; events: unknown[] } {
  return { document: action.document ?? null, events: action.events };
}
