import { invertTest } from './randomization-test-inversion';

/**
 * An exact reference set of 40 assignments built so that the confidence set is a half-line: the
 * observed assignment (u = 10, v = 1), one more that moves with τ (u = 0, v = 1: as τ → +∞ it keeps
 * |u − τ| ≥ |10 − τ|, as τ → −∞ it does not), and 38 that do not move (v = 0, |u| ≤ 3).
 * p(0) = 1/40 < 0.05; p(τ → +∞) = 2/40 ≥ 0.05 (never rejected); p(τ → −∞) = 1/40 (rejected).
 */
function halfLineCase() {
  const u = new Float64Array(40);
  const v = new Float64Array(40);
  u[0] = 10;
  v[0] = 1;
  u[1] = 0;
  v[1] = 1;
  for (let i = 2; i < 40; i++) u[i] = -3 + (6 * (i - 2)) / 37;
  return { u, v };
}

describe('invertTest (CI by inversion of the randomization test)', () => {
  it('keeps the finite bound of a half-line: p < α and the set [low, ∞) excludes 0 (pitfall P7)', () => {
    const { u, v } = halfLineCase();
    const ci = invertTest(u, v, 10, 0, 1 / 40, 0.05);
    expect(ci.status).toBe('unbounded');
    expect(ci.high).toBeNull();
    expect(ci.low).not.toBeNull();
    // the lowest τ with p(τ) ≥ α: p(τ) = 2/40 once the moving assignment counts, |0 − τ| ≥ |10 − τ| ⇔ τ ≥ 5
    expect(ci.low as number).toBeCloseTo(5, 6);
    expect(ci.note).toMatch(/half-line \[5\.00000, ∞\)/);
  });

  it('mirrors to (−∞, high] when the open side is below', () => {
    const { u, v } = halfLineCase();
    const ci = invertTest(u.map((x) => -x), v, -10, 0, 1 / 40, 0.05);
    expect(ci.low).toBeNull();
    expect(ci.high as number).toBeCloseTo(-5, 6);
    expect(ci.note).toMatch(/half-line \(−∞, -5\.00000\]/);
  });

  it('both sides open only when no effect is rejected at all (null bounds, the smallest attainable p note)', () => {
    const u = new Float64Array([1, -1, 0.5, -0.5]);
    const v = new Float64Array([1, -1, 1, -1]);
    const ci = invertTest(u, v, 1, 0, 1, 0.05);
    expect(ci).toMatchObject({ status: 'unbounded', low: null, high: null });
    expect(ci.note).toMatch(/smallest attainable p/);
  });
});
