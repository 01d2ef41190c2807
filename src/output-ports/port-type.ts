import type { OutputPort } from '../model/data-product.js';
import type { TargetGrant } from '../model/grants.js';

/** Settings from the tool's own configuration (never from Data Mesh Manager metadata). */
export interface ResolveOptions {
  /**
   * The 12-digit AWS account whose roles this tool manages; for a hub, the account a role named
   * without an ARN is in. Port types see the consumer role's account here.
   */
  accountId: string;
  /** A hub's member accounts, whose roles may be named by `aws-role-arn` too; unset: only `accountId`. */
  memberAccounts?: readonly string[];
  /** AWS partition of that account; default `aws`. */
  partition?: string;
  /** Region for Glue/Athena resources described without one. */
  defaultRegion?: string;
  /** Athena workgroup consumers query with when a port names none; unset: such ports are refused. */
  defaultAthenaWorkgroup?: string;
  /**
   * `s3://bucket/prefix/` where the consumers' Athena workgroup writes query results. Comes from
   * configuration only: taken from metadata it would let a provider make consumers write anywhere.
   */
  athenaQueryResultsLocation?: string;
  /**
   * A hub's query-result location per consumer account (`multiAccount.athenaQueryResultsLocations`):
   * for roles in a listed account it replaces `athenaQueryResultsLocation`.
   */
  athenaQueryResultsLocations?: Readonly<Record<string, string>>;
  /**
   * Grant every consumer the configured results location itself instead of its own
   * `<location><role>/` folder. Consumers can then read each other's query results.
   */
  athenaResultsShared?: boolean;
  /**
   * Which data contract server a port without a server block of its own is granted from, when
   * the contract has several (src/sync/contract-server.ts): a server name and/or an environment.
   */
  dataContracts?: { server?: string; environment?: string };
  /**
   * Who governs Glue tables: `iam` (default; the grant reads the table's S3 data itself) or
   * `lake-formation` (Lake Formation SELECT/DESCRIBE; docs/adr/0012-lake-formation-tables.md).
   */
  glueTablesGovernedBy?: 'iam' | 'lake-formation';
  /** The port types to choose from; default: every registered one (`PORT_TYPES`). Tests add their own. */
  portTypes?: readonly PortType[];
}

/**
 * Metadata that cannot become a grant. `field` is where the problem is, relative to the output
 * port (`custom.aws-glue-table-arn`, `server.location`) or to the tool's options.
 * Port modules throw it; the registry turns it into a failed resolution, so validation code can
 * stay linear instead of threading results through every helper.
 */
export class PortFieldError extends Error {
  override readonly name = 'PortFieldError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/**
 * Runs a port module's check where bad input is not Data Mesh Manager metadata (a local fixture
 * or tags file): a PortFieldError becomes a plain error, its message already naming the field.
 */
export function withPlainFieldErrors<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof PortFieldError) throw new Error(err.message);
    throw err;
  }
}

/**
 * One output port type: how to find its AWS resources in a port's metadata, and the
 * least-privilege read statements for them. `R` is the validated, parsed resources.
 */
export interface PortType<R = unknown> {
  /** The value of `custom.output-port-type` that selects this type. */
  readonly type: string;
  /** One line for humans (CLI, docs). */
  readonly describe: string;
  /**
   * The port `type` (or `server.type`) values, in lower case, that choose this type when the port
   * names no `custom.output-port-type`: `['s3']`, `['glue']`. They also mark a port as one for
   * this tool rather than for another platform's integration.
   */
  readonly technicalTypes: readonly string[];
  /**
   * Only for a technical type several port types serve (`s3`: a bucket or a folder): whether this
   * one is the port's. The registry takes the first registered type that fits; throws
   * `PortFieldError` like `resourcesFrom`.
   */
  fits?(port: OutputPort, opts: ResolveOptions): boolean;
  /**
   * Only for a technical type other platforms use too (`kafka`: Amazon MSK, but also any other
   * Kafka): whether a port of that type is for AWS at all, from the port alone (an MSK bootstrap
   * host). Ports it does not claim are left to other integrations. Default: every port is claimed.
   */
  claims?(port: OutputPort): boolean;
  /** Reads and validates the port's resources; throws `PortFieldError`. */
  resourcesFrom(port: OutputPort, opts: ResolveOptions): R;
  /**
   * The grants the agreement needs, on any grant targets (src/targets/): the consumer role's
   * identity policy, provider resource policies, Lake Formation. Statements come without `Sid`
   * (each target adds its ownership Sids).
   */
  grants(resources: R, consumer: Consumer): TargetGrant[];
  /** What the grant allows, in one sentence. */
  summary(resources: R): string;
  /**
   * Every provider resource this grant opens (from metadata, not from the tool's configuration):
   * data locations, tables, streams, KMS keys. Ownership proof (src/sync/ownership-proof.ts)
   * refuses the grant unless each is shown to belong to the provider, so a resource left out here
   * would be granted unproven.
   */
  providerResources(resources: R): ProviderResource[];
}

/** The consumer role an agreement grants to, for grants that name it (resource policies, Lake Formation). */
export interface Consumer {
  roleArn: string;
  account: string;
}

/**
 * A provider resource named by metadata, as the guardrails see it: the ARN of what is opened (an
 * S3 bucket or folder `arn:aws:s3:::bucket/prefix/`, a Glue table, a KMS key). Its tags are read
 * from the resource that carries them (`tagCarrierArn`: for an S3 folder, the bucket).
 */
export interface ProviderResource {
  arn: string;
  /** How people read it; by default from its ARN kind (`S3 bucket acme-orders`), else the ARN itself. */
  description?: string;
}

/** The provider resources of a data location and the KMS key it is encrypted with, if any. */
export function locationResources(locationArn: string, kmsKeyArn?: string): ProviderResource[] {
  return [{ arn: locationArn }, ...(kmsKeyArn ? [{ arn: kmsKeyArn }] : [])];
}
