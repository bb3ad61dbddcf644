/**
 * Sales-velocity decomposition: why velocity moved.
 *
 * Per arm, from the territories' cohort totals (N_i opportunities, C_i closed, W_i won, A_i won amount,
 * D_i cycle days summed over closed deals), the pooled (ratio-of-totals) components are
 *   opportunities per territory  Ō = mean(N)
 *   win rate                     WR = ΣW/ΣC
 *   average deal size            DS = ΣA/ΣW
 *   sales cycle length (days)    CY = ΣD/ΣC
 *   pooled velocity              V = Ō·WR·DS/CY = mean(N)·mean(A)/mean(D)   (currency per day per territory)
 * so log V = log Ō + log WR + log DS − log CY exactly, and the log-lift (treatment over control)
 * decomposes the same way: ℓ(V) = ℓ(Ō) + ℓ(WR) + ℓ(DS) − ℓ(CY).
 * Each log-lift's SE is the delta method over territories (the randomized unit; Kohavi, Tang & Xu 2020,
 * ch. 18, ratio metrics): for log of a function of arm means, var = g'Σg/n with Σ the sample covariance
 * (n − 1) of the territory totals and g the gradient; arms independent. CI = ℓ ∓ z_{1−α/2}·se and the
 * two-sided p from the same z (so p < α ⇔ the CI excludes 0). The lift as a ratio is exp(ℓ) − 1.
 * Note: pooled velocity is not the mean of the territory velocities (the velocity KPI); it is the
 * product of the pooled components, which is what makes the decomposition add up.
 */
import { normalInv, normalSf } from './distributions';

/** One territory's cohort totals over the test period. */
export interface VelocityTotals {
  n_opportunities: number;
  n_closed: number;
  n_won: number;
  won_amount_total: number;
  cycle_days_total: number;
}

/** The components of the velocity decomposition. */
export type VelocityComponent = 'velocity' | 'opportunities' | 'win_rate' | 'average_deal_size' | 'sales_cycle_length';
/** Each component in words, for text a reader sees (the codes stay in JSON bodies). */
export const VELOCITY_COMPONENT_LABELS: Readonly<Record<VelocityComponent, string>> = {
  velocity: 'velocity',
  opportunities: 'opportunities',
  win_rate: 'win rate',
  average_deal_size: 'average deal size',
  sales_cycle_length: 'sales cycle length',
};

/** A component's per-arm values and its log-lift with CI. */
export interface LogLiftComponent {
  component: VelocityComponent;
  control: number | null;
  treatment: number | null;
  /** log(treatment / control); null when a value is not positive or an arm has < 2 territories */
  log_lift: number | null;
  se: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  /** exp(log_lift) − 1 */
  lift: number | null;
}

/** Result of `velocityDecomposition`. */
export interface VelocityDecompositionResult {
  method: 'pooled_ratio_delta_method_log';
  /** velocity, then opportunities, win rate, deal size and cycle length */
  components: LogLiftComponent[];
  /** ℓ(Ō) + ℓ(WR) + ℓ(DS) − ℓ(CY): equals velocity's log-lift up to rounding (null if a part is null) */
  sum_of_components: number | null;
  conf_level: number;
}

type Feature = (t: VelocityTotals) => number;
const F: Record<string, Feature> = {
  N: (t) => t.n_opportunities,
  C: (t) => t.n_closed,
  W: (t) => t.n_won,
  A: (t) => t.won_amount_total,
  D: (t) => t.cycle_days_total,
};
/** Each component as Σ_k e_k·log mean(feature_k). */
const SPEC: Record<LogLiftComponent['component'], [string, number][]> = {
  velocity: [
    ['N', 1],
    ['A', 1],
    ['D', -1],
  ],
  opportunities: [['N', 1]],
  win_rate: [
    ['W', 1],
    ['C', -1],
  ],
  average_deal_size: [
    ['A', 1],
    ['W', -1],
  ],
  sales_cycle_length: [
    ['D', 1],
    ['C', -1],
  ],
};

function armLog(rows: readonly VelocityTotals[], spec: [string, number][]): { value: number; logValue: number; variance: number } | null {
  const n = rows.length;
  if (n < 2) return null;
  const means = spec.map(([f]) => rows.reduce((s, r) => s + F[f](r), 0) / n);
  if (means.some((m) => !(m > 0))) return null;
  const logValue = spec.reduce((s, [, e], k) => s + e * Math.log(means[k]), 0);
  // delta method: g_k = e_k / mean_k; var = g'Σg / n
  const g = spec.map(([, e], k) => e / means[k]);
  let variance = 0;
  for (let a = 0; a < spec.length; a++) {
    for (let b = 0; b < spec.length; b++) {
      let cov = 0;
      for (const r of rows) cov += (F[spec[a][0]](r) - means[a]) * (F[spec[b][0]](r) - means[b]);
      variance += g[a] * g[b] * (cov / (n - 1));
    }
  }
  return { value: Math.exp(logValue), logValue, variance: variance / n };
}

/**
 * Velocity decomposition of treatment vs control (see the file header).
 * @param treatment per-territory totals of the treatment arm; @param control of the control arm
 * @param opts.alpha CI level (default 0.05)
 */
export function velocityDecomposition(
  treatment: readonly VelocityTotals[],
  control: readonly VelocityTotals[],
  opts: { alpha?: number } = {},
): VelocityDecompositionResult {
  const alpha = opts.alpha ?? 0.05;
  const z = normalInv(1 - alpha / 2);
  const pooledValue = (rows: readonly VelocityTotals[], spec: [string, number][]) => {
    if (rows.length === 0) return null;
    const means = spec.map(([f]) => rows.reduce((s, r) => s + F[f](r), 0) / rows.length);
    if (means.some((m, k) => spec[k][1] < 0 && !(m > 0))) return null;
    return spec.reduce((s, [, e], k) => s * (e > 0 ? means[k] : 1 / means[k]), 1);
  };
  const components = (Object.keys(SPEC) as LogLiftComponent['component'][]).map((component): LogLiftComponent => {
    const spec = SPEC[component];
    const t = armLog(treatment, spec);
    const c = armLog(control, spec);
    const out: LogLiftComponent = {
      component,
      control: pooledValue(control, spec),
      treatment: pooledValue(treatment, spec),
      log_lift: null,
      se: null,
      ci_low: null,
      ci_high: null,
      p_value: null,
      lift: null,
    };
    if (!t || !c) return out;
    const l = t.logValue - c.logValue;
    const se = Math.sqrt(Math.max(0, t.variance + c.variance));
    out.log_lift = l;
    out.lift = Math.expm1(l);
    if (se > 0) {
      out.se = se;
      out.ci_low = l - z * se;
      out.ci_high = l + z * se;
      out.p_value = Math.max(Number.MIN_VALUE, Math.min(1, 2 * normalSf(Math.abs(l / se))));
    }
    return out;
  });
  const by = (k: LogLiftComponent['component']) => components.find((c) => c.component === k)!.log_lift;
  const parts = [by('opportunities'), by('win_rate'), by('average_deal_size'), by('sales_cycle_length')];
  const sum = parts.every((p) => p !== null) ? parts[0]! + parts[1]! + parts[2]! - parts[3]! : null;
  return { method: 'pooled_ratio_delta_method_log', components, sum_of_components: sum, conf_level: 1 - alpha };
}
