import { accessRemovedByOwnershipProof, describeChange } from '../sync/plan-json.js';
import type { AgreementOutcome, Change } from '../sync/reconcile.js';
import type { ReconcileResult } from '../sync/reconcile.js';
import type { LogSink } from '../util/log.js';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

const DECISION_COLOR = { grant: green, revoke: yellow, none: dim, failed: red } as const;

export function formatOutcome(outcome: AgreementOutcome): string {
  const color = DECISION_COLOR[outcome.decision];
  const head = `${bold(outcome.agreementId)}  ${color(outcome.decision.toUpperCase())} (${outcome.effect})`;
  const lines = [head, `  ${outcome.reason}`];
  if (outcome.role && outcome.decision === 'grant')
    lines.push(`  role ${outcome.role}; policies ${outcome.policyNames.join(', ') || '-'}`);
  return lines.join('\n');
}

export function formatChange(change: Change, withDocument = true): string {
  const what = describeChange(change);
  const who = change.agreementIds.length ? ` (agreements: ${change.agreementIds.join(', ')})` : '';
  const note = change.note ? dim(` — ${change.note}`) : '';
  if (change.action === 'delete' || change.action === 'revoke')
    return `${red(`- ${change.action}`)} ${what}${who}${note}`;
  const head = `${green(`+ ${change.action}`)} ${what}${who}${note}`;
  const document = 'document' in change ? change.document : undefined;
  return withDocument && document ? `${head}\n${indent(JSON.stringify(document, null, 2), 4)}` : head;
}

export function formatPlan(result: ReconcileResult, applied: boolean): string {
  const count = (d: AgreementOutcome['decision']) => result.outcomes.filter((o) => o.decision === d).length;
  const interesting = result.outcomes.filter(
    (o) => o.effect !== 'absent' || o.decision === 'failed' || o.decision === 'grant',
  );
  const lines: string[] = [];
  lines.push(
    bold(
      `${applied ? 'Applied' : 'Plan'}: ${result.changes.length} ${changeNoun(result.changes)}; ${result.outcomes.length} agreement(s): ` +
        `${count('grant')} with access, ${count('revoke')} revoked, ${count('failed')} failed, ${count('none')} without access; ` +
        `${result.rolesExamined} role(s) examined.`,
    ),
  );
  const removed = accessRemovedByOwnershipProof(result);
  if (removed.length) {
    lines.push(
      '',
      yellow(
        bold(
          `Ownership proof ${applied ? 'removed' : 'removes'} the access of ${removed.length} agreement(s) that held it: tag the resources, add guardrails.ownershipAllowList entries, or set guardrails.ownershipProof: off (docs/security.md)`,
        ),
      ),
      ...removed.map((r) => `  ${r.agreementId} (${r.from.join('; ')}): ${r.reason}`),
    );
  }
  if (interesting.length) lines.push('', ...interesting.map(formatOutcome));
  if (result.changes.length)
    lines.push('', bold(applied ? 'Changes made:' : 'Changes to make:'), ...result.changes.map((c) => formatChange(c)));
  else if (count('failed') > 0)
    // Nothing to write is not "in sync" while agreements failed: they need someone to act.
    lines.push(
      '',
      red(
        `No changes to make, but ${count('failed')} agreement(s) failed (see above): AWS does not match Data Mesh Manager for them.`,
      ),
    );
  else lines.push('', green('No changes: AWS matches Data Mesh Manager.'));
  if (!applied && result.changes.length) lines.push('', dim('Run `dmm-aws apply` to make these changes.'));
  return lines.join('\n');
}

export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Human log lines for a terminal: time, level, message, then the fields as key=value. */
export function prettySink(stream: NodeJS.WritableStream = process.stderr): LogSink {
  const levelColor = { debug: dim, info: (s: string) => s, warn: yellow, error: red } as const;
  return (level, message, fields) => {
    const time = new Date().toISOString().slice(11, 19);
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    stream.write(`${dim(time)} ${levelColor[level](level.padEnd(5))} ${message}${rest ? ` ${dim(rest)}` : ''}\n`);
  };
}

/** "IAM change(s)" while only identity policies change (as always before other targets existed). */
function changeNoun(changes: readonly Change[]): string {
  return changes.every((c) => c.target === 'identity-policy') ? 'IAM change(s)' : 'change(s)';
}
