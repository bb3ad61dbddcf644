/**
 * The few-treated power plan of a chosen pilot (issue 12): which past windows its placebo backtests
 * use, and the long territory × week panel of each, from the weekly panel rows the report reads
 * (KpiService.weeklyPanel, labelled and cohort-censored per window exactly as the report's pre-period
 * and test period). The statistics are in src/stats/synthetic/backtest-power.ts.
 */
import { isoMondayOf, weeksWithoutCoverage } from '../assignment/chosen-design';
import { addDays, daysBetween } from '../common/utils/dates';
import { BacktestPowerResult } from '../stats/synthetic/backtest-power';
import type { FewTreatedPanel } from '../stats/synthetic/few-treated';
import { weekStarts, weeklyCalendars, WeeklyPanelField } from '../stats/weekly-panel';

/** Default candidate test lengths (weeks) of a chosen pilot's power plan. */
export const FEW_TREATED_WEEK_CANDIDATES = [4, 8, 12, 16, 26];

/** A calendar window (inclusive ISO dates). */
export interface DayWindow {
  start: string;
  end: string;
}

/** One backtest window's dates: a pseudo pre-period of the pilot's pre-period length, then L weeks of pseudo test period. */
export interface BacktestDates {
  pre: DayWindow;
  test: DayWindow;
}

/**
 * Backtest windows of test length `weeks`: the pseudo test period ends on the pilot's pre-period end,
 * then every week earlier (at most `max` windows), each after a pseudo pre-period as long (in days) as
 * the pilot's; a window is used only while its pseudo pre-period starts in a week the treated
 * territories' data cover (on or after the ISO week of the latest first recorded opportunity among them).
 *
 * @param prePeriod the pilot's pre-period; `treatedFirstEngage` the latest first engage date among the
 *   treated territories (null: a treated territory has no opportunity)
 * @returns the windows, newest first, and why there is none (history too short) when empty
 */
export function backtestWindowDates(prePeriod: DayWindow, weeks: number, treatedFirstEngage: string | null, max: number): { windows: BacktestDates[]; unavailable: string | null } {
  if (treatedFirstEngage === null) return { windows: [], unavailable: 'a treated territory has no recorded opportunity: no history to backtest on' };
  const covered = isoMondayOf(treatedFirstEngage);
  const preDays = daysBetween(prePeriod.start, prePeriod.end) + 1;
  const windows: BacktestDates[] = [];
  for (let k = 0; k < max; k++) {
    const end = addDays(prePeriod.end, -7 * k);
    const start = addDays(end, -(7 * weeks - 1));
    const pre = { start: addDays(start, -preDays), end: addDays(start, -1) };
    if (pre.start < covered) break;
    windows.push({ pre, test: { start, end } });
  }
  const needed = Math.ceil((preDays + 7 * weeks) / 7);
  return {
    windows,
    unavailable: windows.length
      ? null
      : `history too short: a ${weeks}-week test after a ${Math.round(preDays / 7)}-week pre-period needs about ${needed} weeks of the treated territories' data before ${prePeriod.end}; their data start in the week of ${covered}`,
  };
}

/**
 * The long panel of one backtest window (pseudo pre-period weeks first, then the pseudo test weeks,
 * labelled by weekStarts as the report labels them) from weekly panel rows; a week before a
 * territory's first recorded opportunity is NaN (missing, never 0), so such a donor leaves that
 * window and such a treated territory skips it.
 *
 * @param rows weekly panel rows of this window (period 'pre' | 'test'); `units` id and code of every
 *   territory; `field` the calendar field of the KPI; `firstEngage` earliest engage date by id
 */
export function backtestPanel(
  rows: Parameters<typeof weeklyCalendars>[0],
  units: readonly { id: string; code: string }[],
  field: WeeklyPanelField,
  w: BacktestDates,
  firstEngage: ReadonlyMap<string, string | null>,
): { panel: FewTreatedPanel; pre_weeks: number } {
  const cal = weeklyCalendars(rows, units.map((u) => u.id), w.pre, w.test);
  const labels = [...weekStarts(w.pre), ...weekStarts(w.test)];
  const panel = { unit: [] as string[], week: [] as number[], value: [] as number[] };
  for (const u of units) {
    const c = cal.get(u.id)![field];
    const missing = new Set(weeksWithoutCoverage(labels, firstEngage.get(u.id) ?? null));
    [...c.pre, ...c.test].forEach((v, k) => {
      panel.unit.push(u.code);
      panel.week.push(k);
      panel.value.push(missing.has(labels[k]) ? NaN : v);
    });
  }
  return { panel, pre_weeks: weekStarts(w.pre).length };
}

/**
 * The answer of a few-treated power plan in words: per length the MDE (relative and absolute) or why
 * there is none, and with a target MDE the shortest length that reaches it.
 * @returns text and, with a target, the shortest length whose relative MDE ≤ target (null: none)
 */
export function fewTreatedPowerText(r: BacktestPowerResult, unit: string, target: number | null): { text: string; weeks_needed: number | null } {
  const ok = r.lengths.filter((l) => l.status === 'ok');
  const pct = (v: number | null) => (v === null ? 'no relative figure' : `${(100 * v).toFixed(1)}%`);
  const lines = r.lengths.map((l) =>
    l.status === 'ok'
      ? `${l.weeks} weeks: MDE ${pct(l.mde_relative)} (${l.mde_absolute!.toPrecision(3)} ${unit}; ${l.windows} backtest windows, bias ${l.bias!.toPrecision(3)})`
      : `${l.weeks} weeks: no MDE (${l.skip_reasons.map((s) => s.reason).join('; ') || 'no backtest window'})`,
  );
  const hit = target === null ? null : ok.find((l) => l.mde_relative !== null && l.mde_relative <= target) ?? null;
  const head = `Placebo backtests of SDID on the pilot's own history (the treated territories against the donors, no effect), at α = ${r.alpha} and power ${r.power}: `;
  const tail =
    target === null
      ? ''
      : hit
        ? ` The shortest test reaching the target MDE of ${pct(target)} is ${hit.weeks} weeks.`
        : ` No candidate length reaches the target MDE of ${pct(target)} with these treated territories and donors.`;
  return { text: `${head}${lines.join('; ')}.${tail}`, weeks_needed: hit?.weeks ?? null };
}
