/**
 * Member accounts from AWS Organizations OUs (docs/adr/0019-members-from-organizational-units.md):
 * the ACTIVE accounts under each configured OU, nested OUs included, listed again at most once per
 * TTL so an account joins or leaves without a redeploy and Organizations is not called per event.
 *
 * Fail-safe: a listing that fails never means "no members". Within MAX_STALE_MS of the last good
 * listing the hub keeps using it; before the first good listing, or after that, every unit of
 * work stops with an OutageError (its events are kept and retried), so no agreement is refused,
 * and no grant revoked, because Organizations could not be read.
 */
import {
  type Account,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { OutageError } from '../interfaces/outage.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** What the hub calls in Organizations (terraform: the hub's IAM writers, or the organizations role). */
export const ORGANIZATIONS_ACTIONS_USED = [
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
] as const;

/** How long a listing is used before the OUs are listed again: how late a new account joins. */
export const OU_MEMBERS_TTL_MS = 5 * 60_000;
/** How long the last good listing stands in while Organizations cannot be read; then: outage. */
export const OU_MEMBERS_MAX_STALE_MS = 60 * 60_000;
/** After a failed listing, how long before the next try (so an outage is not hammered per event). */
export const OU_MEMBERS_RETRY_MS = 30_000;

/**
 * The ACTIVE accounts under the OUs, nested OUs included (as CloudFormation StackSets deploy to
 * an OU target, so the member module deployed that way reaches exactly these accounts). Suspended,
 * closing or not yet activated accounts are left out: no role can be assumed there.
 */
export async function accountsUnder(client: OrganizationsClient, ous: readonly string[]): Promise<string[]> {
  const accounts = new Set<string>();
  const seen = new Set<string>();
  const queue = [...ous];
  for (let ou = queue.shift(); ou !== undefined; ou = queue.shift()) {
    if (seen.has(ou)) continue;
    seen.add(ou);
    for (const account of await accountsOf(client, ou)) accounts.add(account);
    queue.push(...(await childUnits(client, ou)));
  }
  return [...accounts].sort();
}

async function accountsOf(client: OrganizationsClient, parent: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListAccountsForParentCommand({ ParentId: parent, ...(token ? { NextToken: token } : {}) }),
    );
    for (const account of page.Accounts ?? []) if (account.Id && isActive(account)) ids.push(account.Id);
    token = page.NextToken;
  } while (token);
  return ids;
}

async function childUnits(client: OrganizationsClient, parent: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: parent, ...(token ? { NextToken: token } : {}) }),
    );
    for (const unit of page.OrganizationalUnits ?? []) if (unit.Id) ids.push(unit.Id);
    token = page.NextToken;
  } while (token);
  return ids;
}

/** `State` replaced `Status` (retired in September 2026); either says ACTIVE for a usable account. */
function isActive(account: Account): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

export interface OrganizationMembersOptions {
  organizationalUnits: readonly string[];
  /** Lists the accounts (accountsUnder over a client with the right credentials). */
  list: () => Promise<string[]>;
  log?: Logger;
  now?: () => number;
}

/** The OU accounts as last listed, listed again when older than OU_MEMBERS_TTL_MS. */
export class OrganizationMembers {
  private accounts: readonly string[] | undefined;
  private listedAt = 0;
  private failedAt: number | undefined;
  private listing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: OrganizationMembersOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The accounts, fresh within the TTL. Throws an OutageError when Organizations cannot be read
   * and no good listing younger than OU_MEMBERS_MAX_STALE_MS stands in.
   */
  async current(): Promise<readonly string[]> {
    const now = this.now();
    const due = this.accounts === undefined || now - this.listedAt >= OU_MEMBERS_TTL_MS;
    const resting = this.failedAt !== undefined && now - this.failedAt < OU_MEMBERS_RETRY_MS;
    if (due && !resting) {
      this.listing ??= this.list().finally(() => {
        this.listing = undefined;
      });
      await this.listing;
    }
    if (this.accounts !== undefined && this.now() - this.listedAt < OU_MEMBERS_MAX_STALE_MS) return this.accounts;
    throw new OutageError(
      `the member accounts of ${this.describe()} are unknown: ${this.lastError ?? 'not listed yet'}. Nothing is granted or revoked until they can be listed`,
    );
  }

  private lastError: string | undefined;

  private async list(): Promise<void> {
    try {
      const accounts = await this.options.list();
      const before = this.accounts;
      this.accounts = accounts;
      this.listedAt = this.now();
      this.failedAt = undefined;
      this.lastError = undefined;
      if (before && !sameAccounts(before, accounts)) {
        this.options.log?.info('member accounts of the organizational units changed', {
          organizationalUnits: [...this.options.organizationalUnits],
          joined: accounts.filter((a) => !before.includes(a)),
          left: before.filter((a) => !accounts.includes(a)),
        });
      }
    } catch (error) {
      this.failedAt = this.now();
      this.lastError = `listing them failed (${errorMessage(error)})`;
      // The last good listing stands in (see current()); the operator should know it is aging.
      this.options.log?.warn('listing the member accounts of the organizational units failed', {
        organizationalUnits: [...this.options.organizationalUnits],
        error: errorMessage(error),
        ...(this.accounts ? { usingListingOfAgeSeconds: Math.round((this.now() - this.listedAt) / 1000) } : {}),
      });
    }
  }

  private describe(): string {
    return `organizational unit${this.options.organizationalUnits.length === 1 ? '' : 's'} ${this.options.organizationalUnits.join(', ')}`;
  }
}

function sameAccounts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
