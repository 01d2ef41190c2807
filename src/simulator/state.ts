import { randomUUID } from 'node:crypto';
import type { AgreementStatus, JsonObject, ProvisioningStatus } from './schemas.js';

export type Generation = 'access' | 'datausageagreements';

/** A CloudEvent exactly as the feed serves it. */
export interface SimulatorEvent {
  specversion: '1.0';
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  principal: string;
  data: { id: string; timestamp: string; [key: string]: unknown };
}

/**
 * The AccessProvisioning record. Unset text and timestamp fields are served as null (nullable in
 * the vendor schema); `customProperties` and `links` as [] and {} (an array and an object there).
 */
export interface ProvisioningRecord {
  status: ProvisioningStatus;
  platform: string | null;
  executor: string | null;
  reference: string | null;
  diagnostics: string | null;
  note: string | null;
  provisioningStartedAt: string | null;
  provisionedAt: string | null;
  deprovisioningStartedAt: string | null;
  deprovisionedAt: string | null;
  failedAt: string | null;
  customProperties: unknown[];
  links: Record<string, string>;
}

/**
 * An agreement as stored. `doc` is the client's document without the server-managed parts;
 * status, activation and provisioning live beside it so a PUT can never overwrite them.
 */
export interface StoredAgreement {
  doc: JsonObject;
  status: AgreementStatus;
  /**
   * The real server derives `active` from status and dates on a schedule. The simulator is
   * driven explicitly instead, so tests decide when "the start date is reached".
   */
  active: boolean;
  provisioning?: ProvisioningRecord;
}

export interface StateConfig {
  generation: Generation;
  provisioning: boolean;
  /** Refuse a PUT of an existing agreement that changes more than tags and custom fields (see strict-put.ts). */
  strictPut: boolean;
  eventPrefix: string;
  now: () => Date;
}

/** Data Mesh Manager marks deleted provider products and ports with this literal id. */
const UNKNOWN = 'unknown';

const EVENT_SOURCE = 'urn:dmm-aws:simulator';

/**
 * The in-memory mesh and its event log. Maps keep insertion order, which is the creation order
 * the vendor sorts lists by; replacing a document keeps its place.
 */
export class SimulatorState {
  readonly teams = new ListedMap<string, JsonObject>();
  readonly dataProducts = new ListedMap<string, JsonObject>();
  readonly agreements = new ListedMap<string, StoredAgreement>();
  /** ODCS documents by id (src/simulator/contract-routes.ts). */
  readonly dataContracts = new Map<string, JsonObject>();
  readonly events: SimulatorEvent[] = [];
  private readonly eventPosition = new Map<string, number>();

  constructor(readonly config: StateConfig) {}

  /** Today's date (UTC) as YYYY-MM-DD, comparable with agreement start and end dates. */
  today(): string {
    return this.config.now().toISOString().slice(0, 10);
  }

  /** Appends `${prefix}.${name}` to the feed. `name` is the full event name, e.g. `TeamCreatedEvent`. */
  emit(name: string, subject: string, extraData: JsonObject = {}): SimulatorEvent {
    const time = this.config.now().toISOString();
    const event: SimulatorEvent = {
      specversion: '1.0',
      id: randomUUID(),
      type: name.includes('.') ? name : `${this.config.eventPrefix}.${name}`,
      source: EVENT_SOURCE,
      subject,
      time,
      datacontenttype: 'application/json',
      // Every change is attributed to the simulator; the vendor uses user:…, api-key:… or system.
      principal: 'system',
      data: { id: subject, ...extraData, timestamp: time },
    };
    this.eventPosition.set(event.id, this.events.length);
    this.events.push(event);
    return event;
  }

  /**
   * Agreement events carry the generation's name: `AccessActivatedEvent` today,
   * `DataUsageAgreementActivatedEvent` on servers that still serve /api/datausageagreements.
   */
  emitAgreementEvent(action: string, agreementId: string, extraData: JsonObject = {}): SimulatorEvent {
    const family = this.config.generation === 'access' ? 'Access' : 'DataUsageAgreement';
    return this.emit(`${family}${action}Event`, agreementId, extraData);
  }

