import { classifyEvent } from '../dmm/event-types.js';
import type { FeedEvent } from '../model/events.js';

/** What an event is a hint about. */
export type EventTarget =
  | { kind: 'agreement'; agreementId: string }
  /** With `outputPortId` for output port events: only that port's agreements can have changed. */
  | { kind: 'dataProduct'; dataProductId: string; outputPortId?: string }
  /** A team changed: the agreements it requested as consumer (its role may have changed). */
  | { kind: 'team'; teamId: string }
  /** A data contract changed: the agreements whose port or agreement names it. */
  | { kind: 'dataContract'; dataContractId: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; reason: string };

/**
 * Route an event to the resource whose state may have changed. Agreement events name the
 * agreement in `data.id` (the CloudEvents `subject` as a fallback); data product events name the
 * product the same way, and its agreements (as provider or consumer) are then reconciled.
 * Output port events carry `data = {id: <data product id>, outputPortId, timestamp}` (the
 * 2026-07 OpenAPI's OutputPort*Event schemas); `data.dataProductId` is accepted as well.
 */
export function routeEvent(event: FeedEvent): EventTarget {
  if (typeof event.unreadable === 'string') return { kind: 'invalid', reason: event.unreadable };
  const { family, name, provisioningReport } = classifyEvent(event.type);
  const dataId = nonEmpty(event.data?.id);
  const subject = nonEmpty(event.subject);
  switch (family) {
    case 'agreement': {
      if (provisioningReport) return { kind: 'ignore', reason: `${name} echoes a provisioning report` };
      const agreementId = dataId ?? subject;
      return agreementId
        ? { kind: 'agreement', agreementId }
        : { kind: 'invalid', reason: `${name} ${event.id} names no agreement (no data.id, no subject)` };
    }
    case 'dataProduct': {
      const dataProductId = dataId ?? subject;
      return dataProductId
        ? { kind: 'dataProduct', dataProductId }
        : { kind: 'invalid', reason: `${name} ${event.id} names no data product (no data.id, no subject)` };
    }
    case 'outputPort': {
      // The subject of a port event may name the port rather than the product: not a fallback here.
      const dataProductId = dataId ?? nonEmpty(event.data?.['dataProductId']);
      const outputPortId = nonEmpty(event.data?.['outputPortId']);
      if (!dataProductId) return { kind: 'invalid', reason: `${name} ${event.id} names no data product (no data.id)` };
      return outputPortId
        ? { kind: 'dataProduct', dataProductId, outputPortId }
        : { kind: 'dataProduct', dataProductId };
    }
    case 'team': {
      const teamId = dataId ?? subject;
      return teamId
        ? { kind: 'team', teamId }
        : { kind: 'invalid', reason: `${name} ${event.id} names no team (no data.id, no subject)` };
    }
    case 'dataContract': {
      const dataContractId = dataId ?? subject;
      return dataContractId
        ? { kind: 'dataContract', dataContractId }
        : { kind: 'invalid', reason: `${name} ${event.id} names no data contract (no data.id, no subject)` };
    }
    case 'other':
      return { kind: 'ignore', reason: `${name} does not affect access` };
  }
}

/**
 * An agreement's deletion. Its id may already name a new agreement created again under it, whose
 * document carries none of the old one's write-back: see `ReconcileOptions.deletedIds`.
 */
export function isAgreementDeletion(event: FeedEvent): boolean {
  const { family, name } = classifyEvent(event.type);
  return family === 'agreement' && /Deleted[A-Za-z]*Event$/.test(name);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The FIFO group: one agreement's (or one data product's) events stay in order. */
export function messageGroupOf(event: FeedEvent): string {
  const target = routeEvent(event);
  if (target.kind === 'agreement') return `agreement:${target.agreementId}`;
  if (target.kind === 'dataProduct') return `dataproduct:${target.dataProductId}`;
  if (target.kind === 'team') return `team:${target.teamId}`;
  if (target.kind === 'dataContract') return `datacontract:${target.dataContractId}`;
  return 'unrouted';
}
