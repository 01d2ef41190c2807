/**
 * A data product read into one shape from either Data Product Specification 0.0.1 or
 * ODPS v1.0.0. Values are copied, never interpreted here: the port types decide what they mean.
 */
export interface DataProduct {
  id: string;
  /** `odps-0.9.0`, `odps-1.0.0` or `odps-1.1.0` for ODPS, after its `apiVersion`. */
  format: 'dps-0.0.1' | `odps-${string}`;
  title?: string;
  ownerTeamId?: string;
  /** DPS `custom` or ODPS top-level `customProperties`, flattened to string values. */
  custom: Record<string, string>;
  /** Custom fields left out of `custom` because the document gives them conflicting values. */
  conflicts?: FieldConflict[];
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
  /** Custom fields left out of `custom` because the document gives them conflicting values. */
  conflicts?: FieldConflict[];
  dataContractId?: string;
  /** ODPS: name + version is a port's key; several versions of one name may be listed. */
  version?: string;
}

/** A custom field that cannot be read, e.g. an ODPS property given twice with different values. */
export interface FieldConflict {
  /** The custom field's name, e.g. `aws-s3-bucket-arn`. */
  field: string;
  /** Where in the document, e.g. `outputPorts[0].customProperties[3]`. */
  path: string;
  problem: string;
}
