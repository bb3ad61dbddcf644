/**
 * The test statistic of a randomization test, evaluated once per reference assignment: fast
 * closures over arm-label vectors (no allocation per call) for the difference in means and the
 * stratum-size-weighted difference (Imbens & Rubin 2015, ch. 5), optionally computing in the same
 * pass the statistic of the observed-treatment indicator (the v_a of the CI by test inversion).
 */
import type { DesignTemplate } from './design/randomization';
import type { RandomizationStatistic } from './randomization-inference';

/** A statistic over an assignment's arm labels (indices into template.arms); NaN when undefined. */
export type AssignmentStatistic = (labels: Uint8Array) => number;

/** The units with an observed (non-null) value: unit indices and values, in unit order. */
interface ObservedUnits {
  idx: Int32Array;
  val: Float64Array;
}

function observedUnitsOf(values: readonly (number | null)[]): ObservedUnits {
  const observedUnits: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) {
      observedUnits.push(i);
      vals.push(v);
    }
  }
  return { idx: Int32Array.from(observedUnits), val: Float64Array.from(vals) };
}

/** mean(T) − mean(C) over the observed units, with the indicator's difference written to vOut[0]. */
function diffInMeansWithIndicator(
  { idx, val }: ObservedUnits,
  ind: Float64Array,
  tIdx: number,
  cIdx: number,
  vOut: Float64Array,
): AssignmentStatistic {
  const m = idx.length;
  return (labels) => {
    let sumT = 0;
    let sumC = 0;
    let wT = 0;
    let wC = 0;
    let nT = 0;
    let nC = 0;
    for (let k = 0; k < m; k++) {
      const l = labels[idx[k]];
      if (l === tIdx) {
        sumT += val[k];
        wT += ind[k];
        nT++;
      } else if (l === cIdx) {
        sumC += val[k];
        wC += ind[k];
        nC++;
      }
    }
    if (nT > 0 && nC > 0) {
      vOut[0] = wT / nT - wC / nC;
      return sumT / nT - sumC / nC;
    }
    vOut[0] = NaN;
    return NaN;
  };
}

/** mean(T) − mean(C) over the observed units. */
function diffInMeans({ idx, val }: ObservedUnits, tIdx: number, cIdx: number): AssignmentStatistic {
  const m = idx.length;
  return (labels) => {
    let sumT = 0;
    let sumC = 0;
    let nT = 0;
    let nC = 0;
    for (let k = 0; k < m; k++) {
      const l = labels[idx[k]];
      if (l === tIdx) {
        sumT += val[k];
        nT++;
      } else if (l === cIdx) {
        sumC += val[k];
        nC++;
      }
    }
    return nT > 0 && nC > 0 ? sumT / nT - sumC / nC : NaN;
  };
}

/**
 * Lin's (2013) interacted regression estimate of the average effect, re-estimated for the assignment:
 * within each arm a ordinary least squares line of the value on the covariate centred at the pooled
 * mean x̄ of the compared observed units, τ̂ = [ȳ_T − b_T(x̄_T − x̄)] − [ȳ_C − b_C(x̄_C − x̄)],
 * b_arm = S_xy,arm / S_xx,arm (0 when the arm's covariate does not vary). Arm-specific slopes make
 * it consistent for additive and proportional (slope-changing) effects alike, unlike a pooled θ.
 * For a fixed assignment τ̂ is linear in the values, so the indicator's statistic (vOut[0]) gives the
 * CI by test inversion exactly. A missing covariate is imputed by the mean of the observed covariate
 * over the compared observed units (constant across assignments). NaN when an arm has no unit.
 * Sources: Lin (2013) Ann. Appl. Stat. 7(1):295–318, Theorem 1 and §4; Imbens & Rubin (2015) §7.
 */
function linAdjusted(
  { idx, val }: ObservedUnits,
  covariate: readonly (number | null)[],
  ind: Float64Array | null,
  template: DesignTemplate,
  tIdx: number,
  cIdx: number,
  vOut: Float64Array,
): AssignmentStatistic {
  const m = idx.length;
  let sx = 0;
  let nx = 0;
  for (let k = 0; k < m; k++) {
    const c = covariate[idx[k]];
    if (c !== null) {
      sx += c;
      nx++;
    }
  }
  const fill = nx > 0 ? sx / nx : 0;
  // centred at the fill value for numerical stability (τ̂ is invariant to a shift of x)
  const xs = Float64Array.from(idx, (u) => (covariate[u] === null ? 0 : (covariate[u] as number) - fill));
  const w = ind ?? new Float64Array(m);
  void template;
  const arm = (n: number, sX: number, sY: number, sXX: number, sXY: number, xbar: number) => {
    const my = sY / n;
    const mx = sX / n;
    const sxx = sXX - n * mx * mx;
    const b = sxx > 1e-12 * Math.max(1, sXX) ? (sXY - n * mx * my) / sxx : 0;
    return my - b * (mx - xbar);
  };
  return (labels) => {
    let nT = 0, xT = 0, yT = 0, xxT = 0, xyT = 0, wT = 0, xwT = 0;
    let nC = 0, xC = 0, yC = 0, xxC = 0, xyC = 0, wC = 0, xwC = 0;
    for (let k = 0; k < m; k++) {
      const l = labels[idx[k]];
      const x = xs[k];
      if (l === tIdx) {
        nT++; xT += x; yT += val[k]; xxT += x * x; xyT += x * val[k]; wT += w[k]; xwT += x * w[k];
      } else if (l === cIdx) {
        nC++; xC += x; yC += val[k]; xxC += x * x; xyC += x * val[k]; wC += w[k]; xwC += x * w[k];
      }
    }
    if (nT === 0 || nC === 0) {
      vOut[0] = NaN;
      return NaN;
    }
    const xbar = (xT + xC) / (nT + nC);
    if (ind) vOut[0] = arm(nT, xT, wT, xxT, xwT, xbar) - arm(nC, xC, wC, xxC, xwC, xbar);
    return arm(nT, xT, yT, xxT, xyT, xbar) - arm(nC, xC, yC, xxC, xyC, xbar);
  };
}

