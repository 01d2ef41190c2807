import type { Command } from 'commander';
import type { Config } from '../config.js';
import { loadAwsAccountFixture } from '../local/aws-account-fixture.js';
import type { FileIamAccount } from '../local/file-iam-account.js';
import { type LocalAccount, memberAccountIds, openLocalAccount, seedLocalStandIn } from '../local/local-accounts.js';
import { localStandIn } from './wiring.js';
import { addConnectionOptions, configFrom, type GlobalOptions } from './common.js';
import { bold, dim, indent } from './format.js';

/** Look into and set up the local stand-in for an AWS account. */
export function registerLocalAwsCommand(program: Command): void {
  const group = program
    .command('local-aws')
    .summary('inspect or seed the local stand-in for an AWS account')
    .description(
      'The local stand-in keeps roles and their policies in a JSON file (default ./.dmm-aws/aws-account.json) ' +
        "and enforces IAM's rules (role must exist, name and document rules, 10,240-character inline budget, " +
        'managed policy size and attachment quota), so what works locally works on AWS. With multiAccount it holds ' +
        'every member account, each in files named with its id beside that one (docs/multi-account.md, "Try it locally").',
    );
  addConnectionOptions(
    group
      .command('seed <account.yaml>')
      .description(
        'create the roles described in a YAML file, the buckets and Glue catalogs it lists (buckets, glueCatalogs), and ' +
          'record the tags of provider resources it lists under resourceTags (ownership proof reads them; see ' +
          'examples/local-aws.yaml); with multiAccount, each member from its entry under accounts ' +
          '(examples/multi-account/local-aws.yaml). Existing roles and resources are left as they are.',
      ),
  ).action(async (file: string, options: GlobalOptions) => {
    const config = configFrom(options);
    localOnly(config);
    const fixture = await loadAwsAccountFixture(file);
    const members = config.multiAccount ? memberAccountIds(config.multiAccount) : undefined;
    for (const seeded of await seedLocalStandIn(localStandIn(config), fixture, file, members)) {
      const where = members ? ` (account ${seeded.account})` : '';
      // A member that is only a provider has no roles to report.
      if (!members || seeded.roles.created.length + seeded.roles.skipped.length > 0)
        process.stdout.write(`seeded ${seeded.files.iam}${where}: ${JSON.stringify(seeded.roles)}\n`);
      if (seeded.resources.created.length + seeded.resources.skipped.length > 0)
        process.stdout.write(`resources in ${seeded.files.resourcePolicies}: ${JSON.stringify(seeded.resources)}\n`);
      if (seeded.tagsWritten) process.stdout.write(`provider resource tags written to ${seeded.files.resourceTags}\n`);
    }
  });
  addConnectionOptions(
    group
      .command('show [role]')
      .description(
        'print roles and the policies on them; with multiAccount, per account: its roles, and the policies of its ' +
          'buckets and Glue catalog (the resource side of cross-account grants)',
      )
      .option('--account <id>', 'with multiAccount: only this account')
      .option(
        '--json',
        'print {file, roles: [{name, arn, path, tags, inlinePolicies, managedPolicies}]} for scripts; with multiAccount ' +
          '{accounts: [{account, file, roles, resources: [{arn, policy}]}]}',
      ),
  ).action(async (roleName: string | undefined, options: GlobalOptions & { json?: boolean; account?: string }) => {
    const config = configFrom(options);
    localOnly(config);
    if (!config.multiAccount) {
      if (options.account) throw new Error('--account needs multiAccount (the local stand-in holds one account)');
      const account = openLocalAccount(localStandIn(config), localStandIn(config).hubAccountId).iam;
      const roles = await describeRoles(account, roleName);
      if (options.json) process.stdout.write(`${JSON.stringify({ file: account.file, roles }, null, 2)}\n`);
      else process.stdout.write(formatRoles(roles));
      return;
    }
    const ids = memberAccountIds(config.multiAccount);
    if (options.account && !ids.includes(options.account))
      throw new Error(`account ${options.account} is not a member account (multiAccount.members: ${ids.join(', ')})`);
    const accounts = [];
    for (const id of options.account ? [options.account] : ids) {
      const local = openLocalAccount(localStandIn(config), id);
      const roles = (await local.iam.listRoles()).some((r) => !roleName || r.name === roleName)
        ? await describeRoles(local.iam, roleName)
        : [];
      accounts.push({ account: id, file: local.files.iam, roles, resources: await describeResources(local) });
    }
    if (roleName && accounts.every((a) => a.roles.length === 0))
      throw new Error(`no role named ${roleName} in the member accounts ${ids.join(', ')}`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ accounts }, null, 2)}\n`);
      return;
    }
    for (const a of accounts) {
      process.stdout.write(`${bold(`Account ${a.account}`)} ${dim(a.file)}\n`);
      process.stdout.write(indent(formatRoles(a.roles) || dim('no roles\n'), 2).replace(/ +$/, ''));
      for (const r of roleName ? [] : a.resources)
        process.stdout.write(
          `  ${bold(r.arn)}\n${indent(r.policy === undefined ? dim('no policy') : JSON.stringify(r.policy, null, 2), 4)}\n`,
        );
    }
  });
}

function formatRoles(roles: Awaited<ReturnType<typeof describeRoles>>): string {
  let text = '';
  for (const role of roles) {
    text += `${bold(role.name)} ${dim(role.arn)}\n`;
    for (const policy of role.inlinePolicies)
      text += `  inline ${policy.name}\n${indent(JSON.stringify(policy.document, null, 2), 4)}\n`;
    for (const policy of role.managedPolicies)
      text += `  managed ${policy.arn}\n${indent(JSON.stringify(policy.document, null, 2), 4)}\n`;
  }
  return text;
}

/** An account's buckets and Glue catalogs with their policies parsed (KMS keys too, when seeded by a test). */
async function describeResources(local: LocalAccount) {
  return (await local.resourcePolicies.snapshot()).map(({ resource, policy }) => ({
    arn: resource.arn,
    ...(policy === undefined ? {} : { policy: JSON.parse(policy) as unknown }),
  }));
}

/** The roles (all, or the one named) with their policy documents parsed, for both output forms. */
async function describeRoles(account: FileIamAccount, roleName: string | undefined) {
  const roles = (await account.listRoles()).filter((r) => !roleName || r.name === roleName);
  if (roleName && roles.length === 0) throw new Error(`no role named ${roleName} in ${account.file}`);
  return Promise.all(
    roles.map(async (role) => ({
      ...role,
      inlinePolicies: (await account.listInlinePolicies(role.name)).map((p) => ({
        name: p.name,
        document: JSON.parse(p.document) as unknown,
      })),
      managedPolicies: await Promise.all(
        (await account.listAttachedPolicies(role.name)).map(async (ref) => ({
          arn: ref.arn,
          document: JSON.parse(await account.getManagedPolicyDocument(ref.arn)) as unknown,
        })),
      ),
    })),
  );
}

function localOnly(config: Config): void {
  if (config.aws.target !== 'local') throw new Error('local-aws works on the local stand-in only (aws.target is aws)');
}
