/**
 * Property-based tests (fast-check) of the estimators of issue 3, over random small pilots:
 *  - lower ≤ estimate ≤ upper;
 *  - every p in (0, 1];
 *  - p < α exactly when the same method's (1 − α) CI excludes 0;
 *  - relabelling the arms flips the sign of the estimate (and mirrors the CI) and changes nothing else;
 *  - adding a constant to every territory's KPI leaves the differences unchanged.
 */
import fc from 'fast-check';
import { checkFlip, checkInterval, checkShift, Est, kpiValueArb, rel } from '../../test/utils/estimator-invariants';
import { cuped, linRegressionAdjustment } from './covariate-adjustment';
import { differenceInDifferences, DidPanelInput } from './difference-in-differences';
import { mannWhitneyU } from './mann-whitney';
import { pairedTTest, wilcoxonSignedRank } from './paired';
import { velocityDecomposition } from './velocity-decomposition';
import { welchTTest } from './welch';

const RUNS = { numRuns: 60, seed: 20261130 };
const ALPHAS = [0.05, 0.1, 0.01];

const value = kpiValueArb;
const arm = (min: number, max: number) => fc.array(value, { minLength: min, maxLength: max });

/** A pilot: y and x for each territory, with 3..12 territories per arm. */
const pilotArb = fc
  .tuple(fc.integer({ min: 3, max: 12 }), fc.integer({ min: 3, max: 12 }))
  .chain(([nt, nc]) =>
    fc.record({
      y: fc.array(value, { minLength: nt + nc, maxLength: nt + nc }),
      x: fc.array(value, { minLength: nt + nc, maxLength: nt + nc }),
      treated: fc.constant(0).map((): (0 | 1)[] => [...Array<0 | 1>(nt).fill(1), ...Array<0 | 1>(nc).fill(0)]),
      shift: value,
      alpha: fc.constantFrom(...ALPHAS),
    }),
  );

const split = <T>(v: T[], t: (0 | 1)[]) => ({ t: v.filter((_, i) => t[i] === 1), c: v.filter((_, i) => t[i] === 0) });
const flip = (t: (0 | 1)[]) => t.map((v) => (v ? 0 : 1) as 0 | 1);

/** Every estimator under test, as a function of (y, x, treated, alpha). */
const METHODS: Record<string, (y: number[], x: number[], t: (0 | 1)[], alpha: number) => Est> = {
  welch: (y, _x, t, alpha) => {
    const s = split(y, t);
    const w = welchTTest(s.t, s.c, { alpha });
    return { estimate: w.diff, ci_low: w.ci_low, ci_high: w.ci_high, p: w.p_two_sided };
  },
  cuped: (y, x, t, alpha) => {
    const r = cuped(y, x, t, { alpha });
    return { estimate: r.effect_adjusted, ci_low: r.adjusted_welch.ci_low, ci_high: r.adjusted_welch.ci_high, p: r.adjusted_welch.p_two_sided };
  },
  lin_hc2: (y, x, t, alpha) => {
    const r = linRegressionAdjustment(y, x, t, { alpha });
    return { estimate: r.estimate, ci_low: r.ci_low, ci_high: r.ci_high, p: r.p_value };
  },
  did_cr2: (y, x, t, alpha) => {
    // a 1-pre, 1-post panel: x is the pre-period value, y the test-period value
    const panel: DidPanelInput = {
      territory: [...y.map((_, i) => `T${i}`), ...y.map((_, i) => `T${i}`)],
      period: [...y.map(() => 'pre'), ...y.map(() => 'post')],
      treated: [...t, ...t],
      post: [...y.map(() => 0 as const), ...y.map(() => 1 as const)],
      y: [...x, ...y],
    };
    const r = differenceInDifferences(panel, { alpha });
    return { estimate: r.ols.coef_did, ci_low: r.cr2.ci_low, ci_high: r.cr2.ci_high, p: r.cr2.p_value };
  },
};

