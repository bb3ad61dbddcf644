import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CohortAggregates, CohortKpis, kpisFromAggregates } from '../analysis/stats/sales-velocity';
import { parseDecimal, parseRequiredDecimal } from '../database/transformers';
import { KpiKey } from './kpi-catalogue';

/** A window of calendar days, inclusive, `YYYY-MM-DD` (UTC). */
export interface DateWindow {
  start: string;
  end: string;
}

/** One territory's KPI values over a window (cohort conventions, docs/kpis.md). */
export type TerritoryKpis = CohortKpis;

/** The value of catalogue KPI `key` for one territory (null when undefined for that territory). */
export function kpiValue(k: TerritoryKpis, key: KpiKey): number | null {
  switch (key) {
    case 'sales_velocity':
      return k.velocity;
    case 'opportunities':
      return k.n_opportunities;
    case 'win_rate':
      return k.win_rate;
    case 'average_deal_size':
      return k.avg_won_deal_size;
    case 'sales_cycle_length':
      return k.avg_cycle_days;
    case 'revenue_won':
      return k.won_amount_total;
    case 'open_deals':
      return k.n_open;
  }
}

/**
 * Computes per-territory KPIs: the sums and counts in one SQL aggregation (heavy work stays in
 * PostgreSQL), the ratios by the one definition in analysis/stats/sales-velocity.ts.
 */
