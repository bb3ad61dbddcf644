import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CohortKpis, kpisFromAggregates } from '../analysis/stats/sales-velocity';
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
}
