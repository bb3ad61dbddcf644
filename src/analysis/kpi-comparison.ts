import { createHash } from 'node:crypto';
import { sampleSd, mean } from './stats/descriptive';
import { adjustPValues } from './stats/multiple-testing';
import { randomizationTest } from './stats/randomization-inference';
import { relativeLift } from './stats/relative-lift';
import { welchTTest } from './stats/welch';
import { KPI_CATALOGUE, KpiKey } from '../kpis/kpi-catalogue';
import { ArmSummary, KpiResult, KpiStatus } from './report.types';

/** The territories of one pilot as the analysis sees them: one entry per assigned territory. */
export interface AnalysisUnits {
  arms: string[];
  strata: string[];
  treatmentArm: string;
  controlArm: string;
}

/** Significance level and randomization-inference budget of a comparison. */
export interface ComparisonOptions {
  alpha: number;
  /** enumerate all assignments up to this count, else Monte Carlo */
  maxExact: number;
  /** Monte Carlo draws */
  draws: number;
  /** the pilot's seed; the Monte Carlo stream of each KPI is derived from it */
  seed: number;
}

/** A reproducible Monte Carlo seed per pilot seed and KPI (first 48 bits of SHA-256). */
export function randomizationSeed(pilotSeed: number, kpi: string): number {
  return parseInt(createHash('sha256').update(`${pilotSeed}:${kpi}:randomization`).digest('hex').slice(0, 12), 16);
}

function summarise(arm: string, values: (number | null)[]): ArmSummary {
  const defined = values.filter((v): v is number => v !== null);
  return {
    arm,
    n_territories: defined.length,
    n_missing: values.length - defined.length,
    mean: mean(defined),
    sd: sampleSd(defined),
  };
}

/**
 * Compares one KPI between arms over territory values (units of the KPI): Welch t-test with its CI,
 * relative lift with delta-method and Fieller CIs, and a randomization test that re-draws
 * assignments from the pilot's design (same strata and per-stratum arm counts). Territories whose
 * value is undefined (null) are left out of the means but keep their place in the design.
 * Degenerate data (an arm with fewer than 2 values, zero variance) gives an explicit status and
 * no significance verdict; no NaN or Infinity is ever returned.
 * @param values one value per unit, aligned with `units.arms`
 * Sources: Welch (1947); Fieller (1954); Imbens & Rubin (2015) ch. 5.
 */
export function compareKpi(
  kpi: KpiKey,
  role: KpiResult['role'],
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
): KpiResult {
  const meta = KPI_CATALOGUE[kpi];
  const tValues = values.filter((_, i) => units.arms[i] === units.treatmentArm);
  const cValues = values.filter((_, i) => units.arms[i] === units.controlArm);
  const t = tValues.filter((v): v is number => v !== null);
  const c = cValues.filter((v): v is number => v !== null);
  const welch = welchTTest(t, c, { alpha: opts.alpha });
  const lift = relativeLift(t, c, { alpha: opts.alpha });
  const ri = randomizationTest({
    values,
    arms: units.arms,
    strata: units.strata,
    treatmentArm: units.treatmentArm,
    controlArm: units.controlArm,
    maxExact: opts.maxExact,
    draws: opts.draws,
    seed: randomizationSeed(opts.seed, kpi),
  });

  let status: KpiStatus = 'ok';
  let reason: string | null = null;
  if (welch.status === 'insufficient_data') {
    status = 'insufficient_data';
    reason = `each arm needs at least 2 territories with a defined ${meta.label.toLowerCase()} (treatment ${t.length}, control ${c.length})`;
  } else if (welch.status === 'zero_variance') {
    status = 'zero_variance';
    reason = 'every territory has the same value within each arm, so the standard error is 0 and the t-test is undefined';
  }
  const riP = ri.status === 'ok' ? ri.p_two_sided : null;

  const result: KpiResult = {
    kpi,
    label: meta.label,
    unit: meta.unit,
    role,
    higher_is_better: meta.higherIsBetter,
    status,
    status_reason: reason,
    control: summarise(units.controlArm, cValues),
    treatment: summarise(units.treatmentArm, tValues),
    difference: {
      method: 'welch_t',
      estimate: welch.diff,
      ci_low: welch.ci_low,
      ci_high: welch.ci_high,
      conf_level: 1 - opts.alpha,
      se: welch.se,
      t: welch.t,
      df: welch.df,
      p_value: welch.p_two_sided,
    },
    relative_lift: {
      method: 'delta',
      status: lift.status,
      estimate: lift.lift,
      ci_low: lift.delta.ci_low,
      ci_high: lift.delta.ci_high,
      fieller: { bounded: lift.fieller.bounded, ci_low: lift.fieller.ci_low, ci_high: lift.fieller.ci_high },
    },
    randomization: {
      method: ri.status === 'ok' ? ri.method : null,
      statistic: 'difference_in_means',
      p_value: riP,
      n_assignments: ri.n_assignments,
      draws: ri.method === 'monte_carlo' ? ri.draws : null,
      min_attainable_p: ri.status === 'ok' ? ri.min_attainable_p : null,
    },
    adjusted: null,
    decision_p: role === 'primary' ? riP : null,
    significant: null,
    verdict: '',
  };
  return finalise(result, opts.alpha);
}

