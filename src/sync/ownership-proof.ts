/**
 * The ownership-proof guardrail. Output port metadata is written by the teams themselves, so one
 * team could name another team's bucket or table as its port and hand it out. With a tag key
 * configured (off by default), a grant is made only when every provider resource it opens
 * carries that tag naming the provider data product — a tag only the resource's real owner, who
 * controls the AWS account, can set.
 *
 * The tag value is a product id, or a comma-separated list of product ids (each trimmed; exact,
 * case-sensitive match) for a resource that several data products legitimately share, e.g. one
 * bucket holding several products' prefixes: `dmm:data-product = orders, returns`. S3 tags
 * belong to the bucket, so every prefix of a bucket is proven by the bucket's tag.
 */
import type { ProviderResource } from '../output-ports/port-type.js';
import { mapLimit } from '../util/map-limit.js';
import type { Grant } from './resolve.js';
import { describeResource, type ResourceTagReader } from '../interfaces/resource-tags.js';

/** Tag reads in flight at once: a grant names two or three resources, a full reconcile many grants. */
const READ_CONCURRENCY = 4;

/**
 * Why `grant` must not be made, in one sentence for the people who can fix the tags or the
 * metadata; `undefined` when every provider resource proves its ownership. A resource that does
 * not exist or whose tags cannot be read is refused; any other reader error (throttling, network)
 * is thrown, so the caller retries instead of reporting a refusal that is not true.
 */
export async function ownershipRefusal(
  grant: Grant,
  tagKey: string,
  reader: ResourceTagReader,
): Promise<string | undefined> {
  if (tagKey === '')
    throw new Error('ownership proof needs a tag key; leave the guardrail off instead of passing an empty one');
  const product = grant.providerDataProductId;
  const resources = distinct(grant.providerResources);
  const problems = await mapLimit(resources, READ_CONCURRENCY, async (resource) =>
    problemWith(resource, await reader.tagsOf(resource), tagKey, product),
  );
  const found = problems.filter((p): p is string => p !== undefined);
  return found.length === 0 ? undefined : `ownership proof failed: ${found.join('; ')}`;
}

/** The product ids a tag value names. */
export function productIdsInTag(value: string): string[] {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

function problemWith(
  resource: ProviderResource,
  tags: Record<string, string> | undefined,
  tagKey: string,
  product: string,
): string | undefined {
  const what = describeResource(resource);
  if (tags === undefined) {
    return `${what} does not exist or its tags cannot be read by this tool, so it cannot show a tag ${tagKey} naming the provider data product ${product}`;
  }
  // Own-property check: a tag key such as `constructor` must not find Object.prototype's.
  const value = Object.hasOwn(tags, tagKey) ? tags[tagKey] : undefined;
  if (value === undefined) return `${what} has no tag ${tagKey} (it must name the provider data product ${product})`;
  if (productIdsInTag(value).includes(product)) return undefined;
  return `${what} has tag ${tagKey} = ${JSON.stringify(value)}, which does not name the provider data product ${product}`;
}

/**
 * Each resource once, in first-seen order. A port's resources name the ARN that carries the tags
 * (for S3 the bucket, whatever the prefix), so a grant's data location and its bucket are one read.
 */
function distinct(resources: readonly ProviderResource[]): ProviderResource[] {
  const byArn = new Map<string, ProviderResource>();
  for (const resource of resources) if (!byArn.has(resource.arn)) byArn.set(resource.arn, resource);
  return [...byArn.values()];
}
