/**
 * End-to-end harness: the real DmmHttpClient talks over loopback to the real simulator, the
 * converging core runs unchanged, and IAM is the in-memory FileIamAccount with IAM's rules.
 * Meshes are built in code per test with the small builders below.
 */
import { afterEach, expect } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { MemoryFifoQueue } from '../../src/local/memory-queue.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { statementSid } from '../../src/targets/sid.js';
import {
  startSimulator,
  type Generation,
  type MeshData,
  type ProvisioningRecord,
  type RunningSimulator,
} from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { defaultGuardrails, type Guardrails } from '../../src/sync/guardrails.js';
import { FileResourceTags, type ResourceTagsData } from '../../src/local/file-resource-tags.js';
import type { PackLimits, PolicyChange } from '../../src/targets/identity-policy/packing.js';
import type { Change } from '../../src/sync/reconcile.js';
import { pollFeed, type PollResult } from '../../src/sync/poller.js';
import { drainQueue, type DrainOptions, type DrainStats, type EventResult } from '../../src/sync/processor.js';
import type { Checkpoint, EventQueue } from '../../src/interfaces/event-queue.js';
import { readRoleState, type RoleState, sharedMemberships } from '../../src/targets/identity-policy/role-state.js';
import { sharedUnitFromSid } from '../../src/targets/identity-policy/shared.js';
import { memoryLogger } from '../../src/util/log.js';

export const ACCOUNT = '123456789012';
export const ROLE = 'analytics-consumer';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
export const REGION = 'eu-central-1';
/** An account that is not the managed one (a provider's Glue catalog elsewhere, say). */
export const OTHER_ACCOUNT = '210987654321';

/**
 * The condition the default guardrails add to every statement whose actions are all `s3:*`
 * (allowedResourceAccounts = the managed account): IAM then honours it only on buckets that
 * account owns. Statements with a Condition of their own (the `s3:prefix` StringLike) keep it
 * and gain this StringEquals next to it.
 */
export const OWN_ACCOUNT = { StringEquals: { 's3:ResourceAccount': ACCOUNT } };

type Doc = Record<string, unknown>;

// ---- Data product and agreement builders -------------------------------------------------------

/** A DPS 0.0.1 output port of type s3_bucket described by the reference integration's fields. */
export function s3BucketPort(id: string, bucket: string, extra: Record<string, string> = {}): Doc {
  return {
    id,
    name: `${id} (S3)`,
    custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}`, ...extra },
  };
}

/** A DPS 0.0.1 glue_table port described by the reference integration's fields. */
export function glueTablePort(id: string, database: string, table: string, bucket: string, account = ACCOUNT): Doc {
  return {
    id,
    name: `${id} (Glue)`,
    custom: {
      'output-port-type': 'glue_table',
      'aws-glue-table-arn': `arn:aws:glue:${REGION}:${account}:table/${database}/${table}`,
      'aws-glue-database-arn': `arn:aws:glue:${REGION}:${account}:database/${database}`,
      'aws-s3-folder-arn': `arn:aws:s3:::${bucket}/${table}`,
    },
  };
}

/** A DPS 0.0.1 port of type s3 with a server block (`s3://bucket/prefix/` → s3_prefix). */
export function s3ServerPort(id: string, location: string): Doc {
  return { id, name: `${id} (S3 prefix)`, type: 's3', server: { type: 's3', location } };
}

export function dpsProduct(id: string, options: { ports?: Doc[]; custom?: Record<string, string> } = {}): Doc {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'team-a' },
    outputPorts: options.ports ?? [],
    ...(options.custom ? { custom: options.custom } : {}),
  };
}

/** An ODPS v1.0.0 port: the S3 location as a `server` custom property, as the vendor connectors read it. */
export function odpsS3Port(name: string, location: string): Doc {
  return {
    name,
    version: '1.0.0',
    type: 's3',
    customProperties: [{ property: 'server', value: { type: 's3', location } }],
  };
}

export function odpsProduct(id: string, options: { ports?: Doc[]; custom?: Record<string, string> } = {}): Doc {
  return {
    apiVersion: 'v1.0.0',
    kind: 'DataProduct',
    id,
    name: id,
    status: 'active',
    team: { name: 'team-a' },
    outputPorts: options.ports ?? [],
    ...(options.custom
      ? { customProperties: Object.entries(options.custom).map(([property, value]) => ({ property, value })) }
      : {}),
  };
}

