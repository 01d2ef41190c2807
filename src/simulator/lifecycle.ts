import { randomUUID } from 'node:crypto';
import { portChanges } from './port-events.js';
import { checkStrictPut } from './strict-put.js';
import { SimulatorProblem, invalidBody, notFound, unprocessable } from './problem.js';
import { agreementSchema, isObject, teamSchema, validate, validateDataProduct, type JsonObject } from './schemas.js';
import type { SimulatorEvent, SimulatorState, StoredAgreement } from './state.js';

/** What an action changed: the resulting document (absent after a delete) and the events it emitted. */
export interface ActionResult {
  document?: JsonObject;
  events: SimulatorEvent[];
}

export interface CancelOptions {
  /**
   * Cancel means "deactivate at the end date (can be now)". Default true: the end date becomes
   * today and an active agreement is deactivated at once. False: only AccessCanceledEvent; call
   * deactivate() later to play the end date being reached.
   */
  deactivate?: boolean;
}

/**
 * The state transitions of the mesh and the events the real server emits for them. HTTP
 * handlers, admin endpoints, fixture loading and the programmatic API all go through here so
 * they cannot disagree about which events a change produces.
 */
export class Lifecycle {
  constructor(private readonly state: SimulatorState) {}

  /** A consumer asks for access: status requested, AccessCreatedEvent + AccessRequestedEvent. */
  request(document: unknown): ActionResult {
    return this.recording(() => {
      const candidate = isObject(document) && document.id === undefined ? { ...document, id: randomUUID() } : document;
      const doc = parseAgreement(candidate);
      const id = doc.id as string;
      if (this.state.agreements.has(id)) throw new SimulatorProblem(409, `Access '${id}' already exists.`);
      this.requireReferences(doc);
      this.state.agreements.set(id, { doc: withoutServerFields(doc), status: 'requested', active: false });
      this.state.emitAgreementEvent('Created', id);
      this.state.emitAgreementEvent('Requested', id);
      return this.state.agreementView(id);
    });
  }

  /** Approves a request; like the real server it activates at once when the start date is reached. */
  approve(id: string): ActionResult {
    return this.recording(() => {
      const stored = this.agreement(id);
      if (stored.status !== 'requested')
        throw unprocessable(`Access '${id}' is ${stored.status}; only a requested access can be approved.`);
      stored.status = 'approved';
      this.state.emitAgreementEvent('Approved', id);
      if (this.withinDates(stored)) this.setActive(id, stored, true);
      return this.state.agreementView(id);
    });
  }

  reject(id: string): ActionResult {
    return this.recording(() => {
      const stored = this.agreement(id);
      if (stored.status !== 'requested')
        throw unprocessable(`Access '${id}' is ${stored.status}; only a requested access can be rejected.`);
      stored.status = 'rejected';
      this.state.emitAgreementEvent('Rejected', id);
      return this.state.agreementView(id);
    });
  }

  /** Plays "the start date is reached". Idempotent: an active agreement emits nothing again. */
  activate(id: string): ActionResult {
    return this.recording(() => {
      const stored = this.agreement(id);
      if (stored.status !== 'approved')
        throw unprocessable(`Access '${id}' is ${stored.status}; approve it before activating it.`);
      this.setActive(id, stored, true);
      return this.state.agreementView(id);
    });
  }

  /** Plays "the end date is reached". Idempotent: an inactive agreement emits nothing. */
  deactivate(id: string): ActionResult {
    return this.recording(() => {
      this.setActive(id, this.agreement(id), false);
      return this.state.agreementView(id);
    });
  }

  cancel(id: string, options: CancelOptions = {}): ActionResult {
    return this.recording(() => {
      const stored = this.agreement(id);
      if (stored.status !== 'approved')
        throw unprocessable(`Access '${id}' is ${stored.status}; only an approved access can be canceled.`);
      this.state.emitAgreementEvent('Canceled', id);
      if (options.deactivate ?? true) {
        const info = stored.doc.info as JsonObject;
        const today = this.state.today();
        if (typeof info.endDate !== 'string' || info.endDate > today) info.endDate = today;
        this.setActive(id, stored, false);
      }
      return this.state.agreementView(id);
    });
  }

