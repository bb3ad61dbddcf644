import { clopperPearson } from './binomial-ci';

describe('Clopper–Pearson interval', () => {
  it('closed forms at the edges: x = 0 → [0, 1 − (α/2)^{1/n}], x = n → [(α/2)^{1/n}, 1]', () => {
    const zero = clopperPearson(0, 10);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(1 - 0.025 ** (1 / 10), 12);
    const all = clopperPearson(20, 20);
    expect(all.low).toBeCloseTo(0.025 ** (1 / 20), 12);
    expect(all.high).toBe(1);
  });

  it('is symmetric: CI(x, n) mirrors CI(n − x, n), and contains x/n', () => {
    for (const [x, n] of [[5, 10], [3, 17], [50, 1000]]) {
      const a = clopperPearson(x, n);
      const b = clopperPearson(n - x, n);
      expect(a.low).toBeCloseTo(1 - b.high, 12);
      expect(a.low).toBeLessThanOrEqual(x / n);
      expect(a.high).toBeGreaterThanOrEqual(x / n);
    }
  });

  it('matches the definition: P(X ≥ x | p = low) = α/2 and P(X ≤ x | p = high) = α/2', () => {
    const x = 50;
    const n = 1000;
    const { low, high } = clopperPearson(x, n);
    // binomial tails by direct summation in logs
    const lnChoose = (k: number) => {
      let s = 0;
      for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
      return s;
    };
    const pmf = (k: number, p: number) => Math.exp(lnChoose(k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
    let upperTail = 0;
    for (let k = x; k <= n; k++) upperTail += pmf(k, low);
    let lowerTail = 0;
    for (let k = 0; k <= x; k++) lowerTail += pmf(k, high);
    expect(upperTail).toBeCloseTo(0.025, 9);
    expect(lowerTail).toBeCloseTo(0.025, 9);
  });
});
