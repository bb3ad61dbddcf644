/**
 * Property-based test (fast-check) of the report comparison's primary method (randomization
 * inference on the CUPED-adjusted KPI, CI by test inversion) over random small pilots: the interval
 * invariants, a sign flip under relabelled arms and no change when a constant is added.
 */
import fc from 'fast-check';
import { checkFlip, checkInterval, checkShift, Est, kpiValueArb as value } from '../../../test/utils/estimator-invariants';
import { compareKpi } from './kpi-comparison';

describe('report comparison properties (fast-check)', () => {
  it('the report comparison: the primary method (RI on the CUPED-adjusted KPI, CI by test inversion) keeps the invariants, flips with the labels and ignores a constant', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 3, max: 7 }), fc.integer({ min: 3, max: 7 })).chain(([nt, nc]) =>
          fc.record({
            y: fc.array(value, { minLength: nt + nc, maxLength: nt + nc }),
            x: fc.array(value, { minLength: nt + nc, maxLength: nt + nc }),
            arms: fc.constant(0).map((): string[] => [...Array<string>(nt).fill('treatment'), ...Array<string>(nc).fill('control')]),
            shift: value,
          }),
        ),
        ({ y, x, arms, shift }) => {
          const opts = { alpha: 0.05, maxExact: 100_000, draws: 499, seed: 7, primaryMethod: 'randomization_inference_cuped' as const };
          const units = (a: string[]) => ({ arms: a, strata: a.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' });
          const run = (yy: number[], xx: number[], a: string[]) => compareKpi('revenue_won', 'primary', yy, units(a), opts, { pre: xx });
          const toEst = (r: ReturnType<typeof run>): Est => ({ estimate: r.primary.estimate, ci_low: r.primary.ci_low, ci_high: r.primary.ci_high, p: r.primary.p_value });
          const base = run(y, x, arms);
          if (base.primary.note === null) checkInterval(toEst(base), 0.05);
          const swapped = run(
            y,
            x,
            arms.map((a) => (a === 'treatment' ? 'control' : 'treatment')),
          );
          checkFlip(toEst(base), toEst(swapped));
          const shifted = run(
            y.map((v) => v + shift),
            x.map((v) => v + shift),
            arms,
          );
          checkShift(toEst(base), toEst(shifted));
        },
      ),
      { numRuns: 25, seed: 20261130 },
    );
  });
});
