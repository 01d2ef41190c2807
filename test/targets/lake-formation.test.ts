import { describe, expect, it } from 'vitest';
import { FileLakeFormation } from '../../src/local/file-lake-formation.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import {
  applyLakeFormationChanges,
  type LakeFormationInstance,
  type LakeFormationState,
  lakeFormationHolding,
  lakeFormationHoldingsAfter,
  lakeFormationKey,
  parseLakeFormationHolding,
  planLakeFormation,
  readLakeFormation,
} from '../../src/targets/lake-formation.js';

const PRINCIPAL = 'arn:aws:iam::210987654321:role/consumer';
const TABLE: LakeFormationResource = {
  kind: 'table',
  catalogId: '123456789012',
  region: 'eu-central-1',
  database: 'sales',
  table: 'orders',
};
const INSTANCE: LakeFormationInstance = { principal: PRINCIPAL, resource: TABLE };

const A = 'agreement-a';
const B = 'agreement-b';

function stateOf(actual: string[], recorded: Record<string, string[]> = {}): LakeFormationState {
  return {
    ...INSTANCE,
    actual: new Set(actual),
    recorded: new Map(Object.entries(recorded).map(([id, perms]) => [id, new Set(perms)])),
  };
}

function plan(
  state: LakeFormationState,
  desired: Record<string, string[]>,
  scope: ReadonlySet<string> | 'all' = 'all',
) {
  const wanted = new Map(Object.entries(desired));
  const result = planLakeFormation(state, wanted, scope);
  return { ...result, after: lakeFormationHoldingsAfter(state, result, wanted, scope) };
}

const permissionsOf = (holding: string | undefined) =>
  holding === undefined ? undefined : parseLakeFormationHolding(holding)?.permissions;

describe('planLakeFormation: granting', () => {
  it('grants SELECT and DESCRIBE to a principal that holds nothing, and records both', () => {
    const p = plan(stateOf([]), { [A]: ['SELECT', 'DESCRIBE'] });
    expect(p.changes).toEqual([
      {
        target: 'lake-formation',
        action: 'grant',
        principal: PRINCIPAL,
        resource: TABLE,
        permissions: ['DESCRIBE', 'SELECT'],
        agreementIds: [A],
      },
    ]);
    expect(p.effects.get(A)).toBe('granted');
    expect(p.holders).toEqual(new Set([A]));
    expect(p.holding).toBe(lakeFormationKey(INSTANCE));
    expect(p.after).toEqual(new Map([[A, lakeFormationHolding(INSTANCE, ['DESCRIBE', 'SELECT'])]]));
  });

  it('does not grant or record a permission someone else already granted, and never revokes it', () => {
    // DESCRIBE is held but no agreement records it: someone else granted it.
    const grantPlan = plan(stateOf(['DESCRIBE']), { [A]: ['SELECT', 'DESCRIBE'] });
    expect(grantPlan.changes).toHaveLength(1);
    expect(grantPlan.changes[0]).toMatchObject({ action: 'grant', permissions: ['SELECT'], agreementIds: [A] });
    expect(permissionsOf(grantPlan.after.get(A))).toEqual(['SELECT']);

    // Later the agreement ends: only what it recorded goes.
    const revokePlan = plan(stateOf(['DESCRIBE', 'SELECT'], { [A]: ['SELECT'] }), {}, new Set([A]));
    expect(revokePlan.changes).toHaveLength(1);
    expect(revokePlan.changes[0]).toMatchObject({ action: 'revoke', permissions: ['SELECT'], agreementIds: [A] });
    expect(revokePlan.effects.get(A)).toBe('revoked');
    expect(revokePlan.holders.size).toBe(0);
    expect(revokePlan.after.size).toBe(0);
  });

  it('records nothing and changes nothing when someone else granted everything asked for', () => {
    const p = plan(stateOf(['DESCRIBE', 'SELECT']), { [A]: ['SELECT', 'DESCRIBE'] });
    expect(p.changes).toEqual([]);
    expect(p.effects.get(A)).not.toBe('granted');
    expect(p.after.has(A)).toBe(false);
  });

  it('replanning what it granted changes nothing', () => {
    const p = plan(stateOf(['DESCRIBE', 'SELECT'], { [A]: ['DESCRIBE', 'SELECT'] }), { [A]: ['SELECT', 'DESCRIBE'] });
    expect(p.changes).toEqual([]);
    expect(p.effects.get(A)).toBe('unchanged');
    expect(p.after.get(A)).toBe(lakeFormationHolding(INSTANCE, ['DESCRIBE', 'SELECT']));
  });
});

