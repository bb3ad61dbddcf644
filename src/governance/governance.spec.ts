import { validateEnvironment } from '../config/env.validation';
import { PILOT_STATUSES, PilotEntity } from '../pilots/pilot.entity';
import { favourableZ, informationFraction } from './interim-look.service';
import { LIFECYCLE_ACTIONS, nextStatus, TRANSITIONS } from './lifecycle';
import { lockedPlanOf, planDiff, planHash } from './plan';

describe('lifecycle state machine', () => {
  it('allows exactly the listed moves and answers INVALID_STATE (409) for every other one', () => {
    const allowed: string[] = [];
    for (const action of LIFECYCLE_ACTIONS) {
      for (const status of PILOT_STATUSES) {
        try {
          allowed.push(`${status} -${action}-> ${nextStatus(action, status)}`);
        } catch (err) {
          expect(err).toMatchObject({ code: 'INVALID_STATE', statusCode: 409 });
        }
      }
    }
    expect(allowed.sort()).toEqual(
      [
        'draft -submit-> in_review',
        'in_review -return-> draft',
        'approved -return-> draft',
        'in_review -approve-> approved',
        'approved -launch-> running',
        'running -stop-> stopped',
        'stopped -conclude-> concluded',
        'concluded -archive-> archived',
        'draft -archive-> archived',
      ].sort(),
    );
    expect(Object.keys(TRANSITIONS)).toHaveLength(7);
  });

  it('the main line runs draft → … → archived', () => {
    let s = nextStatus('submit', 'draft');
    for (const a of ['approve', 'launch', 'stop', 'conclude', 'archive'] as const) s = nextStatus(a, s);
    expect(s).toBe('archived');
  });
});

function pilotEntity(over: Partial<PilotEntity> = {}): PilotEntity {
  return Object.assign(new PilotEntity(), {
    primaryKpi: 'revenue_won',
    secondaryKpis: ['win_rate'],
    guardrailKpis: [],
    alpha: 0.05,
    prePeriodStart: '2023-10-01',
    prePeriodEnd: '2023-12-31',
    testPeriodStart: '2024-01-01',
    testPeriodEnd: '2024-04-09',
    interimLookDates: ['2024-01-25'],
    ...over,
  });
}

describe('locked plan', () => {
  it('hashes the canonical JSON (key order does not matter) and changes with any plan field', () => {
    const plan = lockedPlanOf(pilotEntity(), 'randomization_inference_cuped');
    const reordered = Object.fromEntries(Object.entries(plan).reverse()) as typeof plan;
    expect(planHash(reordered)).toBe(planHash(plan));
    expect(planHash(plan)).toMatch(/^[0-9a-f]{64}$/);
    expect(planHash(lockedPlanOf(pilotEntity({ alpha: 0.1 }), 'randomization_inference_cuped'))).not.toBe(planHash(plan));
    expect(planHash(lockedPlanOf(pilotEntity({ interimLookDates: [] }), 'randomization_inference_cuped'))).not.toBe(planHash(plan));
    expect(planDiff(plan, lockedPlanOf(pilotEntity({ secondaryKpis: ['win_rate', 'opportunities'] }), 'randomization_inference_cuped'))).toEqual([
      { field: 'secondary_kpis', before: ['win_rate'], after: ['win_rate', 'opportunities'] },
    ]);
  });

  it('names the few-cluster method that decides the panel DiD (the wild cluster restricted bootstrap)', () => {
    const plan = lockedPlanOf(pilotEntity(), 'randomization_inference_cuped');
    expect(plan.few_cluster_method).toBe('wild_cluster_bootstrap');
  });
});

describe('interim looks: information fraction and z', () => {
  it('is calendar time, days elapsed (inclusive) over the test period', () => {
    const p = pilotEntity(); // 2024-01-01..2024-04-09 = 100 days
    expect(informationFraction(p, '2024-01-25')).toBe(0.25);
    expect(informationFraction(p, '2024-02-19')).toBe(0.5);
    expect(informationFraction(p, '2024-04-09')).toBe(1);
    expect(informationFraction(p, '2030-01-01')).toBe(1);
  });

  it('maps the primary decision p to a signed z, positive in the favourable direction; none without an estimate', () => {
    const result = (over: object) => ({ kpis: [{ role: 'primary', status: 'ok', decision_p: 0.05, higher_is_better: true, primary: { estimate: 3 }, ...over }] });
    expect(favourableZ(result({}))).toBeCloseTo(1.959963985, 8);
    expect(favourableZ(result({ primary: { estimate: -3 } }))).toBeCloseTo(-1.959963985, 8);
    expect(favourableZ(result({ higher_is_better: false, primary: { estimate: -3 } }))).toBeCloseTo(1.959963985, 8);
    expect(favourableZ(result({ decision_p: 1 }))).toBe(0);
    expect(favourableZ(result({ status: 'insufficient_data', decision_p: null }))).toBeNull();
    expect(favourableZ(result({ status: 'zero_variance' }))).toBeNull();
    expect(favourableZ({ kpis: [] })).toBeNull();
    expect(favourableZ(null)).toBeNull();
  });
});

describe('BOOTSTRAP_ADMIN_KEY in the environment', () => {
  it('is optional for validation (workers and migrations do not need it) and at least 24 characters when set', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', BOOTSTRAP_ADMIN_KEY: 'short' })).toThrow(/BOOTSTRAP_ADMIN_KEY/);
    expect(validateEnvironment({ NODE_ENV: 'production', BOOTSTRAP_ADMIN_KEY: 'a-long-enough-production-key-123' }).BOOTSTRAP_ADMIN_KEY).toBe('a-long-enough-production-key-123');
    expect(validateEnvironment({ NODE_ENV: 'production' }).BOOTSTRAP_ADMIN_KEY).toBeUndefined();
  });
});
