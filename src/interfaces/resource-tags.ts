import { describeArn } from '../output-ports/arn.js';
import type { ProviderResource } from '../output-ports/port-type.js';

/**
 * Reads the tags of a provider's resources, for the ownership-proof guardrail: a resource is
 * granted only when it carries a tag naming the provider data product. `undefined` means the
 * resource does not exist or its tags cannot be read, including resources of an AWS service the
 * reader cannot read tags of: never proof of ownership.
 */
export interface ResourceTagReader {
  tagsOf(resource: ProviderResource): Promise<Record<string, string> | undefined>;
}

/** How a provider resource is named in diagnostics: `S3 bucket acme-orders`, `Glue table sales.orders (account …, eu-central-1)`. */
export function describeResource(resource: ProviderResource): string {
  return resource.description ?? describeArn(resource.arn);
}