describe('planLakeFormation: revoking', () => {
  const both = () => stateOf(['SELECT'], { [A]: ['SELECT'], [B]: ['SELECT'] });

  it('does not revoke SELECT while another agreement, out of scope, still records it', () => {
    const p = plan(both(), {}, new Set([A]));
    expect(p.changes).toEqual([]);
    expect(p.effects.get(A)).toBe('revoked');
    expect(p.effects.has(B)).toBe(false);
    expect(p.holders).toEqual(new Set([B]));
    expect(p.after).toEqual(new Map([[B, lakeFormationHolding(INSTANCE, ['SELECT'])]]));
  });

  it('does not revoke SELECT while another agreement in scope still needs it', () => {
    const p = plan(both(), { [B]: ['SELECT'] }, new Set([A, B]));
    expect(p.changes).toEqual([]);
    expect(p.effects.get(A)).toBe('revoked');
    expect(p.effects.get(B)).toBe('unchanged');
  });

  it('revokes SELECT once neither agreement records or needs it', () => {
    for (const scope of [new Set([A, B]), 'all' as const]) {
      const p = plan(both(), {}, scope);
      expect(p.changes).toEqual([
        {
          target: 'lake-formation',
          action: 'revoke',
          principal: PRINCIPAL,
          resource: TABLE,
          permissions: ['SELECT'],
          agreementIds: [A, B],
        },
      ]);
      expect(p.effects.get(A)).toBe('revoked');
      expect(p.effects.get(B)).toBe('revoked');
      expect(p.after.size).toBe(0);
    }
  });

  it('narrowing SELECT+DESCRIBE to DESCRIBE revokes SELECT only', () => {
    const p = plan(stateOf(['DESCRIBE', 'SELECT'], { [A]: ['DESCRIBE', 'SELECT'] }), { [A]: ['DESCRIBE'] });
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0]).toMatchObject({ action: 'revoke', permissions: ['SELECT'], agreementIds: [A] });
    expect(p.effects.get(A)).toBe('updated');
    expect(p.after.get(A)).toBe(lakeFormationHolding(INSTANCE, ['DESCRIBE']));
  });

  it('does not try to revoke a recorded permission that is no longer held', () => {
    const p = plan(stateOf([], { [A]: ['SELECT'] }), {}, new Set([A]));
    expect(p.changes).toEqual([]);
  });
});

describe('lake formation holdings', () => {
  it('round-trip through parseLakeFormationHolding', () => {
    const holding = lakeFormationHolding(INSTANCE, ['SELECT', 'DESCRIBE']);
    expect(parseLakeFormationHolding(holding)).toEqual({
      principal: PRINCIPAL,
      resource: TABLE,
      permissions: ['DESCRIBE', 'SELECT'],
    });
  });

  it('are equal for equal permission sets in any order, and for resources spelled in any key order', () => {
    const reordered: LakeFormationResource = {
      table: 'orders',
      database: 'sales',
      region: 'eu-central-1',
      catalogId: '123456789012',
      kind: 'table',
    };
    const one = lakeFormationHolding(INSTANCE, ['SELECT', 'DESCRIBE']);
    expect(lakeFormationHolding(INSTANCE, new Set(['DESCRIBE', 'SELECT']))).toBe(one);
    expect(lakeFormationHolding({ resource: reordered, principal: PRINCIPAL }, ['DESCRIBE', 'SELECT'])).toBe(one);
    expect(lakeFormationKey({ resource: reordered, principal: PRINCIPAL })).toBe(lakeFormationKey(INSTANCE));

    expect(lakeFormationHolding(INSTANCE, ['SELECT'])).not.toBe(one);
    expect(
      lakeFormationHolding({ principal: PRINCIPAL, resource: { ...TABLE, table: 'returns' } }, ['SELECT']),
    ).not.toBe(lakeFormationHolding(INSTANCE, ['SELECT']));
  });

  it('parse only Lake Formation holdings', () => {
    expect(parseLakeFormationHolding('arn:aws:s3:::acme-provider')).toBeUndefined();
    expect(parseLakeFormationHolding(PRINCIPAL)).toBeUndefined();
    expect(parseLakeFormationHolding('lakeformation:{not json')).toBeUndefined();
    expect(parseLakeFormationHolding('lakeformation:{"principal":"x","resource":{}}')).toBeUndefined();
  });
});

