import type { Lifecycle } from './lifecycle.js';
import { SimulatorProblem, notFound } from './problem.js';
import { isProvisioningTransition, type Provisioning } from './provisioning.js';
import type { JsonObject } from './schemas.js';
import type { ListedMap, SimulatorState } from './state.js';
import { accepts, ok, type RequestContext, type Reply, type Router } from './http.js';

const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';
/** The vendor's page size for the feed and for lists without a `pageSize` parameter. */
const PAGE_LIMIT = 1000;

export interface SimulatorParts {
  state: SimulatorState;
  lifecycle: Lifecycle;
  provisioning: Provisioning;
}

/** The vendor API under /api, as far as a sync of access agreements uses it. */
export function addApiRoutes(router: Router, { state, lifecycle, provisioning }: SimulatorParts): void {
  router.on('GET', '/api/events', (ctx) => {
    // A client sending `accept: application/json` gets 406 from the real server too; catch that here.
    if (!accepts(ctx.req, CLOUDEVENTS_BATCH)) {
      throw new SimulatorProblem(
        406,
        `The events feed is only available as ${CLOUDEVENTS_BATCH}; send that in the accept header.`,
      );
    }
    const lastEventId = ctx.url.searchParams.get('lastEventId') || undefined;
    const events = state.eventsAfter(lastEventId, PAGE_LIMIT);
    if (!events) {
      throw new SimulatorProblem(
        400,
        `lastEventId '${lastEventId}' is not an event of this feed. Omit it to read from the start.`,
      );
    }
    return { status: 200, body: events, contentType: CLOUDEVENTS_BATCH };
  });

  // 2026-07 servers have /api/access only; 2024-11 servers serve the same agreements under both
  // /api/access and the deprecated /api/datausageagreements (and name the events DataUsageAgreement…).
  const agreementPaths =
    state.config.generation === 'access' ? ['/api/access'] : ['/api/access', '/api/datausageagreements'];
  for (const agreements of agreementPaths) {
    router.on('GET', agreements, (ctx) => {
      // Build the served view of one page only: a list of 100,000 agreements is read page by page
      // without copying every agreement for every page.
      return pageOf(ctx, state.agreements, pageSizeParam(ctx), agreementFilter(ctx, state), (id) =>
        state.servedAgreement(id),
      );
    });
    router.on('GET', `${agreements}/:id`, ({ params }) =>
      ok(state.agreementView(params.id!) ?? missing('Access', params.id!)),
    );
    router.on('PUT', `${agreements}/:id`, async (ctx) =>
      emptyOk(lifecycle.putAgreement(ctx.params.id!, await ctx.body())),
    );
    router.on('DELETE', `${agreements}/:id`, ({ params }) => emptyOk(lifecycle.deleteAgreement(params.id!)));
    router.on('POST', `${agreements}/:id/approve`, ({ params }) => emptyOk(lifecycle.approve(params.id!)));
    router.on('POST', `${agreements}/:id/reject`, ({ params }) => emptyOk(lifecycle.reject(params.id!)));
    router.on('POST', `${agreements}/:id/cancel`, ({ params }) => emptyOk(lifecycle.cancel(params.id!)));
  }

  if (state.config.generation === 'access' && state.config.provisioning) {
    router.on('GET', '/api/access/:id/provisioning', ({ params }) => ok(provisioning.get(params.id!)));
    router.on('PUT', '/api/access/:id/provisioning', async (ctx) =>
      ok(provisioning.replace(ctx.params.id!, await ctx.body()).record),
    );
    router.on('POST', '/api/access/:id/provisioning/:transition', async (ctx) => {
      const { id, transition } = ctx.params as { id: string; transition: string };
      if (!isProvisioningTransition(transition))
        throw new SimulatorProblem(404, `Unknown provisioning transition '${transition}'.`);
      return ok(provisioning.report(id, transition, await ctx.body()).record);
    });
  }

  router.on('GET', '/api/dataproducts', (ctx) =>
    pageOf(ctx, state.dataProducts, PAGE_LIMIT, undefined, (id) => state.dataProducts.get(id)),
  );
  router.on('GET', '/api/dataproducts/:id', ({ params }) =>
    ok(state.dataProducts.get(params.id!) ?? missing('Data product', params.id!)),
  );
  router.on('PUT', '/api/dataproducts/:id', async (ctx) =>
    emptyOk(lifecycle.putDataProduct(await ctx.body(), ctx.params.id!)),
  );
  router.on('DELETE', '/api/dataproducts/:id', ({ params }) => emptyOk(lifecycle.deleteDataProduct(params.id!)));

  router.on('GET', '/api/teams', (ctx) => pageOf(ctx, state.teams, PAGE_LIMIT, undefined, (id) => state.teams.get(id)));
  router.on('GET', '/api/teams/:id', ({ params }) => ok(state.teams.get(params.id!) ?? missing('Team', params.id!)));
  router.on('PUT', '/api/teams/:id', async (ctx) => emptyOk(lifecycle.putTeam(await ctx.body(), ctx.params.id!)));
  router.on('DELETE', '/api/teams/:id', ({ params }) => emptyOk(lifecycle.deleteTeam(params.id!)));
}

