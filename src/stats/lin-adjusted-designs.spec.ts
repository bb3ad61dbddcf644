/**
 * Issue 16: the deciding estimate (Lin's interacted adjustment re-estimated per assignment, the
 * 'lin_adjusted' randomization statistic) must be unbiased under proportional lifts in every design,
 * not only complete randomization (randomization-lin.spec.ts). A fixed heavy-tailed population like
 * the calibration bench's simulated panel (36 territories, sizes log-normal σ = 1, so one territory
 * many times the median), a +10% lift multiplying the treated territories' values, and assignments
 * re-drawn from the ACTUAL design (matched pairs on the pre-period value: sign flips within pairs;
 * rerandomization with the empirical acceptance threshold): the mean error over the draws, with its
 * Monte Carlo SE (sd of the errors / √draws, as a share of the true effect), stays within ±3%.
 *
 * The naive paired-difference regression (pair differences d_j regressed on the pair differences of
 * the covariate δ_j with an intercept, the intercept as the effect) is checked on the same draws as a
 * comparator: it is biased here (its slope picks up the effect heterogeneity of the largest pair),
 * which is why it is not the deciding estimate.
 */
import { drawDesign, DesignType, randomizationDesignFromStored } from './design/designs';
import { createPrng } from './design/prng';
import { drawFromDesign } from './design/randomization';
import { makeStatistic } from './randomization-statistic';

const N = 36;
const LIFT = 0.1;
const DRAWS = 20_000;

function population() {
  const rng = createPrng(20261616);
  const normal = () => {
    const u = 1 - rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const size = Array.from({ length: N }, () => 10_000 * Math.exp(normal()));
  const level = size.map((s) => s * Math.exp(0.25 * normal()));
  const x = level.map((l) => l * Math.exp(0.12 * normal()));
  const y0 = level.map((l) => l * Math.exp(0.12 * normal()));
  return { size, x, y0 };
}

const meanOf = (v: readonly number[]) => v.reduce((s, a) => s + a, 0) / v.length;
function summary(errors: readonly number[], truth: number) {
  const m = meanOf(errors);
  const sd = Math.sqrt(errors.reduce((s, e) => s + (e - m) ** 2, 0) / (errors.length - 1));
  return { meanError: m / truth, mcSe: sd / Math.sqrt(errors.length) / truth };
}

/** Errors (estimate − truth) of the Lin statistic and of the naive paired regression over `DRAWS` re-draws of the design. */
function simulate(type: DesignType) {
  const { x, y0 } = population();
  const arms = [
    { key: 'control', role: 'control' as const, count: N / 2 },
    { key: 'treatment', role: 'treatment' as const, count: N / 2 },
  ];
  const units = x.map((v, i) => ({ code: `T${String(i).padStart(2, '0')}`, stratum: 'all', covariates: { pre: v } }));
  const rerandomization = type === 'rerandomization' ? { covariates: ['pre'], acceptance_probability: 0.1, threshold_rule: 'empirical' as const } : null;
  const d = drawDesign(units, { type, arms, seed: 16, pair_on: type === 'matched_pairs' ? 'pre' : null, rerandomization });
  const design = randomizationDesignFromStored(
    { type, arms, rerandomization, rerandomization_threshold: d.rerandomization?.threshold ?? null },
    units.map((u) => ({ code: u.code, arm: d.arms[u.code], stratum: d.unit_strata[u.code], covariates: u.covariates })),
  );
  const tIdx = design.template.arms.indexOf('treatment');
  const cIdx = design.template.arms.indexOf('control');
  const truth = LIFT * meanOf(y0);
  const rng = createPrng(1616);
  const labels = new Uint8Array(N);
  const lin: number[] = [];
  const naivePaired: number[] = [];
  while (lin.length < DRAWS) {
    drawFromDesign(design.template, rng, labels);
    if (design.accept && !design.accept(labels)) continue;
    const y = y0.map((v, i) => (labels[i] === tIdx ? v * (1 + LIFT) : v));
    lin.push(makeStatistic(y, design.template, tIdx, cIdx, 'lin_adjusted', null, new Float64Array(1), x)(labels) - truth);
    if (type === 'matched_pairs') {
      const dj: number[] = [];
      const xj: number[] = [];
      for (const s of design.template.strata) {
        const [a, b] = s.units;
        const [t, c] = labels[a] === tIdx ? [a, b] : [b, a];
        dj.push(y[t] - y[c]);
        xj.push(x[t] - x[c]);
      }
      const md = meanOf(dj);
      const mx = meanOf(xj);
      let sxy = 0;
      let sxx = 0;
      dj.forEach((v, j) => {
        sxy += (v - md) * (xj[j] - mx);
        sxx += (xj[j] - mx) ** 2;
      });
      naivePaired.push(md - (sxy / sxx) * mx - truth);
    }
  }
  return { truth, lin, naivePaired };
}

describe("'lin_adjusted' is unbiased for a proportional lift under matched pairs and rerandomization (issue 16)", () => {
  it('the population is heavy-tailed: CV of size ≥ 1 and its largest territory ≥ 5× the median', () => {
    const { size } = population();
    const m = meanOf(size);
    const sd = Math.sqrt(size.reduce((s, v) => s + (v - m) ** 2, 0) / (N - 1));
    const sorted = [...size].sort((a, b) => a - b);
    expect(sd / m).toBeGreaterThanOrEqual(1);
    expect(sorted[N - 1] / sorted[N / 2]).toBeGreaterThanOrEqual(5);
  });

  it.each(['matched_pairs', 'rerandomization'] as const)('%s: mean error within ±3% of the true effect, with a Monte Carlo SE small enough to tell', (type) => {
    const { truth, lin } = simulate(type);
    const s = summary(lin, truth);
    // the verdict is clear: the MC SE is well below the tolerance, and the interval mean ± 2 SE lies inside ±3%
    expect(s.mcSe).toBeLessThan(0.01);
    expect(Math.abs(s.meanError) + 2 * s.mcSe).toBeLessThan(0.03);
  }, 120_000);

  it('the naive paired-difference regression (in-sample slope on the pair differences) fails the same check', () => {
    const { truth, naivePaired } = simulate('matched_pairs');
    const s = summary(naivePaired, truth);
    expect(Math.abs(s.meanError) - 2 * s.mcSe).toBeGreaterThan(0.03);
  }, 120_000);

  it('hand case: the Lin statistic of a fixed assignment (arm-specific slopes, centred at the pooled covariate mean)', () => {
    // T: (x, y) = (1, 2), (3, 5); C: (2, 2), (4, 3); x̄ = 2.5.
    // T: b = 3/2, fit at x̄: 3.5 − 1.5·(2 − 2.5) = 4.25; C: b = 1/2, fit: 2.5 − 0.5·(3 − 2.5) = 2.25; τ̂ = 2.
    const template = { arms: ['control', 'treatment'], n_units: 4, strata: [{ stratum: 'all', units: [0, 1, 2, 3], counts: [2, 2] }] };
    const stat = makeStatistic([2, 5, 2, 3], template, 1, 0, 'lin_adjusted', null, new Float64Array(1), [1, 3, 2, 4]);
    expect(stat(Uint8Array.from([1, 1, 0, 0]))).toBeCloseTo(2, 12);
  });
});
