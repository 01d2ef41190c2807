import { UNKNOWN_ID, type Agreement } from '../model/agreement.js';
import type { DataProduct, OutputPort } from '../model/data-product.js';
import type { Team } from '../interfaces/dmm-api.js';
import type { TargetGrant } from '../model/grants.js';
import { DataProductFormatError } from '../model/read-data-product.js';
import { checkPartition, checkRoleName, iamRoleArn, parseRoleArn, type IamRole } from '../output-ports/arn.js';
import { PortFieldError, type ProviderResource, type ResolveOptions } from '../output-ports/port-type.js';
import { isAwsPort, planPort } from '../output-ports/registry.js';
import { applyContract, describeSource, type ContractLookup, type ContractSource } from './contract-port.js';

export type { ResolveOptions } from '../output-ports/port-type.js';

/** What an active agreement should grant in AWS: grants on targets for one consumer role. */
export interface Grant {
  agreementId: string;
  role: { name: string; arn: string; accountId: string };
  portType: string;
  outputPortId: string;
  providerDataProductId: string;
  /** The provider data product's owner team, for ownership proof by team tag or allow-list. */
  providerTeamId?: string;
  /** The consumer data product; absent when a team is the consumer. */
  consumerDataProductId?: string;
  /** The consumer team, when a team requested the access (its role comes from the team's custom fields). */
  consumerTeamId?: string;
  /** What the agreement needs on each grant target (src/targets/); statements without `Sid`. */
  grants: TargetGrant[];
  /** The data contract that described the port or defined the requested roles, if one did. */
  contract?: ContractSource;
  summary: string;
  /** The provider resources (from metadata) the statements open. */
  providerResources: ProviderResource[];
}

/**
 * The desired state of one agreement. `none` means nothing should be granted (and anything
 * granted before should go); `failed` means the agreement asks for access that cannot be
 * granted as described, with a reason for the people who can fix the metadata.
 */
export type Resolution =
  | { kind: 'grant'; grant: Grant }
  | {
      kind: 'none';
      reason: string /** The agreement is for another platform: no write-back at all. */;
      notOurs?: boolean;
    }
  | { kind: 'failed'; reason: string; field?: string };

export interface ResolveLookups {
  /** `undefined` when the data product does not exist (HTTP 404). */
  getDataProduct(id: string): Promise<DataProduct | undefined>;
  /** `undefined` when the team does not exist; without it, team consumers are refused. */
  getTeam?(id: string): Promise<Team | undefined>;
  /** `undefined` when the contract does not exist; without it, ports described only by a contract are not served. */
  getDataContract?: ContractLookup;
}

