import type { Command } from 'commander';
import { explainAgreement, explainRole, type AgreementExplanation, type RoleExplanation } from '../sync/explain.js';
import { addConnectionOptions, configFrom, loggerFrom, type GlobalOptions } from './common.js';
import { bold, dim, formatChange, green, indent, red, yellow } from './format.js';
import { buildContext } from './wiring.js';

interface ExplainOptions extends GlobalOptions {
  role?: string;
  json?: boolean;
}

export function registerExplainCommand(program: Command): void {
  const command = program
    .command('explain [agreement-id]')
    .summary('why does a role (not) have the access an agreement grants?')
    .description(
      'Explains one agreement (what Data Mesh Manager says, what the sync decides and why, which roles hold its ' +
        'statements now, and what a reconcile would change), or with --role one role (every agreement holding ' +
        'statements on it, whether each is still explained, the guardrails, and how full the role is). For a hub over ' +
        'member accounts it shows both sides of each grant (the role in the consumer account, the resource policy ' +
        "statements and Lake Formation permissions in the provider's) with the account of each. " +
        'Reads only: nothing is changed and nothing is written back.',
    )
    .option('--role <name>', "explain a role instead of an agreement (a hub's member role: its ARN)")
    .option('--json', 'print the explanation as JSON');
  addConnectionOptions(command).action(async (agreementId: string | undefined, options: ExplainOptions) => {
    if (!agreementId === !options.role) throw new Error('give either an agreement id or --role <name>');
    const config = configFrom(options);
    // Read-only and printed for people: only warnings and errors interrupt it unless asked for.
    const ctx = await buildContext(config, loggerFrom(options, config, 'warn'));
    const result = options.role ? await explainRole(ctx, options.role) : await explainAgreement(ctx, agreementId!);
    if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`${'agreements' in result ? formatRole(result) : formatAgreement(result)}\n`);
  });
  command.addHelpText(
    'after',
    '\nExamples:\n  $ dmm-aws explain agr-orders-s3\n  $ dmm-aws explain --role marketing-analytics-consumer --json\n',
  );
}

function formatAgreement(e: AgreementExplanation): string {
  const lines = [bold(`Agreement ${e.agreementId}`)];
  lines.push(
    e.agreement
      ? `  in Data Mesh Manager: ${e.agreement.active ? green('active') : 'not active'} (status ${e.agreement.status ?? '-'}), provider ${e.agreement.provider}, consumer ${e.agreement.consumer}`
      : `  in Data Mesh Manager: ${red('does not exist')}`,
  );
  const { outcome } = e;
  lines.push(`  decision: ${bold(outcome.decision)} — ${outcome.reason}`);
  const inAccount = (account: string | undefined) => (account ? ` (account ${account})` : '');
  if (e.holdings.length === 0) lines.push('  holds: no statements on any role');
  for (const h of e.holdings)
    lines.push(
      `  holds: ${h.statements.length} statement(s) on ${h.role} in ${h.policies.join(', ')}${inAccount(h.account)}`,
    );
  // The resource side: the provider's consent, without which IAM ignores a grant across accounts.
  for (const r of e.resourceHoldings)
    lines.push(`  holds: ${r.statements.length} statement(s) in the policy of ${r.resource}${inAccount(r.account)}`);
  for (const l of e.lakeFormationHoldings)
    lines.push(
      `  holds: Lake Formation ${l.permissions.join(', ')} on ${l.resource} for ${l.principal}${inAccount(l.account)}`,
    );
  if (e.inSync) lines.push(green('  in sync: AWS matches what the agreement says.'));
  else if (outcome.changes.length === 0)
    lines.push(yellow('  not in sync: the grant cannot be made (see the decision).'));
  else
    lines.push(
      yellow(`  not in sync: a reconcile would make ${outcome.changes.length} change(s):`),
      ...outcome.changes.map((c) => indent(formatChange(c, false), 4)),
    );
  return lines.join('\n');
}

function formatRole(r: RoleExplanation): string {
  if (!r.exists)
    return red(`Role ${r.role} does not exist in this account (or is outside the roles this tool may manage).`);
  const lines = [bold(`Role ${r.role}`)];
  if (r.outOfReach) lines.push(red(`  out of reach: ${r.outOfReach}`));
  lines.push(
    `  inline policies: ${r.inlineCharacters.used} of ${r.inlineCharacters.limit} characters; managed: ${r.managedPacks.attached} pack(s) + ${r.managedPacks.others} other of ${r.managedPacks.limit} attachments`,
  );
  if (r.agreements.length === 0) lines.push(dim('  no dmm-aws statements on this role'));
  for (const a of r.agreements) {
    const mark =
      a.effect === 'unchanged'
        ? green('explained')
        : a.decision === 'failed'
          ? red('failed')
          : yellow(`would be ${a.effect}`);
    lines.push(
      `  ${bold(a.agreementId)}: ${a.statements} statement(s) in ${a.policies.join(', ')} — ${mark}: ${a.reason}`,
    );
  }
  return lines.join('\n');
}
