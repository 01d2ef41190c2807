import type { IamAccount } from '../../interfaces/iam-account.js';
import type { PolicyChange } from './packing.js';

/** Carry out one role's changes in the planned order. IAM errors propagate with their code. */
export async function applyChanges(iam: IamAccount, changes: PolicyChange[]): Promise<void> {
  for (const change of changes) await applyChange(iam, change);
}

async function applyChange(iam: IamAccount, change: PolicyChange): Promise<void> {
  const { roleName, policyName } = change;
  if (change.kind === 'inline') {
    if (change.action === 'put') await iam.putInlinePolicy(roleName, policyName, JSON.stringify(change.document));
    else await iam.deleteInlinePolicy(roleName, policyName);
    return;
  }
  if (change.action === 'put') {
    await iam.putManagedPolicy(roleName, change.policyPath ?? '/dmm-aws/', policyName, JSON.stringify(change.document));
  } else if (change.policyArn) {
    await iam.deleteManagedPolicy(roleName, change.policyArn);
  }
}
