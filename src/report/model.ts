/**
 * The access-review report's content (`dmm-aws report`), built from one dry-run full reconcile:
 * the same reads and decisions as `dmm-aws plan`, seen per consumer role and per provider data
 * product. Every renderer (HTML, CSV, JSON) draws from this one model.
 */
import type { Agreement } from '../model/agreement.js';
import { lakeFormationResourceName, type TargetGrant } from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import { roleFill } from '../sync/explain.js';
import { dataProductCache, guardrailsOf, type ProductLookup, type SyncContext } from '../sync/context.js';
import { roleRefusal } from '../sync/guardrails.js';
import { accessRemovedByOwnershipProof, describeChange } from '../sync/plan-json.js';
import { reconcileAll, roleFromArn, type AgreementOutcome, type ReconcileResult } from '../sync/reconcile.js';
import type { Resolution } from '../sync/resolve.js';
import type { RoleState } from '../targets/identity-policy/role-state.js';

export const REPORT_FORMAT_VERSION = 1;

/** What one grant opens on one target: the resources and the actions (or Lake Formation permissions). */
export interface ReportGrant {
  target: TargetGrant['target'];
  /** For resource policies and Lake Formation: whose policy or permissions hold the grant. */
  on?: string;
  resources: string[];
  actions: string[];
}

export interface ReportAgreement {
  agreementId: string;
  /** requested | approved | rejected ... as Data Mesh Manager says; absent for a deleted agreement. */
  status?: string;
  active: boolean;
  startDate?: string;
  endDate?: string;
  /** `title`: the data product's title, where the reconcile read the product. */
  provider?: { dataProductId: string; title?: string; outputPortId: string; teamId?: string };
  consumer?: { dataProductId?: string; title?: string; teamId?: string; userId?: string };
  portType?: string;
  /** The consumer role it grants to (when it grants). */
  role?: string;
  decision: AgreementOutcome['decision'];
  /** What a reconcile would do to its access now: `unchanged` and `absent` mean nothing. */
  effect: AgreementOutcome['effect'];
  reason: string;
  refusedBy?: string;
  /** What it grants, per target (the desired state; drift says what differs from AWS now). */
  grants: ReportGrant[];
  /** Roles that hold its statements now or after the plan. */
  heldOnRoles: string[];
}

export interface ReportRole {
  arn: string;
  name: string;
  account: string;
  exists: boolean;
  /** Why the guardrails keep the tool off this role, if they do. */
  outOfReach?: string;
  inlineCharacters?: { used: number; limit: number };
  managedPolicies?: { packs: number; others: number; limit: number };
  agreementIds: string[];
}

export interface ReportProvider {
  dataProductId: string;
  title?: string;
  teamId?: string;
  consumers: {
    agreementId: string;
    outputPortId: string;
    consumer: string;
    role?: string;
    decision: AgreementOutcome['decision'];
  }[];
}

export interface ReportDrift {
  action: string;
  target: string;
  what: string;
  agreementIds: string[];
  note?: string;
}

export interface AccessReport {
  formatVersion: number;
  generatedAt: string;
  dmmBaseUrl: string;
  /** The managed account first, then every other account a grant names. */
  awsAccounts: string[];
  summary: {
    agreements: number;
    withAccess: number;
    failed: number;
    changes: number;
    roles: number;
    providers: number;
  };
  /** Failed agreements, each with its reason: these need someone to act. */
  failed: { agreementId: string; role?: string; reason: string; refusedBy?: string }[];
  /** What a reconcile would write now (`dmm-aws plan`'s changes). */
  drift: ReportDrift[];
  accessRemovedByOwnershipProof: ReturnType<typeof accessRemovedByOwnershipProof>;
  agreements: ReportAgreement[];
  roles: ReportRole[];
  providers: ReportProvider[];
}

