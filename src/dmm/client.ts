import { z } from 'zod';
import type { Agreement } from '../model/agreement.js';
import type { DataContract } from '../model/data-contract.js';
import type { DataProduct } from '../model/data-product.js';
import type { FeedEvent } from '../model/events.js';
import { AgreementFormatError, readAgreement } from '../model/read-agreement.js';
import { readDataContract } from '../model/read-data-contract.js';
import { readDataProduct } from '../model/read-data-product.js';
import { canonicalJson } from '../util/canonical-json.js';
import { mapLimit } from '../util/map-limit.js';
import type {
  AgreementFilter,
  DmmApi,
  ProvisioningReport,
  ProvisioningTransition,
  Team,
} from '../interfaces/dmm-api.js';
import { DmmApiError, DmmResponseFormatError } from './errors.js';
import { DmmHttp, GONE, type DmmResponse, type Gone, type HttpOptions } from './http.js';
import { nextLink } from './link.js';
import { type EventFormatError, readEventBatch } from './read-events.js';

/** `access`: 2025+ servers (`/api/access`); `datausageagreements`: 2024 and earlier. */
export type ApiGeneration = 'access' | 'datausageagreements';

export interface DmmHttpClientOptions extends HttpOptions {
  /** Default 'auto': probe `/api/access` once and fall back to the older API on 404. */
  apiGeneration?: ApiGeneration | 'auto';
  /** Told of each feed event left out because it has no readable id (the rest of its batch goes on). */
  onUnreadableEvent?: (error: EventFormatError) => void;
}

const PAGE_SIZE = 1000;
/** A pagination bound far above any real organisation; reaching it means the server loops. */
const MAX_PAGES = 10_000;
/** Parallel detail fetches in listDataProducts: fast enough, gentle on the server. */
const DETAIL_CONCURRENCY = 4;

const teamSchema = z.looseObject({ id: z.string().min(1), name: z.string().nullish() });
const listedIdSchema = z.looseObject({ id: z.string().min(1) });

export class DmmHttpClient implements DmmApi {
  private readonly http: DmmHttp;
  private readonly configuredGeneration: ApiGeneration | 'auto';
  private detectedGeneration: Promise<ApiGeneration> | undefined;
  /**
   * Whether the server has the provisioning endpoints: unknown until one call answers. Only
   * set to false when a 404 came for an agreement that exists, so a deleted agreement does
   * not switch provisioning reports off for the life of the client.
   */
  private provisioningSupported: boolean | undefined;
  private readonly onUnreadableEvent: ((error: EventFormatError) => void) | undefined;

  constructor(options: DmmHttpClientOptions) {
    this.http = new DmmHttp(options);
    this.configuredGeneration = options.apiGeneration ?? 'auto';
    this.onUnreadableEvent = options.onUnreadableEvent;
  }

  /** The API generation in use, detecting it on first use when configured as 'auto'. */
  apiGeneration(): Promise<ApiGeneration> {
    if (this.configuredGeneration !== 'auto') return Promise.resolve(this.configuredGeneration);
    this.detectedGeneration ??= this.detectGeneration().catch((error: unknown) => {
      // A failed probe (network, 403) says nothing about the server: try again next time.
      this.detectedGeneration = undefined;
      throw error;
    });
    return this.detectedGeneration;
  }

  async pollEvents(lastEventId?: string): Promise<FeedEvent[]> {
    const response = await this.http.request('GET', '/api/events', {
      query: { lastEventId },
      accept: 'application/cloudevents-batch+json',
    });
    const page = this.expectFound('GET', '/api/events', response);
    return readEventBatch(this.expectArray('GET', page), this.onUnreadableEvent);
  }

  async getAgreement(id: string): Promise<Agreement | undefined> {
    const response = await this.http.request('GET', await this.agreementPath(id));
    return response === GONE ? undefined : readAgreement(response.body);
  }

