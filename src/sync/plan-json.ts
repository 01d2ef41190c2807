/**
 * How a reconcile's changes look to people and tools: one line per change for `plan`, `apply` and
 * `explain`, and the machine-readable plan (`plan --json`, the reconcile function's dry run).
 */
import { lakeFormationResourceName } from '../model/grants.js';
import { describePolicyResource } from '../targets/resource-policy.js';
import { OWNERSHIP_PROOF_FIELD } from './ownership-proof.js';
import type { Change, ReconcileResult } from './reconcile.js';

/** What a change writes, for people: "inline policy dmm-aws-pack-1 on role x". */
export function describeChange(change: Change): string {
  switch (change.target) {
    case 'identity-policy':
      return `${change.kind === 'inline' ? 'inline' : 'managed'} policy ${change.policyName} on role ${change.roleName}${inAccount(change.account)}`;
    case 'resource-policy':
      return `${describePolicyResource(change.resource)}${inAccount(change.account)}`;
    case 'lake-formation':
      return `Lake Formation ${change.permissions.join(', ')} on ${lakeFormationResourceName(change.resource)} for ${change.principal}${inAccount(change.account)}`;
  }
}

/** A hub names the member account of each change. */
const inAccount = (account: string | undefined): string => (account ? ` in account ${account}` : '');

/** One change as `plan --json` shows it: every field a tool needs to make or review the write. */
function changeJson(c: Change) {
  const common = { agreementIds: c.agreementIds, ...(c.note ? { note: c.note } : {}) };
  switch (c.target) {
    case 'identity-policy':
      return {
        action: c.action,
        policyType: c.kind,
        role: c.roleName,
        ...(c.account ? { account: c.account } : {}),
        policyName: c.policyName,
        ...(c.policyArn ? { policyArn: c.policyArn } : {}),
        ...(c.policyPath ? { policyPath: c.policyPath } : {}),
        ...common,
        ...(c.document ? { document: c.document } : {}),
      };
    case 'resource-policy':
      return {
        action: c.action,
        target: c.target,
        resource: c.resource.arn,
        ...(c.account ? { account: c.account } : {}),
        ...common,
        ...(c.document ? { document: c.document } : {}),
      };
    case 'lake-formation':
      return {
        action: c.action,
        target: c.target,
        principal: c.principal,
        resource: c.resource,
        ...(c.account ? { account: c.account } : {}),
        permissions: c.permissions,
        ...common,
      };
  }
}

/**
 * Agreements that hold access now which ownership proof refuses, so the reconcile removes it: on
 * an installation upgraded to proof-by-default, exactly the grants to tag or allow-list first.
 */
export function accessRemovedByOwnershipProof(result: ReconcileResult) {
  return result.outcomes
    .filter((o) => o.refusedBy === OWNERSHIP_PROOF_FIELD && o.effect === 'revoked')
    .map((o) => ({
      agreementId: o.agreementId,
      from: [...new Set(o.changes.map(describeChange))],
      reason: o.reason,
    }));
}

/** The machine-readable plan: every change with its agreements, target and full document. */
export function planJson(result: ReconcileResult, applied: boolean) {
  return {
    applied,
    summary: {
      changes: result.changes.length,
      agreements: result.outcomes.length,
      rolesExamined: result.rolesExamined,
    },
    agreements: result.outcomes.map(({ report: _report, changes: _changes, ...outcome }) => outcome),
    accessRemovedByOwnershipProof: accessRemovedByOwnershipProof(result),
    changes: result.changes.map(changeJson),
  };
}