  /**
   * Emits only AccessDeletedEvent, even for an active agreement. Whether the real server also
   * emits Deactivated is unverified, so the simulator takes the harder case for a sync.
   */
  deleteAgreement(id: string): ActionResult {
    return this.recording(() => {
      this.agreement(id);
      this.state.agreements.delete(id);
      this.state.emitAgreementEvent('Deleted', id);
      return undefined;
    });
  }

  /**
   * PUT semantics: the body replaces the document, but status, activation and provisioning stay
   * the server's. A new id is stored as requested with AccessCreatedEvent only; request() plays
   * the UI flow, which also emits AccessRequestedEvent.
   */
  putAgreement(pathId: string, body: unknown): ActionResult {
    return this.recording(() => {
      const doc = parseAgreement(body);
      requireSameId(doc, pathId);
      const existing = this.state.agreements.get(pathId);
      if (existing) {
        if (this.state.config.strictPut) checkStrictPut(existing.doc, doc);
        existing.doc = keepReadOnlyProvider(existing.doc, withoutServerFields(doc));
        this.state.emitAgreementEvent('Updated', pathId);
      } else {
        this.state.agreements.set(pathId, { doc: withoutServerFields(doc), status: 'requested', active: false });
        this.state.emitAgreementEvent('Created', pathId);
      }
      return this.state.agreementView(pathId);
    });
  }

  /** Stores a DPS 0.0.1 or ODPS document as given. `pathId` defaults to the document's id. */
  putDataProduct(body: unknown, pathId?: string): ActionResult {
    return this.recording(() => {
      const checked = validateDataProduct(body);
      if (checked.violations) throw invalidBody(checked.violations);
      const id = requireSameId(checked.value, pathId);
      const previous = this.state.dataProducts.get(id);
      this.state.dataProducts.set(id, structuredClone(checked.value));
      this.state.emit(previous ? 'DataProductUpdatedEvent' : 'DataProductCreatedEvent', id);
      this.emitPortEvents(id, previous, checked.value);
      return structuredClone(checked.value);
    });
  }

  /**
   * The real server refuses to delete a product used by an active access (422). `force` skips
   * that check so a test can reach the "unknown provider" state of an active agreement anyway.
   */
  deleteDataProduct(id: string, options: { force?: boolean } = {}): ActionResult {
    return this.recording(() => {
      if (!this.state.dataProducts.has(id)) throw notFound('Data product', id);
      if (!options.force) {
        const user = [...this.state.agreements.entries()].find(([, a]) => a.active && usesProduct(a, id));
        if (user) throw unprocessable(`Data product '${id}' is used in the active access '${user[0]}'.`);
      }
      const previous = this.state.dataProducts.get(id);
      this.state.dataProducts.delete(id);
      this.state.emit('DataProductDeletedEvent', id);
      this.emitPortEvents(id, previous, undefined);
      return undefined;
    });
  }

  putTeam(body: unknown, pathId?: string): ActionResult {
    return this.recording(() => {
      const checked = validate(teamSchema, body);
      if (checked.violations) throw invalidBody(checked.violations);
      const id = requireSameId(checked.value, pathId);
      const existed = this.state.teams.has(id);
      this.state.teams.set(id, structuredClone(checked.value));
      this.state.emit(existed ? 'TeamUpdatedEvent' : 'TeamCreatedEvent', id);
      return structuredClone(checked.value);
    });
  }

  deleteTeam(id: string): ActionResult {
    return this.recording(() => {
      if (!this.state.teams.delete(id)) throw notFound('Team', id);
      this.state.emit('TeamDeletedEvent', id);
      return undefined;
    });
  }

  /**
   * Appends an arbitrary event, e.g. a type the sync must skip or an old-generation name on a
   * new server. `type` is a bare name (`TagCreatedEvent`) or a full type with a prefix.
   */
  emitEvent(type: string, subject: string, data: JsonObject = {}): ActionResult {
    if (!/^[A-Za-z0-9.-]+$/.test(type))
      throw invalidBody([{ field: 'type', message: 'expected an event name like TagCreatedEvent' }]);
    return { events: [this.state.emit(type, subject, data)] };
  }

