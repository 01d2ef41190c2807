/**
 * The ownership-proof guardrail, on by default. Output port metadata is written by the teams
 * themselves, so one team could name another team's bucket or table as its port and hand it out.
 * A grant is therefore made only when every provider resource it opens is shown to belong to the
 * provider, by one of:
 *
 * - a **tag** on the resource naming the provider data product (`dmm:data-product = orders`) or,
 *   when the operator configures a team tag key, the product's owner team (`dmm:team = sales`):
 *   only the resource's real owner, who controls the AWS account, can set it. A value may list
 *   several ids, comma-separated, for a resource several products legitimately share;
 * - an operator **allow-list** entry mapping the product or its team to ARN patterns.
 *
 * The operator may turn proof off explicitly; the sync then says so on every run. S3 tags belong
 * to the bucket, so every prefix of a bucket is proven by the bucket's tag. See
 * docs/adr/0006-ownership-proof-by-default.md.
 */
import { tagCarrierArn } from '../output-ports/arn.js';
import type { ProviderResource } from '../output-ports/port-type.js';
import { mapLimit } from '../util/map-limit.js';
import type { Grant } from './resolve.js';
import { describeResource, type ResourceTagReader } from '../interfaces/resource-tags.js';

/** Tag reads in flight at once: a grant names two or three resources, a full reconcile many grants. */
const READ_CONCURRENCY = 4;

/** Who an allow-list entry speaks for: one data product, or every data product a team owns. */
export type OwnershipAllowEntry = ({ dataProduct: string; team?: never } | { team: string; dataProduct?: never }) & {
  /** ARN patterns; `*` matches any run of characters (also `/`), `?` one character. */
  resources: string[];
};

export type OwnershipProof =
  | { mode: 'off' }
  | {
      mode: 'required';
      /** Tag naming the provider data product id(s). */
      productTagKey: string;
      /** Tag naming the provider's owner team id(s); unset: team tags prove nothing. */
      teamTagKey?: string;
      allowList: OwnershipAllowEntry[];
    };

export const DEFAULT_OWNERSHIP_TAG_KEY = 'dmm:data-product';

/** The setting a refusal names, so reports and `plan` can tell ownership refusals apart. */
export const OWNERSHIP_PROOF_FIELD = 'guardrails.ownershipProof';

/** Said (at warn) on every run with ownership proof off, so nobody forgets that it is off. */
export const OWNERSHIP_PROOF_OFF =
  "ownership proof is OFF (guardrails.ownershipProof: off): a provider can grant any bucket, table or key its port names, including other teams' (see docs/security.md)";

/** The provider a grant must prove ownership for. */
type Provider = Pick<Grant, 'providerDataProductId' | 'providerTeamId'>;

/**
 * Why `grant` must not be made, in one sentence for the people who can fix the tags, the
 * allow-list or the metadata; `undefined` when every provider resource is proven (or proof is
 * off). A resource that does not exist or whose tags cannot be read is refused; any other reader
 * error (throttling, network) is thrown, so the caller retries instead of reporting a refusal
 * that is not true.
 */
export async function ownershipRefusal(
  grant: Pick<Grant, 'providerDataProductId' | 'providerTeamId' | 'providerResources'>,
  proof: OwnershipProof,
  reader: ResourceTagReader | undefined,
): Promise<string | undefined> {
  if (proof.mode === 'off') return undefined;
  if (proof.productTagKey === '' || proof.teamTagKey === '')
    throw new Error('ownership proof needs a tag key (non-empty); leave the team tag key unset instead of empty');
  // One read per resource that carries tags (a bucket and its folders are one), first seen first.
  const byCarrier = new Map<string, ProviderResource>();
  for (const resource of grant.providerResources) {
    const carrier = tagCarrierArn(resource.arn);
    if (!byCarrier.has(carrier) && !allowListed(resource.arn, grant, proof.allowList)) byCarrier.set(carrier, resource);
  }
  const carriers = [...byCarrier.values()];
  if (carriers.length > 0 && !reader) {
    return `ownership proof failed: ${carriers.map(describeResource).join(', ')} must be shown to belong to the provider data product ${grant.providerDataProductId}, but no resource tag reader is configured and no allow-list entry covers it`;
  }
  const problems = await mapLimit(carriers, READ_CONCURRENCY, async (resource) =>
    problemWith(resource, await reader!.tagsOf(resource), proof, grant),
  );
  const found = problems.filter((p): p is string => p !== undefined);
  return found.length === 0 ? undefined : `ownership proof failed: ${found.join('; ')}`;
}

