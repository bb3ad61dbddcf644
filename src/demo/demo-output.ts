import Table from 'cli-table3';
import type { KpiResult, KpiStatus, PilotReport } from '../reports/report.types';
import { KPI_STATUS_LABELS } from '../reports/report.types';
import { DESIGN_TYPE_LABELS, type DesignType } from '../stats/design/design-types';
import { VELOCITY_COMPONENT_LABELS } from '../stats/velocity-decomposition';

/** Writes one line (default empty) to stdout: the demo's only output channel. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** One number format for the whole table: thousands separators, 0 decimals from 100 up, else 2 (3 below 1). */
export function fmt(x: number | null | undefined, unit = ''): string {
  if (x === null || x === undefined) return '—';
  if (unit === 'fraction 0..1') return `${(100 * x).toFixed(1)}%`;
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const UNIT_LABEL: Record<string, string> = {
  'currency per day': ' (per day)',
  'fraction 0..1': ' (%)',
  days: ' (days)',
  count: '',
  currency: '',
};

/** A confidence interval `[low, high]` in the KPI's unit (percentage points for a fraction; '—' when there is none). */
function fmtInterval(low: number | null, high: number | null, unit: string): string {
  if (low === null) return '—';
  return unit === 'fraction 0..1' ? `[${(100 * low).toFixed(1)}, ${(100 * high!).toFixed(1)}] pp` : `[${fmt(low, unit)}, ${fmt(high, unit)}]`;
}

/** A p-value with 4 decimals ('<0.0001' below 1e-4; '—' when null). */
export function fmtP(p: number | null): string {
  if (p === null) return '—';
  return p < 1e-4 ? '<0.0001' : p.toFixed(4);
}

/**
 * Prints a report to stdout: the KPI table (control and treatment means, lift, Welch CI and p,
 * the primary method's CI and decision p, verdict), the adjusted analyses, each KPI's verdict, open
 * opportunities, data cut-off and the randomization-inference draws. Reads `report` only.
 */
export function printReport(report: PilotReport): void {
  say(kpiTable(report));
  say(`  p Welch: the Welch t-test, unadjusted. Primary method (decides): ${report.primary_method.name}.`);
  say('  Its CI and decision p come from the same method (the p is Holm-adjusted across the secondary and guardrail KPIs).');
  printAnalyses(report);
  say();
  for (const k of report.kpis) say(`  • ${k.label}: ${k.verdict}`);
  printReadout(report);
}

/** The KPI table of {@link printReport}, one row per KPI (cli-table3 text). */
function kpiTable(report: PilotReport): string {
  const table = new Table({
    head: ['KPI', 'role', 'control mean', 'treatment mean', 'lift', 'Welch 95% CI of difference', 'p Welch', 'primary-method 95% CI', 'decision p', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const k of report.kpis) {
    const lift = k.relative_lift.estimate;
    table.push([
      `${k.label}${UNIT_LABEL[k.unit] ?? ''}`,
      k.role,
      fmt(k.control.mean, k.unit),
      fmt(k.treatment.mean, k.unit),
      lift === null ? '—' : `${lift >= 0 ? '+' : ''}${(100 * lift).toFixed(1)}%`,
      fmtInterval(k.difference.ci_low, k.difference.ci_high, k.unit),
      fmtP(k.difference.p_value),
      fmtInterval(k.primary.ci_low, k.primary.ci_high, k.unit),
      `${fmtP(k.decision_p)}${k.adjusted ? ` (${k.adjusted.method === 'bh' ? 'BH' : 'Holm'})` : ''}`,
      shortVerdict(k),
    ]);
  }
  return table.toString();
}

/** Open opportunities at readout and now, the data cut-off and the randomization-inference draws. */
function printReadout(report: PilotReport): void {
  const o = report.open_opportunities;
  say();
  if (report.readout.note) say(`  ${report.readout.note}`);
  say(
    `  Open opportunities at readout: control ${o.control.open_at_test_end}, treatment ${o.treatment.open_at_test_end} ` +
      `(deals engaged in the test period and not closed by ${report.pilot.test_period.end}).`,
  );
  say(
    `  Open now: control ${o.control.open_now}, treatment ${o.treatment.open_now} (every open deal of these territories, ` +
      'including those engaged earlier and prospects without an engage date).',
  );
  say(
    `  Data cut-off: last load ${report.data_cutoff.ingested_at}, latest engage/close date ${report.data_cutoff.latest_activity_date}, ` +
      `${report.data_cutoff.opportunities} opportunities of the pilot's territories.`,
  );
  const ri = report.kpis[0].randomization;
  say(
    `  Randomization inference: ${ri.method === 'exact' ? `exact over ${ri.n_assignments} assignments` : `${ri.draws} Monte Carlo draws`} ` +
      `of the ${DESIGN_TYPE_LABELS[report.design?.type as DesignType] ?? report.design?.type ?? 'stored'} design (smallest attainable p ${fmtP(ri.min_attainable_p)}).`,
  );
}

/** The issue-3 analyses in a few lines: adjustment, DiD, why velocity moved, time to close, completeness. */
function printAnalyses(report: PilotReport): void {
  const primary = report.kpis[0];
  const cup = primary.methods.cuped;
  const lin = primary.methods.regression_adjustment;
  if (cup && lin) {
    say(
      `  ${primary.label}: CUPED (θ ${fmt(cup.theta)}, variance −${cup.variance_reduction === null ? '—' : (100 * cup.variance_reduction).toFixed(0)}%) ` +
        `effect ${fmt(cup.estimate, primary.unit)} [${fmt(cup.ci_low, primary.unit)}, ${fmt(cup.ci_high, primary.unit)}] p ${fmtP(cup.p_value)}; ` +
        `Lin regression on the pre-period KPI (HC2, df ${lin.df}) ${fmt(lin.estimate, primary.unit)} [${fmt(lin.ci_low, primary.unit)}, ${fmt(lin.ci_high, primary.unit)}] p ${fmtP(lin.p_value)}`,
    );
  }
  for (const k of report.kpis) {
    const d = k.methods.did_panel;
    if (d && d.status === 'ok') {
      say(`  DiD ${k.label} (${d.unit}, ${d.weeks_pre} + ${d.weeks_test} weeks, CR2, df ${d.df!.toFixed(1)}): ${fmt(d.estimate)} [${fmt(d.ci_low)}, ${fmt(d.ci_high)}] p ${fmtP(d.p_value)}`);
    }
  }
  for (const v of report.velocity_decomposition) {
    const parts = v.components.map((c) => `${VELOCITY_COMPONENT_LABELS[c.component] ?? c.component} ${c.lift === null ? '—' : `${c.lift >= 0 ? '+' : ''}${(100 * c.lift).toFixed(1)}%`} (p ${fmtP(c.p_value)})`);
    say(`  Why pooled velocity moved (${v.treatment_arm} vs ${v.control_arm}; log-lifts add up, cycle subtracts): ${parts.join(', ')}`);
  }
  const km = report.sales_cycle_survival;
  say(
    `  Time to close (Kaplan–Meier, open deals censored at ${km.cutoff}): ` +
      km.arms.map((a) => `${a.arm} median ${a.median_days ?? 'not reached'} days [${a.median_ci_low ?? '—'}, ${a.median_ci_high ?? '∞'}] (${a.censored} of ${a.n} open)`).join('; ') +
      `; log-rank p ${km.log_rank.map((l) => fmtP(l.p_value)).join(', ')}`,
  );
  const dc = report.data_completeness;
  say(
    `  Data completeness: ${dc.state === 'ok' ? 'consistent with the design' : dc.state === 'mismatch' ? 'MISMATCH, investigate before trusting the results' : 'the checks cannot detect a mismatch at this size'}; ` +
      dc.arms.map((a) => `${a.arm} ${a.territories_reporting}/${a.designed_territories} territories reporting, ${a.opportunities_test} opportunities (pre-period ${a.opportunities_pre})`).join('; '),
  );
  for (const c of dc.checks) say(`    ${c.note}`);
}

function shortVerdict(k: KpiResult): string {
  if (k.status !== 'ok') return KPI_STATUS_LABELS[k.status as KpiStatus] ?? k.status;
  if (k.significant === null) return 'n/a';
  if (!k.significant) return 'no significant difference';
  const up = (k.difference.estimate ?? 0) > 0;
  return `${up ? 'up' : 'down'}, ${up === k.higher_is_better ? 'better' : 'worse'} (significant)`;
}