  async listAgreements(
    filter: AgreementFilter = {},
    onUnreadable?: (error: AgreementFormatError) => void,
  ): Promise<Agreement[]> {
    const generation = await this.apiGeneration();
    // Only /api/access documents paging and filters; the older list answers everything at once.
    const query = generation === 'access' ? { p: 0, pageSize: PAGE_SIZE, ...filter } : {};
    const agreements: Agreement[] = [];
    for await (const item of this.paginate(`/api/${generation}`, query)) {
      try {
        agreements.push(readAgreement(item));
      } catch (error) {
        if (!(error instanceof AgreementFormatError) || !onUnreadable) throw error;
        onUnreadable(error);
      }
    }
    // Filter here as well: a server that ignores unknown query parameters would return all.
    return agreements.filter(
      (a) =>
        (filter.providerDataProductId === undefined || a.provider.dataProductId === filter.providerDataProductId) &&
        (filter.consumerDataProductId === undefined || a.consumer.dataProductId === filter.consumerDataProductId),
    );
  }

  async putAgreement(id: string, document: Record<string, unknown>): Promise<void> {
    const path = await this.agreementPath(id);
    this.expectFound('PUT', path, await this.http.request('PUT', path, { body: document }));
  }

  async getDataProduct(id: string): Promise<DataProduct | undefined> {
    const response = await this.http.request('GET', `/api/dataproducts/${segment(id)}`);
    return response === GONE ? undefined : readDataProduct(response.body);
  }

  /**
   * The list endpoint "may return only top-level properties", so each product is fetched in
   * full. Products deleted between the list and the fetch are left out.
   */
  async listDataProducts(): Promise<DataProduct[]> {
    const listed = await this.listedProducts();
    const products = await mapLimit(listed, DETAIL_CONCURRENCY, (item) => this.getDataProduct(item.id));
    return products.filter((p): p is DataProduct => p !== undefined);
  }

  /** A listed product that cannot be read is left out: reading it by id names its problem. */
  async listDataProductsInFull(): Promise<DataProduct[] | undefined> {
    return this.wholeDocuments(await this.listedProducts());
  }

  private async listedProducts(): Promise<{ id: string; raw: unknown }[]> {
    const listed: { id: string; raw: unknown }[] = [];
    for await (const item of this.paginate('/api/dataproducts', { p: 0 })) {
      const parsed = listedIdSchema.safeParse(item);
      if (!parsed.success)
        throw new DmmResponseFormatError('GET', '/api/dataproducts', `data product #${listed.length} has no id`);
      listed.push({ id: parsed.data.id, raw: item });
    }
    return listed;
  }

  /**
   * The listed products, when the list serves whole documents: the largest listed item is read
   * by id and must be identical. A server lists all products alike, so one read decides.
   */
  private async wholeDocuments(listed: { id: string; raw: unknown }[]): Promise<DataProduct[] | undefined> {
    if (listed.length === 0) return [];
    // Sorting keys changes no length: only the probe is put in canonical form.
    const lengths = listed.map((item) => JSON.stringify(item.raw).length);
    const probe = lengths.reduce((best, length, i) => (length > lengths[best]! ? i : best), 0);
    const detail = await this.http.request('GET', `/api/dataproducts/${segment(listed[probe]!.id)}`);
    if (detail === GONE || canonicalJson(detail.body) !== canonicalJson(listed[probe]!.raw)) return undefined;
    const products: DataProduct[] = [];
    for (const item of listed) {
      try {
        products.push(readDataProduct(item.raw));
      } catch {
        // Left out; see listDataProductsInFull.
      }
    }
    return products;
  }