  /** Used by fixture loading, which must reproduce an agreement's history in the feed. */
  restoreAgreement(
    doc: JsonObject,
    status: StoredAgreement['status'],
    active: boolean,
    provisioning?: StoredAgreement['provisioning'],
  ): void {
    const id = doc.id as string;
    if (this.state.agreements.has(id)) throw new SimulatorProblem(409, `Access '${id}' already exists.`);
    this.requireReferences(doc);
    this.state.agreements.set(id, { doc: withoutServerFields(doc), status, active, provisioning });
    this.state.emitAgreementEvent('Created', id);
    this.state.emitAgreementEvent('Requested', id);
    if (status === 'approved') this.state.emitAgreementEvent('Approved', id);
    if (status === 'rejected') this.state.emitAgreementEvent('Rejected', id);
    if (active) this.state.emitAgreementEvent('Activated', id);
  }

  /** After the product's own event, as the real server does; `data.id` is the product's id. */
  private emitPortEvents(productId: string, before: JsonObject | undefined, after: JsonObject | undefined): void {
    for (const { action, outputPortId } of portChanges(before, after))
      this.state.emit(`OutputPort${action}Event`, productId, { outputPortId });
  }

  private recording(change: () => JsonObject | undefined): ActionResult {
    const before = this.state.events.length;
    const document = change();
    return { document, events: this.state.events.slice(before) };
  }

  private agreement(id: string): StoredAgreement {
    const stored = this.state.agreements.get(id);
    if (!stored) throw notFound('Access', id);
    return stored;
  }

  private setActive(id: string, stored: StoredAgreement, active: boolean): void {
    if (stored.active === active) return;
    stored.active = active;
    this.state.emitAgreementEvent(active ? 'Activated' : 'Deactivated', id);
  }

  private withinDates(stored: StoredAgreement): boolean {
    const info = stored.doc.info as JsonObject;
    const today = this.state.today();
    const started = typeof info.startDate !== 'string' || info.startDate <= today;
    const ended = typeof info.endDate === 'string' && info.endDate < today;
    return started && !ended;
  }

  /** A request made in the UI can only name products and ports that exist. */
  private requireReferences(doc: JsonObject): void {
    const provider = doc.provider as JsonObject;
    const consumer = doc.consumer as JsonObject;
    const productId = provider.dataProductId as string;
    const portId = provider.outputPortId as string;
    if (!this.state.dataProducts.has(productId))
      throw unprocessable(`provider.dataProductId: data product '${productId}' does not exist.`);
    if (!this.state.hasOutputPort(productId, portId)) {
      throw unprocessable(`provider.outputPortId: data product '${productId}' has no output port '${portId}'.`);
    }
    if (typeof consumer.dataProductId === 'string' && !this.state.dataProducts.has(consumer.dataProductId)) {
      throw unprocessable(`consumer.dataProductId: data product '${consumer.dataProductId}' does not exist.`);
    }
  }
}

function parseAgreement(body: unknown): JsonObject {
  const checked = validate(agreementSchema, body);
  if (checked.violations) throw invalidBody(checked.violations);
  return checked.value;
}

function requireSameId(doc: JsonObject, pathId: string | undefined): string {
  const id = doc.id as string;
  if (pathId !== undefined && id !== pathId)
    throw unprocessable(`The id in the body ('${id}') must equal the id in the path ('${pathId}').`);
  return id;
}

/** Drops what the server manages, so a stale copy in a client's PUT can never resurface. */
function withoutServerFields(doc: JsonObject): JsonObject {
  const copy = structuredClone(doc);
  delete copy.provisioning;
  delete copy.simulator;
  const info = { ...(copy.info as JsonObject) };
  delete info.status;
  delete info.active;
  delete info.id;
  copy.info = info;
  return copy;
}

/**
 * `provider.dataContractId` and `dataContractVersion` record the contract at request time and are
 * read-only: a PUT (which leaves them out, or sends a stale copy) never changes them.
 */
function keepReadOnlyProvider(stored: JsonObject, next: JsonObject): JsonObject {
  const provider = { ...(next.provider as JsonObject) };
  const before = stored.provider as JsonObject;
  for (const field of ['dataContractId', 'dataContractVersion']) {
    if (before[field] === undefined) delete provider[field];
    else provider[field] = before[field];
  }
  return { ...next, provider };
}

function usesProduct(agreement: StoredAgreement, productId: string): boolean {
  const provider = agreement.doc.provider as JsonObject;
  const consumer = agreement.doc.consumer as JsonObject;
  return provider.dataProductId === productId || consumer.dataProductId === productId;
}
