import type { ProviderResource } from '../output-ports/port-type.js';

/**
 * Reads the tags of a provider's resources, for the ownership-proof guardrail: a resource is
 * granted only when it carries a tag naming the provider data product. `undefined` means the
 * resource does not exist or its tags cannot be read: never proof of ownership.
 */
export interface ResourceTagReader {
  tagsOf(resource: ProviderResource): Promise<Record<string, string> | undefined>;
}

/** How a provider resource is named in diagnostics. */
export function describeResource(resource: ProviderResource): string {
  return resource.kind === 's3'
    ? `S3 bucket ${resource.bucket}`
    : `Glue table ${resource.database}.${resource.table} (account ${resource.account}, ${resource.region})`;
}
