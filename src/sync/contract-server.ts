import type { ContractRole, ContractServer, DataContract } from '../model/data-contract.js';

/**
 * Choosing the data contract server an output port is granted from (docs/port-types.md, "Ports
 * described by a data contract"), and checking the roles an agreement requests against the
 * contract (docs/adr/0007-requested-roles.md). Pure functions: every refusal names what the
 * people who can fix it need (the candidate servers, the operator setting, the undefined role).
 */

/** The operator's choice among a contract's servers (configuration only, never from metadata). */
export interface ServerSelection {
  /** A server name (`server`): only servers of that name are candidates. */
  server?: string;
  /** An environment (`prod`, `dev`, ...): only servers of that environment are candidates. */
  environment?: string;
}

/** Environments taken as production when several servers fit and no environment is configured. */
const PRODUCTION = new Set(['prod', 'production']);

export type Selected = { ok: true; server: ContractServer } | { ok: false; problem: string };

/**
 * 1. Candidates: the servers whose type the port can be granted from (`servable`).
 * 2. The operator's `server` name, then `environment`, when set, keep only the matching ones.
 * 3. One candidate left: that one. Several, and no environment configured: the one whose
 *    environment is `prod` or `production`, if exactly one is. Anything else is refused, naming
 *    the candidates: picking one would be a guess about which data the consumer was promised.
 */
export function selectServer(
  contract: DataContract,
  servable: readonly string[],
  selection: ServerSelection,
): Selected {
  const c = `data contract ${contract.id}`;
  const fitting = contract.servers.filter((s) => servable.includes(s.type));
  if (fitting.length === 0) {
    return {
      ok: false,
      problem: `${c} has no server this tool can grant from (its servers: ${listServers(contract.servers) || 'none'}; served types: ${servable.join(', ') || 'none for this port'})`,
    };
  }
  let candidates = fitting;
  const wanted: string[] = [];
  if (selection.server) {
    candidates = candidates.filter((s) => s.name === selection.server);
    wanted.push(`named "${selection.server}" (setting dataContracts.server)`);
  }
  if (selection.environment) {
    const env = selection.environment.toLowerCase();
    candidates = candidates.filter((s) => s.environment?.toLowerCase() === env);
    wanted.push(`of environment "${selection.environment}" (setting dataContracts.environment)`);
  }
  if (candidates.length === 0) {
    return {
      ok: false,
      problem: `${c} has no server ${wanted.join(' and ')} among the servers this tool can grant from: ${listServers(fitting)}`,
    };
  }
  if (candidates.length > 1 && !selection.environment) {
    const production = candidates.filter((s) => PRODUCTION.has(s.environment?.toLowerCase() ?? ''));
    if (production.length === 1) candidates = production;
  }
  if (candidates.length > 1) {
    return {
      ok: false,
      problem: `${c} has ${candidates.length} servers this tool could grant from (${listServers(candidates)}), so which one the agreement means is ambiguous: set dataContracts.server (DMM_DATA_CONTRACT_SERVER) or dataContracts.environment (DMM_DATA_CONTRACT_ENVIRONMENT), or give the output port its own server block`,
    };
  }
  const server = candidates[0]!;
  if (server.problems.length > 0) {
    return { ok: false, problem: `${c}, server ${server.name}: ${server.problems.join('; ')}` };
  }
  return { ok: true, server };
}

/** `name (type, environment)`, comma-separated. */
function listServers(servers: readonly ContractServer[]): string {
  return servers.map((s) => `${s.name} (${s.type}${s.environment ? `, ${s.environment}` : ''})`).join(', ');
}

/** Where an honoured role's access lies: the port's data, or one contract server's data. */
export type RoleScope = { kind: 'port' } | { kind: 'server'; server: ContractServer };

export type RolesDecision =
  /** `server` set: grant from that contract server instead of the port's own data. */
  { ok: true; honoured: string[]; server?: ContractServer } | { ok: false; problem: string };

/** `access` values that mean read: the only access this tool grants. */
const READ = new Set(['read', 'readonly', 'read-only', 'read_only']);

/**
 * Whether the requested roles can be honoured exactly (never more), and from which server:
 * - a role in the contract's top-level `roles` is access to the port's data;
 * - a role defined on servers is access to that server's data: the port's selected server when
 *   it is one of them, else the one server defining it (several: refused as ambiguous);
 * - its `access` must be read (this tool grants read only; a write role cannot be honoured as it
 *   was defined, and a missing access says nothing);
 * - all roles must lead to one place: roles on different servers would need two grants, which
 *   one agreement cannot record, so they are refused with the advice to request them apart.
 * `portServer` is the server selected for the port, absent when the port has its own server block
 * or the selection failed.
 */
export function honourRoles(
  requested: readonly string[],
  contract: DataContract,
  portServer: ContractServer | undefined,
): RolesDecision {
  const c = `data contract ${contract.id}`;
  const scopes: [string, RoleScope][] = [];
  for (const name of requested) {
    const topLevel = contract.roles.find((r) => r.role === name);
    const onServers = contract.servers.filter((s) => s.roles.some((r) => r.role === name));
    let definition: ContractRole | undefined = topLevel;
    let scope: RoleScope;
    if (topLevel) scope = { kind: 'port' };
    else if (onServers.length === 0) {
      const defined = [...new Set([...contract.roles, ...contract.servers.flatMap((s) => s.roles)].map((r) => r.role))];
      return {
        ok: false,
        problem: `requested role "${name}" is not defined in ${c} (its roles: ${defined.join(', ') || 'none'}), so it cannot be honoured`,
      };
    } else {
      const server = onServers.find((s) => s === portServer) ?? (onServers.length === 1 ? onServers[0] : undefined);
      if (!server) {
        return {
          ok: false,
          problem: `requested role "${name}" is defined on ${onServers.length} servers of ${c} (${onServers.map((s) => s.name).join(', ')}), so the data it grants is ambiguous`,
        };
      }
      definition = server.roles.find((r) => r.role === name);
      scope = server === portServer ? { kind: 'port' } : { kind: 'server', server };
    }
    const access = definition?.access;
    if (!access || !READ.has(access.toLowerCase())) {
      return {
        ok: false,
        problem: `requested role "${name}" in ${c} has ${access ? `access "${access}"` : 'no access defined'}, but this tool grants read only, so it cannot be honoured exactly (define it with access: read)`,
      };
    }
    scopes.push([name, scope]);
  }
  const servers = [...new Set(scopes.flatMap(([, s]) => (s.kind === 'server' ? [s.server] : [])))];
  const onPort = scopes.filter(([, s]) => s.kind === 'port').map(([n]) => n);
  if (servers.length > 1 || (servers.length === 1 && onPort.length > 0)) {
    const where = scopes.map(
      ([n, s]) => `"${n}" → ${s.kind === 'port' ? "the port's data" : `server ${s.server.name}`}`,
    );
    return {
      ok: false,
      problem: `requested roles lead to different data (${where.join(', ')}); one agreement is granted one place, so request these roles in separate agreements`,
    };
  }
  const honoured = scopes.map(([n]) => n);
  return servers[0] ? { ok: true, honoured, server: servers[0] } : { ok: true, honoured };
}