/** The most common provider: `orders` with the S3 bucket port `orders-s3` on `acme-orders`. */
export function ordersProduct(): Doc {
  return dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] });
}

/**
 * One provider per port type: `orders` (s3_bucket port `orders-s3`), `sales` (glue_table port
 * `tx-glue`) and `clicks` (s3_prefix port `clicks-s3` from a server block).
 */
export function providersOfEveryPortType(): Doc[] {
  return [
    ordersProduct(),
    dpsProduct('sales', { ports: [glueTablePort('tx-glue', 'sales', 'transactions', 'acme-sales-lake')] }),
    dpsProduct('clicks', { ports: [s3ServerPort('clicks-s3', 's3://acme-clicks/curated/')] }),
  ];
}

/** The consumer data product: DPS with `custom.aws-role-name` unless told otherwise. */
export function consumerProduct(id = 'consumer', custom: Record<string, string> = { 'aws-role-name': ROLE }): Doc {
  return dpsProduct(id, { custom });
}

export interface AgreementOptions {
  consumer?: string;
  /** Loaded active (approved, Activated event); default false (requested: approve it in the test). */
  active?: boolean;
  tags?: string[];
  custom?: Record<string, string>;
}

export function agreement(id: string, provider: string, port: string, options: AgreementOptions = {}): Doc {
  return {
    id,
    info: {
      purpose: `e2e ${id}`,
      startDate: '2020-01-01',
      ...(options.active ? { status: 'approved', active: true } : {}),
    },
    provider: { teamId: 'team-a', dataProductId: provider, outputPortId: port },
    consumer: { teamId: 'team-b', dataProductId: options.consumer ?? 'consumer' },
    tags: options.tags ?? [],
    custom: options.custom ?? {},
  };
}

/**
 * The one statement an active agreement on an s3_bucket port is granted (exact Sid: the
 * agreement's first statement), bound to buckets of the managed account.
 */
export function bucketReadStatement(agreementId: string, bucket = 'acme-orders'): PolicyStatement {
  return {
    Sid: statementSid(agreementId, 1),
    Effect: 'Allow',
    Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    Condition: OWN_ACCOUNT,
  };
}

// ---- Small adapters ------------------------------------------------------------------------------

export class MemoryCheckpoint implements Checkpoint {
  lastEventId: string | undefined;
  async read(): Promise<string | undefined> {
    return this.lastEventId;
  }
  async write(lastEventId: string): Promise<void> {
    this.lastEventId = lastEventId;
  }
}

export interface IamWrite {
  method: 'putInlinePolicy' | 'deleteInlinePolicy' | 'putManagedPolicy' | 'deleteManagedPolicy';
  roleName: string;
  /** Policy name (inline, managed put) or ARN (managed delete). */
  policy: string;
}

/** Wraps the instance's write methods to record every IAM write (reads pass through). */
export function recordIamWrites(iam: FileIamAccount): IamWrite[] {
  const writes: IamWrite[] = [];
  const target = iam as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  for (const method of ['putInlinePolicy', 'deleteInlinePolicy', 'putManagedPolicy', 'deleteManagedPolicy'] as const) {
    const original = target[method]!.bind(iam);
    target[method] = (...args: string[]) => {
      const policy = method === 'putManagedPolicy' ? args[2]! : args[1]!;
      writes.push({ method, roleName: args[0]!, policy });
      return original(...args);
    };
  }
  return writes;
}

// ---- The world -----------------------------------------------------------------------------------