@Injectable()
export class KpiService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * KPIs of each territory over `window`, keyed by territory id. Territories without any cohort
   * opportunity get the empty values (0 counts, null ratios), never a missing entry.
   * `date - date` in PostgreSQL is whole days, so cycles are exact integers.
   */
  async forTerritories(territoryIds: string[], window: DateWindow, em?: EntityManager): Promise<Map<string, TerritoryKpis>> {
    const rows: Record<string, string | null>[] = await (em ?? this.dataSource.manager).query(
      `SELECT t.id AS territory_id,
              count(o.opportunity_id) AS n_opportunities,
              count(*) FILTER (WHERE o.status = 'won' AND o.close_date <= $3::date) AS n_won,
              count(*) FILTER (WHERE o.status = 'lost' AND o.close_date <= $3::date) AS n_lost,
              coalesce(sum(o.amount) FILTER (WHERE o.status = 'won' AND o.close_date <= $3::date), 0) AS won_amount_total,
              coalesce(sum(o.close_date - o.engage_date) FILTER (WHERE o.status IN ('won', 'lost') AND o.close_date <= $3::date), 0) AS cycle_days_total
         FROM unnest($1::uuid[]) AS t(id)
         LEFT JOIN opportunities o
           ON o.territory_id = t.id AND o.engage_date BETWEEN $2::date AND $3::date
        GROUP BY t.id`,
      [territoryIds, window.start, window.end],
    );
    const out = new Map<string, TerritoryKpis>();
    for (const r of rows) {
      const nWon = parseRequiredDecimal(r.n_won);
      const nLost = parseRequiredDecimal(r.n_lost);
      const k = kpisFromAggregates({
        n_opportunities: parseRequiredDecimal(r.n_opportunities),
        n_closed: nWon + nLost,
        n_won: nWon,
        n_lost: nLost,
        won_amount_total: parseRequiredDecimal(r.won_amount_total),
        cycle_days_total: parseRequiredDecimal(r.cycle_days_total),
      });
      out.set(String(r.territory_id), k);
    }
    return out;
  }

  /**
   * Cohort aggregates per territory, period and week, for weekly charts: weeks are 7-day blocks
   * counted from each window's first day (the last may be shorter); a deal belongs to the week of
   * its engage date, and counts as closed when it closed by the end of its window (the cohort
   * convention of `forTerritories`). One SQL aggregation; territory-weeks without a deal are absent.
   * @param windows named, disjoint windows of `YYYY-MM-DD` days (e.g. pre-period and test period)
   */
  async weeklyPanel<P extends string>(
    territoryIds: string[],
    windows: { period: P; start: string; end: string }[],
    em?: EntityManager,
  ): Promise<{ territory_id: string; period: P; week_start: string; aggregates: CohortAggregates }[]> {
    const rows: Record<string, string>[] = await (em ?? this.dataSource.manager).query(
      `SELECT o.territory_id, w.period,
              (w.start_d + 7 * ((o.engage_date - w.start_d) / 7))::text AS week_start,
              count(*) AS n_opportunities,
              count(*) FILTER (WHERE o.status = 'won' AND o.close_date <= w.end_d) AS n_won,
              count(*) FILTER (WHERE o.status = 'lost' AND o.close_date <= w.end_d) AS n_lost,
              coalesce(sum(o.amount) FILTER (WHERE o.status = 'won' AND o.close_date <= w.end_d), 0) AS won_amount_total,
              coalesce(sum(o.close_date - o.engage_date) FILTER (WHERE o.status IN ('won', 'lost') AND o.close_date <= w.end_d), 0) AS cycle_days_total
         FROM unnest($2::text[], $3::date[], $4::date[]) AS w(period, start_d, end_d)
         JOIN opportunities o ON o.engage_date BETWEEN w.start_d AND w.end_d
        WHERE o.territory_id = ANY($1::uuid[])
        GROUP BY 1, 2, 3`,
      [territoryIds, windows.map((w) => w.period), windows.map((w) => w.start), windows.map((w) => w.end)],
    );
    return rows.map((r) => {
      const nWon = parseRequiredDecimal(r.n_won);
      const nLost = parseRequiredDecimal(r.n_lost);
      return {
        territory_id: String(r.territory_id),
        period: r.period as P,
        week_start: r.week_start,
        aggregates: {
          n_opportunities: parseRequiredDecimal(r.n_opportunities),
          n_closed: nWon + nLost,
          n_won: nWon,
          n_lost: nLost,
          won_amount_total: parseRequiredDecimal(r.won_amount_total),
          cycle_days_total: parseRequiredDecimal(r.cycle_days_total),
        },
      };
    });
  }

  /** Opportunities still open now (status open, any engage date) per territory id. */
  async openNowByTerritory(territoryIds: string[], em?: EntityManager): Promise<Map<string, number>> {
    const rows: { territory_id: string; n: string }[] = await (em ?? this.dataSource.manager).query(
      `SELECT territory_id, count(*) AS n FROM opportunities
        WHERE territory_id = ANY($1::uuid[]) AND status = 'open' GROUP BY territory_id`,
      [territoryIds],
    );
    return new Map(rows.map((r) => [r.territory_id, parseRequiredDecimal(r.n)]));
  }

  /**
   * The data's cut-off: when the newest opportunity version was ingested, and the latest engage or
   * close date present, over the given territories.
   */
  async dataCutoff(territoryIds: string[], em?: EntityManager): Promise<{ ingested_at: Date | null; latest_activity_date: string | null; opportunities: number }> {
    const [row]: { ingested_at: Date | null; latest: string | null; n: string }[] = await (em ?? this.dataSource.manager).query(
      `SELECT max(ingested_at) AS ingested_at,
              max(greatest(engage_date, close_date)) AS latest,
              count(*) AS n
         FROM opportunities WHERE territory_id = ANY($1::uuid[])`,
      [territoryIds],
    );
    return { ingested_at: row.ingested_at, latest_activity_date: row.latest, opportunities: parseDecimal(row.n) ?? 0 };
  }

  // ---- Added by the analysis (issue 3, helper a1): inputs of difference-in-differences and of the
  // censored sales-cycle analysis. Kept separate from the KPI aggregation above on purpose.

  /**
   * Territory × ISO-week panel for difference-in-differences: per territory and ISO week (Monday
   * start, `YYYY-MM-DD`), the opportunities ENGAGED that week and the won amount of deals CLOSED won
   * that week (calendar variant, currency). Only weeks with at least one such deal are returned;
   * the caller completes the calendar with zeros (a week without deals is a 0, not a missing row).
   * Pass windows that start on a Monday and end on a Sunday to keep weeks whole.
   * @param window inclusive `YYYY-MM-DD` days (UTC)
   */
  async isoWeekPanelForDid(
    territoryIds: string[],
    window: DateWindow,
    em?: EntityManager,
  ): Promise<{ territory_id: string; week_start: string; n_opportunities: number; won_amount: number }[]> {
    const rows: Record<string, string>[] = await (em ?? this.dataSource.manager).query(
      `WITH engaged AS (
         SELECT territory_id, date_trunc('week', engage_date)::date AS wk, count(*) AS n
           FROM opportunities
          WHERE territory_id = ANY($1::uuid[]) AND engage_date BETWEEN $2::date AND $3::date
          GROUP BY 1, 2),
       won AS (
         SELECT territory_id, date_trunc('week', close_date)::date AS wk, sum(amount) AS amount
           FROM opportunities
          WHERE territory_id = ANY($1::uuid[]) AND status = 'won' AND close_date BETWEEN $2::date AND $3::date
          GROUP BY 1, 2)
       SELECT coalesce(e.territory_id, w.territory_id) AS territory_id,
              to_char(coalesce(e.wk, w.wk), 'YYYY-MM-DD') AS week_start,
              coalesce(e.n, 0) AS n_opportunities,
              coalesce(w.amount, 0) AS won_amount
         FROM engaged e FULL JOIN won w ON w.territory_id = e.territory_id AND w.wk = e.wk`,
      [territoryIds, window.start, window.end],
    );
    return rows.map((r) => ({
      territory_id: String(r.territory_id),
      week_start: r.week_start,
      n_opportunities: parseRequiredDecimal(r.n_opportunities),
      won_amount: parseRequiredDecimal(r.won_amount),
    }));
  }

  /**
   * Time to close of every deal engaged in `window`, for Kaplan–Meier: whole days from engage to
   * close for deals won or lost by `cutoff` (event), else days from engage to `cutoff` (censored:
   * still open, or closed after the cut-off).
   * @param cutoff `YYYY-MM-DD`, on or after window.start
   */
  async cycleTimesForSurvival(
    territoryIds: string[],
    window: DateWindow,
    cutoff: string,
    em?: EntityManager,
  ): Promise<{ territory_id: string; days: number; closed: boolean }[]> {
    const rows: Record<string, string | boolean>[] = await (em ?? this.dataSource.manager).query(
      `SELECT territory_id,
              (status IN ('won', 'lost') AND close_date IS NOT NULL AND close_date <= $4::date) AS closed,
              CASE WHEN status IN ('won', 'lost') AND close_date IS NOT NULL AND close_date <= $4::date
                   THEN close_date - engage_date ELSE $4::date - engage_date END AS days
         FROM opportunities
        WHERE territory_id = ANY($1::uuid[]) AND engage_date BETWEEN $2::date AND $3::date AND engage_date <= $4::date`,
      [territoryIds, window.start, window.end, cutoff],
    );
    return rows.map((r) => ({ territory_id: String(r.territory_id), days: Math.max(0, parseRequiredDecimal(String(r.days))), closed: r.closed === true }));
  }
}
