/**
 * What the report's charts plot, taken from a stored report and nothing else (pure, no I/O), so a
 * unit test can check that every plotted number is the report's number. Reports are read
 * defensively: a report written before a field existed, or a KPI without an estimate, gives an
 * empty or partial data set with the reason, never an exception.
 */
import type { KpiResult, PilotReport } from '../report.types';
import { num } from './format';
import type { WeeklyKpiSeries } from '../../stats/weekly-series';

/** A stored report as the renderer sees it: the known shape, plus whatever newer fields it has. */
export type ReportData = PilotReport & Record<string, unknown>;

/** One row of the forest plot: a KPI's relative lift (fraction) with its CI. */
export interface ForestRow {
  kpi: string;
  label: string;
  role: string;
  /** relative lift mean(treatment)/mean(control) − 1, fraction */
  estimate: number;
  ci_low: number;
  ci_high: number;
  /** CI method as stored (e.g. 'delta') */
  method: string;
  significant: boolean | null;
  /** whether the estimate points the good way for this KPI (higher_is_better) */
  favourable: boolean;
}

/** A KPI left out of a chart, with the reason shown beside the chart. */
export interface OmittedKpi {
  label: string;
  reason: string;
}

/**
 * Plain name of a relative-lift interval method as stored in `relative_lift.method` (issue 16: the
 * default is the interval that covered in the calibration bench); unknown or missing: 'unnamed interval'.
 */
export function liftIntervalName(method: unknown): string {
  const names: Record<string, string> = {
    delta: 'delta method',
    fieller: "Fieller's interval",
    log_ratio: 'log-ratio interval: delta method on log(mean_t ÷ mean_c), back-transformed',
  };
  return typeof method === 'string' && names[method] ? names[method] : 'unnamed interval';
}

/**
 * The forest plot's rows: every KPI of the report whose relative lift has an estimate and a CI,
 * in report order (primary first). The others are listed in `omitted` with their status.
 */
export function forestPlotData(report: ReportData): { rows: ForestRow[]; omitted: OmittedKpi[] } {
  const rows: ForestRow[] = [];
  const omitted: OmittedKpi[] = [];
  const kpis = kpisOf(report);
  // Several treatment arms: one row per KPI and arm, labelled with the arm.
  const multiArm = new Set(kpis.map((k) => k.treatment_arm).filter(Boolean)).size > 1;
  for (const k0 of kpis) {
    const k = multiArm ? { ...k0, label: `${k0.label} (${k0.treatment_arm})` } : k0;
    const rl = k.relative_lift ?? ({} as Partial<KpiResult['relative_lift']>);
    const estimate = num(rl.estimate);
    const lo = num(rl.ci_low);
    const hi = num(rl.ci_high);
    if (estimate === null || lo === null || hi === null) {
      omitted.push({ label: k.label, reason: String(rl.status ?? k.status ?? 'no estimate').replace(/_/g, ' ') });
      continue;
    }
    rows.push({
      kpi: k.kpi,
      label: k.label,
      role: k.role,
      estimate,
      ci_low: lo,
      ci_high: hi,
      method: String(rl.method ?? ''),
      significant: typeof k.significant === 'boolean' ? k.significant : null,
      favourable: estimate === 0 ? true : estimate > 0 === Boolean(k.higher_is_better),
    });
  }
  return { rows, omitted };
}

/** One point of the weekly chart. */
export interface WeeklyChartPoint {
  week_start: string;
  period: 'pre' | 'test';
  arm: string;
  /** the arm's mean that week, in the KPI's unit */
  value: number;
  n_territories: number;
}

/** The weekly chart's data: points per arm and week, and the shaded period bands. */
export interface WeeklyChartData {
  kpi: string;
  label: string;
  unit: string;
  convention: string;
  points: WeeklyChartPoint[];
  /** bands to shade: [start, end] of the pre-period and of the test period (end is the day after the last day) */
  bands: { period: 'pre' | 'test'; label: string; start: string; end: string }[];
  /** arms in display order */
  arms: string[];
  /** weeks where an arm had no territory with a value (not plotted) */
  gaps: number;
  /** weeks shorter than 7 days at a period's edge, left out (their counts would look like drops) */
  partial_weeks: number;
}