describe('estimator properties (fast-check)', () => {
  for (const [name, method] of Object.entries(METHODS)) {
    it(`${name}: lower ≤ estimate ≤ upper, p in (0, 1], p < α iff the CI excludes 0`, () => {
      fc.assert(
        fc.property(pilotArb, ({ y, x, treated, alpha }) => {
          checkInterval(method(y, x, treated, alpha), alpha);
        }),
        RUNS,
      );
    });

    it(`${name}: relabelling the arms flips the sign only`, () => {
      fc.assert(
        fc.property(pilotArb, ({ y, x, treated, alpha }) => {
          checkFlip(method(y, x, treated, alpha), method(y, x, flip(treated), alpha));
        }),
        RUNS,
      );
    });

    it(`${name}: adding a constant to every territory's KPI leaves the difference unchanged`, () => {
      fc.assert(
        fc.property(pilotArb, ({ y, x, treated, alpha, shift }) => {
          // the constant moves the KPI in both periods (a level shift of every territory)
          const a = method(y, x, treated, alpha);
          const b = method(
            y.map((v) => v + shift),
            x.map((v) => v + shift),
            treated,
            alpha,
          );
          checkShift(a, b);
        }),
        RUNS,
      );
    });
  }

  it('paired t and Wilcoxon: interval, p range, p < α iff CI excludes 0; swapping the pair members flips the sign; a constant changes nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 25 }).chain((n) => fc.tuple(fc.array(value, { minLength: n, maxLength: n }), fc.array(value, { minLength: n, maxLength: n }))),
        value,
        fc.constantFrom(...ALPHAS),
        ([t, c], shift, alpha) => {
          const a = pairedTTest(t, c, { alpha });
          const est: Est = { estimate: a.mean_diff, ci_low: a.ci_low, ci_high: a.ci_high, p: a.p_two_sided };
          checkInterval(est, alpha);
          const b = pairedTTest(c, t, { alpha });
          checkFlip(est, { estimate: b.mean_diff, ci_low: b.ci_low, ci_high: b.ci_high, p: b.p_two_sided });
          const s = pairedTTest(
            t.map((v) => v + shift),
            c.map((v) => v + shift),
            { alpha },
          );
          checkShift(est, { estimate: s.mean_diff, ci_low: s.ci_low, ci_high: s.ci_high, p: s.p_two_sided });
          const w1 = wilcoxonSignedRank(t, c);
          const w2 = wilcoxonSignedRank(c, t);
          if (w1.p_value !== null) {
            expect(w1.p_value).toBeGreaterThan(0);
            expect(w1.p_value).toBeLessThanOrEqual(1);
            expect(rel(w1.p_value, w2.p_value!)).toBe(true);
            expect(w1.w_plus).toBe(w2.w_minus);
          }
        },
      ),
      RUNS,
    );
  });

  it('Mann–Whitney: p in (0, 1], the same p after relabelling, U1 and U2 swap; a constant changes nothing', () => {
    fc.assert(
      fc.property(arm(1, 12), arm(1, 12), value, (t, c, shift) => {
        const a = mannWhitneyU(t, c);
        const b = mannWhitneyU(c, t);
        expect(a.p_value!).toBeGreaterThan(0);
        expect(a.p_value!).toBeLessThanOrEqual(1);
        expect(rel(a.p_value!, b.p_value!)).toBe(true);
        expect(a.u1).toBe(b.u2);
        const s = mannWhitneyU(
          t.map((v) => v + shift),
          c.map((v) => v + shift),
        );
        // ties can appear or vanish through rounding of v + shift, so compare only tie-free samples
        if (!a.has_ties && !s.has_ties) expect(rel(a.p_value!, s.p_value!)).toBe(true);
      }),
      RUNS,
    );
  });

  it('velocity decomposition: components add up; each CI holds its log-lift; p < α iff the CI excludes 0; relabelling flips signs', () => {
    const territory = fc
      .record({ n: fc.integer({ min: 1, max: 60 }), closedShare: fc.double({ min: 0.1, max: 1, noNaN: true }), winShare: fc.double({ min: 0.1, max: 1, noNaN: true }) })
      .chain(({ n, closedShare, winShare }) => {
        const closed = Math.max(1, Math.round(n * closedShare));
        const won = Math.max(1, Math.round(closed * winShare));
        return fc.record({
          n_opportunities: fc.constant(n),
          n_closed: fc.constant(closed),
          n_won: fc.constant(won),
          won_amount_total: fc.integer({ min: 100, max: 100_000 }).map((v) => v * won),
          cycle_days_total: fc.integer({ min: 1, max: 120 }).map((v) => v * closed),
        });
      });
    fc.assert(
      fc.property(fc.array(territory, { minLength: 2, maxLength: 10 }), fc.array(territory, { minLength: 2, maxLength: 10 }), fc.constantFrom(...ALPHAS), (t, c, alpha) => {
        const r = velocityDecomposition(t, c, { alpha });
        const back = velocityDecomposition(c, t, { alpha });
        const v = r.components.find((x) => x.component === 'velocity')!;
        expect(Math.abs(r.sum_of_components! - v.log_lift!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v.log_lift!)));
        r.components.forEach((comp, k) => {
          checkInterval({ estimate: comp.log_lift, ci_low: comp.ci_low, ci_high: comp.ci_high, p: comp.p_value }, alpha);
          const o = back.components[k];
          checkFlip({ estimate: comp.log_lift, ci_low: comp.ci_low, ci_high: comp.ci_high, p: comp.p_value }, { estimate: o.log_lift, ci_low: o.ci_low, ci_high: o.ci_high, p: o.p_value });
        });
      }),
      RUNS,
    );
  });
});
