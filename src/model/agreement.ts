/**
 * An access agreement (called a data usage agreement until 2024), read into one shape
 * whichever API generation served it. `raw` keeps the document exactly as the server sent it,
 * because write-back must PUT the whole document and never drop fields we do not model.
 */
export interface Agreement {
  id: string;
  /** requested | approved | rejected (other values are kept as-is). */
  status: string | undefined;
  /** Computed by Data Mesh Manager: approved and today between start and end date. */
  active: boolean;
  startDate?: string;
  endDate?: string;
  provider: {
    dataProductId: string;
    outputPortId: string;
    teamId?: string;
    /** The data contract at the time of the request (read-only, 2026-07); picks among port versions. */
    dataContractId?: string;
  };
  consumer: {
    dataProductId?: string;
    teamId?: string;
    userId?: string;
  };
  /**
   * The roles the consumer requested (2026-07 `roles`), names defined in the data contract;
   * absent when none were requested. See docs/adr/0007-requested-roles.md for what they grant.
   */
  roles?: string[];
  tags: string[];
  custom: Record<string, string>;
  /** Provisioning state reported by connectors (2026-07 servers); absent on older servers. */
  provisioning?: { status: string; diagnostics?: string | null; reference?: string | null; executor?: string | null };
  raw: Record<string, unknown>;
}

/** Data Mesh Manager marks deleted providers and ports with this literal id. */
export const UNKNOWN_ID = 'unknown';