describe('read → plan → apply against FileLakeFormation', () => {
  async function catalog(): Promise<FileLakeFormation> {
    const lf = new FileLakeFormation();
    await lf.addDatabase(TABLE.catalogId, TABLE.region, 'sales');
    await lf.addTable(TABLE.catalogId, TABLE.region, 'sales', 'orders');
    return lf;
  }

  /** What the agreement index would hold, read back from the recorded holding strings. */
  function recordedFrom(holdings: ReadonlyMap<string, string>): Map<string, Set<string>> {
    return new Map([...holdings].map(([id, h]) => [id, new Set(parseLakeFormationHolding(h)!.permissions)]));
  }

  async function cycle(
    lf: FileLakeFormation,
    recorded: ReadonlyMap<string, ReadonlySet<string>>,
    desired: Record<string, string[]>,
    scope: ReadonlySet<string> | 'all',
  ) {
    const state = await readLakeFormation(lf, INSTANCE, recorded);
    const p = plan(state, desired, scope);
    await applyLakeFormationChanges(lf, p.changes);
    return p;
  }

  it('grants, stays put on replan, narrows and revokes', async () => {
    const lf = await catalog();

    const granted = await cycle(lf, new Map(), { [A]: ['SELECT', 'DESCRIBE'] }, 'all');
    expect(granted.effects.get(A)).toBe('granted');
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual(['DESCRIBE', 'SELECT']);
    let recorded = recordedFrom(granted.after);
    expect(recorded).toEqual(new Map([[A, new Set(['DESCRIBE', 'SELECT'])]]));

    const again = await cycle(lf, recorded, { [A]: ['DESCRIBE', 'SELECT'] }, 'all');
    expect(again.changes).toEqual([]);
    expect(again.effects.get(A)).toBe('unchanged');

    // B joins asking for DESCRIBE, which A's grant already provides: nothing to grant.
    const joined = await cycle(lf, recorded, { [B]: ['DESCRIBE'] }, new Set([B]));
    expect(joined.changes).toEqual([]);
    recorded = new Map([...recorded, ...recordedFrom(joined.after)]);
    expect(recorded.get(B)).toEqual(new Set(['DESCRIBE']));

    const narrowed = await cycle(lf, recorded, { [A]: ['DESCRIBE'] }, new Set([A]));
    expect(narrowed.effects.get(A)).toBe('updated');
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual(['DESCRIBE']);
    recorded = new Map([...recorded, ...recordedFrom(narrowed.after)]);

    // A ends; B still records DESCRIBE, so it stays.
    const aEnds = await cycle(lf, recorded, {}, new Set([A]));
    expect(aEnds.effects.get(A)).toBe('revoked');
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual(['DESCRIBE']);
    recorded.delete(A);

    const bEnds = await cycle(lf, recorded, {}, new Set([B]));
    expect(bEnds.effects.get(B)).toBe('revoked');
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual([]);
  });

  it("leaves a permission someone else granted in place after the agreement's revoke", async () => {
    const lf = await catalog();
    await lf.grant(PRINCIPAL, TABLE, ['DESCRIBE']);

    const granted = await cycle(lf, new Map(), { [A]: ['SELECT', 'DESCRIBE'] }, 'all');
    expect(granted.changes.map((c) => [c.action, c.permissions])).toEqual([['grant', ['SELECT']]]);
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual(['DESCRIBE', 'SELECT']);
    const recorded = recordedFrom(granted.after);
    expect(recorded).toEqual(new Map([[A, new Set(['SELECT'])]]));

    const again = await cycle(lf, recorded, { [A]: ['SELECT', 'DESCRIBE'] }, 'all');
    expect(again.changes).toEqual([]);
    expect(again.after).toEqual(granted.after);

    await cycle(lf, recorded, {}, new Set([A]));
    expect(await lf.listPermissions(PRINCIPAL, TABLE)).toEqual(['DESCRIBE']);
  });
});
