import fc from 'fast-check';
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference, ReferenceCase } from '../../test/fixtures/reference/compare';
import { drawDesign, randomizationDesignFromStored } from './design/designs';
import { pairedRandomizationTest, randomizationTest, randomizationTestAsync } from './randomization-inference';

interface PermInput {
  design: 'complete' | 'stratified' | 'matched_pairs';
  treatment?: number[];
  control?: number[];
  y?: number[];
  treated?: number[];
  stratum?: string[];
}
const reference = loadReference<PermInput, Record<string, any>>('permutation');
const cases = (d: string) => reference.cases.filter((c) => c.input.design === d).map((c) => [c.name, c] as const);
const arms2 = [
  { key: 'control', role: 'control' as const },
  { key: 'treatment', role: 'treatment' as const },
];

describe('design-aware randomization inference against permutation.json', () => {
  it.each(cases('matched_pairs'))('matched pairs as strata = sign flips: %s', (_n, c: ReferenceCase<PermInput>) => {
    const t = c.input.treatment as number[];
    const k = c.input.control as number[];
    // unit order: pair by pair, treatment first
    const units = t.flatMap((_, i) => [
      { code: `P${i}T`, arm: 'treatment', stratum: `pair-${i}` },
      { code: `P${i}C`, arm: 'control', stratum: `pair-${i}` },
    ]);
    const values = t.flatMap((x, i) => [x, k[i]]);
    const design = randomizationDesignFromStored({ type: 'matched_pairs', arms: arms2 }, units);
    const r = randomizationTest({ values, arms: units.map((u) => u.arm), treatmentArm: 'treatment', controlArm: 'control', design });
    assertNoNonFinite(r);
    const expected = { ...c.expected };
    delete expected.n_pairs;
    // the pair statistic mean(d) equals the difference in means when every pair has both values
    expect(compareToReference(r, expected, c.tolerance)).toEqual([]);
    const signFlip = pairedRandomizationTest({ treatment: t, control: k });
    expect(r.p_two_sided).toBeCloseTo(signFlip.p_two_sided as number, 14);
  });

  it.each(cases('stratified'))('stratified through the stored design: %s', (_n, c: ReferenceCase<PermInput>) => {
    const arms = (c.input.treated as number[]).map((x) => (x === 1 ? 'treatment' : 'control'));
    const strata = c.input.stratum as string[];
    const units = arms.map((arm, i) => ({ code: `U${i}`, arm, stratum: strata[i] }));
    const design = randomizationDesignFromStored({ type: 'stratified', arms: arms2 }, units);
    const r = randomizationTest({ values: c.input.y as number[], arms, treatmentArm: 'treatment', controlArm: 'control', design });
    expect(compareToReference(r, c.expected.diff_in_means, c.tolerance)).toEqual([]);
    expect(r.n_assignments).toBe(c.expected.n_assignments);
  });
});

