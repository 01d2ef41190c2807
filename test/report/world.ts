/**
 * A small mesh with one of everything the report shows: an agreement with access, a failed one
 * (its consumer names no role), a requested one, one approved after the last sync (drift), a
 * foreign inline policy that fills half of the role's inline budget, and hostile metadata: a
 * provider title with a script tag and a consumer title a spreadsheet would run as a formula.
 */
import { buildReport, type AccessReport } from '../../src/report/model.js';
import { agreement, consumerProduct, dpsProduct, ROLE, s3BucketPort, startWorld, type World } from '../e2e/harness.js';

export const HOSTILE_TITLE = '<script>window.__injected = true</script>Orders <b>bold</b>';
export const FORMULA_TITLE = '=HYPERLINK("https://evil.example","open")';
/** Characters of the foreign inline policy on the role (IAM counts no whitespace). */
export const FOREIGN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'x'.repeat(5000)}/*` }],
});

export async function reportWorld(): Promise<{ world: World; report: AccessReport }> {
  const orders = dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] });
  (orders.info as Record<string, unknown>).title = HOSTILE_TITLE;
  const consumer = consumerProduct();
  (consumer.info as Record<string, unknown>).title = FORMULA_TITLE;
  const world = await startWorld({
    mesh: {
      dataProducts: [orders, consumer, consumerProduct('no-role', {})],
      agreements: [
        agreement('agr-ok', 'orders', 'orders-s3', { active: true }),
        agreement('agr-broken', 'orders', 'orders-s3', { active: true, consumer: 'no-role' }),
        agreement('agr-later', 'orders', 'orders-s3'),
        agreement('agr-requested', 'orders', 'orders-s3'),
      ],
    },
  });
  await world.iam.putInlinePolicy(ROLE, 'team-notebook-access', FOREIGN_POLICY);
  await world.settle();
  // Approved after the last sync: a reconcile would grant it now.
  world.sim.approve('agr-later');
  const report = await buildReport(world.ctx, {
    dmmBaseUrl: 'https://user:secret@dmm.example.com/?token=abc',
    now: new Date('2026-07-01T12:00:00Z'),
  });
  return { world, report };
}
