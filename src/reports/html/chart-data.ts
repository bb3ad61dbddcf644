/**
 * What the report's charts plot, taken from a stored report and nothing else (pure, no I/O), so a
 * unit test can check that every plotted number is the report's number. Reports are read
 * defensively: a report written before a field existed, or a KPI without an estimate, gives an
 * empty or partial data set with the reason, never an exception.
 */
import type { KpiResult, PilotReport } from '../../analysis/report.types';
import { num } from './format';
import type { WeeklyKpiSeries } from './weekly-series';

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
 * The forest plot's rows: every KPI of the report whose relative lift has an estimate and a CI,
 * in report order (primary first). The others are listed in `omitted` with their status.
 */
export function forestPlotData(report: ReportData): { rows: ForestRow[]; omitted: OmittedKpi[] } {
  const rows: ForestRow[] = [];
  const omitted: OmittedKpi[] = [];
  for (const k of kpisOf(report)) {
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
 * The weekly chart's data from the report's `weekly_primary_kpi`: one point per arm and week with
 * the stored mean (weeks with no defined value are gaps, counted), and one band per period.
 * @returns null when the report has no weekly series
 */
export function weeklyChartData(report: ReportData): WeeklyChartData | null {
  const w = weeklySeriesOf(report);
  if (!w) return null;
  const points: WeeklyChartPoint[] = [];
  let gaps = 0;
  const arms: string[] = [];
  for (const week of w.weeks) {
    for (const a of week.arms ?? []) {
      if (!arms.includes(a.arm)) arms.push(a.arm);
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
  return { kpi: w.kpi, label: w.label, unit: w.unit, convention: w.convention, points, bands, arms, gaps };
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
}

/** The decomposition and where it came from. */
export interface VelocityDecomposition {
  source: 'report' | 'territory_means';
  note: string;
  components: VelocityComponent[];
  /** the sum of the contributions: ln of the product of the component ratios */
  total: number | null;
  /** the component whose contribution has the largest magnitude */
  largest: string | null;
}

const COMPONENTS = [
  { component: 'opportunities', label: 'Opportunities (count)', divisor: false },
  { component: 'win_rate', label: 'Win rate', divisor: false },
  { component: 'average_deal_size', label: 'Average deal size', divisor: false },
  { component: 'sales_cycle_length', label: 'Sales cycle length (days, divides)', divisor: true },
] as const;

function meanOf(xs: readonly (number | null | undefined)[]): number | null {
  const d = xs.filter((x): x is number => num(x) !== null);
  return d.length ? d.reduce((s, x) => s + x, 0) / d.length : null;
}

function component(c: (typeof COMPONENTS)[number], control: number | null, treatment: number | null): VelocityComponent {
  const ratio = control !== null && treatment !== null && control > 0 && treatment > 0 ? treatment / control : null;
  return {
    component: c.component,
    label: c.label,
    control,
    treatment,
    ratio,
    contribution: ratio === null ? null : (c.divisor ? -1 : 1) * Math.log(ratio),
  };
}

/**
 * The sales velocity decomposition (velocity = opportunities × win rate × average deal size ÷
 * sales cycle length): which component moved. Uses the report's own `velocity_decomposition`
 * when present (its `components` with control/treatment values); otherwise the arm means of the
 * territories' component KPIs stored in the report (`territories`), labelled as such.
 * ln(V_t/V_c) of arm-level velocities = Σ contributions exactly; the report's velocity KPI is a
 * mean of territory velocities, so the sum is close to, not equal to, its log ratio.
 * @returns null when neither source is in the report
 */
export function velocityDecompositionData(report: ReportData): VelocityDecomposition | null {
  const stored = report.velocity_decomposition as { components?: unknown } | undefined;
  let components: VelocityComponent[] | null = null;
  let source: VelocityDecomposition['source'] = 'report';
  if (stored && Array.isArray(stored.components)) {
    const byKey = new Map<string, Record<string, unknown>>(
      (stored.components as Record<string, unknown>[]).map((x) => [String(x.component ?? x.kpi ?? x.name), x]),
    );
    if (COMPONENTS.every((c) => byKey.has(c.component))) {
      components = COMPONENTS.map((c) => {
        const x = byKey.get(c.component)!;
        return component(c, num(x.control ?? x.control_mean), num(x.treatment ?? x.treatment_mean));
      });
    }
  }
  const territories = Array.isArray(report.territories) ? report.territories : [];
  const arms = report.arms;
  if (!components && territories.length && arms?.control && arms?.treatment) {
    source = 'territory_means';
    const armMean = (arm: string, key: string) => meanOf(territories.filter((t) => t.arm === arm).map((t) => (t.kpis as Record<string, number | null>)?.[key]));
    components = COMPONENTS.map((c) => component(c, armMean(arms.control, c.component), armMean(arms.treatment, c.component)));
  }
  if (!components) return null;
  const defined = components.filter((c) => c.contribution !== null);
  const total = defined.length === components.length ? defined.reduce((s, c) => s + c.contribution!, 0) : null;
  const largest = defined.length ? defined.reduce((a, b) => (Math.abs(b.contribution!) > Math.abs(a.contribution!) ? b : a)).component : null;
  return {
    source,
    note:
      source === 'report'
        ? 'as computed by the analysis (velocity_decomposition)'
        : "from the arms' mean territory values of each component KPI in this report",
    components,
    total,
    largest,
  };
}

/** The KPI results of a report (empty when the report has none). */
export function kpisOf(report: ReportData): KpiResult[] {
  return Array.isArray(report.kpis) ? report.kpis.filter((k) => k && typeof k === 'object') : [];
}