export async function resolveAgreement(
  agreement: Agreement,
  lookups: ResolveLookups,
  opts: ResolveOptions,
): Promise<Resolution> {
  const a = `Agreement ${agreement.id}`;
  if (!agreement.active || agreement.status === 'requested' || agreement.status === 'rejected') {
    return {
      kind: 'none',
      reason: `${a} is not active (status: ${agreement.status ?? 'unknown'}), so it grants nothing.`,
    };
  }
  const { dataProductId: providerId, outputPortId } = agreement.provider;
  if (providerId === UNKNOWN_ID || outputPortId === UNKNOWN_ID) {
    return {
      kind: 'none',
      reason: `${a}: the provider data product or its output port was deleted, so there is nothing to grant.`,
    };
  }
  let provider: DataProduct | undefined;
  try {
    provider = await lookups.getDataProduct(providerId);
  } catch (error) {
    // A malformed product is a metadata problem to report; anything else (network) is retried by the caller.
    if (error instanceof DataProductFormatError)
      return { kind: 'failed', field: error.field, reason: `${a}: ${error.message}.` };
    throw error;
  }
  if (!provider) {
    return {
      kind: 'none',
      reason: `${a}: provider data product ${providerId} no longer exists (deleted), so there is nothing to grant.`,
    };
  }
  const found = findPort(provider, outputPortId, agreement.provider.dataContractId);
  if (typeof found === 'string') return { kind: 'failed', field: 'provider.outputPortId', reason: `${a}: ${found}` };
  const portConflict = found.conflicts?.find((c) => readByPortTypes(c.field));
  if (portConflict) {
    return {
      kind: 'failed',
      field: portConflict.field,
      reason: `${a}: output port ${found.id} of provider data product ${providerId}: ${portConflict.path}: ${portConflict.problem}, so the resource to grant is unknown.`,
    };
  }
  const described = await applyContract(agreement, found, providerId, lookups.getDataContract, opts);
  if (!described.ok) {
    if (described.notOurs) return { kind: 'none', reason: described.reason, notOurs: true };
    return { kind: 'failed', reason: described.reason, ...(described.field ? { field: described.field } : {}) };
  }
  const { port, source } = described;
  // Agreements on Snowflake, BigQuery, Kafka... ports belong to other integrations: neither
  // granted nor reported on, so their connectors' status is never overwritten.
  if (!isAwsPort(port)) {
    return {
      kind: 'none',
      reason: `${a}: output port ${port.id} of ${providerId} is not an AWS port (type ${port.type ?? 'unset'}), so it is left to other integrations.`,
      notOurs: true,
    };
  }

  const consumerId = agreement.consumer.dataProductId;
  if (!consumerId && agreement.consumer.teamId && lookups.getTeam) {
    return teamConsumerGrant(agreement, agreement.consumer.teamId, lookups.getTeam, opts, {
      providerId,
      provider,
      port,
      ...(source ? { source } : {}),
    });
  }
  if (!consumerId) {
    const who = agreement.consumer.teamId
      ? `team ${agreement.consumer.teamId}`
      : agreement.consumer.userId
        ? `user ${agreement.consumer.userId}`
        : 'not a data product';
    return {
      kind: 'failed',
      field: 'consumer.dataProductId',
      reason: `${a}: the consumer is ${who}, not a data product or a team, so there is no IAM role to grant access to: people get access through a team or data product role. Request access for a consumer data product or team with custom.aws-role-name instead.`,
    };
  }
  if (consumerId === UNKNOWN_ID) {
    return { kind: 'none', reason: `${a}: the consumer data product was deleted, so there is nothing to grant.` };
  }
  let consumer: DataProduct | undefined;
  try {
    consumer = await lookups.getDataProduct(consumerId);
  } catch (error) {
    if (error instanceof DataProductFormatError)
      return { kind: 'failed', field: error.field, reason: `${a}: ${error.message}.` };
    throw error;
  }
  if (!consumer) {
    return {
      kind: 'none',
      reason: `${a}: consumer data product ${consumerId} no longer exists (deleted), so there is nothing to grant.`,
    };
  }

  const role = consumerRole(consumer, opts);
  if ('problem' in role) {
    return { kind: 'failed', field: role.field, reason: `${a}: consumer data product ${consumerId}: ${role.problem}.` };
  }
  return grantOn(
    agreement,
    role,
    { consumerDataProductId: consumerId },
    { providerId, provider, port, ...(source ? { source } : {}) },
    opts,
  );
}

/** The agreement's provider side, as resolved. */
interface ProviderSide {
  providerId: string;
  provider: DataProduct;
  port: OutputPort;
  /** Set when a data contract described the port or defined the requested roles. */
  source?: ContractSource;
}

/** Who the consumer is: a data product, or (requested by a team) a team. */
type ConsumerRef = { consumerDataProductId: string } | { consumerTeamId: string };

