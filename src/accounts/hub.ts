/**
 * What every hub shares, whatever its members' adapters are (AWS through assumed roles,
 * src/accounts/aws-hub.ts, or the local stand-in, src/local/local-hub.ts): each member's guardrails
 * from the hub's, and the directory with the routing adapters the core writes resource-side grants
 * through (src/accounts/routing.ts). Local and AWS hubs route the same way because they are built here.
 */
import { guardrailsFrom, type GuardrailSettings } from '../sync/guardrail-settings.js';
import type { Guardrails } from '../sync/guardrails.js';
import type { HubAccounts } from './cross-account.js';
import type { AccountDirectory, MemberAccount } from './directory.js';
import { BucketOwners, routedLakeFormation, routedResourcePolicies, routedResourceTags } from './routing.js';
import { memberOf, type MemberSetting, type MultiAccountSettings } from './settings.js';

/** The members' adapters and the routing adapters the core writes resource-side grants through. */
export interface Hub extends HubAccounts {
  resourcePolicies: ReturnType<typeof routedResourcePolicies>;
  lakeFormation: ReturnType<typeof routedLakeFormation>;
  resourceTags?: ReturnType<typeof routedResourceTags>;
}

/**
 * A member's guardrails: the hub's, with the member's own role settings laid over them. Resources
 * may come from any member (`members`, which an OU hub updates in place); which pairs may share
 * is multiAccount.allowedAccountPairs'.
 */
export function memberGuardrails(setting: MemberSetting, hub: GuardrailSettings, members: string[]): Guardrails {
  const { account, guardrails: own } = memberOf(setting);
  return guardrailsFrom(account, {
    ...hub,
    ...(own.managedRolePath ? { managedRolePath: own.managedRolePath } : {}),
    ...(own.requiredRoleTag ? { requiredRoleTag: own.requiredRoleTag } : {}),
    protectedRoles: [...(hub.protectedRoles ?? []), ...(own.protectedRoles ?? [])],
    allowedResourceAccounts: hub.allowedResourceAccounts ?? members,
  });
}

/** The hub over `members`: its directory, the bucket owners, and the adapters routed per account. */
export function hubOver(
  hubAccountId: string,
  members: ReadonlyMap<string, MemberAccount>,
  settings: Pick<MultiAccountSettings, 'allowedAccountPairs'>,
  readTags: boolean,
): Hub {
  const directory: AccountDirectory = {
    hubAccountId,
    members,
    ...(settings.allowedAccountPairs ? { allowedPairs: settings.allowedAccountPairs } : {}),
  };
  const owners = new BucketOwners(directory);
  return {
    directory,
    owners,
    resourcePolicies: routedResourcePolicies(directory, owners),
    lakeFormation: routedLakeFormation(directory),
    ...(readTags ? { resourceTags: routedResourceTags(directory, owners) } : {}),
  };
}