/**
 * Σ_s (n_s/N)(mean_Ts − mean_Cs) over the strata with compared observed units (n_s of them, N in
 * all); NaN when such a stratum lacks an arm. With `ind`, the indicator's statistic goes to vOut[0].
 */
function stratifiedWeighted(
  { idx, val }: ObservedUnits,
  ind: Float64Array | null,
  template: DesignTemplate,
  nUnits: number,
  tIdx: number,
  cIdx: number,
  vOut: Float64Array,
): AssignmentStatistic {
  const m = idx.length;
  const S = template.strata.length;
  const stratumOf = new Int32Array(nUnits);
  template.strata.forEach((s, si) => {
    for (const u of s.units) stratumOf[u] = si;
  });
  const sumT = new Float64Array(S);
  const sumC = new Float64Array(S);
  const wT = new Float64Array(S);
  const wC = new Float64Array(S);
  const nT = new Int32Array(S);
  const nC = new Int32Array(S);
  return (labels) => {
    sumT.fill(0);
    sumC.fill(0);
    nT.fill(0);
    nC.fill(0);
    if (ind) {
      wT.fill(0);
      wC.fill(0);
    }
    for (let k = 0; k < m; k++) {
      const u = idx[k];
      const l = labels[u];
      const s = stratumOf[u];
      if (l === tIdx) {
        sumT[s] += val[k];
        if (ind) wT[s] += ind[k];
        nT[s]++;
      } else if (l === cIdx) {
        sumC[s] += val[k];
        if (ind) wC[s] += ind[k];
        nC[s]++;
      }
    }
    vOut[0] = NaN;
    let total = 0;
    for (let s = 0; s < S; s++) total += nT[s] + nC[s];
    let t = 0;
    let v = 0;
    for (let s = 0; s < S; s++) {
      const size = nT[s] + nC[s];
      if (size === 0) continue; // a stratum without compared units carries no weight
      if (nT[s] === 0 || nC[s] === 0) return NaN;
      t += (size / total) * (sumT[s] / nT[s] - sumC[s] / nC[s]);
      if (ind) v += (size / total) * (wT[s] / nT[s] - wC[s] / nC[s]);
    }
    if (total > 0) vOut[0] = v;
    return total > 0 ? t : NaN;
  };
}

/**
 * Builds a fast statistic over arm-label vectors (no allocation per call; NaN when undefined):
 * 'diff_in_means' = mean(T) − mean(C), 'stratified_weighted' = Σ_s (n_s/N)(mean_Ts − mean_Cs),
 * both over the territories with a non-null value (Imbens & Rubin 2015, ch. 5).
 * With `indicator` (one entry per unit), each call also writes to `vOut[0]` the same statistic of
 * the indicator over the same observed units (the v_a of the CI), in the same pass and with the
 * same arithmetic as a separate call would use.
 *
 * @param values KPI per unit (null = missing: the unit counts in no arm's mean)
 * @param template the design the labels come from (its strata for 'stratified_weighted')
 * @param tIdx label of the treatment arm; cIdx label of the control arm
 * @param indicator per-unit values of the second statistic (the observed-treatment indicator), or null
 * @param vOut one-element output of the indicator's statistic (NaN when undefined)
 */
export function makeStatistic(
  values: readonly (number | null)[],
  template: DesignTemplate,
  tIdx: number,
  cIdx: number,
  statistic: RandomizationStatistic,
  indicator: Float64Array | null = null,
  vOut: Float64Array = new Float64Array(1),
  covariate: readonly (number | null)[] | null = null,
): AssignmentStatistic {
  const observed = observedUnitsOf(values);
  const ind = indicator ? Float64Array.from(observed.idx, (u) => indicator[u]) : null;
  if (statistic === 'lin_adjusted') {
    if (!covariate) throw new RangeError("statistic 'lin_adjusted' needs a covariate");
    return linAdjusted(observed, covariate, ind, template, tIdx, cIdx, vOut);
  }
  if (statistic === 'diff_in_means' && ind) return diffInMeansWithIndicator(observed, ind, tIdx, cIdx, vOut);
  if (statistic === 'diff_in_means') return diffInMeans(observed, tIdx, cIdx);
  return stratifiedWeighted(observed, ind, template, values.length, tIdx, cIdx, vOut);
}
