/**
 * The report as one self-contained HTML page: inline CSS and a small inline script (sort and
 * filter), nothing loaded from anywhere, readable printed and without the script. Every string
 * from Data Mesh Manager is user input, so every one goes through `esc`; the page's Content
 * Security Policy allows only its own script (by hash), so markup that slipped through could not
 * run either.
 */
import { createHash } from 'node:crypto';
import {
  consumerName,
  type AccessReport,
  type ReportAgreement,
  type ReportDrift,
  type ReportGrant,
  type ReportRole,
} from './model.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './assets.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, safe anywhere in the page. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const TARGET_LABEL: Record<ReportGrant['target'], string> = {
  'identity-policy': 'identity policy',
  'resource-policy': 'resource policy',
  'lake-formation': 'Lake Formation',
};

/** The row's state for the filter: failed, a change a reconcile would make, access held, none. */
function stateOf(a: ReportAgreement): 'failed' | 'change' | 'access' | 'none' {
  if (a.decision === 'failed') return 'failed';
  if (a.effect !== 'unchanged' && a.effect !== 'absent') return 'change';
  return a.decision === 'grant' ? 'access' : 'none';
}

const STATE_RANK = { failed: 0, change: 1, access: 2, none: 3 } as const;

function stateCell(a: ReportAgreement): string {
  const state = stateOf(a);
  const label =
    state === 'failed'
      ? 'failed'
      : state === 'change'
        ? `would be ${a.effect}`
        : state === 'access'
          ? 'has access'
          : a.status
            ? `no access (${a.status})`
            : 'no access';
  return `<td class="st ${state}" data-sort="${STATE_RANK[state]}">${esc(label)}</td>`;
}