describe('acceptance rule and constraints in the reference set', () => {
  const units = Array.from({ length: 10 }, (_, i) => ({
    code: `T${i}`,
    covariates: { headcount: [3, 9, 4, 7, 5, 8, 2, 6, 10, 1][i], pre_period_revenue_won: 100 * (i + 1) },
  }));
  const spec = {
    type: 'rerandomization' as const,
    arms: arms2.map((a) => ({ ...a, ratio: 1 })),
    seed: 17,
    rerandomization: { covariates: ['headcount'], acceptance_probability: 0.25 },
    constraints: { force: [{ code: 'T9', arm: 'control' }] },
  };
  const d = drawDesign(units, spec);
  const stored = units.map((u) => ({ code: u.code, arm: d.arms[u.code], stratum: d.unit_strata[u.code], covariates: u.covariates }));
  const design = randomizationDesignFromStored({ ...spec, constraints: { forced: d.constraints!.forced } }, stored);
  const values = units.map((u, i) => Math.sin(i) * 10 + (d.arms[u.code] === 'treatment' ? 3 : 0));
  const armsOf = stored.map((u) => u.arm);

  it('exact: the reference set is the accepted assignments with the forced territory fixed (brute force)', () => {
    const r = randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design });
    // brute force over C(9,5) placements of the 5 treated among the 9 free territories
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const hc = units.map((u) => u.covariates.headcount);
    const hcMean = mean(hc);
    const s2 = hc.reduce((s, x) => s + (x - hcMean) ** 2, 0) / 9;
    const a = d.rerandomization!.threshold;
    let n = 0;
    let ge = 0;
    const obs = mean(values.filter((_, i) => armsOf[i] === 'treatment')) - mean(values.filter((_, i) => armsOf[i] === 'control'));
    for (let mask = 0; mask < 1 << 9; mask++) {
      let bits = 0;
      for (let i = 0; i < 9; i++) bits += (mask >> i) & 1;
      if (bits !== 5) continue;
      const treated = (i: number) => i < 9 && ((mask >> i) & 1) === 1;
      const tHc = hc.filter((_, i) => treated(i));
      const cHc = hc.filter((_, i) => !treated(i));
      const m = ((5 * 5) / 10) * (mean(tHc) - mean(cHc)) ** 2 / s2;
      if (m > a) continue;
      n++;
      const t = mean(values.filter((_, i) => treated(i))) - mean(values.filter((_, i) => !treated(i)));
      if (Math.abs(t) >= Math.abs(obs) - 1e-9 * Math.max(1, Math.abs(obs))) ge++;
    }
    expect(r.method).toBe('exact');
    expect(r.n_assignments).toBe(n);
    expect(r.n_rejected).toBe(126 - n);
    expect(r.count_abs_ge).toBe(ge);
    expect(r.p_two_sided).toBeCloseTo(ge / n, 14);
    expect(r.design).toMatchObject({ type: 'rerandomization', forced: 1 });
  });

  it('Monte Carlo with the acceptance rule agrees with exact within sampling error and is reproducible', () => {
    const exact = randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design });
    const mc = randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design, maxExact: 10, draws: 4000, seed: 3 });
    expect(mc.method).toBe('monte_carlo');
    expect(mc.draws).toBe(4000);
    expect(mc.n_rejected).toBeGreaterThan(0);
    const p = exact.p_two_sided as number;
    expect(Math.abs((mc.p_two_sided as number) - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 4000) + 1 / 4001);
    expect(randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design, maxExact: 10, draws: 4000, seed: 3 })).toEqual(mc);
  });

  it('multi-arm: territories of the other arms stay put (3 arms × 2: C(4,2) = 6 assignments)', () => {
    const u3 = ['a', 'a', 'b', 'b', 'c', 'c'].map((arm, i) => ({ code: `U${i}`, arm, stratum: 'all' }));
    const design3 = randomizationDesignFromStored({ type: 'complete', arms: [{ key: 'b' }, { key: 'a' }, { key: 'c' }] }, u3);
    const r = randomizationTest({ values: [5, 6, 1, 2, 3, 4], arms: u3.map((u) => u.arm), treatmentArm: 'a', controlArm: 'b', design: design3 });
    expect(r.n_assignments).toBe(6);
    expect(r.design!.conditioned_on_other_arms).toBe(true);
    expect(r.count_abs_ge).toBe(2);
    expect(r.min_attainable_p).toBeCloseTo(2 / 6, 14);
  });
});

