import { KpiResult } from '../report.types';

/**
 * Sets a result's significance (decision p < α, null unless the status is 'ok' and a decision p
 * exists) and its plain-language verdict; everything else is returned unchanged.
 */
export function finalise(r: KpiResult, alpha: number): KpiResult {
  const significant = r.status === 'ok' && r.decision_p !== null ? r.decision_p < alpha : null;
  const base = verdictOf(r, significant, alpha);
  // a chosen (few-treated) design: say what it can and cannot claim
  const verdict = r.few_treated
    ? `${base} This is a comparison with a synthetic counterfactual built from the donor territories (no randomization), not a randomized estimate.`
    : base;
  return { ...r, significant, verdict };
}

/** A relative lift as a signed percentage with one decimal, e.g. '+12.5%'. */
function pct(x: number): string {
  const s = (100 * x).toFixed(1);
  return `${x > 0 ? '+' : ''}${s}%`;
}

/**
 * A number for sentences: no decimals from 100, two from 1, else three significant digits; thousands
 * separators (en locale, e.g. 1,234,568), as in the tables and the decision summary.
 */
export function sentenceNumber(x: number): string {
  const a = Math.abs(x);
  if (a < 1) return x.toPrecision(3);
  const digits = a >= 100 ? 0 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A difference in the KPI's unit, for sentences: fractions as percentage points. */
function diffText(x: number, unit: string): string {
  if (unit === 'fraction 0..1') return `${(100 * x).toFixed(1)} pp`;
  if (unit === 'currency per day') return `${sentenceNumber(x)} per day`;
  if (unit === 'days') return `${sentenceNumber(x)} days`;
  return sentenceNumber(x);
}

/** A p-value for sentences: four decimals, '< 0.0001' below that. */
function fmtP(p: number): string {
  return p < 1e-4 ? '< 0.0001' : p.toFixed(4);
}

/** Short method name for sentences. */
function methodShort(m: string): string {
  if (m.startsWith('sdid_placebo_randomization')) return 'synthetic difference-in-differences (placebo randomization test)';
  if (m.includes('CUPED-adjusted')) return 'randomization inference (CUPED-adjusted)';
  if (m.startsWith('randomization inference') && m.includes("Lin's interacted adjustment")) return 'randomization inference (Lin-adjusted for the pre-period KPI)';
  if (m.startsWith('randomization inference')) return 'randomization inference';
  if (m.startsWith('lin_')) return "Lin's regression adjustment (HC2)";
  if (m.startsWith('welch') && m.includes('in place of the locked Lin')) return "Welch (standing in for the locked Lin's regression adjustment, which could not be computed)";
  if (m.startsWith('welch')) return 'Welch';
  return m;
}

/** A plain-language sentence for one KPI result; it quotes the CI and p of the same method. */
function verdictOf(r: KpiResult, significant: boolean | null, alpha: number): string {
  const label = r.label.toLowerCase();
  const vs = r.treatment_arm === 'treatment' && r.control_arm === 'control' ? 'treatment vs control' : `${r.treatment_arm} vs ${r.control_arm}`;
  if (r.status !== 'ok') return `Cannot judge ${label}${vs === 'treatment vs control' ? '' : ` (${vs})`}: ${r.status_reason}.`;
  if (r.decision_p === null) return `Cannot judge ${label}: the primary method (${methodShort(r.primary.method)}) had too little data.`;
  const m = r.primary;
  const level = Math.round(100 * (1 - alpha));
  const name = methodShort(m.method);
  const hc = r.adjusted?.interval;
  const ci =
    hc && hc.ci_low !== null && hc.ci_high !== null
      ? `${name} Holm-consistent ${(100 * hc.conf_level).toFixed(1)}% CI of the difference ${diffText(hc.ci_low, r.unit)} to ${diffText(hc.ci_high, r.unit)}`
      : m.ci_low !== null && m.ci_high !== null
        ? `${name} ${level}% CI of the difference ${diffText(m.ci_low, r.unit)} to ${diffText(m.ci_high, r.unit)}${r.adjusted ? ' (unadjusted)' : ''}`
        : `${name}: no finite ${level}% CI (${m.note ?? 'not available'})`;
  const pName = r.adjusted ? `${r.adjusted.method === 'bh' ? 'Benjamini–Hochberg' : 'Holm'}-adjusted ${name} p` : `${name} p`;
  const liftText = r.relative_lift.estimate !== null ? `${pct(r.relative_lift.estimate)} ` : '';
  const ni = r.non_inferiority
    ? r.non_inferiority.non_inferior === null
      ? ' Non-inferiority could not be tested.'
      : r.non_inferiority.non_inferior
        ? ` Non-inferior within the ${r.non_inferiority.margin_type} margin ${r.non_inferiority.margin} (one-sided p = ${fmtP(r.non_inferiority.adjusted_p ?? r.non_inferiority.p_value!)}).`
        : ` NOT shown non-inferior within the ${r.non_inferiority.margin_type} margin ${r.non_inferiority.margin} (one-sided p = ${fmtP(r.non_inferiority.adjusted_p ?? r.non_inferiority.p_value!)} ≥ α).`
    : '';
  if (!significant) {
    const floor =
      r.randomization.min_attainable_p !== null && r.randomization.min_attainable_p >= alpha && m.method.startsWith('randomization')
        ? ` With these territories the smallest attainable p is ${fmtP(r.randomization.min_attainable_p)}, so this design cannot reach significance at α = ${alpha}.`
        : '';
    return `No significant difference in ${label} (${liftText}${vs}; ${ci}; ${pName} = ${fmtP(r.decision_p)} ≥ α = ${alpha}).${floor}${ni}`;
  }
  const up = (m.estimate ?? r.difference.estimate!) > 0;
  const better = up === r.higher_is_better;
  return `${vs === 'treatment vs control' ? 'Treatment' : r.treatment_arm} ${up ? 'raised' : 'lowered'} ${label} (${better ? 'better' : 'worse'}): ${liftText}(${ci}); significant at α = ${alpha} (${pName} = ${fmtP(r.decision_p)}).${ni}`;
}