  async getTeam(id: string): Promise<Team | undefined> {
    const path = `/api/teams/${segment(id)}`;
    const response = await this.http.request('GET', path);
    if (response === GONE) return undefined;
    const parsed = teamSchema.safeParse(response.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DmmResponseFormatError(
        'GET',
        path,
        `team ${issue?.path.join('.') || '(document)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const raw = response.body as Record<string, unknown>;
    return parsed.data.name ? { id: parsed.data.id, name: parsed.data.name, raw } : { id: parsed.data.id, raw };
  }

  /** ODCS v3 as served (or the deprecated Data Contract Specification); 404 is `undefined`. */
  async getDataContract(id: string): Promise<DataContract | undefined> {
    const response = await this.http.request('GET', `/api/datacontracts/${segment(id)}`);
    return response === GONE ? undefined : readDataContract(response.body);
  }

  /**
   * Returns 'unsupported' when the server has no provisioning endpoints, and also when the
   * agreement no longer exists (the interface has no third answer; the caller's fallback,
   * writing tags, then finds the agreement gone as well). Transitions are idempotent on the
   * server ("latest report wins"), so the retries of the request layer are safe here.
   */
  async reportProvisioning(
    agreementId: string,
    transition: ProvisioningTransition,
    report: ProvisioningReport,
  ): Promise<'reported' | 'unsupported'> {
    if ((await this.apiGeneration()) === 'datausageagreements' || this.provisioningSupported === false)
      return 'unsupported';
    const agreementPath = `/api/access/${segment(agreementId)}`;
    let response: DmmResponse | Gone;
    try {
      response = await this.http.request('POST', `${agreementPath}/provisioning/${transition}`, { body: report });
    } catch (error) {
      // Some servers and proxies answer an unknown route with 405 or 501 instead of 404.
      if (error instanceof DmmApiError && (error.status === 405 || error.status === 501)) {
        this.provisioningSupported = false;
        return 'unsupported';
      }
      throw error;
    }
    if (response !== GONE) {
      this.provisioningSupported = true;
      return 'reported';
    }
    if (this.provisioningSupported === undefined && (await this.http.request('GET', agreementPath)) !== GONE) {
      this.provisioningSupported = false;
    }
    return 'unsupported';
  }

  private async detectGeneration(): Promise<ApiGeneration> {
    const probe = await this.http.request('GET', '/api/access', { query: { p: 0, pageSize: 2 } });
    return probe === GONE ? 'datausageagreements' : 'access';
  }

  private async agreementPath(id: string): Promise<string> {
    return `/api/${await this.apiGeneration()}/${segment(id)}`;
  }

  /**
   * Yields the items of every page, following `Link: <...>; rel="next"`. A repeated URL or an
   * absurd page count is an error, not an early stop: a silently truncated list would make a
   * full reconcile revoke grants whose agreements it never saw.
   */
  private async *paginate(path: string, query: Record<string, string | number | undefined>): AsyncGenerator<unknown> {
    let url: URL | undefined = this.http.resolve(path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url.href))
        throw new DmmResponseFormatError('GET', url.href, 'pagination loops back to a page already read');
      if (seen.size >= MAX_PAGES) throw new DmmResponseFormatError('GET', url.href, `more than ${MAX_PAGES} pages`);
      seen.add(url.href);
      const page = this.expectFound('GET', url.href, await this.http.request('GET', url));
      yield* this.expectArray('GET', page);
      const next = nextLink(page.headers.get('link'));
      url = next === undefined ? undefined : this.http.resolveLink(next, page.url);
    }
  }

  private expectFound(method: string, path: string, response: DmmResponse | Gone): DmmResponse {
    if (response !== GONE) return response;
    const url = path.startsWith('/') ? this.http.resolve(path).href : path;
    throw new DmmApiError({ status: 404, title: 'Not Found', url, method, attempts: 1 });
  }

  private expectArray(method: string, response: DmmResponse): unknown[] {
    if (Array.isArray(response.body)) return response.body;
    const got = response.body === undefined ? 'an empty body' : response.body === null ? 'null' : typeof response.body;
    throw new DmmResponseFormatError(method, response.url, `expected a JSON array, got ${got}`);
  }
}

/** Ids are opaque: encode them so `a/b` or `x?y` cannot change which resource is addressed. */
function segment(id: string): string {
  // An empty id would turn `/api/access/{id}` into the list endpoint.
  if (id === '') throw new Error('An empty id cannot address a Data Mesh Manager resource');
  return encodeURIComponent(id);
}
