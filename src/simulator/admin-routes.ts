import { z } from 'zod';
import type { ActionResult } from './lifecycle.js';
import { SimulatorProblem, invalidBody } from './problem.js';
import { validate } from './schemas.js';
import type { SimulatorParts } from './api-routes.js';
import { ok, type Router } from './http.js';

const AGREEMENT_ACTIONS = ['approve', 'reject', 'activate', 'deactivate', 'cancel'] as const;
type AgreementAction = (typeof AGREEMENT_ACTIONS)[number];

const customEventSchema = z.strictObject({
  type: z.string().min(1),
  subject: z.string().min(1),
  data: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Endpoints that play what happens in the Data Mesh Manager UI and scheduler (approval, the
 * start or end date being reached, ...). They exist only in the simulator, under /simulator,
 * and answer with the resulting document and the events that were emitted.
 */
export function addAdminRoutes(router: Router, { state, lifecycle }: SimulatorParts): void {
  router.on('GET', '/simulator/state', () =>
    ok({
      generation: state.config.generation,
      provisioning: state.config.provisioning,
      eventPrefix: state.config.eventPrefix,
      events: state.events.length,
      lastEventId: state.lastEventId ?? null,
      teams: [...state.teams.keys()],
      dataProducts: [...state.dataProducts.keys()],
      agreements: [...state.agreements.entries()].map(([id, a]) => ({
        id,
        status: a.status,
        active: a.active,
        provisioning: a.provisioning?.status ?? null,
      })),
    }),
  );

  router.on('POST', '/simulator/access', async (ctx) => ({
    status: 201,
    body: result(lifecycle.request(await ctx.body())),
  }));
  router.on('POST', '/simulator/access/:id/:action', (ctx) => {
    const { id, action } = ctx.params as { id: string; action: string };
    if (!(AGREEMENT_ACTIONS as readonly string[]).includes(action)) {
      throw new SimulatorProblem(404, `Unknown action '${action}'; use one of ${AGREEMENT_ACTIONS.join(', ')}.`);
    }
    const deactivate = ctx.url.searchParams.get('deactivate') !== 'false';
    return ok(result(runAction(action as AgreementAction, id, deactivate)));
  });
  router.on('DELETE', '/simulator/access/:id', ({ params }) => ok(result(lifecycle.deleteAgreement(params.id!))));

  router.on('PUT', '/simulator/dataproducts/:id', async (ctx) =>
    ok(result(lifecycle.putDataProduct(await ctx.body(), ctx.params.id!))),
  );
  router.on('DELETE', '/simulator/dataproducts/:id', (ctx) =>
    ok(result(lifecycle.deleteDataProduct(ctx.params.id!, { force: ctx.url.searchParams.get('force') === 'true' }))),
  );

  router.on('POST', '/simulator/events', async (ctx) => {
    const checked = validate(customEventSchema, await ctx.body());
    if (checked.violations) throw invalidBody(checked.violations);
    const { type, subject, data } = checked.value;
    return { status: 201, body: result(lifecycle.emitEvent(type, subject, data)) };
  });

  function runAction(action: AgreementAction, id: string, deactivate: boolean): ActionResult {
    switch (action) {
      case 'approve':
        return lifecycle.approve(id);
      case 'reject':
        return lifecycle.reject(id);
      case 'activate':
        return lifecycle.activate(id);
      case 'deactivate':
        return lifecycle.deactivate(id);
      case 'cancel':
        return lifecycle.cancel(id, { deactivate });
    }
  }
}

/** `document` is null after a delete, so the JSON always has both members. */
function result(action: ActionResult): { document: unknown; events: unknown[] } {
  return { document: action.document ?? null, events: action.events };
}
