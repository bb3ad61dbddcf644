/**
 * The complete territory × ISO-week calendar of the difference-in-differences panel (pure code).
 * Weeks are labelled as KpiService.weeklyPanel labels them: the ISO week's Monday, or the window's
 * first day for a window that starts mid-week. A week without deals is a 0, never a missing row.
 */

/** The fields of the weekly panel's calendars (the additive KPIs). */
export type WeeklyPanelField = 'opportunities' | 'revenue_won';

/**
 * The additive KPIs (catalogue keys) analysed on the weekly panel, with their calendar field and the
 * unit of a weekly value: the report's panel DiD and few-treated analyses, and the few-treated power plan.
 */
export const WEEKLY_PANEL_KPIS: Readonly<Record<string, { field: WeeklyPanelField; unit: string }>> = {
  opportunities: { field: 'opportunities', unit: 'opportunities engaged per territory-week' },
  revenue_won: { field: 'revenue_won', unit: 'won amount per territory-week (deals engaged that week, won by the window end)' },
};

/** The ISO-week starts of a window as the weekly panel labels them: the window start, then every Monday after it. */
export function weekStarts(window: { start: string; end: string }): string[] {
  const out = [window.start];
  const d = new Date(`${window.start}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  d.setUTCDate(d.getUTCDate() + (7 - dow));
  for (;;) {
    const s = d.toISOString().slice(0, 10);
    if (s > window.end) break;
    out.push(s);
    d.setUTCDate(d.getUTCDate() + 7);
  }
  return out;
}

/**
 * Complete territory × week calendars of the additive KPIs: every week of both windows for every
 * territory, a week without deals being 0 (never a missing row).
 */
export function weeklyCalendars(
  panel: { territory_id: string; period: 'pre' | 'test'; week_start: string; aggregates: { n_opportunities: number; won_amount_total: number } }[],
  territoryIds: string[],
  pre: { start: string; end: string },
  test: { start: string; end: string },
): Map<string, Record<WeeklyPanelField, { pre: number[]; test: number[] }>> {
  const weeks = { pre: weekStarts(pre), test: weekStarts(test) };
  const index = { pre: new Map(weeks.pre.map((w, i) => [w, i])), test: new Map(weeks.test.map((w, i) => [w, i])) };
  const out = new Map<string, Record<WeeklyPanelField, { pre: number[]; test: number[] }>>();
  for (const id of territoryIds) {
    out.set(id, {
      opportunities: { pre: new Array<number>(weeks.pre.length).fill(0), test: new Array<number>(weeks.test.length).fill(0) },
      revenue_won: { pre: new Array<number>(weeks.pre.length).fill(0), test: new Array<number>(weeks.test.length).fill(0) },
    });
  }
  for (const r of panel) {
    const cal = out.get(r.territory_id);
    const k = index[r.period].get(r.week_start);
    if (!cal || k === undefined) continue;
    cal.opportunities[r.period][k] += r.aggregates.n_opportunities;
    cal.revenue_won[r.period][k] += r.aggregates.won_amount_total;
  }
  return out;
}

