import type { Agreement } from '../model/agreement.js';
import type { DataContract } from '../model/data-contract.js';
import type { OutputPort } from '../model/data-product.js';
import { DataContractFormatError } from '../model/read-data-contract.js';
import type { ResolveOptions } from '../output-ports/port-type.js';
import { isAwsPort, servableServerTypes } from '../output-ports/registry.js';
import { honourRoles, selectServer, type Selected } from './contract-server.js';

/** Where a grant's data description came from, when a data contract was involved. */
export interface ContractSource {
  dataContractId: string;
  /** The contract server the port is granted from; absent when the port's own server block is used. */
  server?: string;
  /** The requested roles, all honoured (docs/adr/0007-requested-roles.md); absent when none were requested. */
  roles?: string[];
}

export type PortFromContract =
  | { ok: true; port: OutputPort; source?: ContractSource }
  /** Refused as described (`field` names what to fix), or (`notOurs`) a port for other integrations. */
  | { ok: false; reason: string; field?: string; notOurs?: boolean };

/** Reads a data contract; `undefined` when it does not exist (HTTP 404). */
export type ContractLookup = (id: string) => Promise<DataContract | undefined>;

/**
 * The output port as the port types see it, with its data contract applied:
 * - a port with its own data (a `server` block or `aws-…-arn` custom fields) and no requested
 *   roles is used as it is, and its contract is not read;
 * - otherwise the contract (the port's `dataContractId`, else the agreement's
 *   `provider.dataContractId`) is read, the server is chosen (src/sync/contract-server.ts) and
 *   becomes the port's `server` block, so every port type works from contracts alike;
 * - requested roles must all be honoured exactly, or the agreement is refused.
 */
export async function applyContract(
  agreement: Agreement,
  port: OutputPort,
  providerId: string,
  getDataContract: ContractLookup | undefined,
  opts: ResolveOptions,
): Promise<PortFromContract> {
  const a = `Agreement ${agreement.id}`;
  const where = `output port ${port.id} of provider data product ${providerId}`;
  const requested = agreement.roles ?? [];
  const ownData = port.server !== undefined || Object.keys(port.custom).some((key) => /^aws.*arn$/.test(key));
  // Ports of other platforms (snowflake, ...) are left alone: their contract is not read, their
  // roles are not ours to judge.
  if (ownData && (requested.length === 0 || !isAwsPort(port, opts.portTypes))) return { ok: true, port };
  const servable = servableServerTypes(port, opts.portTypes);
  const contractId = port.dataContractId ?? agreement.provider.dataContractId;
  if (!ownData && (servable.length === 0 || !contractId || !getDataContract)) return { ok: true, port };
  if (!contractId || !getDataContract) {
    return {
      ok: false,
      field: 'roles',
      reason: `${a} requests roles ${requested.map((r) => `"${r}"`).join(', ')}, but neither ${where} nor the agreement names a data contract that defines them, so they cannot be honoured.`,
    };
  }

  let contract: DataContract | undefined;
  try {
    contract = await getDataContract(contractId);
  } catch (error) {
    if (error instanceof DataContractFormatError)
      return { ok: false, field: `dataContract.${error.field}`, reason: `${a}: ${where}: ${error.message}.` };
    throw error;
  }
  const named = port.dataContractId ? where : `the agreement (provider.dataContractId)`;
  if (!contract) {
    return {
      ok: false,
      field: 'dataContractId',
      reason: `${a}: data contract ${contractId}, named by ${named}, does not exist (HTTP 404), so ${ownData ? 'the roles it should define are unknown' : 'the location of its data is unknown'}.`,
    };
  }

  let selected: Selected | undefined;
  if (!ownData) {
    const declaresType = Boolean(port.type?.trim() || port.custom['output-port-type']?.trim());
    if (!declaresType && !contract.servers.some((s) => servable.includes(s.type))) {
      return {
        ok: false,
        notOurs: true,
        reason: `${a}: ${where} is described by data contract ${contract.id}, whose servers (${contract.servers.map((s) => s.type).join(', ') || 'none'}) are not AWS, so it is left to other integrations.`,
      };
    }
    selected = selectServer(contract, servable, opts.dataContracts ?? {});
  }
  let server = selected?.ok ? selected.server : undefined;
  let roles: string[] | undefined;
  if (requested.length > 0) {
    const decision = honourRoles(requested, contract, server);
    if (!decision.ok) return { ok: false, field: 'roles', reason: `${a}: ${decision.problem}.` };
    roles = decision.honoured;
    if (decision.server) server = decision.server;
  }
  if (!server && selected && !selected.ok)
    return { ok: false, field: 'dataContractId', reason: `${a}: ${where}: ${selected.problem}.` };
  if (server && server.problems.length > 0) {
    return {
      ok: false,
      field: 'dataContractId',
      reason: `${a}: data contract ${contract.id}, server ${server.name}: ${server.problems.join('; ')}.`,
    };
  }
  const source: ContractSource = {
    dataContractId: contract.id,
    ...(server ? { server: server.name } : {}),
    ...(roles ? { roles } : {}),
  };
  return { ok: true, port: server ? { ...port, server: server.block } : port, source };
}

/** The sentence a grant's summary ends with, so the write-back and `explain` say what the contract decided. */
export function describeSource(source: ContractSource | undefined): string {
  if (!source) return '';
  const from = source.server ? ` Granted from data contract ${source.dataContractId}, server ${source.server}.` : '';
  const roles = source.roles ? ` Requested roles honoured: ${source.roles.join(', ')}.` : '';
  return `${from}${roles}`;
}
