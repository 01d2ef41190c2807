import { describe, expect, it } from 'vitest';
import type { Agreement } from '../../src/model/agreement.js';
import { cell, renderCsv } from '../../src/report/csv.js';
import { esc, renderHtml } from '../../src/report/html.js';
import { reportFrom } from '../../src/report/model.js';
import type { SyncContext } from '../../src/sync/context.js';
import { defaultGuardrails } from '../../src/sync/guardrails.js';
import type { AgreementOutcome } from '../../src/sync/reconcile.js';
import type { Resolution } from '../../src/sync/resolve.js';
import { ACCOUNT, ROLE, ROLE_ARN } from '../e2e/harness.js';
import { FORMULA_TITLE, HOSTILE_TITLE, reportWorld } from './world.js';

describe('dmm-aws report: the model', () => {
  it('lists failed agreements first, drift, roles with their fill and agreements, providers with consumers', async () => {
    const { world, report } = await reportWorld();
    expect(report.generatedAt).toBe('2026-07-01T12:00:00.000Z');
    // Credentials and query are never part of a report that may be mailed around.
    expect(report.dmmBaseUrl).toBe('https://dmm.example.com');
    expect(report.awsAccounts).toEqual([ACCOUNT]);

    expect(report.agreements.map((a) => [a.agreementId, a.decision, a.effect])).toEqual([
      ['agr-broken', 'failed', 'absent'],
      ['agr-later', 'grant', 'granted'],
      ['agr-ok', 'grant', 'unchanged'],
      ['agr-requested', 'none', 'absent'],
    ]);
    expect(report.failed).toEqual([
      {
        agreementId: 'agr-broken',
        reason: expect.stringContaining('custom.aws-role-name is not set'),
        refusedBy: 'custom.aws-role-name',
      },
    ]);
    expect(report.summary).toEqual({ agreements: 4, withAccess: 2, failed: 1, changes: 1, roles: 1, providers: 1 });
    expect(report.drift).toEqual([
      expect.objectContaining({ action: 'put', target: 'identity-policy', agreementIds: ['agr-later'] }),
    ]);

    const ok = report.agreements.find((a) => a.agreementId === 'agr-ok')!;
    expect(ok).toMatchObject({
      startDate: '2020-01-01',
      provider: { dataProductId: 'orders', title: HOSTILE_TITLE, outputPortId: 'orders-s3', teamId: 'team-a' },
      consumer: { dataProductId: 'consumer', teamId: 'team-b', title: FORMULA_TITLE },
      role: ROLE_ARN,
      portType: 's3_bucket',
    });
    expect(ok.grants).toEqual([
      {
        target: 'identity-policy',
        resources: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
        actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
      },
    ]);

    // The role's fill is what IAM counts now: the foreign policy plus our pack.
    const inline = (await world.iam.listInlinePolicies(ROLE)).reduce(
      (n, p) => n + p.document.replace(/\s/g, '').length,
      0,
    );
    expect(report.roles).toEqual([
      {
        arn: ROLE_ARN,
        name: ROLE,
        account: ACCOUNT,
        exists: true,
        inlineCharacters: { used: inline, limit: 10_240 },
        managedPolicies: { packs: 0, others: 0, limit: 10 },
        agreementIds: ['agr-later', 'agr-ok'],
      },
    ]);
    expect(inline).toBeGreaterThan(5000);
    expect(report.providers).toEqual([
      expect.objectContaining({
        dataProductId: 'orders',
        consumers: [
          expect.objectContaining({ agreementId: 'agr-broken', decision: 'failed' }),
          expect.objectContaining({ agreementId: 'agr-later', role: ROLE_ARN }),
          expect.objectContaining({ agreementId: 'agr-ok', role: ROLE_ARN, decision: 'grant' }),
          expect.objectContaining({ agreementId: 'agr-requested', decision: 'none' }),
        ],
      }),
    ]);
    // Read only: nothing was written to IAM or reported back for the approved agreement.
    const writes = world.writes.length;
    expect((await world.iam.listInlinePolicies(ROLE)).length).toBe(2);
    expect(world.writes.length).toBe(writes);
    expect((await world.dmm.getAgreement('agr-later'))!.tags).toEqual([]);
  });
});

