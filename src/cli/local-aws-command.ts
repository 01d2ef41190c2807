import type { Command } from 'commander';
import { localStandInFile, type Config } from '../config.js';
import { loadAwsAccountFixture, seedIamAccount, seedResourceTags } from '../local/aws-account-fixture.js';
import { DEFAULT_ACCOUNT_ID, FileIamAccount } from '../local/file-iam-account.js';
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
        'managed policy size and attachment quota), so what works locally works on AWS.',
    );
  addConnectionOptions(
    group
      .command('seed <account.yaml>')
      .description(
        'create the roles described in a YAML file, and record the tags of provider resources it lists under ' +
          'resourceTags (ownership proof reads them; see examples/local-aws.yaml)',
      ),
  ).action(async (file: string, options: GlobalOptions) => {
    const config = configFrom(options);
    const account = accountFrom(config);
    const fixture = await loadAwsAccountFixture(file);
    const result = await seedIamAccount(account, fixture, file);
    process.stdout.write(`seeded ${account.file}: ${JSON.stringify(result)}\n`);
    const tagsFile = config.aws.localResourceTagsFile ?? localStandInFile(config, 'resource-tags.yaml');
    if (await seedResourceTags(tagsFile, fixture))
      process.stdout.write(`provider resource tags written to ${tagsFile}\n`);
  });
  addConnectionOptions(
    group
      .command('show [role]')
      .description('print roles and the policies on them')
      .option('--json', 'print {file, roles: [{name, arn, path, tags, inlinePolicies, managedPolicies}]} for scripts'),
  ).action(async (roleName: string | undefined, options: GlobalOptions & { json?: boolean }) => {
    const account = accountFrom(configFrom(options));
    const roles = await describeRoles(account, roleName);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ file: account.file, roles }, null, 2)}\n`);
      return;
    }
    for (const role of roles) {
      process.stdout.write(`${bold(role.name)} ${dim(role.arn)}\n`);
      for (const policy of role.inlinePolicies)
        process.stdout.write(`  inline ${policy.name}\n${indent(JSON.stringify(policy.document, null, 2), 4)}\n`);
      for (const policy of role.managedPolicies)
        process.stdout.write(`  managed ${policy.arn}\n${indent(JSON.stringify(policy.document, null, 2), 4)}\n`);
    }
  });
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

function accountFrom(config: Config): FileIamAccount {
  if (config.aws.target !== 'local') throw new Error('local-aws works on the local stand-in only (aws.target is aws)');
  return new FileIamAccount({ file: config.aws.localStateFile, accountId: config.aws.accountId ?? DEFAULT_ACCOUNT_ID });
}