export function renderHtml(report: AccessReport): string {
  const byId = new Map(report.agreements.map((a) => [a.agreementId, a]));
  const hash = createHash('sha256').update(REPORT_SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:`;
  const title = `dmm-aws access report ${report.generatedAt.slice(0, 10)}`;
  const s = report.summary;
  const idOf = anchorer();
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${REPORT_STYLE}</style></head><body>`,
    '<header><h1>Access report</h1><dl>',
    `<dt>Generated</dt><dd><time datetime="${esc(report.generatedAt)}">${esc(report.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time> by dmm-aws report (read only: nothing was changed)</dd>`,
    `<dt>Data Mesh Manager</dt><dd>${esc(report.dmmBaseUrl)}</dd>`,
    `<dt>AWS account${report.awsAccounts.length > 1 ? 's' : ''}</dt><dd>${report.awsAccounts.map(esc).join(', ')} (managed: ${esc(report.awsAccounts[0] ?? '')})</dd>`,
    '</dl><ul class="summary">',
    card(s.agreements, 'agreements'),
    card(s.withAccess, 'with access'),
    card(s.failed, 'failed', s.failed > 0 ? 'bad' : ''),
    card(s.changes, 'changes a reconcile would make', s.changes > 0 ? 'warn' : ''),
    card(s.roles, 'consumer roles'),
    card(s.providers, 'provider data products'),
    '</ul></header>',
    '<nav class="tools" aria-label="Filter"><label>Filter <input id="filter" type="search" ' +
      'placeholder="agreement, role, product, team, resource, action…" autocomplete="off"></label> ' +
      '<label>Show <select id="show"><option value="all">everything</option><option value="failed">failed</option>' +
      '<option value="change">would change</option><option value="access">has access</option>' +
      '<option value="none">no access</option></select></label> <output id="shown"></output></nav>',
    '<main>',
    attention(report, byId, idOf),
    roles(report, byId, idOf),
    providers(report, byId),
    withoutAccess(report, idOf),
    '</main>',
    `<script>${REPORT_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

type IdOf = (agreementId: string) => string;

/** The link target of an agreement: on its first row in the page (an agreement may be on two roles). */
function anchorer(): IdOf {
  const anchored = new Set<string>();
  return (agreementId) => {
    if (anchored.has(agreementId)) return '';
    anchored.add(agreementId);
    return ` id="${esc(`a-${agreementId}`)}"`;
  };
}

function card(value: number, label: string, kind = ''): string {
  return `<li${kind ? ` class="${kind}"` : ''}><b>${value.toLocaleString('en-US')}</b> ${esc(label)}</li>`;
}

function attention(report: AccessReport, byId: Map<string, ReportAgreement>, idOf: IdOf): string {
  const parts = ['<section id="attention"><h2>Needs attention</h2>'];
  if (report.failed.length === 0 && report.drift.length === 0) {
    parts.push('<p class="ok">Nothing: every agreement converged and AWS matches Data Mesh Manager.</p></section>');
    return parts.join('\n');
  }
  if (report.failed.length > 0) {
    parts.push(
      `<h3>Failed agreements (${report.failed.length})</h3>`,
      '<p>Data Mesh Manager asks for this access, but it cannot be granted (or removed) as described. The reason says what to fix.</p>',
      table('failed', ['Agreement', 'Consumer role', 'Provider', 'Consumer', 'Reason']),
    );
    for (const f of report.failed) {
      const a = byId.get(f.agreementId);
      parts.push(
        `<tr data-state="failed"><td${idOf(f.agreementId)}>${esc(f.agreementId)}</td><td>${roleRef(f.role)}</td>` +
          `<td>${a ? providerText(a) : ''}</td><td>${a ? esc(consumerName(a)) : ''}</td>` +
          `<td class="reason">${esc(f.reason)}${f.refusedBy ? ` <small>(refused by ${esc(f.refusedBy)})</small>` : ''}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  if (report.accessRemovedByOwnershipProof.length > 0) {
    parts.push(
      '<h3>Access ownership proof would remove</h3><p>These agreements hold access now that ownership proof refuses: tag the resources, add <code>guardrails.ownershipAllowList</code> entries, or turn the guardrail off (docs/security.md).</p><ul>',
      ...report.accessRemovedByOwnershipProof.map(
        (r) => `<li>${agreementRef(r.agreementId)} (${esc(r.from.join('; '))}): ${esc(r.reason)}</li>`,
      ),
      '</ul>',
    );
  }
  if (report.drift.length > 0) {
    parts.push(
      `<h3>What a reconcile would change now (${report.drift.length})</h3>`,
      '<p>AWS differs from Data Mesh Manager here; <code>dmm-aws apply</code> (or the next scheduled reconcile) makes these writes.</p>',
      table('drift', ['Change', 'Where', 'Agreements', 'Why']),
      ...report.drift.map(driftRow),
      '</tbody></table>',
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function driftRow(d: ReportDrift): string {
  const removes = d.action === 'delete' || d.action === 'revoke';
  return (
    `<tr data-state="change"><td class="${removes ? 'minus' : 'plus'}">${esc(d.action)}</td><td>${esc(d.what)}</td>` +
    `<td>${d.agreementIds.map(agreementRef).join(' ')}</td><td>${esc(d.note ?? '')}</td></tr>`
  );
}

function roles(report: AccessReport, byId: Map<string, ReportAgreement>, idOf: IdOf): string {
  const parts = [
    `<section id="roles"><h2>Consumer roles (${report.roles.length.toLocaleString('en-US')})</h2>`,
    '<p>Each role with the agreements that grant it access: what they open, on which target, and how full the role is (IAM allows 10,240 characters of inline policies and 10 attached managed policies per role).</p>',
  ];
  report.roles.forEach((role, i) => {
    const agreements = role.agreementIds.map((id) => byId.get(id)).filter((a) => a !== undefined);
    parts.push(
      `<article class="role" id="role-${i + 1}" data-name="${esc(`${role.name} ${role.arn}`)}">`,
      `<h3>${esc(role.name)} <small>${esc(role.arn)}</small></h3>`,
      roleFill(role),
      table('', ['Agreement', 'State', 'Provider product / port', 'Consumer', 'Since', 'Grants']),
      ...agreements.map(
        (a) =>
          `<tr data-state="${stateOf(a)}"><td${idOf(a.agreementId)}>${esc(a.agreementId)}</td>${stateCell(a)}` +
          `<td>${providerText(a)}</td><td>${esc(consumerName(a))}</td><td>${esc(since(a))}</td><td>${grants(a)}</td></tr>`,
      ),
      '</tbody></table></article>',
    );
  });
  parts.push('</section>');
  return parts.join('\n');
}

function roleFill(role: ReportRole): string {
  if (!role.exists)
    return '<p class="bad">This role does not exist in the account, or is outside the roles this tool may manage.</p>';
  const parts: string[] = [];
  if (role.outOfReach) parts.push(`<p class="bad">Out of reach of the guardrails: ${esc(role.outOfReach)}</p>`);
  const inline = role.inlineCharacters!;
  const managed = role.managedPolicies!;
  parts.push(
    '<div class="fill">',
    bar(
      'inline',
      inline.used,
      inline.limit,
      `inline policies: ${inline.used.toLocaleString('en-US')} of ${inline.limit.toLocaleString('en-US')} characters`,
    ),
    bar(
      'managed',
      managed.packs + managed.others,
      managed.limit,
      `managed policies: ${managed.packs} of ours + ${managed.others} other of ${managed.limit} attachments`,
    ),
    '</div>',
  );
  return parts.join('');
}

function bar(kind: string, used: number, limit: number, label: string): string {
  const percent = limit > 0 ? Math.min(100, (used / limit) * 100) : 100;
  const level = percent >= 90 ? ' full' : percent >= 70 ? ' high' : '';
  return (
    `<div class="meter ${kind}"><div class="bar${level}" role="meter" aria-valuemin="0" aria-valuemax="${limit}" ` +
    `aria-valuenow="${used}" aria-label="${esc(label)}"><span style="width:${percent.toFixed(1)}%"></span></div>` +
    `<span>${esc(label)} (${Math.round(percent)}%)</span></div>`
  );
}

function providers(report: AccessReport, byId: Map<string, ReportAgreement>): string {
  const parts = [
    `<section id="providers"><h2>Provider data products (${report.providers.length.toLocaleString('en-US')})</h2>`,
    '<p>Who consumes each data product, through which agreement and role.</p>',
    table('', ['Provider product', 'Port', 'Consumer', 'Consumer role', 'Agreement', 'State']),
  ];
  for (const p of report.providers) {
    for (const c of p.consumers) {
      const a = byId.get(c.agreementId)!;
      parts.push(
        `<tr data-state="${stateOf(a)}"><td>${productName(p)}${p.teamId ? ` <small>team ${esc(p.teamId)}</small>` : ''}</td>` +
          `<td>${esc(c.outputPortId)}</td><td>${esc(c.consumer)}</td><td>${roleRef(c.role)}</td>` +
          `<td>${agreementRef(c.agreementId)}</td>${stateCell(a)}</tr>`,
      );
    }
  }
  parts.push('</tbody></table></section>');
  return parts.join('\n');
}

function withoutAccess(report: AccessReport, idOf: IdOf): string {
  const rows = report.agreements.filter((a) => !a.role && a.decision !== 'failed');
  if (rows.length === 0) return '';
  return [
    `<section id="no-access"><h2>Agreements without access (${rows.length.toLocaleString('en-US')})</h2>`,
    '<p>Requested, rejected, ended, on another platform or deleted: they grant nothing in AWS.</p>',
    table('', ['Agreement', 'State', 'Provider product / port', 'Consumer', 'Why']),
    ...rows.map(
      (a) =>
        `<tr data-state="${stateOf(a)}"><td${idOf(a.agreementId)}>${esc(a.agreementId)}</td>${stateCell(a)}<td>${providerText(a)}</td>` +
        `<td>${esc(consumerName(a))}</td><td class="reason">${esc(a.reason)}</td></tr>`,
    ),
    '</tbody></table></section>',
  ].join('\n');
}

function table(id: string, headings: string[]): string {
  return (
    `<table class="sortable"${id ? ` id="${id}"` : ''}><thead><tr>` +
    headings.map((h) => `<th scope="col"><button type="button">${esc(h)}</button></th>`).join('') +
    '</tr></thead><tbody>'
  );
}

function grants(a: ReportAgreement): string {
  if (a.grants.length === 0) return '';
  return `<ul class="grants">${a.grants
    .map(
      (g) =>
        `<li><b>${TARGET_LABEL[g.target]}</b>${g.on && !g.resources.includes(g.on) ? ` of <code>${esc(g.on)}</code>` : ''}: ` +
        `${g.actions.map(esc).join(', ')} on ${g.resources.map((r) => `<code>${esc(r)}</code>`).join(', ')}</li>`,
    )
    .join('')}</ul>`;
}

function providerText(a: ReportAgreement): string {
  if (!a.provider) return '';
  return `${productName(a.provider)} / ${esc(a.provider.outputPortId)}${a.portType ? ` <small>${esc(a.portType)}</small>` : ''}`;
}

function productName(p: { dataProductId: string; title?: string }): string {
  return p.title && p.title !== p.dataProductId
    ? `${esc(p.title)} <small>${esc(p.dataProductId)}</small>`
    : esc(p.dataProductId);
}

function since(a: ReportAgreement): string {
  if (!a.startDate) return '';
  return a.endDate ? `${a.startDate} – ${a.endDate}` : a.startDate;
}

function agreementRef(id: string): string {
  return `<a href="#${esc(encodeURIComponent(`a-${id}`))}">${esc(id)}</a>`;
}

function roleRef(arn: string | undefined): string {
  if (!arn) return '';
  return esc(arn.slice(arn.lastIndexOf('/') + 1));
}