describe('dmm-aws report: HTML and CSV', () => {
  it('renders metadata as text, never as markup, and loads nothing from anywhere', async () => {
    const { report } = await reportWorld();
    const html = renderHtml(report);
    expect(html).not.toContain('<script>window.__injected');
    expect(html).toContain(esc(HOSTILE_TITLE));
    expect(html).not.toContain('secret');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
    // Only the page's own script may run (by its hash), even if markup slipped through.
    expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it('writes one CSV row per agreement and grant, with formulas defused', async () => {
    const { report } = await reportWorld();
    const lines = renderCsv(report).trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^agreement_id,state,decision,effect,status,provider_data_product,provider_title,/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^agr-broken,failed,failed,absent,approved,orders,/);
    const ok = lines.find((l) => l.startsWith('agr-ok,'))!;
    expect(ok).toContain(`"'=HYPERLINK(""https://evil.example"",""open"") (consumer), team team-b"`);
    expect(ok).toContain(',identity-policy,,arn:aws:s3:::acme-orders arn:aws:s3:::acme-orders/*,');
  });

  it('quotes and defuses cells the way spreadsheets read them', () => {
    expect(cell('plain')).toBe('plain');
    expect(cell('a,b')).toBe('"a,b"');
    expect(cell('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(cell('=1+1')).toBe("'=1+1");
    expect(cell('-2')).toBe("'-2");
    expect(cell('@SUM(A1)')).toBe("'@SUM(A1)");
  });
});

describe('dmm-aws report: grants on every target', () => {
  it('shows resource-policy and Lake Formation grants, and names every account they reach', () => {
    const other = '210987654321';
    const role = { name: 'lake-reader', arn: `arn:aws:iam::${ACCOUNT}:role/lake-reader`, accountId: ACCOUNT };
    const table = { kind: 'table' as const, catalogId: other, region: 'eu-central-1', database: 'sales', table: 'tx' };
    const agreementDoc: Agreement = {
      id: 'agr-lake',
      status: 'approved',
      active: true,
      startDate: '2026-01-01',
      provider: { dataProductId: 'sales', outputPortId: 'tx', teamId: 'team-a' },
      consumer: { teamId: 'team-b' },
      tags: [],
      custom: {},
      raw: {},
    };
    const resolution: Resolution = {
      kind: 'grant',
      grant: {
        agreementId: 'agr-lake',
        role,
        portType: 'glue_table',
        outputPortId: 'tx',
        providerDataProductId: 'sales',
        consumerTeamId: 'team-b',
        summary: 'grant',
        providerResources: [],
        grants: [
          {
            target: 'resource-policy',
            resource: {
              service: 'glue',
              arn: `arn:aws:glue:eu-central-1:${other}:catalog`,
              region: 'eu-central-1',
              account: other,
            },
            statements: [
              {
                Effect: 'Allow',
                Principal: { AWS: role.arn },
                Action: 'glue:GetTable',
                Resource: [`arn:aws:glue:eu-central-1:${other}:table/sales/tx`],
              },
            ],
          },
          { target: 'lake-formation', resource: table, permissions: ['DESCRIBE', 'SELECT'] },
        ],
      },
    };
    const outcome: AgreementOutcome = {
      agreementId: 'agr-lake',
      decision: 'grant',
      effect: 'unchanged',
      reason: 'grant',
      role: role.arn,
      policyNames: [],
      heldOnRoleArns: [],
      changes: [],
    };
    const ctx = { iam: { accountId: ACCOUNT }, guardrails: defaultGuardrails(ACCOUNT) } as unknown as SyncContext;
    const report = reportFrom(
      ctx,
      { outcomes: [outcome], changes: [], rolesExamined: 1 },
      new Map([['agr-lake', { agreement: agreementDoc, resolution }]]),
      [],
      new Map(),
      { dmmBaseUrl: 'https://dmm.example.com' },
    );
    expect(report.agreements[0]!.grants).toEqual([
      {
        target: 'resource-policy',
        on: `arn:aws:glue:eu-central-1:${other}:catalog`,
        resources: [`arn:aws:glue:eu-central-1:${other}:table/sales/tx`],
        actions: ['glue:GetTable'],
      },
      {
        target: 'lake-formation',
        resources: [`table sales.tx (${other}/eu-central-1)`],
        actions: ['DESCRIBE', 'SELECT'],
      },
    ]);
    expect(report.awsAccounts).toEqual([ACCOUNT, other]);
    // A role no state was read for: named by the agreement, shown as missing.
    expect(report.roles).toEqual([expect.objectContaining({ name: 'lake-reader', exists: false })]);
    const html = renderHtml(report);
    expect(html).toContain(
      `<b>resource policy</b> of <code>arn:aws:glue:eu-central-1:${other}:catalog</code>: glue:GetTable`,
    );
    expect(html).toContain(
      `<b>Lake Formation</b>: DESCRIBE, SELECT on <code>table sales.tx (${other}/eu-central-1)</code>`,
    );
    expect(html).toContain('This role does not exist in the account');
  });
});