const CONSUMER_TYPES = ['team', 'user', 'dataproduct'] as const;

/** The list filters of GET /api/access (2026-07): provider and consumer data product, consumer type. */
function agreementFilter(ctx: RequestContext, state: SimulatorState): ((id: string) => boolean) | undefined {
  const providerId = ctx.url.searchParams.get('providerDataProductId');
  const consumerId = ctx.url.searchParams.get('consumerDataProductId');
  const consumerType = ctx.url.searchParams.get('consumerType');
  if (consumerType !== null && !(CONSUMER_TYPES as readonly string[]).includes(consumerType)) {
    throw new SimulatorProblem(400, `consumerType must be one of ${CONSUMER_TYPES.join(', ')}, got '${consumerType}'.`);
  }
  if (!providerId && !consumerId && !consumerType) return undefined;
  // The stored references first: only an agreement they keep is viewed for its consumer type.
  return (id) =>
    (!providerId || state.providerProductOf(id) === providerId) &&
    (!consumerId || state.consumerProductOf(id) === consumerId) &&
    (!consumerType ||
      consumerTypeOf((state.servedAgreement(id) as JsonObject).consumer as JsonObject) === consumerType);
}

/** A data product consumer may name its team too; only a consumer without a product is a team's or a user's. */
function consumerTypeOf(consumer: JsonObject): (typeof CONSUMER_TYPES)[number] {
  if (typeof consumer.dataProductId === 'string') return 'dataproduct';
  return typeof consumer.teamId === 'string' ? 'team' : 'user';
}

function missing(what: string, id: string): never {
  throw notFound(what, id);
}

/** The vendor documents no body for writes and workflow actions: 200 and nothing else. */
function emptyOk(_result: unknown): Reply {
  return { status: 200 };
}

/** `pageSize` exists on the access list only: 2..10000, default 1000. */
function pageSizeParam(ctx: RequestContext): number {
  const raw = ctx.url.searchParams.get('pageSize');
  if (raw === null) return PAGE_LIMIT;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 2 || size > 10_000) {
    throw new SimulatorProblem(400, `pageSize must be an integer between 2 and 10000, got '${raw}'.`);
  }
  return size;
}

/** Page `p` (0-based) of `items`; a `Link: <…>; rel="next"` header while more pages follow. */
export function page(ctx: RequestContext, items: unknown[], pageSize: number): Reply {
  const p = pageNumber(ctx);
  return pageReply(ctx, p, items.slice(p * pageSize, (p + 1) * pageSize), (p + 1) * pageSize < items.length);
}

/**
 * Page `p` (0-based) of the map's items that match, each served as `view` makes it. Without a
 * filter the page is a slice of the map's key list: the work is the page's, whichever page it
 * is. A filter is checked from the first item on (lists are filtered by one data product, and
 * such a list is short).
 */
function pageOf<V>(
  ctx: RequestContext,
  items: ListedMap<string, V>,
  pageSize: number,
  matches: ((id: string) => boolean) | undefined,
  view: (id: string) => unknown,
): Reply {
  const p = pageNumber(ctx);
  const start = p * pageSize;
  if (!matches) {
    const keys = items.keyList();
    return pageReply(ctx, p, keys.slice(start, start + pageSize).map(view), start + pageSize < keys.length);
  }
  const body: unknown[] = [];
  let seen = 0;
  for (const id of items.keys()) {
    if (!matches(id)) continue;
    if (seen >= start + pageSize) return pageReply(ctx, p, body, true);
    if (seen >= start) body.push(view(id));
    seen++;
  }
  return pageReply(ctx, p, body, false);
}

function pageNumber(ctx: RequestContext): number {
  const raw = ctx.url.searchParams.get('p');
  const p = raw === null ? 0 : Number(raw);
  if (!Number.isInteger(p) || p < 0) throw new SimulatorProblem(400, `p must be a page number from 0, got '${raw}'.`);
  return p;
}

function pageReply(ctx: RequestContext, p: number, body: unknown[], more: boolean): Reply {
  if (!more) return ok(body);
  const next = new URL(ctx.url);
  next.searchParams.set('p', String(p + 1));
  return ok(body, { link: `<${next.href}>; rel="next"` });
}
