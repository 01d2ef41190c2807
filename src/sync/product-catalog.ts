import type { DmmApi } from '../interfaces/dmm-api.js';
import type { DataProduct } from '../model/data-product.js';
import { cached, type ProductLookup } from './context.js';

/** The vendor's list page size: a full listing costs one request per this many products. */
const LIST_PAGE = 1000;
/** Never keep a product longer than this, whatever the events say. */
const MAX_AGE_MS = 5 * 60_000;

interface Entry {
  read: Promise<DataProduct | undefined>;
  /** When the read started: the copy shows the product as of this time or later. */
  at: number;
  /** The lookup that read it: a read made for the work at hand is newer than its events, whatever the clocks say. */
  by: object;
}

/**
 * Data products kept across units of work (the batches of one warm process-events container,
 * or one full reconcile), read in as few requests as possible.
 *
 * Reuse is safe by construction rather than by a time-to-live: work on events up to time T uses
 * only copies read at T or later (plus a margin for clock skew). Every change to a product after
 * its copy was read comes with its own event, whose reconcile reads it again; a product or
 * output port event also drops the copy at once ({@link invalidate}).
 *
 * When a unit of work needs more products than a full listing costs requests (pages, plus the
 * one detail read that checks the server lists whole documents), they are listed instead of
 * read one by one.
 */
export class ProductCatalog {
  private readonly entries = new Map<string, Entry>();
  /** Requests a full listing takes; Infinity once the server turned out to list summaries only. */
  private listingCost: number;

  constructor(
    private readonly dmm: DmmApi,
    private readonly now: () => number = Date.now,
    private readonly skewMs = 1000,
  ) {
    this.listingCost = dmm.listDataProductsInFull ? 2 : Number.POSITIVE_INFINITY;
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  /**
   * Lookups for work on events up to `newestEvent` (ms since the epoch; default now): a copy read
   * before that is read again. Teams are read once per lookup (they are rare).
   */
  lookup(newestEvent: number = this.now()): ProductLookup {
    const notBefore = newestEvent + this.skewMs;
    const self = {};
    const fresh = (id: string) => {
      const entry = this.entries.get(id);
      if (!entry) return undefined;
      if (entry.by === self) return entry;
      return entry.at < notBefore || this.now() - entry.at > MAX_AGE_MS ? undefined : entry;
    };
    const remember = (id: string, read: Promise<DataProduct | undefined>, at: number) => {
      this.entries.set(id, { read, at, by: self });
      // A failed read is forgotten, so the next caller retries it.
      read.catch(() => {
        if (this.entries.get(id)?.read === read) this.entries.delete(id);
      });
    };
    return {
      getDataProduct: (id) => {
        const hit = fresh(id);
        if (hit) return hit.read;
        const read = this.dmm.getDataProduct(id);
        remember(id, read, this.now());
        return read;
      },
      getTeam: cached((id) => this.dmm.getTeam(id)),
      // Read again for every unit of work: a contract event names no agreement the catalog could invalidate.
      getDataContract: cached((id) => this.dmm.getDataContract(id)),
      prefetch: async (ids) => {
        const missing = new Set(ids.filter((id) => !fresh(id)));
        if (missing.size <= this.listingCost || !this.dmm.listDataProductsInFull) return;
        const at = this.now();
        const listed = await this.dmm.listDataProductsInFull();
        if (!listed) {
          this.listingCost = Number.POSITIVE_INFINITY;
          return;
        }
        this.listingCost = Math.ceil(listed.length / LIST_PAGE) + 1;
        for (const product of listed) remember(product.id, Promise.resolve(product), at);
      },
    };
  }
}