export interface ReportOptions {
  dmmBaseUrl: string;
  now?: Date;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** Run a dry-run full reconcile (nothing is written, nothing reported back) and build the report. */
export async function buildReport(ctx: SyncContext, options: ReportOptions): Promise<AccessReport> {
  const read = new Map<string, { agreement: Agreement; resolution: Resolution }>();
  const roles: RoleState[] = [];
  // The titles of the data products the reconcile reads anyway: no read is added for the report.
  const titles = new Map<string, string>();
  const cache = dataProductCache(ctx.dmm);
  const products: ProductLookup = {
    ...cache,
    getDataProduct: async (id) => {
      const product = await cache.getDataProduct(id);
      if (product?.title) titles.set(id, product.title);
      return product;
    },
  };
  const result = await reconcileAll(ctx, {
    dryRun: true,
    products,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    observe: {
      resolved: (agreement, resolution) => read.set(agreement.id, { agreement, resolution }),
      role: (state) => roles.push(state),
    },
  });
  return reportFrom(ctx, result, read, roles, titles, options);
}

export function reportFrom(
  ctx: SyncContext,
  result: ReconcileResult,
  read: ReadonlyMap<string, { agreement: Agreement; resolution: Resolution }>,
  roleStates: readonly RoleState[],
  titles: ReadonlyMap<string, string>,
  options: ReportOptions,
): AccessReport {
  const agreements = result.outcomes.map((o) => agreementRow(o, read.get(o.agreementId), titles));
  agreements.sort(byAttention);
  const roles = roleRows(ctx, agreements, roleStates);
  const providers = providerRows(agreements);
  const failed = agreements
    .filter((a) => a.decision === 'failed')
    .map((a) => ({
      agreementId: a.agreementId,
      ...(a.role ? { role: a.role } : {}),
      reason: a.reason,
      ...(a.refusedBy ? { refusedBy: a.refusedBy } : {}),
    }));
  return {
    formatVersion: REPORT_FORMAT_VERSION,
    generatedAt: (options.now ?? new Date()).toISOString(),
    dmmBaseUrl: publicUrl(options.dmmBaseUrl),
    awsAccounts: accountsOf(ctx.iam.accountId, agreements, roles),
    summary: {
      agreements: agreements.length,
      withAccess: agreements.filter((a) => a.decision === 'grant').length,
      failed: failed.length,
      changes: result.changes.length,
      roles: roles.length,
      providers: providers.length,
    },
    failed,
    drift: result.changes.map((c) => ({
      action: c.action,
      target: c.target,
      what: describeChange(c),
      agreementIds: c.agreementIds,
      ...(c.note ? { note: c.note } : {}),
    })),
    accessRemovedByOwnershipProof: accessRemovedByOwnershipProof(result),
    agreements,
    roles,
    providers,
  };
}

/** Failed first, then those a reconcile would change, then the rest; by id within each. */
export function byAttention(a: ReportAgreement, b: ReportAgreement): number {
  return attention(a) - attention(b) || a.agreementId.localeCompare(b.agreementId);
}

function attention(a: ReportAgreement): number {
  if (a.decision === 'failed') return 0;
  if (a.effect !== 'unchanged' && a.effect !== 'absent') return 1;
  return a.decision === 'grant' ? 2 : 3;
}

function agreementRow(
  outcome: AgreementOutcome,
  read: { agreement: Agreement; resolution: Resolution } | undefined,
  titles: ReadonlyMap<string, string>,
): ReportAgreement {
  const titled = (id: string | undefined) => {
    const title = id === undefined ? undefined : titles.get(id);
    return title ? { title } : {};
  };
  const agreement = read?.agreement;
  const grant = read?.resolution.kind === 'grant' ? read.resolution.grant : undefined;
  return {
    agreementId: outcome.agreementId,
    ...(agreement?.status ? { status: agreement.status } : {}),
    active: agreement?.active ?? false,
    ...(agreement?.startDate ? { startDate: agreement.startDate } : {}),
    ...(agreement?.endDate ? { endDate: agreement.endDate } : {}),
    ...(agreement
      ? {
          provider: {
            dataProductId: agreement.provider.dataProductId,
            ...titled(agreement.provider.dataProductId),
            outputPortId: agreement.provider.outputPortId,
            ...(agreement.provider.teamId ? { teamId: agreement.provider.teamId } : {}),
          },
          consumer: { ...agreement.consumer, ...titled(agreement.consumer.dataProductId) },
        }
      : {}),
    ...(grant ? { portType: grant.portType } : {}),
    ...(outcome.role ? { role: outcome.role } : {}),
    decision: outcome.decision,
    effect: outcome.effect,
    reason: outcome.reason,
    ...(outcome.refusedBy ? { refusedBy: outcome.refusedBy } : {}),
    grants: grant ? grant.grants.flatMap(grantRows) : [],
    heldOnRoles: outcome.heldOnRoleArns,
  };
}

/** One row per statement (identity and resource policies) or per Lake Formation resource. */
function grantRows(grant: TargetGrant): ReportGrant[] {
  switch (grant.target) {
    case 'identity-policy':
      return grant.statements.map((s) => statementRow('identity-policy', s));
    case 'resource-policy':
      return grant.statements.map((s) => ({ ...statementRow('resource-policy', s), on: grant.resource.arn }));
    case 'lake-formation':
      return [
        {
          target: 'lake-formation',
          resources: [lakeFormationResourceName(grant.resource)],
          actions: [...grant.permissions],
        },
      ];
  }
}

function statementRow(target: ReportGrant['target'], s: PolicyStatement): ReportGrant {
  return { target, resources: list(s.Resource), actions: list(s.Action) };
}

const list = (value: string | string[]) => (Array.isArray(value) ? [...value] : [value]);

function roleRows(ctx: SyncContext, agreements: ReportAgreement[], states: readonly RoleState[]): ReportRole[] {
  const rows = new Map<string, ReportRole>();
  const guardrails = guardrailsOf(ctx);
  for (const state of states) {
    const refused = roleRefusal(state.role, guardrails);
    const fill = roleFill(state);
    rows.set(state.role.arn, {
      arn: state.role.arn,
      name: state.role.name,
      account: accountOfArn(state.role.arn) ?? ctx.iam.accountId,
      exists: true,
      ...(refused ? { outOfReach: refused } : {}),
      inlineCharacters: fill.inlineCharacters,
      managedPolicies: {
        packs: fill.managedPacks.attached,
        others: fill.managedPacks.others,
        limit: fill.managedPacks.limit,
      },
      agreementIds: [],
    });
  }
  for (const a of agreements) {
    for (const arn of new Set([...(a.role ? [a.role] : []), ...a.heldOnRoles])) {
      let row = rows.get(arn);
      if (!row) {
        // Named by an agreement but not found among the roles the tool may manage.
        row = {
          arn,
          name: roleFromArn(arn)?.name ?? arn,
          account: accountOfArn(arn) ?? ctx.iam.accountId,
          exists: false,
          agreementIds: [],
        };
        rows.set(arn, row);
      }
      row.agreementIds.push(a.agreementId);
    }
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.arn.localeCompare(b.arn));
}

function providerRows(agreements: ReportAgreement[]): ReportProvider[] {
  const rows = new Map<string, ReportProvider>();
  for (const a of agreements) {
    if (!a.provider) continue;
    const row = rows.get(a.provider.dataProductId) ?? {
      dataProductId: a.provider.dataProductId,
      ...(a.provider.title ? { title: a.provider.title } : {}),
      ...(a.provider.teamId ? { teamId: a.provider.teamId } : {}),
      consumers: [],
    };
    rows.set(a.provider.dataProductId, row);
    row.consumers.push({
      agreementId: a.agreementId,
      outputPortId: a.provider.outputPortId,
      consumer: consumerName(a),
      ...(a.role ? { role: a.role } : {}),
      decision: a.decision,
    });
  }
  return [...rows.values()].sort((a, b) => a.dataProductId.localeCompare(b.dataProductId));
}

/** "data product x (team y)", "team y", "user z" — who asked for the access. */
export function consumerName(a: ReportAgreement): string {
  const c = a.consumer;
  if (!c) return 'unknown (agreement deleted)';
  if (c.dataProductId) {
    const product = c.title && c.title !== c.dataProductId ? `${c.title} (${c.dataProductId})` : c.dataProductId;
    return c.teamId ? `${product}, team ${c.teamId}` : product;
  }
  if (c.teamId) return `team ${c.teamId}`;
  return c.userId ? `user ${c.userId}` : 'unknown';
}

function accountsOf(managed: string, agreements: ReportAgreement[], roles: ReportRole[]): string[] {
  const others = new Set<string>();
  for (const role of roles) others.add(role.account);
  for (const a of agreements)
    for (const g of a.grants)
      for (const arn of [...g.resources, ...(g.on ? [g.on] : [])]) {
        const account = accountOfArn(arn);
        if (account) others.add(account);
      }
  others.delete(managed);
  return [managed, ...[...others].sort()];
}

/** The account field of an ARN, when it has one (S3 ARNs do not). */
function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** The base URL without credentials, query or fragment: the report may be mailed around. */
function publicUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/$/, '');
}