/**
 * Holm-adjusts the randomization and Welch p-values over the secondary and guardrail KPIs (the
 * primary KPI is pre-registered and stays unadjusted), in input order, then sets each KPI's
 * decision p, significance and verdict. KPIs without a p-value or with a degenerate status are left
 * out of the family.
 * Source: Holm (1979); statsmodels `multipletests(method='holm')`.
 */
export function adjustSecondary(results: KpiResult[], alpha: number): KpiResult[] {
  const family = results.filter((r) => r.role !== 'primary');
  // A KPI without a verdict (insufficient_data, zero_variance) does not enlarge the family.
  const adjust = (pick: (r: KpiResult) => number | null) => {
    const idx = family.map((r, i) => (r.status !== 'ok' || pick(r) === null ? -1 : i)).filter((i) => i >= 0);
    const adjusted = adjustPValues(idx.map((i) => pick(family[i])!), 'holm');
    const out = new Map<KpiResult, number>();
    idx.forEach((i, k) => out.set(family[i], adjusted[k]));
    return out;
  };
  const ri = adjust((r) => r.randomization.p_value);
  const welch = adjust((r) => r.difference.p_value);
  return results.map((r) => {
    if (r.role === 'primary') return r;
    const next: KpiResult = {
      ...r,
      adjusted: { method: 'holm', welch_p: welch.get(r) ?? null, randomization_p: ri.get(r) ?? null },
      decision_p: ri.get(r) ?? null,
    };
    return finalise(next, alpha);
  });
}

function finalise(r: KpiResult, alpha: number): KpiResult {
  const significant = r.status === 'ok' && r.decision_p !== null ? r.decision_p < alpha : null;
  return { ...r, significant, verdict: verdictOf(r, significant, alpha) };
}

function pct(x: number): string {
  const s = (100 * x).toFixed(1);
  return `${x > 0 ? '+' : ''}${s}%`;
}

function num(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** A difference in the KPI's unit, for sentences: fractions as percentage points. */
function diffText(x: number, unit: string): string {
  if (unit === 'fraction 0..1') return `${(100 * x).toFixed(1)} pp`;
  if (unit === 'currency per day') return `${num(x)} per day`;
  if (unit === 'days') return `${num(x)} days`;
  return num(x);
}

function fmtP(p: number): string {
  return p < 1e-4 ? '< 0.0001' : p.toFixed(4);
}

/** A plain-language sentence for one KPI result. */
function verdictOf(r: KpiResult, significant: boolean | null, alpha: number): string {
  const label = r.label.toLowerCase();
  if (r.status !== 'ok') return `Cannot judge ${label}: ${r.status_reason}.`;
  if (r.decision_p === null) return `Cannot judge ${label}: the randomization test had too little data.`;
  const d = r.difference;
  const pName = r.role === 'primary' ? 'randomization p' : 'Holm-adjusted randomization p';
  const liftText = r.relative_lift.estimate !== null ? `${pct(r.relative_lift.estimate)} ` : '';
  const ci = `Welch ${Math.round(100 * d.conf_level)}% CI of the difference ${diffText(d.ci_low!, r.unit)} to ${diffText(d.ci_high!, r.unit)}`;
  if (!significant) {
    const floor =
      r.randomization.min_attainable_p !== null && r.randomization.min_attainable_p >= alpha
        ? ` With these territories the smallest attainable p is ${fmtP(r.randomization.min_attainable_p)}, so this design cannot reach significance at α = ${alpha}.`
        : '';
    return `No significant difference in ${label} (${liftText}treatment vs control; ${ci}; ${pName} = ${fmtP(r.decision_p)} ≥ α = ${alpha}).${floor}`;
  }
  const up = d.estimate! > 0;
  const better = up === r.higher_is_better;
  return `Treatment ${up ? 'raised' : 'lowered'} ${label} (${better ? 'better' : 'worse'}): ${liftText}(${ci}); significant at α = ${alpha} (${pName} = ${fmtP(r.decision_p)}).`;
}