/** The stored weekly series of the report, or null when the report has none (older reports). */
export function weeklySeriesOf(report: ReportData): WeeklyKpiSeries | null {
  const w = report.weekly_primary_kpi as WeeklyKpiSeries | undefined;
  if (!w || !Array.isArray(w.weeks) || !Array.isArray(w.periods) || w.weeks.length === 0) return null;
  return w;
}

function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The weekly chart's data from the report's `weekly_primary_kpi`: one point per arm and full week
 * with the stored mean (weeks with no defined value are gaps; weeks shorter than 7 days at a
 * period's edge are left out; both counted), and one band per period.
 * @returns null when the report has no weekly series
 */
export function weeklyChartData(report: ReportData): WeeklyChartData | null {
  const w = weeklySeriesOf(report);
  if (!w) return null;
  const points: WeeklyChartPoint[] = [];
  let gaps = 0;
  let partial = 0;
  const arms: string[] = [];
  for (const week of w.weeks) {
    for (const a of week.arms ?? []) if (!arms.includes(a.arm)) arms.push(a.arm);
    if (num(week.days) !== null && week.days < 7) {
      partial++;
      continue;
    }
    for (const a of week.arms ?? []) {
      const value = num(a.mean);
      if (value === null) {
        gaps++;
        continue;
      }
      points.push({ week_start: week.week_start, period: week.period, arm: a.arm, value, n_territories: a.n_territories });
    }
  }
  const bands = w.periods.map((p) => ({
    period: p.period,
    label: p.period === 'pre' ? 'pre-period' : 'test period',
    start: p.start,
    end: dayAfter(p.end),
  }));
  return { kpi: w.kpi, label: w.label, unit: w.unit, convention: w.convention, points, bands, arms, gaps, partial_weeks: partial };
}

/** One component of the sales velocity decomposition. */
export interface VelocityComponent {
  component: string;
  label: string;
  control: number | null;
  treatment: number | null;
  /** treatment ÷ control */
  ratio: number | null;
  /**
   * contribution to ln(velocity ratio), in log points (×100 ≈ percent): ln(ratio) for the factors
   * of the numerator, −ln(ratio) for the sales cycle (the divisor); positive speeds velocity up
   */
  contribution: number | null;
  /** CI of the contribution when the analysis computed one (same orientation as `contribution`) */
  ci_low: number | null;
  ci_high: number | null;
}

/** The decomposition and where it came from. */
export interface VelocityDecomposition {
  source: 'report' | 'territory_means';
  note: string;
  /** the treatment arm it compares with control */
  treatment_arm: string | null;
  components: VelocityComponent[];
  /** the sum of the contributions: ln of the product of the component ratios */
  total: number | null;
  /** velocity's own log-lift with its CI, when the analysis computed it */
  velocity: { log_lift: number; ci_low: number | null; ci_high: number | null } | null;
  conf_level: number | null;
  /** the component whose contribution has the largest magnitude */
  largest: string | null;
}

const COMPONENTS = [
  { component: 'opportunities', label: 'Opportunities', divisor: false },
  { component: 'win_rate', label: 'Win rate', divisor: false },
  { component: 'average_deal_size', label: 'Average deal size', divisor: false },
  { component: 'sales_cycle_length', label: 'Cycle length (divides)', divisor: true },
] as const;

function meanOf(xs: readonly (number | null | undefined)[]): number | null {
  const d = xs.filter((x): x is number => num(x) !== null);
  return d.length ? d.reduce((s, x) => s + x, 0) / d.length : null;
}

function fromMeans(c: (typeof COMPONENTS)[number], control: number | null, treatment: number | null): VelocityComponent {
  const ratio = control !== null && treatment !== null && control > 0 && treatment > 0 ? treatment / control : null;
  return {
    component: c.component,
    label: c.label,
    control,
    treatment,
    ratio,
    contribution: ratio === null ? null : (c.divisor ? -1 : 1) * Math.log(ratio),
    ci_low: null,
    ci_high: null,
  };
}

/** A component as the analysis stored it: values per arm and log-lift with CI (sign flipped for the divisor). */
function fromStored(c: (typeof COMPONENTS)[number], x: Record<string, unknown>): VelocityComponent {
  const control = num(x.control);
  const treatment = num(x.treatment);
  const logLift = num(x.log_lift);
  const lo = num(x.ci_low);
  const hi = num(x.ci_high);
  const sign = c.divisor ? -1 : 1;
  return {
    component: c.component,
    label: c.label,
    control,
    treatment,
    ratio: logLift === null ? null : Math.exp(logLift),
    contribution: logLift === null ? null : sign * logLift,
    ci_low: lo === null || hi === null ? null : c.divisor ? -hi : lo,
    ci_high: lo === null || hi === null ? null : c.divisor ? -lo : hi,
  };
}

/**
 * The sales velocity decomposition (velocity = opportunities × win rate × average deal size ÷
 * sales cycle length): which component moved. Uses the analysis' own `velocity_decomposition`
 * when the report has it (pooled arm ratios with delta-method CIs; the entry of `arms.treatment`,
 * or the first); otherwise the arm means of the territories' component KPIs stored in the report
 * (`territories`), labelled as such. For arm-level ratios, ln(V_t/V_c) = Σ contributions.
 * @returns null when neither source is in the report
 */
export function velocityDecompositionData(report: ReportData): VelocityDecomposition | null {
  const raw = report.velocity_decomposition as unknown;
  const list = (Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : []) as Record<string, unknown>[];
  const entry = list.find((e) => e && e.treatment_arm === report.arms?.treatment) ?? list[0];
  let components: VelocityComponent[] | null = null;
  let velocity: VelocityDecomposition['velocity'] = null;
  let source: VelocityDecomposition['source'] = 'report';
  let treatmentArm: string | null = null;
  let confLevel: number | null = null;
  if (entry && Array.isArray(entry.components)) {
    const byKey = new Map<string, Record<string, unknown>>((entry.components as Record<string, unknown>[]).filter(Boolean).map((x) => [String(x.component), x]));
    if (COMPONENTS.every((c) => byKey.has(c.component))) {
      components = COMPONENTS.map((c) => fromStored(c, byKey.get(c.component)!));
      const v = byKey.get('velocity');
      const vl = num(v?.log_lift);
      velocity = vl === null ? null : { log_lift: vl, ci_low: num(v?.ci_low), ci_high: num(v?.ci_high) };
      treatmentArm = typeof entry.treatment_arm === 'string' ? entry.treatment_arm : (report.arms?.treatment ?? null);
      confLevel = num(entry.conf_level);
    }
  }
  const territories = Array.isArray(report.territories) ? report.territories : [];
  const arms = report.arms;
  if (!components && territories.length && arms?.control && arms?.treatment) {
    source = 'territory_means';
    treatmentArm = arms.treatment;
    const armMean = (arm: string, key: string) => meanOf(territories.filter((t) => t.arm === arm).map((t) => (t.kpis as Record<string, number | null>)?.[key]));
    components = COMPONENTS.map((c) => fromMeans(c, armMean(arms.control, c.component), armMean(arms.treatment, c.component)));
  }
  if (!components) return null;
  const defined = components.filter((c) => c.contribution !== null);
  const total = defined.length === components.length ? defined.reduce((s, c) => s + c.contribution!, 0) : null;
  const largest = defined.length ? defined.reduce((a, b) => (Math.abs(b.contribution!) > Math.abs(a.contribution!) ? b : a)).component : null;
  return {
    source,
    note:
      source === 'report'
        ? "the analysis' pooled arm ratios with delta-method CIs"
        : "the arms' mean territory values of each component KPI in this report (no CIs)",
    treatment_arm: treatmentArm,
    components,
    total,
    velocity,
    conf_level: confLevel,
    largest,
  };
}

/** The KPI results of a report (empty when the report has none). */
export function kpisOf(report: ReportData): KpiResult[] {
  return Array.isArray(report.kpis) ? report.kpis.filter((k) => k && typeof k === 'object') : [];
}