  /** Events after `lastEventId` (from the start when omitted); `undefined` when the id is unknown. */
  eventsAfter(lastEventId: string | undefined, limit: number): SimulatorEvent[] | undefined {
    let start = 0;
    if (lastEventId !== undefined) {
      const position = this.eventPosition.get(lastEventId);
      if (position === undefined) return undefined;
      start = position + 1;
    }
    return this.events.slice(start, start + limit);
  }

  get lastEventId(): string | undefined {
    return this.events.at(-1)?.id;
  }

  /** The agreement as the API serves it: server-managed fields filled in, dangling references as "unknown". */
  agreementView(id: string): JsonObject | undefined {
    const served = this.servedAgreement(id);
    return served && structuredClone(served);
  }

  /**
   * What `agreementView` copies: parts of it are the stored document's own objects, so it is
   * only for serialising at once (a list page need not deep-copy 1,000 documents first).
   */
  servedAgreement(id: string): JsonObject | undefined {
    const stored = this.agreements.get(id);
    if (!stored) return undefined;
    return {
      ...stored.doc,
      // No `info.id`: neither API generation's schema has it (the id is the top-level `id`).
      info: { ...(stored.doc.info as JsonObject), status: stored.status, active: stored.active },
      provider: this.resolveProvider(stored.doc.provider as JsonObject),
      ...(this.config.provisioning && stored.provisioning ? { provisioning: stored.provisioning } : {}),
    };
  }

  /** The provider data product an agreement's view names ("unknown" once it is deleted), without building the view. */
  providerProductOf(id: string): string | undefined {
    const provider = this.agreements.get(id)?.doc.provider as JsonObject | undefined;
    if (!provider) return undefined;
    const productId = String(provider.dataProductId);
    return this.dataProducts.has(productId) ? productId : UNKNOWN;
  }

  consumerProductOf(id: string): string | undefined {
    const consumer = this.agreements.get(id)?.doc.consumer as JsonObject | undefined;
    return consumer?.dataProductId as string | undefined;
  }

  /** Whether `portId` names an output port of the product: DPS by `id`, ODPS by `name` (as the vendor connectors match). */
  hasOutputPort(productId: string, portId: string): boolean {
    const product = this.dataProducts.get(productId);
    const ports = product?.outputPorts;
    if (!Array.isArray(ports)) return false;
    return ports.some((port: JsonObject) => port.id === portId || port.name === portId);
  }

  /**
   * Computed on read rather than rewritten on delete, so re-creating a product heals its
   * agreements. A missing product also means a missing port.
   */
  private resolveProvider(provider: JsonObject): JsonObject {
    const productId = String(provider.dataProductId);
    const portId = String(provider.outputPortId);
    if (!this.dataProducts.has(productId)) return { ...provider, dataProductId: UNKNOWN, outputPortId: UNKNOWN };
    if (!this.hasOutputPort(productId, portId)) return { ...provider, outputPortId: UNKNOWN };
    return provider;
  }
}

/**
 * A Map whose keys can also be had as an array, built once per change of its keys (a key added
 * or deleted; replacing a value keeps it), so the pages of a list are sliced, not counted out
 * from the first item for every page.
 */
export class ListedMap<K, V> extends Map<K, V> {
  private listed: K[] | undefined;

  override set(key: K, value: V): this {
    if (this.listed && !this.has(key)) this.listed = undefined;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const deleted = super.delete(key);
    if (deleted) this.listed = undefined;
    return deleted;
  }

  override clear(): void {
    this.listed = undefined;
    super.clear();
  }

  /** The keys in insertion order; do not change the array. */
  keyList(): readonly K[] {
    this.listed ??= [...this.keys()];
    return this.listed;
  }
}
