import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import {
  chiSquareCdf,
  chiSquareSf,
  fCdf,
  fSf,
  ibeta,
  lnGamma,
  normalCdf,
  normalInv,
  normalSf,
  studentTCdf,
  studentTInv,
  studentTSf,
} from './distributions';

interface DistInput {
  fn: string;
  x?: number;
  p?: number;
  df?: number;
  df1?: number;
  df2?: number;
  a?: number;
  b?: number;
}

const reference = loadReference<DistInput, { value: number }>('distributions');

/** Dispatches a jstat-style function name of distributions.json to the wrapper. */
function evaluate(input: DistInput): number {
  const { fn } = input;
  const x = input.x as number;
  switch (fn) {
    case 'studentt.cdf':
      return studentTCdf(x, input.df as number);
    case 'studentt.inv':
      return studentTInv(input.p as number, input.df as number);
    case 'normal.cdf':
      return normalCdf(x);
    case 'normal.inv':
      return normalInv(input.p as number);
    case 'chisquare.cdf':
      return chiSquareCdf(x, input.df as number);
    case 'chisquare.sf':
      return chiSquareSf(x, input.df as number);
    case 'centralF.cdf':
      return fCdf(x, input.df1 as number, input.df2 as number);
    case 'centralF.sf':
      return fSf(x, input.df1 as number, input.df2 as number);
    case 'ibeta':
      return ibeta(x, input.a as number, input.b as number);
    default:
      throw new Error(`unknown function ${fn}`);
  }
}

describe('distributions (reference: mpmath 60 digits, distributions.json)', () => {
  it('has all 190 reference cases', () => {
    expect(reference.cases).toHaveLength(190);
  });

  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const actual = { value: evaluate(c.input) };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('distribution tails and symmetry', () => {
  it('normalSf is the upper tail computed directly (pitfall P1): normalSf(37) equals normalCdf(-37) ~ 5.7e-300', () => {
    expect(normalSf(37)).toBe(normalCdf(-37));
    expect(normalSf(37)).toBeGreaterThan(0);
    expect(normalSf(37)).toBeCloseTo(5.725571222524577e-300, 310);
  });

  it('studentTSf(t) = studentTCdf(-t) and is positive far in the tail', () => {
    expect(studentTSf(50, 1000)).toBe(studentTCdf(-50, 1000));
    expect(studentTSf(50, 1000)).toBeGreaterThan(0);
  });

  it('chiSquareSf(400, 1) is 5.50725e-89, not 0 (reference value from pitfalls.md P1)', () => {
    expect(Math.abs(chiSquareSf(400, 1) / 5.50725e-89 - 1)).toBeLessThan(1e-5);
  });

  // absolute tolerance 1e-14: below 10 lnΓ is lnΓ(x + n) − ln(product), so the error is absolute,
  // ~1e-16 × lnΓ(10) ≈ 1e-15, which is what every exp(lnΓ…) prefactor sees.
  it('lnGamma matches known closed forms: lnΓ(1) = lnΓ(2) = 0, lnΓ(1/2) = ln √π, lnΓ(11) = ln 10!', () => {
    expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(lnGamma(2))).toBeLessThan(1e-14);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 13);
  });

  it('quantiles throw on p outside (0, 1) instead of returning Infinity', () => {
    expect(() => normalInv(0)).toThrow(RangeError);
    expect(() => normalInv(1)).toThrow(RangeError);
    expect(() => studentTInv(1, 5)).toThrow(RangeError);
    expect(() => studentTCdf(1, 0)).toThrow(RangeError);
  });

  it('accepts fractional df (Welch): t quantile at 0.975 with df 5.15041 inverts the CDF', () => {
    const q = studentTInv(0.975, 5.15041);
    expect(Math.abs(studentTCdf(q, 5.15041) - 0.975)).toBeLessThan(1e-15);
  });
});
