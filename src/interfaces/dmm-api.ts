import type { Agreement } from '../model/agreement.js';
import type { AgreementFormatError } from '../model/read-agreement.js';
import type { DataContract } from '../model/data-contract.js';
import type { DataProduct } from '../model/data-product.js';
import type { FeedEvent } from '../model/events.js';

export interface Team {
  id: string;
  name?: string;
  raw: Record<string, unknown>;
}

export type ProvisioningTransition =
  | 'provisioning-started'
  | 'provisioning-succeeded'
  | 'provisioning-failed'
  | 'deprovisioning-started'
  | 'deprovisioning-succeeded'
  | 'deprovisioning-failed';

export interface ProvisioningReport {
  platform?: string;
  executor?: string;
  reference?: string;
  diagnostics?: string;
}

export interface AgreementFilter {
  providerDataProductId?: string;
  consumerDataProductId?: string;
}

/**
 * Everything the sync needs from Data Mesh Manager. `undefined` means "gone" (HTTP 404), never
 * an error. Implemented over HTTP by `DmmHttpClient`.
 */
export interface DmmApi {
  /** Events after `lastEventId` (from the start when omitted); `[]` when caught up. */
  pollEvents(lastEventId?: string): Promise<FeedEvent[]>;
  getAgreement(id: string): Promise<Agreement | undefined>;
  /**
   * All agreements, following `Link: rel="next"` pagination. A document that cannot be read is
   * handed to `onUnreadable` and left out when that is given (one bad agreement must not stop the
   * others); without it the whole list fails with that error.
   */
  listAgreements(filter?: AgreementFilter, onUnreadable?: (error: AgreementFormatError) => void): Promise<Agreement[]>;
  /** PUT the whole agreement document (there is no PATCH). */
  putAgreement(id: string, document: Record<string, unknown>): Promise<void>;
  getDataProduct(id: string): Promise<DataProduct | undefined>;
  listDataProducts(): Promise<DataProduct[]>;
  /**
   * All data products from the paged list alone (one request per 1,000), when the server lists
   * whole documents; `undefined` when it lists only top-level properties (the vendor allows
   * that), so each product must be read by id. Optional: without it, products are read by id.
   */
  listDataProductsInFull?(): Promise<DataProduct[] | undefined>;
  getTeam(id: string): Promise<Team | undefined>;
  /** `GET /api/datacontracts/{id}`; throws `DataContractFormatError` for a document it cannot read. */
  getDataContract(id: string): Promise<DataContract | undefined>;
  /**
   * POST a provisioning transition. Returns 'unsupported' when the server has no provisioning
   * endpoints (older servers answer 404), so callers fall back to tags and custom fields.
   */
  reportProvisioning(
    agreementId: string,
    transition: ProvisioningTransition,
    report: ProvisioningReport,
  ): Promise<'reported' | 'unsupported'>;
}