/** The grant for the consumer's role, or why the port cannot be granted. */
function grantOn(
  agreement: Agreement,
  role: IamRole,
  consumer: ConsumerRef,
  { providerId, provider, port, source }: ProviderSide,
  opts: ResolveOptions,
): Resolution {
  const a = `Agreement ${agreement.id}`;
  const roleArn = iamRoleArn(role);
  // The port's consumer-side defaults (its Athena workgroup, a table named without an account) are the role's account.
  const forRole = role.account === opts.accountId ? opts : { ...opts, accountId: role.account };
  const plan = planPort(port, resultsPerRole(forRole, role.name), { roleArn, account: role.account });
  // A `server.…` field named by a refusal may be the contract's: say where to fix it.
  const from = source?.server ? ` (server ${source.server} of data contract ${source.dataContractId})` : '';
  const where = `output port ${port.id} of provider data product ${providerId}${from}`;
  if (!plan.ok) return { kind: 'failed', field: plan.field, reason: `${a}: ${where}: ${plan.problem}.` };

  return {
    kind: 'grant',
    grant: {
      agreementId: agreement.id,
      role: { name: role.name, arn: roleArn, accountId: role.account },
      portType: plan.portType,
      outputPortId: port.id,
      providerDataProductId: providerId,
      ...(provider.ownerTeamId ? { providerTeamId: provider.ownerTeamId } : {}),
      ...consumer,
      grants: plan.grants,
      ...(source ? { contract: source } : {}),
      summary: `${plan.summary}${describeSource(source)}`,
      providerResources: plan.providerResources,
    },
  };
}

/**
 * A team as the consumer (`consumer: {teamId}`): the team names its IAM role in its own custom
 * fields, with the same convention as data products (`aws-role-name` or `aws-role-arn`).
 */
async function teamConsumerGrant(
  agreement: Agreement,
  teamId: string,
  getTeam: NonNullable<ResolveLookups['getTeam']>,
  opts: ResolveOptions,
  provider: ProviderSide,
): Promise<Resolution> {
  const a = `Agreement ${agreement.id}`;
  if (teamId === UNKNOWN_ID)
    return { kind: 'none', reason: `${a}: the consumer team was deleted, so there is nothing to grant.` };
  const team = await getTeam(teamId);
  if (!team) {
    return {
      kind: 'none',
      reason: `${a}: consumer team ${teamId} no longer exists (deleted), so there is nothing to grant.`,
    };
  }
  const role = consumerRole({ custom: textFields(team.raw['custom']) }, opts);
  if ('problem' in role)
    return { kind: 'failed', field: role.field, reason: `${a}: consumer team ${teamId}: ${role.problem}.` };
  return grantOn(agreement, role, { consumerTeamId: teamId }, provider, opts);
}