describe('CI by test inversion', () => {
  const units = Array.from({ length: 12 }, (_, i) => ({ code: `U${i}`, arm: i < 6 ? 'treatment' : 'control', stratum: 'all' }));
  const design = randomizationDesignFromStored({ type: 'complete', arms: arms2 }, units);
  const armsOf = units.map((u) => u.arm);
  const pShifted = (values: number[], tau: number) =>
    randomizationTest({ values: values.map((v, i) => (armsOf[i] === 'treatment' ? v - tau : v)), arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design }).p_two_sided as number;

  it('the bounds are where the shifted test starts to reject (checked by re-running the test)', () => {
    const values = [14, 19, 11, 16, 22, 13, 9, 12, 8, 15, 10, 7];
    const r = randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design, ci: { alpha: 0.05 } });
    const ci = r.ci!;
    expect(ci.status).toBe('ok');
    expect(ci.low!).toBeLessThanOrEqual(r.observed!);
    expect(r.observed!).toBeLessThanOrEqual(ci.high!);
    const eps = 1e-6 * Math.abs(r.observed!);
    expect(pShifted(values, ci.low!)).toBeGreaterThanOrEqual(0.05);
    expect(pShifted(values, ci.low! - eps)).toBeLessThan(0.05);
    expect(pShifted(values, ci.high!)).toBeGreaterThanOrEqual(0.05);
    expect(pShifted(values, ci.high! + eps)).toBeLessThan(0.05);
  });

  it('unbounded when the design cannot reject (3 vs 3: smallest p 0.1)', () => {
    const u6 = units.slice(0, 3).concat(units.slice(6, 9));
    const d6 = randomizationDesignFromStored({ type: 'complete', arms: arms2 }, u6);
    const r = randomizationTest({ values: [10, 14, 12, 9, 11, 8], arms: u6.map((u) => u.arm), treatmentArm: 'treatment', controlArm: 'control', design: d6, ci: { alpha: 0.05 } });
    expect(r.ci).toMatchObject({ status: 'unbounded', low: null, high: null });
    assertNoNonFinite(r);
  });

  it('property: p < alpha exactly when the CI excludes 0; lower ≤ estimate ≤ upper; p in (0, 1]', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 30 }), (raw, shift) => {
        const values = raw.map((v, i) => (armsOf[i] === 'treatment' ? v + shift : v));
        const r = randomizationTest({ values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design, ci: { alpha: 0.05 } });
        const p = r.p_two_sided as number;
        expect(p).toBeGreaterThan(0);
        expect(p).toBeLessThanOrEqual(1);
        const ci = r.ci!;
        if (ci.status === 'ok') {
          expect(ci.low!).toBeLessThanOrEqual(r.observed! + 1e-12);
          expect(ci.high!).toBeGreaterThanOrEqual(r.observed! - 1e-12);
          const excludes = ci.low! > 0 || ci.high! < 0;
          if (ci.note === null) expect(excludes).toBe(p < 0.05);
        }
      }),
      { numRuns: 60, seed: 20261130 },
    );
  });

  it('the async variant gives the identical result', async () => {
    const values = [14, 19, 11, 16, 22, 13, 9, 12, 8, 15, 10, 7];
    const input = { values, arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design, ci: { alpha: 0.1 } };
    expect(await randomizationTestAsync(input)).toEqual(randomizationTest(input));
  });

  it('the async variant lets other callbacks run while it works (yields to the event loop)', async () => {
    // 16 units, 8 treated: C(16, 8) = 12,870 assignments enumerated exactly, in chunks of 2,048
    const u16 = Array.from({ length: 16 }, (_, i) => ({ code: `U${i}`, arm: i < 8 ? 'treatment' : 'control', stratum: 'all' }));
    const d16 = randomizationDesignFromStored({ type: 'complete', arms: arms2 }, u16);
    let ticks = 0;
    let stop = false;
    const tick = (): void => {
      ticks++;
      if (!stop) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await randomizationTestAsync({
      values: u16.map((_, i) => (i * 37) % 11),
      arms: u16.map((u) => u.arm),
      treatmentArm: 'treatment',
      controlArm: 'control',
      design: d16,
      yieldEveryMs: 0,
    });
    stop = true;
    expect(r.n_assignments).toBe(12870);
    // 6 yields (12,870 / 2,048): the ticker runs once per yield; without yielding it could not run at all before this line
    expect(ticks).toBeGreaterThanOrEqual(3);
  });
});
