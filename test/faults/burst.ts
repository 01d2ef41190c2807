/**
 * The fault suite's workload: a mesh of 3 providers and 3 consumer roles with 30 agreements, a
 * seeded burst of lifecycle transitions played on the simulator (request, approve, reject,
 * activate, deactivate, cancel, delete), and what "converged" means afterwards: every role holds
 * exactly the statements of the agreements the simulator has active for its consumer, and no
 * agreement was reported failed.
 */
import type { MeshData, RunningSimulator } from '../../src/simulator/server.js';

// Builders of their own (not test/e2e/harness.ts, which needs vitest): bench/ uses this module too.
type Doc = Record<string, unknown>;

function s3Provider(id: string, bucket: string): Doc {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'team-a' },
    outputPorts: [
      {
        id: `${id}-s3`,
        name: `${id} (S3)`,
        custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}` },
      },
    ],
  };
}

function consumerProduct(id: string, role: string): Doc {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'team-b' },
    outputPorts: [],
    custom: { 'aws-role-name': role },
  };
}

/** A requested agreement (the burst approves, activates, ... it). */
function agreement(id: string, provider: string, consumer: string): Doc {
  return {
    id,
    info: { purpose: `fault suite ${id}`, startDate: '2020-01-01' },
    provider: { teamId: 'team-a', dataProductId: provider, outputPortId: `${provider}-s3` },
    consumer: { teamId: 'team-b', dataProductId: consumer },
    tags: [],
    custom: {},
  };
}

export const ROLES = ['fault-consumer-0', 'fault-consumer-1', 'fault-consumer-2'] as const;
const PROVIDERS = ['p0', 'p1', 'p2'] as const;

export const agreementIds = (count: number) =>
  Array.from({ length: count }, (_, i) => `agr-${String(i).padStart(2, '0')}`);

function agreementDoc(id: string, index: number): Doc {
  const provider = PROVIDERS[index % PROVIDERS.length]!;
  return agreement(id, provider, `c${Math.floor(index / PROVIDERS.length) % ROLES.length}`);
}

/** Role of the consumer of agreement number `index`. */
function roleOf(index: number, roles: readonly string[]): string {
  return roles[Math.floor(index / PROVIDERS.length) % roles.length]!;
}

/** `count` requested agreements spread over every provider and consumer role. */
export function burstMesh(
  count: number,
  options: { bucket?: (provider: string) => string; roles?: readonly string[] } = {},
): MeshData {
  const roles = options.roles ?? ROLES;
  return {
    dataProducts: [
      ...PROVIDERS.map((id) => s3Provider(id, options.bucket?.(id) ?? `acme-${id}`)),
      ...roles.map((role, i) => consumerProduct(`c${i}`, role)),
    ],
    agreements: agreementIds(count).map((id, i) => agreementDoc(id, i)),
  } as MeshData;
}

/**
 * Plays `transitions` lifecycle transitions on random agreements, each one the server accepts in
 * the agreement's current state, `perTick` at a time with a pause between, so the sync under test
 * runs in between. Returns the number of each transition played.
 */
export async function playBurst(
  sim: RunningSimulator,
  options: { count: number; transitions: number; random: () => number; perTick?: number; tickMs?: number },
): Promise<Record<string, number>> {
  const { count, random } = options;
  const ids = agreementIds(count);
  const played: Record<string, number> = {};
  const chance = (p: number) => random() < p;
  for (let done = 0; done < options.transitions; ) {
    const index = Math.floor(random() * ids.length);
    const id = ids[index]!;
    const stored = sim.state.agreements.get(id);
    let action: string;
    if (!stored) {
      action = 'request';
      sim.request(agreementDoc(id, index));
    } else if (stored.status === 'requested') {
      action = chance(0.75) ? 'approve' : 'reject';
      if (action === 'approve') sim.approve(id);
      else sim.reject(id);
    } else if (stored.status === 'approved' && stored.active) {
      action = chance(0.4) ? 'deactivate' : chance(0.5) ? 'cancel' : 'delete';
      if (action === 'deactivate') sim.deactivate(id);
      else if (action === 'cancel') sim.cancel(id);
      else sim.deleteAgreement(id);
    } else if (stored.status === 'approved') {
      action = chance(0.6) ? 'activate' : 'delete';
      if (action === 'activate') sim.activate(id);
      else sim.deleteAgreement(id);
    } else {
      action = 'delete';
      sim.deleteAgreement(id);
    }
    played[action] = (played[action] ?? 0) + 1;
    done++;
    if (done % (options.perTick ?? 10) === 0) await new Promise((r) => setTimeout(r, options.tickMs ?? 100));
  }
  return played;
}

/** Per role, the agreements the simulator has active for its consumer. */
export function expectedGrants(
  sim: RunningSimulator,
  count: number,
  roles: readonly string[] = ROLES,
): Map<string, string[]> {
  const byRole = new Map<string, string[]>(roles.map((role) => [role, []]));
  agreementIds(count).forEach((id, index) => {
    if (sim.state.agreements.get(id)?.active) byRole.get(roleOf(index, roles))!.push(id);
  });
  return byRole;
}

/** Agreements that carry a failure report: after a fault-only run, every one is a false report. */
export function failureReports(sim: RunningSimulator, count: number): string[] {
  return agreementIds(count).filter((id) => {
    const view = sim.state.agreementView(id);
    if (!view) return false;
    const tags = (view.tags as string[] | undefined) ?? [];
    const status = (view.provisioning as { status?: string } | undefined)?.status ?? '';
    return tags.includes('aws-integration-failed') || status.endsWith('-failed');
  });
}

/** Waits until `check` returns true, polling; false when `timeoutMs` passed first. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
