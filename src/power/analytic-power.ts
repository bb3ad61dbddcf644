/**
 * Analytic power, sample size and minimum detectable effect (MDE) for comparing two arms of
 * territories, t-based as statsmodels' TTestIndPower (Cohen 1988, ch. 2), plus the two-proportion
 * z-test on Cohen's h (NormalIndPower). Pure TypeScript, no I/O. Checked against
 * shared/reference/power.json (test/fixtures/reference/power.json).
 *
 * Conventions (power.json): nobs2 = ratio·nobs1, df = nobs1 + nobs2 − 2 (or a given df, see
 * `df`), noncentrality nc = d·√(n1·n2/(n1 + n2)), d = (μ_T − μ_C)/σ. Two-sided power =
 * P(T' > t_{1−α/2,df}) + P(T' < −t_{1−α/2,df}) (BOTH tails; R's power.t.test drops the lower one
 * unless strict = TRUE); 'larger': P(T' > t_{1−α,df}); T' noncentral t.
 */
import { ibeta, lnGamma, normalCdf, normalInv, normalSf, studentTInv } from '../stats/distributions';

/** 'two-sided' or 'larger' (H1: treatment > control). */
export type PowerAlternative = 'two-sided' | 'larger';

/**
 * CDF of the noncentral t distribution P(T' ≤ t), T' with df degrees of freedom and noncentrality
 * delta. Algorithm AS 243 (R. V. Lenth 1989, Applied Statistics 38, 185–189): a series of
 * incomplete beta functions weighted by Poisson terms, stopped when the error bound is < 1e-15;
 * the incomplete beta is the accurate one of distributions.ts and 1 − (1 − x)^{df/2} is computed
 * with expm1/log1p.
 *
 * @param t finite value
 * @param df degrees of freedom > 0 (fractional allowed)
 * @param delta noncentrality (finite)
 * @throws RangeError on non-finite input or df ≤ 0
 */
export function noncentralTCdf(t: number, df: number, delta: number): number {
  if (!Number.isFinite(t) || !Number.isFinite(delta)) throw new RangeError('t and delta must be finite');
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`df must be positive, got ${df}`);
  const negative = t < 0;
  const tt = negative ? -t : t;
  const del = negative ? -delta : delta;
  let tnc = 0;
  if (tt > 0) {
    const x = (tt * tt) / (tt * tt + df);
    const lambda = del * del;
    let p = 0.5 * Math.exp(-0.5 * lambda);
    let q = Math.sqrt(2 / Math.PI) * p * del;
    let s = 0.5 - p;
    let a = 0.5;
    const b = 0.5 * df;
    const lnRxb = b * Math.log1p(-x);
    const rxb = Math.exp(lnRxb);
    const albeta = lnGamma(a) + lnGamma(b) - lnGamma(a + b);
    let xodd = ibeta(x, a, b);
    let godd = 2 * rxb * Math.exp(a * Math.log(x) - albeta);
    let xeven = -Math.expm1(lnRxb);
    let geven = b * x * rxb;
    tnc = p * xodd + q * xeven;
    for (let en = 1; en <= 20000; en++) {
      a += 1;
      xodd -= godd;
      xeven -= geven;
      godd *= (x * (a + b - 1)) / a;
      geven *= (x * (a + b - 0.5)) / (a + 0.5);
      p *= lambda / (2 * en);
      q *= lambda / (2 * en + 1);
      s -= p;
      tnc += p * xodd + q * xeven;
      const errbd = 2 * s * (xodd - godd);
      if (Math.abs(errbd) < 1e-15 && en > 2) break;
    }
  }
  tnc += normalCdf(-del);
  const out = negative ? 1 - tnc : tnc;
  return Math.min(1, Math.max(0, out));
}