export interface WorldOptions {
  mesh: MeshData;
  generation?: Generation;
  /**
   * The client's setting. Default: 'auto', except 'datausageagreements' on that generation, so the
   * old agreement path stays covered (detection would find /api/access there, as on 2024-11 servers).
   */
  apiGeneration?: Generation | 'auto';
  provisioning?: boolean;
  /** Roles created in the local account (a name, or a name with a path and tags); default [ROLE]. */
  roles?: (string | { name: string; path?: string; tags?: Record<string, string> })[];
  limits?: PackLimits;
  /**
   * The operator's guardrails; default `defaultGuardrails(ACCOUNT)` with ownership proof off
   * (WORLD_GUARDRAILS). Worlds test what the sync does with the grants it makes; ownership proof,
   * on by default in the product, is tested where it is the subject (test/sync/ownership-proof,
   * test/security/hostile-metadata, test/e2e/guardrails), with tags.
   */
  guardrails?: Guardrails;
  /** Tags of provider resources, for worlds with ownership proof on. */
  resourceTags?: ResourceTagsData;
  athenaQueryResultsLocation?: string;
}

export interface World {
  sim: RunningSimulator;
  dmm: DmmHttpClient;
  iam: FileIamAccount;
  ctx: SyncContext;
  log: ReturnType<typeof memoryLogger>;
  queue: EventQueue;
  checkpoint: Checkpoint;
  /** Every IAM write since the world started (see recordIamWrites). */
  writes: IamWrite[];
  /**
   * pollFeed (always with the world's own client) + drainQueue (with `ctx`, whose client a test
   * may swap) over the world's queue and checkpoint; results of every handled event.
   */
  sync(options?: DrainOptions): Promise<SyncRun>;
  /** drainQueue only, no poll. */
  drain(options?: DrainOptions): Promise<Omit<SyncRun, 'polled'>>;
  /**
   * sync() until the feed has nothing new: our own write-back emits AccessUpdatedEvent and
   * provisioning events, which the next sync reads and converges to "no change". Returns the rounds.
   */
  settle(): Promise<SyncRun[]>;
  /** Start over with a fresh checkpoint and a fresh queue (a replay of the whole feed). */
  resetPipeline(): void;
}

export interface SyncRun {
  polled: PollResult;
  stats: DrainStats;
  results: EventResult[];
}

const worlds: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((sim) => sim.close()));
});

export function fastClient(
  url: string,
  apiKey: string,
  options: { generation?: Generation; maxAttempts?: number } = {},
): DmmHttpClient {
  return new DmmHttpClient({
    baseUrl: url,
    apiKey,
    apiGeneration: options.generation ?? 'auto',
    maxAttempts: options.maxAttempts ?? 3,
    retryBaseDelayMs: 1,
    maxRetryDelayMs: 5,
    timeoutMs: 2000,
  });
}

/** The guardrails of a world that names none: the defaults, with ownership proof explicitly off. */
export const WORLD_GUARDRAILS: Guardrails = { ...defaultGuardrails(ACCOUNT), ownership: { mode: 'off' } };

export async function startWorld(options: WorldOptions): Promise<World> {
  const generation = options.generation ?? 'access';
  const sim = await startSimulator({
    port: 0,
    mesh: options.mesh,
    generation,
    ...(options.provisioning !== undefined ? { provisioning: options.provisioning } : {}),
  });
  worlds.push(sim);
  const iam = new FileIamAccount({ accountId: ACCOUNT });
  for (const role of options.roles ?? [ROLE]) {
    if (typeof role === 'string') await iam.createRole(role);
    else
      await iam.createRole(role.name, {
        ...(role.path ? { path: role.path } : {}),
        ...(role.tags ? { tags: role.tags } : {}),
      });
  }
  const writes = recordIamWrites(iam);
  const log = memoryLogger('debug');
  const apiGeneration = options.apiGeneration ?? (generation === 'datausageagreements' ? generation : 'auto');
  const dmm = fastClient(sim.url, sim.apiKey, apiGeneration === 'auto' ? {} : { generation: apiGeneration });
  const ctx: SyncContext = {
    dmm,
    iam,
    log,
    resolve: {
      accountId: ACCOUNT,
      partition: 'aws',
      defaultRegion: REGION,
      // An explicit operator setting: there is no implicit workgroup.
      defaultAthenaWorkgroup: 'primary',
      ...(options.athenaQueryResultsLocation ? { athenaQueryResultsLocation: options.athenaQueryResultsLocation } : {}),
    },
    ...(options.limits ? { limits: options.limits } : {}),
    guardrails: options.guardrails ?? WORLD_GUARDRAILS,
    ...(options.resourceTags ? { resourceTags: new FileResourceTags(options.resourceTags, 'world') } : {}),
  };
  const world: World = {
    sim,
    dmm,
    iam,
    ctx,
    log,
    queue: new MemoryFifoQueue(),
    checkpoint: new MemoryCheckpoint(),
    writes,
    async sync(drainOptions = {}) {
      const polled = await pollFeed({ dmm, queue: world.queue, checkpoint: world.checkpoint, log });
      return { polled, ...(await world.drain(drainOptions)) };
    },
    async drain(drainOptions = {}) {
      const results: EventResult[] = [];
      const stats = await drainQueue(world.ctx, world.queue, {
        maxReceives: 3,
        retryDelayMs: 1,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        ...drainOptions,
        onResult: async (result) => {
          results.push(result);
          await drainOptions.onResult?.(result);
        },
      });
      return { stats, results };
    },
    async settle() {
      const runs: SyncRun[] = [];
      for (let round = 0; round < 5; round++) {
        const run = await world.sync();
        runs.push(run);
        if (run.polled.events === 0) return runs;
      }
      throw new Error('the sync did not settle in 5 rounds: it keeps writing back');
    },
    resetPipeline() {
      world.queue = new MemoryFifoQueue();
      world.checkpoint = new MemoryCheckpoint();
    },
  };
  return world;
}

