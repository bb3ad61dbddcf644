import { DesignError } from './allocation';
import {
  buildAcceptance,
  DESIGN_ALGORITHM_VERSION_V2,
  DESIGN_ALGORITHM_VERSION_V3,
  DesignSpec,
  DesignUnit,
  drawDesign,
  randomizationDesignFromStored,
  RERANDOMIZATION_CALIBRATION_DRAWS,
  ThresholdRule,
} from './designs';
import { chiSquareQuantile } from './mahalanobis';
import { createPrng } from './prng';

/**
 * The rerandomization threshold (issue 16): the χ² quantile assumes roughly normal covariate means;
 * with one territory ten times the others (common in sales) M never gets that small and the draw
 * fails. The empirical rule sets a as the p_a quantile of M over complete randomizations of the
 * design itself, so the stated acceptance probability holds whatever the covariates.
 */
const N = 36;
/** 36 territories with skewed revenue; T07 is ~90× the median (a head-office territory). */
const skewed: DesignUnit[] = Array.from({ length: N }, (_, i) => {
  const rev = i === 7 ? 10_000 : Math.exp(0.6 * Math.sin(i * 1.7) + 0.3 * Math.cos(i * 0.9)) * 100;
  return { code: `T${String(i).padStart(2, '0')}`, covariates: { rev, opp: Math.round(rev / 20 + (i % 5)) } };
});
/** 100 territories with normal covariates (Box–Muller from the project PRNG), where the χ² rule is right. */
const normal: DesignUnit[] = (() => {
  const rng = createPrng(11);
  const g = () => Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
  return Array.from({ length: 100 }, (_, i) => {
    const a = g();
    return { code: `N${String(i).padStart(3, '0')}`, covariates: { x: 10 + a, y: 5 + 0.5 * a + g() } };
  });
})();

const spec = (p: number, rule: ThresholdRule | undefined, covariates: string[], seed = 3): DesignSpec => ({
  type: 'rerandomization',
  arms: [
    { key: 'control', role: 'control', ratio: 1 },
    { key: 'treatment', role: 'treatment', ratio: 1 },
  ],
  seed,
  rerandomization: { covariates, acceptance_probability: p, ...(rule ? { threshold_rule: rule } : {}) },
  max_draws: 1_000,
});

/** Share of `draws` fresh complete randomizations (half treated) with M ≤ threshold. */
function acceptanceRate(units: DesignUnit[], s: DesignSpec, threshold: number, draws: number): number {
  const sorted = [...units].sort((a, b) => (a.code < b.code ? -1 : 1));
  const acc = buildAcceptance(sorted, s, ['control', 'treatment'], { storedThreshold: threshold })!;
  const rng = createPrng(999);
  const idx = Array.from({ length: sorted.length }, (_, i) => i);
  const labels = new Uint8Array(sorted.length);
  let accepted = 0;
  for (let b = 0; b < draws; b++) {
    rng.shuffle(idx);
    idx.forEach((u, j) => (labels[u] = j < sorted.length / 2 ? 0 : 1));
    if (acc.mahalanobis(labels) <= threshold) accepted++;
  }
  return accepted / draws;
}

describe('rerandomization threshold', () => {
  it('the χ² rule cannot be met on skewed covariates (the defect): no draw in 1,000 reaches its threshold', () => {
    expect(() => drawDesign(skewed, spec(0.05, 'chi_square', ['rev', 'opp']))).toThrow(DesignError);
    expect(() => drawDesign(skewed, spec(0.05, undefined, ['rev', 'opp']))).toThrow(/no assignment met the acceptance rule/);
  });

  it.each([0.05, 0.01])('the empirical rule keeps the stated acceptance probability p_a = %s on skewed covariates', (p) => {
    const s = spec(p, 'empirical', ['rev', 'opp']);
    const d = drawDesign(skewed, s);
    const r = d.rerandomization!;
    expect(r).toMatchObject({ threshold_rule: 'empirical', calibration_draws: RERANDOMIZATION_CALIBRATION_DRAWS, df: 2 });
    expect(r.chi_square_threshold).toBeCloseTo(chiSquareQuantile(p, 2), 12);
    expect(r.threshold).toBeGreaterThan(5 * r.chi_square_threshold!); // far above the χ² value here
    expect(r.mahalanobis).toBeLessThanOrEqual(r.threshold);
    expect(d.algorithm_version).toBe(DESIGN_ALGORITHM_VERSION_V3);
    // Fresh randomizations (another stream) are accepted at rate p_a, within 4 SE of the two Monte Carlo errors.
    const evalDraws = 40_000;
    const se = Math.sqrt((p * (1 - p)) / RERANDOMIZATION_CALIBRATION_DRAWS + (p * (1 - p)) / evalDraws);
    expect(Math.abs(acceptanceRate(skewed, s, r.threshold, evalDraws) - p)).toBeLessThan(4 * se);
  });

  it('where the χ² approximation holds (normal covariates, n = 100) the empirical threshold agrees with it', () => {
    const d = drawDesign(normal, spec(0.05, 'empirical', ['x', 'y']));
    const r = d.rerandomization!;
    // Monte Carlo SE of the 5% quantile of χ²_2 with B = 10,000 is about 4.5% of it; finite n adds a little.
    expect(r.threshold / chiSquareQuantile(0.05, 2)).toBeGreaterThan(0.85);
    expect(r.threshold / chiSquareQuantile(0.05, 2)).toBeLessThan(1.15);
  });

  it('is reproducible from the seed, and randomization inference replays the recorded threshold', () => {
    const s = spec(0.05, 'empirical', ['rev', 'opp'], 42);
    const a = drawDesign(skewed, s);
    const b = drawDesign(skewed, s);
    expect(b.rerandomization!.threshold).toBe(a.rerandomization!.threshold);
    expect(b.arms).toEqual(a.arms);
    expect(drawDesign(skewed, spec(0.05, 'empirical', ['rev', 'opp'], 43)).rerandomization!.threshold).not.toBe(a.rerandomization!.threshold);

    const units = Object.keys(a.arms)
      .sort()
      .map((code) => ({ code, arm: a.arms[code], stratum: a.unit_strata[code], covariates: skewed.find((u) => u.code === code)!.covariates }));
    const stored = { type: 'rerandomization' as const, arms: s.arms, rerandomization: s.rerandomization };
    const replay = randomizationDesignFromStored({ ...stored, rerandomization_threshold: a.rerandomization!.threshold }, units);
    const labels = Uint8Array.from(units.map((u) => (u.arm === 'control' ? 0 : 1)));
    expect(replay.accept!(labels)).toBe(true);
    expect(replay.description.acceptance).toMatch(/empirical 0.05 quantile of M/);
    // An empirical threshold is not recomputed at replay: without the recorded value it is refused.
    expect(() => randomizationDesignFromStored(stored, units)).toThrow(/needs the threshold the draw recorded/);
  });

  it('designs without the field keep the χ² rule and the former record and version (stored assignments replay unchanged)', () => {
    const d = drawDesign(normal, spec(0.3, undefined, ['x', 'y']));
    expect(d.algorithm_version).toBe(DESIGN_ALGORITHM_VERSION_V2);
    expect(d.rerandomization!.threshold).toBe(chiSquareQuantile(0.3, 2));
    expect(d.rerandomization).not.toHaveProperty('threshold_rule');
    expect(d.rerandomization).not.toHaveProperty('calibration_draws');
  });
});