/** Upper tail P(T' > t) of the noncentral t. */
function noncentralTSf(t: number, df: number, delta: number): number {
  // P(T' > t) = P(−T' < −t) and −T' is noncentral t with −delta: for t > 0 this avoids 1 − cdf near 1
  return t > 0 ? noncentralTCdf(-t, df, -delta) : 1 - noncentralTCdf(t, df, delta);
}

/** Inputs of the t-test power function. */
export interface TTestPowerInput {
  /** standardized effect d = (μ_T − μ_C)/σ */
  effect_size: number;
  /** territories in the first (control) arm; may be fractional while solving */
  nobs1: number;
  /** nobs2 / nobs1 (default 1) */
  ratio?: number;
  alpha?: number;
  alternative?: PowerAlternative;
  /** degrees of freedom if not n1 + n2 − 2 (e.g. fewer after covariate or stratum adjustment); > 0 */
  df?: number;
}

function dfAndNc(input: TTestPowerInput): { df: number; nc: number } {
  const ratio = input.ratio ?? 1;
  const n1 = input.nobs1;
  const n2 = ratio * n1;
  if (!(n1 > 0) || !(ratio > 0)) throw new RangeError('nobs1 and ratio must be positive');
  const df = input.df ?? n1 + n2 - 2;
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  return { df, nc: input.effect_size * Math.sqrt((n1 * n2) / (n1 + n2)) };
}

/**
 * Power of the two-sample t-test (statsmodels TTestIndPower.power). Unitless, in [0, 1].
 * @throws RangeError on non-positive sizes, df or alpha outside (0, 1)
 */
export function tTestPower(input: TTestPowerInput): number {
  const alpha = input.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const { df, nc } = dfAndNc(input);
  if ((input.alternative ?? 'two-sided') === 'larger') {
    return noncentralTSf(studentTInv(1 - alpha, df), df, nc);
  }
  const crit = studentTInv(1 - alpha / 2, df);
  return noncentralTSf(crit, df, nc) + noncentralTCdf(-crit, df, nc);
}

