/**
 * Diagnostics of few-cluster inference for one OLS coefficient, shown in every report:
 *  - leverage of each territory (cluster): L_g = tr(H_gg) = tr(X_g M X_g'), Σ_g L_g = k; and the
 *    partial leverage for coefficient j, L_g^j = x̃_g'x̃_g / x̃'x̃ with x̃ the residual of x_j on the
 *    other columns (Frisch–Waugh–Lovell), Σ_g L_g^j = 1 (MacKinnon, Nielsen & Webb 2023, "Leverage,
 *    influence, and the jackknife in clustered regression models", Stata Journal 23; summclust). One
 *    territory with a large share of the partial leverage makes every cluster-robust SE unreliable;
 *  - the effective number of clusters of Carter, Schnepel & Steigerwald (2017, REStat 99):
 *    G*(ρ) = G/(1 + Γ(ρ)), Γ = (1/G) Σ_g (γ_g − γ̄)²/γ̄², γ_g = m'X_g'Ω_g X_g m with m = M e_j and
 *    the working model Ω_g = (1 − ρ)I + ρ·11' (ρ = 1, the authors' conservative default, and ρ = 0);
 *    G*(1) is null when γ̄(1) ≤ 1e-10·γ̄(0): x_j varies only within clusters (e.g. the DiD
 *    interaction in a balanced panel), where the ρ = 1 model carries no information;
 *  - leave-one-territory-out estimates (cr3Jackknife);
 *  - `fragility`: a "fragile" flag when the methods offered fall on both sides of α.
 * Reference values: test/fixtures/few-cluster/diagnostics.json (numpy; script beside it).
 */
import { clusterGroups, cr3Jackknife } from './cluster-small-sample';
import { olsFit, OlsFit } from './linear-model';

/** One territory's row of the diagnostics. */
export interface TerritoryLeverage {
  territory: string;
  rows: number;
  /** tr(H_gg) */
  leverage: number;
  /** share of the coefficient's partial leverage, 0..1 */
  partial_leverage: number;
  /** the coefficient estimated without this territory (null when not identified without it) */
  leave_one_out_estimate: number | null;
}

/** Result of `fewClusterDiagnostics`. */
export interface FewClusterDiagnostics {
  clusters: number;
  territories: TerritoryLeverage[];
  /** G*(ρ = 1), Carter, Schnepel & Steigerwald's conservative working model; null when undefined */
  effective_clusters: number | null;
  /** G*(ρ = 0) */
  effective_clusters_independent: number | null;
  /** largest partial leverage and its territory */
  max_partial_leverage: { territory: string; value: number } | null;
  /** range of the leave-one-territory-out estimates */
  leave_one_out_range: { low: number; high: number } | null;
}

/**
 * Leverage per territory, the effective number of clusters and leave-one-territory-out estimates
 * for coefficient j of an OLS fit (see the file header).
 * @param fit an OLS fit (olsFit); clusters one label per row; j the coefficient index
 * @throws RangeError on a length mismatch or an out-of-range j
 */
export function fewClusterDiagnostics(fit: OlsFit, clusters: readonly string[], j: number): FewClusterDiagnostics {
  if (clusters.length !== fit.n) throw new RangeError(`clusters has ${clusters.length} entries but the fit has ${fit.n} rows`);
  if (!(Number.isInteger(j) && j >= 0 && j < fit.k)) throw new RangeError(`coefficient index ${j} is outside 0..${fit.k - 1}`);
  const { labels, rows } = clusterGroups(clusters);
  const { x, k, leverage: h } = fit;
  const m = fit.xtxInv.map((r) => r[j]);
  const others = Array.from({ length: k }, (_, a) => a).filter((a) => a !== j);
  const xj = x.map((r) => r[j]);
  const xt = others.length ? olsFit(x.map((r) => others.map((c) => r[c])), xj).residuals : xj;
  const ssx = xt.reduce((s, v) => s + v * v, 0);
  const jack = cr3Jackknife(fit, clusters, j);
  const gamma1: number[] = [];
  const gamma0: number[] = [];
  const territories = rows.map((rs, g) => {
    let lev = 0;
    let px = 0;
    let fm = 0; // 1'X_g m
    let sm = 0; // m'S_g m
    for (const i of rs) {
      lev += h[i];
      px += xt[i] * xt[i];
      let xm = 0;
      for (let a = 0; a < k; a++) xm += x[i][a] * m[a];
      fm += xm;
      sm += xm * xm;
    }
    gamma1.push(fm * fm);
    gamma0.push(sm);
    return { territory: labels[g], rows: rs.length, leverage: lev, partial_leverage: ssx > 0 ? px / ssx : 0, leave_one_out_estimate: jack.leave_one_out[g].estimate };
  });
  const mean0 = gamma0.reduce((s, v) => s + v, 0) / gamma0.length;
  const effective = (gam: number[]): number | null => {
    const G = gam.length;
    const mean = gam.reduce((s, v) => s + v, 0) / G;
    // ρ = 1 weighs only the between-cluster part of x_j; a within-cluster contrast (the DiD
    // interaction of a balanced panel) has none, and G*(1) is then undefined, not 1.
    if (!(mean > 1e-10 * mean0)) return null;
    const gammaBar = gam.reduce((s, v) => s + ((v - mean) / mean) ** 2, 0) / G;
    return G / (1 + gammaBar);
  };
  const maxP = territories.reduce<TerritoryLeverage | null>((best, t) => (best === null || t.partial_leverage > best.partial_leverage ? t : best), null);
  const loo = territories.map((t) => t.leave_one_out_estimate).filter((v): v is number => v !== null);
  return {
    clusters: rows.length,
    territories,
    effective_clusters: effective(gamma1),
    effective_clusters_independent: effective(gamma0),
    max_partial_leverage: maxP ? { territory: maxP.territory, value: maxP.partial_leverage } : null,
    leave_one_out_range: loo.length ? { low: Math.min(...loo), high: Math.max(...loo) } : null,
  };
}

/** One method's verdict, as `fragility` reads it. */
export interface MethodVerdict {
  method: string;
  p_value: number | null;
}

/** Result of `fragility`. */
export interface FragilityResult {
  /** true when the methods with a p-value fall on both sides of alpha */
  fragile: boolean;
  significant: string[];
  not_significant: string[];
  /** methods without a p-value (not run, or undefined for these data) */
  unavailable: string[];
  note: string;
}

/**
 * The "fragile" flag: the offered methods disagree about significance at alpha.
 * @param methods the methods offered for one estimate, each with its p-value (null = unavailable)
 * @param alpha significance level (0 < alpha < 1)
 * @throws RangeError on an alpha outside (0, 1)
 */
export function fragility(methods: readonly MethodVerdict[], alpha: number): FragilityResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const significant = methods.filter((m) => m.p_value !== null && m.p_value < alpha).map((m) => m.method);
  const not_significant = methods.filter((m) => m.p_value !== null && m.p_value >= alpha).map((m) => m.method);
  const unavailable = methods.filter((m) => m.p_value === null).map((m) => m.method);
  const fragile = significant.length > 0 && not_significant.length > 0;
  const note = fragile
    ? `Fragile: ${significant.join(', ')} find the effect significant at ${alpha} but ${not_significant.join(', ')} do not; treat the result as uncertain.`
    : significant.length > 0
      ? `All methods offered agree that the effect is significant at ${alpha}.`
      : not_significant.length > 0
        ? `All methods offered agree that the effect is not significant at ${alpha}.`
        : 'No method could be computed for these data.';
  return { fragile, significant, not_significant, unavailable, note };
}