/** A team's `custom` object as text fields; anything but a string value is left out. */
function textFields(custom: unknown): Record<string, string> {
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) return {};
  return Object.fromEntries(
    Object.entries(custom).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/**
 * The consumer's role from `custom.aws-role-name` (the reference integration's field) or
 * `custom.aws-role-arn`. Only roles of the managed account can receive a policy from us; a
 * role ARN of another account is refused rather than written into a policy that cannot work.
 */
function consumerRole(
  consumer: Pick<DataProduct, 'custom' | 'conflicts'>,
  opts: ResolveOptions,
): IamRole | { field: string; problem: string } {
  const conflict = consumer.conflicts?.find((c) => c.field === 'aws-role-name' || c.field === 'aws-role-arn');
  if (conflict) return { field: `custom.${conflict.field}`, problem: `${conflict.path}: ${conflict.problem}` };
  const partition = opts.partition ?? 'aws';
  const name = consumer.custom['aws-role-name']?.trim();
  const arn = consumer.custom['aws-role-arn']?.trim();
  try {
    if (arn) {
      const role = parseRoleArn('custom.aws-role-arn', arn);
      checkPartition('custom.aws-role-arn', role.partition, partition);
      if (role.account !== opts.accountId && !opts.memberAccounts?.includes(role.account)) {
        throw new PortFieldError(
          'custom.aws-role-arn',
          `is a role in account ${role.account}, but this tool manages roles in ${opts.memberAccounts ? `the member accounts ${opts.memberAccounts.join(', ')}` : `account ${opts.accountId}`}`,
        );
      }
      if (name && name !== role.name) {
        throw new PortFieldError(
          'custom.aws-role-name',
          `("${name}") and custom.aws-role-arn (role "${role.name}") name different roles`,
        );
      }
      return role;
    }
    if (name) {
      // The path is unknown from a name alone; IAM addresses roles by name, so the ARN is informational.
      return { partition, account: opts.accountId, path: '/', name: checkRoleName('custom.aws-role-name', name) };
    }
  } catch (error) {
    if (error instanceof PortFieldError) return { field: error.field, problem: error.message };
    throw error;
  }
  return {
    field: 'custom.aws-role-name',
    problem:
      'custom.aws-role-name is not set, so there is no IAM role to grant access to (set aws-role-name or aws-role-arn)',
  };
}

/**
 * Vendor connectors match `provider.outputPortId` against a port's id or its name. ODPS keys a
 * port by name + version and may list several versions of one name; the agreement names only
 * the port, so one version is picked, never all of them (that would widen the grant):
 *   1. the version whose `contractId` is the agreement's `provider.dataContractId`, when exactly one is;
 *   2. otherwise the highest version (numeric parts compared as numbers, `v` prefix ignored).
 * Two ports that still tie (same name, same version) are ambiguous and the agreement fails.
 */
function findPort(provider: DataProduct, outputPortId: string, dataContractId?: string): OutputPort | string {
  const byId = provider.outputPorts.filter((p) => p.id === outputPortId);
  let matches = byId.length > 0 ? byId : provider.outputPorts.filter((p) => p.name === outputPortId);
  if (matches.length > 1 && dataContractId) {
    const byContract = matches.filter((p) => p.dataContractId === dataContractId);
    if (byContract.length === 1) matches = byContract;
  }
  if (matches.length > 1) {
    const newest = [...matches].sort((x, y) => compareVersions(y.version, x.version));
    if (compareVersions(newest[0]?.version, newest[1]?.version) !== 0) matches = [newest[0]!];
  }
  if (matches.length === 1 && matches[0]) return matches[0];
  const available = provider.outputPorts.map((p) => p.id).join(', ') || 'none';
  if (matches.length > 1) {
    return `provider data product ${provider.id} has ${matches.length} output ports matching "${outputPortId}" with the same version, so the port to grant is ambiguous.`;
  }
  return `provider data product ${provider.id} has no output port with id or name "${outputPortId}" (its ports: ${available}).`;
}

/** Orders versions like `1.10.0` > `1.9.2` > `v1.2`; a missing version sorts lowest. */
export function compareVersions(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const parts = (v: string) => v.replace(/^v/i, '').split(/[.\-+]/);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '', pb[i] ?? ''];
    const [nx, ny] = [Number(x), Number(y)];
    const bothNumbers = x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny);
    const order = bothNumbers ? nx - ny : x.localeCompare(y);
    if (order !== 0) return Math.sign(order);
  }
  return a.localeCompare(b);
}

/** The custom fields port types read (docs/port-types.md): a conflict there blocks the grant. */
function readByPortTypes(field: string): boolean {
  return field === 'output-port-type' || field === 'server' || field.startsWith('aws-') || field.startsWith('aws_');
}

/**
 * Query results of different consumers must not be readable by each other, so each role gets
 * its own folder under the configured location (`<location><role name>/`): consumers set that as
 * their workgroup or client output location. `athenaResultsShared` keeps the one shared prefix.
 * A hub may name a location per consumer account (`athenaQueryResultsLocations`), since Athena
 * writes results as the caller, into a bucket best kept in the caller's own account.
 */
function resultsPerRole(opts: ResolveOptions, roleName: string): ResolveOptions {
  const location = opts.athenaQueryResultsLocations?.[opts.accountId] ?? opts.athenaQueryResultsLocation;
  if (!location) return opts;
  if (opts.athenaResultsShared) return { ...opts, athenaQueryResultsLocation: location };
  const base = location.endsWith('/') ? location : `${location}/`;
  return { ...opts, athenaQueryResultsLocation: `${base}${roleName}/` };
}