/**
 * Replace a role's tags, keeping its path and policies (FileIamAccount has no UntagRole): the role
 * is deleted and created again with the same inline and attached policies. The writes bypass
 * recordIamWrites, so `world.writes` shows only what the sync does.
 */
export async function setRoleTags(iam: FileIamAccount, roleName: string, tags: Record<string, string>): Promise<void> {
  const role = await iam.getRole(roleName);
  if (!role) throw new Error(`no role ${roleName}`);
  const inline = await iam.listInlinePolicies(roleName);
  const attached = await iam.listAttachedPolicies(roleName);
  await iam.deleteRole(roleName);
  await iam.createRole(roleName, { path: role.path, tags });
  for (const policy of inline)
    await FileIamAccount.prototype.putInlinePolicy.call(iam, roleName, policy.name, policy.document);
  for (const policy of attached) await iam.attachExistingPolicy(roleName, policy.arn);
}

/**
 * The agreement is reported failed: tags, error field, no policy name, and the provisioning record
 * `provisioning-failed` (or `deprovisioning-failed` when a revoke failed). `heldOn` is what
 * `aws-granted-role-arn` must say: the roles that still hold its statements (default: none).
 */
export async function expectFailed(
  world: World,
  id: string,
  diagnostic: RegExp | string,
  options: { status?: 'provisioning-failed' | 'deprovisioning-failed'; heldOn?: string } = {},
): Promise<string> {
  const v = view(world, id);
  expect(v.tags.filter((t) => t.startsWith('aws-integration')).sort()).toEqual([
    'aws-integration',
    'aws-integration-failed',
    'aws-integration-inactive',
  ]);
  const error = v.custom['aws-integration-error'];
  expect(error).toBeDefined();
  if (typeof diagnostic === 'string') expect(error).toContain(diagnostic);
  else expect(error).toMatch(diagnostic);
  expect(v.custom['aws-policy-name']).toBeUndefined();
  expect(v.custom['aws-granted-role-arn']).toBe(options.heldOn);
  const record = await provisioningOf(world, id);
  expect(record.body).toMatchObject({
    status: options.status ?? 'provisioning-failed',
    platform: 'aws',
    executor: 'dmm-aws',
    diagnostics: error,
  });
  expect(record.body?.failedAt).toEqual(expect.any(String));
  return error!;
}

// ---- Reading what the sync did ---------------------------------------------------------------------

export interface AgreementOnRole {
  /** Policies (inline or managed pack, or a reference policy) holding its statements. */
  policies: string[];
  statements: PolicyStatement[];
}