/** The ids a tag value names. */
export function idsInTag(value: string): string[] {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

/**
 * Whether an allow-list entry for the provider covers `arn`. An S3 folder is covered by a pattern
 * for the folder or for any folder or bucket above it: allowing a bucket allows what is in it.
 */
export function allowListed(arn: string, provider: Provider, allowList: readonly OwnershipAllowEntry[]): boolean {
  const candidates = s3Ancestors(arn);
  return allowList.some(
    (entry) =>
      (entry.dataProduct !== undefined
        ? entry.dataProduct === provider.providerDataProductId
        : entry.team === provider.providerTeamId) &&
      entry.resources.some((pattern) => candidates.some((candidate) => globMatches(pattern, candidate))),
  );
}

/** `arn:aws:s3:::b/p/q/` → itself, `arn:aws:s3:::b/p/`, `arn:aws:s3:::b`; any other ARN → itself. */
function s3Ancestors(arn: string): string[] {
  const match = /^(arn:[^:]+:s3:::)([^/]+)\/(.*)$/.exec(arn);
  if (!match) return [arn];
  const [, head = '', bucket = '', path = ''] = match;
  const segments = path.split('/').filter((s) => s !== '');
  const folders = segments.map((_, i) => `${head}${bucket}/${segments.slice(0, i + 1).join('/')}/`);
  return [arn, ...folders.reverse(), `${head}${bucket}`];
}

/** `*` any run of characters, `?` one; everything else literal, case-sensitive like ARNs. */
export function globMatches(pattern: string, value: string): boolean {
  let compiled = GLOBS.get(pattern);
  if (!compiled) {
    const source = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('');
    compiled = new RegExp(`^${source}$`, 's');
    GLOBS.set(pattern, compiled);
  }
  return compiled.test(value);
}

/** Compiled allow-list patterns: the same few are matched for every grant of a full reconcile. */
const GLOBS = new Map<string, RegExp>();

function problemWith(
  resource: ProviderResource,
  tags: Record<string, string> | undefined,
  proof: Extract<OwnershipProof, { mode: 'required' }>,
  provider: Provider,
): string | undefined {
  const carrier = tagCarrierArn(resource.arn);
  const what = describeResource(carrier === resource.arn ? resource : { arn: carrier });
  const product = provider.providerDataProductId;
  const team = proof.teamTagKey ? provider.providerTeamId : undefined;
  const wanted =
    `a tag ${proof.productTagKey} naming the provider data product ${product}` +
    (proof.teamTagKey && team ? ` or a tag ${proof.teamTagKey} naming its team ${team}` : '');
  if (tags === undefined) {
    return `${what} does not exist or its tags cannot be read by this tool, so it cannot show ${wanted}`;
  }
  const productTag = tagValue(tags, proof.productTagKey);
  if (productTag !== undefined && idsInTag(productTag).includes(product)) return undefined;
  const teamTag = proof.teamTagKey ? tagValue(tags, proof.teamTagKey) : undefined;
  if (team && teamTag !== undefined && idsInTag(teamTag).includes(team)) return undefined;
  const seen = [
    productTag !== undefined ? `${proof.productTagKey} = ${JSON.stringify(productTag)}` : undefined,
    teamTag !== undefined ? `${proof.teamTagKey} = ${JSON.stringify(teamTag)}` : undefined,
  ].filter((s): s is string => s !== undefined);
  if (seen.length === 0) {
    const or = team ? `; or a tag ${proof.teamTagKey} naming its team ${team}` : '';
    return `${what} has no tag ${proof.productTagKey} (it must name the provider data product ${product}${or})`;
  }
  return `${what} has tag ${seen.join(' and ')}, which does not name the provider data product ${product}${team ? ` or its team ${team}` : ''}`;
}

/** Own-property lookup: a tag key such as `constructor` must not find Object.prototype's. */
function tagValue(tags: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(tags, key) ? tags[key] : undefined;
}

/**
 * Tag reads shared by one unit of work: a full reconcile asks about the same few buckets and
 * tables for many agreements, and each answer is one AWS call. A failed read is forgotten, so
 * the next grant asks again.
 */
export function sharedTagReads(reader: ResourceTagReader): ResourceTagReader {
  const reads = new Map<string, Promise<Record<string, string> | undefined>>();
  return {
    tagsOf(resource) {
      const carrier = tagCarrierArn(resource.arn);
      let read = reads.get(carrier);
      if (!read) {
        read = reader.tagsOf(resource);
        reads.set(carrier, read);
        read.catch(() => reads.delete(carrier));
      }
      // A copy per caller, so no grant can change what the next one sees.
      return read.then((tags) => (tags === undefined ? undefined : { ...tags }));
    },
  };
}
