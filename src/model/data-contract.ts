/**
 * A data contract (ODCS v3 as `GET /api/datacontracts/{id}` serves it, or the deprecated Data
 * Contract Specification), read into what the sync uses: where the data is (`servers`) and the
 * roles a consumer can request. Values are copied, not interpreted: the port types do that.
 */
export interface DataContract {
  id: string;
  /** `odcs-3.1.0` etc. after the ODCS `apiVersion`, or `dcs` for the Data Contract Specification. */
  format: `odcs-${string}` | 'dcs';
  version?: string;
  servers: ContractServer[];
  /** Top-level `roles`: access to the contract's whole data. */
  roles: ContractRole[];
  raw: Record<string, unknown>;
}

export interface ContractServer {
  /** ODCS `server` (its name), or the key of a DCS `servers` map. */
  name: string;
  /** Lower-case technical type: `s3`, `glue`, `athena`, `snowflake`, ... */
  type: string;
  environment?: string;
  /**
   * The server as an output port `server` block: `type` and the type-specific fields (`location`,
   * `account`, `database`, ...) as given, plus the server's `customProperties` for fields the
   * server does not set itself, plus `table` from the contract's only schema object when the
   * server names none.
   */
  block: Record<string, unknown>;
  /** Roles defined on this server: access to this server's data. */
  roles: ContractRole[];
  /** Why this server cannot be used as described (a custom property contradicting a field); granting from it is refused. */
  problems: string[];
}

export interface ContractRole {
  role: string;
  /** ODCS `access`, as given (`read`, `write`, ...). */
  access?: string;
}