/** The role's statements per agreement id, as the core reads them (readRoleState). */
export async function grantsOn(iam: FileIamAccount, roleName = ROLE): Promise<Map<string, AgreementOnRole>> {
  const state = await roleState(iam, roleName);
  const byId = new Map<string, AgreementOnRole>();
  const add = (id: string, policy: string, statements: PolicyStatement[]) => {
    const entry = byId.get(id) ?? { policies: [], statements: [] };
    entry.policies.push(policy);
    entry.statements.push(...statements);
    byId.set(id, entry);
  };
  for (const pack of state.packs) for (const [id, statements] of pack.blocks) add(id, pack.name, statements);
  // Statements stored once per role count for every agreement their member records name.
  for (const [id, { bundle }] of sharedMemberships(state.packs)) {
    for (const pack of state.packs) {
      for (const [key, statements] of pack.shared) {
        if (!key.startsWith(`${bundle}:`)) continue;
        const unit = sharedUnitFromSid(statements[0]?.Sid);
        if (unit?.record !== undefined && !unit.members.includes(id)) continue;
        add(id, pack.name, statements);
      }
    }
  }
  for (const legacy of state.legacy) add(legacy.agreementId, legacy.name, legacy.statements);
  for (const entry of byId.values()) entry.policies = [...new Set(entry.policies)];
  return byId;
}

export async function roleState(iam: FileIamAccount, roleName = ROLE): Promise<RoleState> {
  const role = await iam.getRole(roleName);
  if (!role) throw new Error(`no role ${roleName}`);
  return readRoleState(iam, role);
}

/** Every Resource of the statements, flattened. */
export function resourcesOf(statements: PolicyStatement[]): string[] {
  return statements.flatMap((s) =>
    Array.isArray(s.Resource) ? s.Resource : s.Resource === undefined ? [] : [s.Resource],
  );
}

/** Inline and attached policy names of a role. */
export async function policyNames(
  iam: FileIamAccount,
  roleName = ROLE,
): Promise<{ inline: string[]; managed: string[] }> {
  const inline = (await iam.listInlinePolicies(roleName)).map((p) => p.name);
  const managed = (await iam.listAttachedPolicies(roleName)).map((p) => p.name);
  return { inline, managed };
}

/** The agreement as the simulator serves it (server fields filled in). */
export function view(
  world: World,
  id: string,
): { tags: string[]; custom: Record<string, string>; provisioning?: ProvisioningRecord } {
  const doc = world.sim.state.agreementView(id);
  if (!doc) throw new Error(`no agreement ${id}`);
  return {
    tags: (doc.tags as string[] | undefined) ?? [],
    custom: (doc.custom as Record<string, string> | undefined) ?? {},
    ...(doc.provisioning ? { provisioning: doc.provisioning as ProvisioningRecord } : {}),
  };
}

/** GET /api/access/{id}/provisioning over HTTP: the record exactly as the server stores it. */
export async function provisioningOf(
  world: World,
  id: string,
): Promise<{ status: number; body: ProvisioningRecord | undefined }> {
  const response = await fetch(`${world.sim.url}/api/access/${encodeURIComponent(id)}/provisioning`, {
    headers: { 'x-api-key': world.sim.apiKey, accept: 'application/json' },
  });
  const text = await response.text();
  return { status: response.status, body: response.ok && text ? (JSON.parse(text) as ProvisioningRecord) : undefined };
}

/** Feed events of one bare name (e.g. `AccessUpdatedEvent`) for one subject. */
export function eventsNamed(world: World, name: string, subject?: string): number {
  return world.sim.state.events.filter(
    (e) => e.type.endsWith(`.${name}`) && (subject === undefined || e.subject === subject),
  ).length;
}

/** A TCP port nobody listens on (a server is opened and closed again). */
export async function closedPortUrl(): Promise<string> {
  const sim = await startSimulator({ port: 0 });
  const url = sim.url;
  await sim.close();
  return url;
}

/** The most common world: provider `orders` with an S3 bucket port, the consumer, one active agreement. */
export function startOrdersWorld(agreementId: string, options: Omit<WorldOptions, 'mesh'> = {}): Promise<World> {
  return startWorld({
    ...options,
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct()],
      agreements: [agreement(agreementId, 'orders', 'orders-s3', { active: true })],
    },
  });
}

/** The changes as identity-policy changes, failing the test when any other target is written. */
export function policyChanges(changes: readonly Change[]): PolicyChange[] {
  const others = changes.filter((c) => c.target !== 'identity-policy');
  expect(others).toEqual([]);
  return changes as PolicyChange[];
}
