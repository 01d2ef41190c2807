/**
 * A data product read into one shape from either Data Product Specification 0.0.1 or
 * ODPS v1.0.0. Values are copied, never interpreted here: the port types decide what they mean.
 */
export interface DataProduct {
  id: string;
  format: 'dps-0.0.1' | 'odps-1.0.0';
  title?: string;
  ownerTeamId?: string;
  /** DPS `custom` or ODPS top-level `customProperties`, flattened to string values. */
  custom: Record<string, string>;
  outputPorts: OutputPort[];
  raw: Record<string, unknown>;
}

export interface OutputPort {
  /** DPS `id`; ODPS has no id, so the ODPS `name` is used for both. */
  id: string;
  name: string;
  /** The port's declared technical type (`s3`, `glue`, ...), if any. */
  type?: string;
  /** DPS `server` block, or ODPS `customProperties.server` (an object). Values as given. */
  server?: Record<string, unknown>;
  /** DPS `custom` or ODPS `customProperties`, flattened to string values. */
  custom: Record<string, string>;
  dataContractId?: string;
}
