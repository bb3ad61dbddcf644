/**
 * Multiple-testing adjustment of the secondary KPIs' p-values (the primary KPI stays unadjusted).
 * Conventions (shared/reference/multiple.json), m = number of p-values, p_(i) sorted ascending:
 *  - bonferroni: min(1, m·p_i)
 *  - holm (step-down, Holm 1979): adj_(i) = max_{j≤i} min(1, (m − j + 1)·p_(j))
 *  - hochberg (step-up, Hochberg 1988): adj_(i) = min_{j≥i} min(1, (m − j + 1)·p_(j))
 *  - bh (Benjamini & Hochberg 1995): adj_(i) = min_{j≥i} min(1, m·p_(j)/j)
 *  - by (Benjamini & Yekutieli 2001): BH × c_m, c_m = Σ_{k=1..m} 1/k, capped at 1
 * Reference implementations: statsmodels `multipletests` ('bonferroni', 'holm', 'simes-hochberg',
 * 'fdr_bh', 'fdr_by') and R `p.adjust`. Tied p-values get tied adjusted values (the cumulative
 * max/min makes the result independent of the order among ties).
 */

/** Adjustment method names as PilotLab uses them. */
export type PValueAdjustment = 'bonferroni' | 'holm' | 'hochberg' | 'bh' | 'by';

/**
 * Adjusted p-values, returned in the INPUT order (not sorted).
 *
 * @param p raw p-values, each in [0, 1]; an empty array gives an empty array
 * @param method 'bonferroni' | 'holm' | 'hochberg' | 'bh' | 'by'
 * @throws RangeError when a p-value is outside [0, 1] or NaN, or the method is unknown
 */
export function adjustPValues(p: readonly number[], method: PValueAdjustment): number[] {
  for (const v of p) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`p-values must lie in [0, 1], got ${v}`);
  }
  const m = p.length;
  if (m === 0) return [];
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  const sorted = order.map((i) => p[i]);
  const adjustedSorted = new Array<number>(m);
  switch (method) {
    case 'bonferroni':
      for (let i = 0; i < m; i++) adjustedSorted[i] = Math.min(1, m * sorted[i]);
      break;
    case 'holm': {
      let running = 0;
      for (let i = 0; i < m; i++) {
        running = Math.max(running, Math.min(1, (m - i) * sorted[i]));
        adjustedSorted[i] = running;
      }
      break;
    }
    case 'hochberg': {
      let running = 1;
      for (let i = m - 1; i >= 0; i--) {
        running = Math.min(running, Math.min(1, (m - i) * sorted[i]));
        adjustedSorted[i] = running;
      }
      break;
    }
    case 'bh':
    case 'by': {
      let cm = 1;
      if (method === 'by') {
        cm = 0;
        for (let k = 1; k <= m; k++) cm += 1 / k;
      }
      let running = 1;
      for (let i = m - 1; i >= 0; i--) {
        running = Math.min(running, Math.min(1, (cm * m * sorted[i]) / (i + 1)));
        adjustedSorted[i] = running;
      }
      break;
    }
    default:
      throw new RangeError(`unknown adjustment method ${String(method)}`);
  }
  const adjusted = new Array<number>(m);
  order.forEach((originalIndex, rank) => {
    adjusted[originalIndex] = adjustedSorted[rank];
  });
  return adjusted;
}

/**
 * Reject flags at level alpha: reject_i = adjusted_i ≤ alpha (same order as `adjusted`).
 *
 * @param adjusted adjusted p-values from `adjustPValues`
 * @param alpha family-wise / FDR level in (0, 1), e.g. 0.05
 * @throws RangeError when alpha is outside (0, 1)
 */
export function rejectAt(adjusted: readonly number[], alpha: number): boolean[] {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie strictly between 0 and 1, got ${alpha}`);
  return adjusted.map((v) => v <= alpha);
}
