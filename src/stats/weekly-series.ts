/**
 * The weekly series of the primary KPI per arm, stored in a report (`weekly_primary_kpi`) for the
 * report's time-series chart. Pure: the territory × week aggregates come from
 * `KpiService.weeklyPanel` (one SQL aggregation); this module fills in empty territory-weeks and
 * averages per arm.
 */
import { kpisFromAggregates, type CohortAggregates, type CohortKpis } from './sales-velocity';

/** The KPI a weekly series plots: its key, how it is shown, and its value for one territory-week's cohort. */
export interface WeeklyMeasure<K extends string = string> {
  key: K;
  label: string;
  unit: string;
  /** the KPI of one territory's cohort KPIs; null when undefined (e.g. a win rate without a closed deal) */
  value: (k: CohortKpis) => number | null;
}

/** A named window of calendar days, inclusive, `YYYY-MM-DD` (UTC). */
export interface PeriodWindow {
  period: 'pre' | 'test';
  start: string;
  end: string;
}

/** One territory's cohort aggregates for one week of one period (absent when it had no deal). */
export interface WeeklyPanelRow {
  territory_id: string;
  period: 'pre' | 'test';
  /** first day of the week, `YYYY-MM-DD`: its Monday, or the period's first day */
  week_start: string;
  aggregates: CohortAggregates;
}

/** One arm's value in one week: the mean over its territories with a defined value. */
export interface WeeklyArmPoint {
  arm: string;
  /** mean of the territories' weekly KPI values (KPI unit); null when no territory has a value */
  mean: number | null;
  /** territories of the arm with a defined value this week */
  n_territories: number;
  /** territories of the arm whose value is undefined this week (e.g. no closed deal) */
  n_missing: number;
}

/** One week of the series. */
export interface WeeklyPoint {
  period: 'pre' | 'test';
  week_start: string;
  /** last day of the week, inclusive (the period's end for a short last week) */
  week_end: string;
  /** days in the week: 7, or fewer for a period's first or last week */
  days: number;
  arms: WeeklyArmPoint[];
}

/** The report's weekly series of one KPI, per arm, over the pre-period and the test period. */
export interface WeeklyKpiSeries<K extends string = string> {
  kpi: K;
  label: string;
  unit: string;
  /** how a week's value is defined (shown under the chart) */
  convention: string;
  periods: PeriodWindow[];
  weeks: WeeklyPoint[];
}

const DAY_MS = 86_400_000;

function dayNumber(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`not an ISO date 'YYYY-MM-DD': '${date}'`);
  return ms / DAY_MS;
}

function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The weeks of a period as `KpiService.weeklyPanel` cuts them: ISO weeks (Monday to Sunday), the
 * first starting on the period's first day and the last ending on its last day, so either may be
 * shorter than 7 days.
 * @throws RangeError on a date that is not `YYYY-MM-DD` or an end before the start
 */
export function periodWeeks(w: PeriodWindow): { week_start: string; week_end: string; days: number }[] {
  const start = dayNumber(w.start);
  const end = dayNumber(w.end);
  if (end < start) throw new RangeError(`period ${w.period} ends (${w.end}) before it starts (${w.start})`);
  const out: { week_start: string; week_end: string; days: number }[] = [];
  // Day 0 (1970-01-01) was a Thursday: (day + 3) mod 7 is 0 on Mondays.
  for (let d = start; d <= end; ) {
    const sunday = d - ((d + 3) % 7) + 6;
    const last = Math.min(sunday, end);
    out.push({ week_start: isoOf(d), week_end: isoOf(last), days: last - d + 1 });
    d = last + 1;
  }
  return out;
}

const EMPTY: CohortAggregates = { n_opportunities: 0, n_closed: 0, n_won: 0, n_lost: 0, won_amount_total: 0, cycle_days_total: 0 };

/**
 * Averages a territory × week panel per arm. A territory without a row for a week had no deal
 * engaged that week: it gets the empty cohort (0 counts, undefined ratios), as in the report's
 * test-period KPIs, so count KPIs average in its 0 and ratio KPIs leave it out (counted as missing).
 *
 * @param panel rows of `KpiService.weeklyPanel`
 * @param units every territory of the assignment with its arm
 * @param arms arm keys in display order (control first)
 * @param measure the KPI to plot (the pilot's primary KPI, from the KPI catalogue)
 * @param periods pre-period and test period
 * @throws RangeError when a panel row names a week that is not a week of its period
 */
export function weeklyArmSeries<K extends string>(
  panel: readonly WeeklyPanelRow[],
  units: readonly { territory_id: string; arm: string }[],
  arms: readonly string[],
  measure: WeeklyMeasure<K>,
  periods: readonly PeriodWindow[],
): WeeklyKpiSeries<K> {
  const byKey = new Map<string, CohortAggregates>();
  for (const r of panel) byKey.set(`${r.period}|${r.week_start}|${r.territory_id}`, r.aggregates);
  const weeks: WeeklyPoint[] = [];
  const known = new Set<string>();
  for (const p of periods) {
    for (const wk of periodWeeks(p)) {
      known.add(`${p.period}|${wk.week_start}`);
      weeks.push({
        period: p.period,
        ...wk,
        arms: arms.map((arm) => {
          const values = units
            .filter((u) => u.arm === arm)
            .map((u) => measure.value(kpisFromAggregates(byKey.get(`${p.period}|${wk.week_start}|${u.territory_id}`) ?? EMPTY)));
          const defined = values.filter((v): v is number => v !== null);
          return {
            arm,
            mean: defined.length ? defined.reduce((s, v) => s + v, 0) / defined.length : null,
            n_territories: defined.length,
            n_missing: values.length - defined.length,
          };
        }),
      });
    }
  }
  for (const r of panel) {
    if (!known.has(`${r.period}|${r.week_start}`)) throw new RangeError(`panel week ${r.week_start} is not a week of the ${r.period} period`);
  }
  return {
    kpi: measure.key,
    label: measure.label,
    unit: measure.unit,
    convention:
      "each territory's KPI over the deals engaged that week (deals closed by the end of the period count as closed), averaged over the arm's territories; ISO weeks (Monday to Sunday), cut at the period's first and last day",
    periods: [...periods],
    weeks,
  };
}
