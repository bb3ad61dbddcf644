import { assertNoNonFinite } from '../../../test/fixtures/assert-finite';
import { compareKpi } from './kpi-comparison';
import { LIN_STAND_IN } from './primary-estimate';

const OPTS = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 42, primaryMethod: 'lin_regression_hc2' as const };

/** A complete design with the treatment values first, then the control values. */
function run(t: number[], c: number[], preT: (number | null)[], preC: (number | null)[]) {
  const values = [...t, ...c];
  const design = {
    arms: [...t.map(() => 'treatment'), ...c.map(() => 'control')],
    strata: values.map(() => 'all'),
    treatmentArm: 'treatment',
    controlArm: 'control',
  };
  const r = compareKpi('revenue_won', 'primary', values, design, OPTS, { pre: [...preT, ...preC] });
  assertNoNonFinite(r);
  return r;
}

const T = [120, 135, 128, 150, 141, 133, 139, 147];
const C = [110, 118, 125, 115, 122, 119, 127, 113];
const PRE_T = [100, 112, 104, 125, 118, 109, 115, 121];
const PRE_C = [98, 103, 111, 101, 108, 104, 113, 99];

describe('a locked Lin primary with missing pre-period values (issue 13)', () => {
  it('every missing territory treated: Lin still decides, and its note says which column was left out and why', () => {
    const preT = PRE_T.map((v, i) => (i < 2 ? null : v));
    const r = run(T, C, preT, PRE_C);
    expect(r.primary.method).toBe('lin_interacted_ols_hc2');
    expect(r.primary.status).toBe('ok');
    expect(r.primary.se).not.toBeNull();
    expect(r.primary.note).toMatch(/^adjusts for the pre-period KPI alone: 5 regression columns, df = n − k = 11; left out of the regression, .*treatment × missing-pre-period interaction, because every territory without a pre-period value is in the treatment arm/);
    expect(r.primary.note).not.toMatch(/too few territories per arm/);
    expect(r.decision_p).toBe(r.methods.regression_adjustment!.p_value);
  });

  it('one missing territory per arm: Lin decides with a finite HC2 SE, the exactly fitted territories said so', () => {
    const r = run(T, C, [null, ...PRE_T.slice(1)], [null, ...PRE_C.slice(1)]);
    expect(r.primary.method).toBe('lin_interacted_ols_hc2');
    expect(r.primary.se).toBeGreaterThan(0);
    expect(r.primary.note).toMatch(/2 territories are fitted exactly .*leverage 1/);
  });

  it('when Lin cannot be computed, the Welch numbers standing in say that the locked method was not used, and why', () => {
    // two treated territories: their arm's line goes through both (leverage 1), so HC2 is undefined
    const r = run(T.slice(0, 2), C, PRE_T.slice(0, 2), PRE_C);
    expect(r.methods.regression_adjustment!.se).toBeNull();
    expect(r.primary.method).toBe(LIN_STAND_IN);
    expect(r.primary.note).toMatch(/^the primary method locked in the approved plan, Lin's regression adjustment, could not be computed \(.*HC2 standard error is undefined.*\); Welch's t .* not the pre-registered analysis$/);
    expect(r.primary.p_value).toBe(r.difference.p_value);
    expect(r.verdict).toMatch(/Welch \(standing in for the locked Lin's regression adjustment, which could not be computed\)/);
  });
});
