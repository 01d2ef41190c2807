import { classifyEvent } from '../dmm/event-types.js';
import type { FeedEvent } from '../model/events.js';

/** What an event is a hint about. */
export type EventTarget =
  | { kind: 'agreement'; agreementId: string }
  | { kind: 'dataProduct'; dataProductId: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; reason: string };

/**
 * Route an event to the resource whose state may have changed. Agreement events name the
 * agreement in `data.id` (the CloudEvents `subject` as a fallback); data product and output port
 * events name the product, whose agreements (as provider or consumer) are then reconciled.
 */
export function routeEvent(event: FeedEvent): EventTarget {
  const { family, name, provisioningReport } = classifyEvent(event.type);
  const dataId = typeof event.data?.id === 'string' && event.data.id !== '' ? event.data.id : undefined;
  const subject = typeof event.subject === 'string' && event.subject !== '' ? event.subject : undefined;
  if (family === 'agreement') {
    if (provisioningReport) return { kind: 'ignore', reason: `${name} echoes a provisioning report` };
    const agreementId = dataId ?? subject;
    return agreementId
      ? { kind: 'agreement', agreementId }
      : { kind: 'invalid', reason: `${name} ${event.id} names no agreement (no data.id, no subject)` };
  }
  const productId =
    family === 'dataProduct' ? (dataId ?? subject) : name.startsWith('OutputPort') ? dataProductIdOf(event) : undefined;
  if (family === 'dataProduct' || name.startsWith('OutputPort')) {
    return productId
      ? { kind: 'dataProduct', dataProductId: productId }
      : { kind: 'invalid', reason: `${name} ${event.id} names no data product` };
  }
  return { kind: 'ignore', reason: `${name} does not affect access` };
}

function dataProductIdOf(event: FeedEvent): string | undefined {
  const id = event.data?.['dataProductId'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The FIFO group: one agreement's (or one data product's) events stay in order. */
export function messageGroupOf(event: FeedEvent): string {
  const target = routeEvent(event);
  if (target.kind === 'agreement') return `agreement:${target.agreementId}`;
  if (target.kind === 'dataProduct') return `dataproduct:${target.dataProductId}`;
  return 'unrouted';
}
