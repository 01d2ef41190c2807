/**
 * Event types are `<prefix>.<Name>`. The prefix has been `com.datamesh-manager.events` and may
 * become `com.entropy-data.events`, so only the name after the last dot is ever compared.
 */

type EventFamily = 'agreement' | 'dataProduct' | 'outputPort' | 'team' | 'dataContract' | 'other';

export interface EventClass {
  family: EventFamily;
  /** The bare name, e.g. `AccessActivatedEvent`. */
  name: string;
  /**
   * True for the events a server emits when a connector reports provisioning status
   * (`AccessProvisioned`, `AccessDeprovisioningFailed`, ...). They are agreement events, but
   * a connector that reacts to them by reporting again would feed on its own echo.
   */
  provisioningReport: boolean;
}

export function eventName(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

// `Access*Event` (2025+) and `DataUsageAgreement*Event` (2024 and earlier) are the same thing.
const AGREEMENT = /^(?:Access|DataUsageAgreement)[A-Za-z]*Event$/;
const PROVISIONING_REPORT = /^Access(?:Provisioning|Provisioned|Deprovisioning|Deprovisioned)[A-Za-z]*Event$/;
const DATA_PRODUCT = /^DataProduct[A-Za-z]*Event$/;
// `OutputPort{Created,Updated,Deleted}Event` come in addition to the data product's own event.
const OUTPUT_PORT = /^OutputPort[A-Za-z]*Event$/;
// A team's custom fields name the IAM role of agreements the team requested as consumer.
const TEAM = /^Team(?:Created|Updated|Deleted)Event$/;
// A contract may say where a port's data is and which roles exist (src/sync/contract-port.ts).
const DATA_CONTRACT = /^DataContract(?:Created|Updated|Deleted)Event$/;

export function classifyEvent(type: string): EventClass {
  const name = eventName(type);
  if (AGREEMENT.test(name)) return { family: 'agreement', name, provisioningReport: PROVISIONING_REPORT.test(name) };
  if (DATA_PRODUCT.test(name)) return { family: 'dataProduct', name, provisioningReport: false };
  if (OUTPUT_PORT.test(name)) return { family: 'outputPort', name, provisioningReport: false };
  if (TEAM.test(name)) return { family: 'team', name, provisioningReport: false };
  if (DATA_CONTRACT.test(name)) return { family: 'dataContract', name, provisioningReport: false };
  return { family: 'other', name, provisioningReport: false };
}