/** Brent-free robust root finder: bisection on a sign change to 1e-14 relative (monotone functions). */
function solveIncreasing(f: (x: number) => number, lo: number, hi: number): number {
  let flo = f(lo);
  let fhi = f(hi);
  let guard = 0;
  while (flo > 0 && guard++ < 200) {
    lo /= 2;
    flo = f(lo);
  }
  guard = 0;
  while (fhi < 0 && guard++ < 200) {
    hi *= 2;
    fhi = f(hi);
  }
  if (flo > 0 || fhi < 0) throw new RangeError('no solution in range');
  for (let i = 0; i < 300 && hi - lo > 1e-14 * Math.abs(hi); i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Territories needed in arm 1 for a target power (real-valued root, as power.json; ceil for whole
 * territories). nobs2 = ratio·nobs1.
 *
 * @param input effect_size, power (0..1), ratio, alpha, alternative; `dfLoss` subtracts parameters
 *   used by the adjustment (df = n1 + n2 − 2 − dfLoss)
 * @throws RangeError when the target cannot be reached
 */
export function tTestNobs1(input: {
  effect_size: number;
  power: number;
  ratio?: number;
  alpha?: number;
  alternative?: PowerAlternative;
  dfLoss?: number;
  /** degrees of freedom as a function of nobs1 (overrides dfLoss; e.g. matched pairs: n1 − 1) */
  dfOf?: (nobs1: number) => number;
}): {
  nobs1: number;
  nobs1_ceil: number;
  nobs2_ceil: number;
} {
  const ratio = input.ratio ?? 1;
  const loss = input.dfLoss ?? 0;
  if (!(input.power > 0 && input.power < 1)) throw new RangeError(`power must be in (0, 1), got ${input.power}`);
  if (!(input.effect_size > 0)) throw new RangeError('effect_size must be positive');
  const dfOf = input.dfOf ?? ((n: number) => n * (1 + ratio) - 2 - loss);
  let minN = (2 + loss) / (1 + ratio) + 1e-9;
  while (!(dfOf(minN) > 0) && minN < 1e9) minN *= 1.5;
  const f = (n: number) => tTestPower({ effect_size: input.effect_size, nobs1: n, ratio, alpha: input.alpha, alternative: input.alternative, df: dfOf(n) }) - input.power;
  const nobs1 = solveIncreasing(f, Math.max(minN, 1e-6), Math.max(minN * 2, 10));
  const nobs1Ceil = Math.ceil(nobs1 - 1e-9);
  return { nobs1, nobs1_ceil: nobs1Ceil, nobs2_ceil: Math.ceil(ratio * nobs1Ceil - 1e-9) };
}

/**
 * Minimum detectable standardized effect at fixed sizes (positive root d of power(d) = target) and,
 * when `sd` is given, the MDE in the KPI's unit (d·sd).
 * @throws RangeError when power or sizes are invalid
 */
export function tTestMde(input: { nobs1: number; power: number; ratio?: number; alpha?: number; alternative?: PowerAlternative; sd?: number; df?: number }): {
  effect_size: number;
  mde: number | null;
} {
  if (!(input.power > 0 && input.power < 1)) throw new RangeError(`power must be in (0, 1), got ${input.power}`);
  const f = (d: number) =>
    tTestPower({ effect_size: d, nobs1: input.nobs1, ratio: input.ratio, alpha: input.alpha, alternative: input.alternative, df: input.df }) - input.power;
  const d = solveIncreasing(f, 1e-6, 2);
  return { effect_size: d, mde: input.sd === undefined ? null : d * input.sd };
}

/** Cohen's h = 2·asin(√p_t) − 2·asin(√p_c) (statsmodels proportion_effectsize). */
export function cohensH(pTreatment: number, pControl: number): number {
  return 2 * Math.asin(Math.sqrt(pTreatment)) - 2 * Math.asin(Math.sqrt(pControl));
}

/** Power of the two-proportion z-test on Cohen's h (statsmodels NormalIndPower.power). */
export function proportionPower(input: { h: number; nobs1: number; ratio?: number; alpha?: number; alternative?: PowerAlternative }): number {
  const ratio = input.ratio ?? 1;
  const alpha = input.alpha ?? 0.05;
  const nEff = (input.nobs1 * ratio * input.nobs1) / (input.nobs1 + ratio * input.nobs1);
  const shift = input.h * Math.sqrt(nEff);
  if ((input.alternative ?? 'two-sided') === 'larger') return normalSf(normalInv(1 - alpha) - shift);
  const z = normalInv(1 - alpha / 2);
  return normalSf(z - shift) + normalCdf(-z - shift);
}

/** Territories (or deals) per arm 1 for a target power of the two-proportion test. */
export function proportionNobs1(input: { h: number; power: number; ratio?: number; alpha?: number; alternative?: PowerAlternative }): { nobs1: number; nobs1_ceil: number } {
  const nobs1 = solveIncreasing((n) => proportionPower({ ...input, nobs1: n }) - input.power, 1e-3, 10);
  return { nobs1, nobs1_ceil: Math.ceil(nobs1 - 1e-9) };
}

/** Minimum detectable Cohen's h at fixed size, and the treatment proportion it means. */
export function proportionMde(input: { pControl: number; nobs1: number; power: number; ratio?: number; alpha?: number; alternative?: PowerAlternative }): {
  effect_size_h: number;
  p_treatment: number;
  mde_abs: number;
} {
  const h = solveIncreasing((x) => proportionPower({ h: x, nobs1: input.nobs1, ratio: input.ratio, alpha: input.alpha, alternative: input.alternative }) - input.power, 1e-6, 1);
  const pT = Math.sin(Math.asin(Math.sqrt(input.pControl)) + h / 2) ** 2;
  return { effect_size_h: h, p_treatment: pT, mde_abs: pT - input.pControl };
}
