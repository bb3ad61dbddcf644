import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CohortAggregates, CohortKpis, kpisFromAggregates } from '../stats/sales-velocity';
import { parseDecimal, parseRequiredDecimal } from '../common/database/transformers';
import { UnrecoverableError } from 'bullmq';
import { AsOf, asOfSourcesQuery, attributedRelation, cohortAggregateColumns, cohortAggregatesOf, COHORT_SUM_COLUMNS, missingRatesQuery, rollupParams, sourceRelation } from '../rollups/rollup.sql';
import { PilotScope, RollupsService } from '../rollups/rollups.service';

/** A window of calendar days, inclusive, `YYYY-MM-DD` (UTC). */
export interface DateWindow {
  start: string;
  end: string;
}

/** One territory's KPI values over a window (cohort conventions, docs/kpis.md). */
export type TerritoryKpis = CohortKpis;

/** Opportunities whose owner moved across arms, for one arm (see {@link KpiService.bindReport}). */
export interface ArmContamination {
  /** test-period cohort deals attributed to this arm whose owner was mapped to another arm's territory during the test period */
  opportunities: number;
  /** distinct owners of those deals */
  owners: number;
}

/**
 * What data a report read, so it can be recomputed exactly: the data version (batch commit
 * order), the optional source-time cut-off, the attribution rule and where the KPIs came from.
 */
export interface ReportDataContext {
  /** Data version the report read: every batch committed up to it, nothing later. */
  data_version: number;
  /** The newest data version when the report was computed (equal unless an older one was requested). */
  latest_data_version: number;
  /** Source-time cut-off (ISO instant): only versions with version_at ≤ as_of count; null = no limit. */
  as_of: string | null;
  /** UTC day the assignment was frozen; owners are attributed to their territory on that day (intent to treat). */
  attribution_date: string;
  /** 'rollups' when the stored rollups were exactly at this data version, else 'aggregation' (same numbers, computed directly). */
  kpi_source: 'rollups' | 'aggregation';
  /** Per arm key: deals whose owner moved across arms (contamination). */
  contamination: Record<string, ArmContamination>;
  /** ISO 4217 currency of every amount KPI of the report (the pilot's reporting currency); null = amounts as stored (pilots from before currencies). */
  reporting_currency: string | null;
  /** With `as_of`: where the deals' stage, amount and close date came from (docs/kpis.md, "As-of reports"); null without one. */
  as_of_state: AsOfStateSources | null;
  /** The instant the pre-period window was read as known at: the design's `pre_period_as_of` (when earlier than `as_of`); null = as the test period. */
  pre_period_as_of: string | null;
}

/** Counts of {@link ReportDataContext.as_of_state}: deals of the pilot's territories engaged in either window. */
export interface AsOfStateSources {
  /** the instant the states are rebuilt at (ISO, = `as_of`) */
  as_of: string;
  /** deals with at least one of stage, amount, close date taken from the field history as known at `as_of` */
  from_field_history: number;
  /** deals without a field-history change by `as_of`: their newest row version known then (the current row when that is it) */
  from_row_versions: number;
  /** opportunities the field history knows by `as_of` without any stored row (no territory): in no KPI */
  history_without_opportunity: number;
  /** field-history rows received after this instant are not read (ISO); pass it back as `history_received_by` to recompute the report exactly */
  history_received_by: string;
  note: string;
}

interface BoundReport {
  scope: PilotScope;
  asOf: AsOf | null;
  /** the pilot's pre-period window read as of the design's `pre_period_as_of` (null: as `asOf`) */
  preAsOf: AsOf | null;
  dataVersion: number;
  rollupsFresh: boolean;
}

/** Binds every rollup-style parameter ($1 pilot, $5 freeze date, $6 data version, $7 as-of) to a type. */
const BIND_PARAMS = `CROSS JOIN (SELECT $1::uuid AS pilot_id, $5::date AS freeze_date, $6::bigint AS data_version, $7::timestamptz AS as_of) prm`;
/** {@link BIND_PARAMS} plus a window $3..$4 of dates. */
const BIND_ALL = `CROSS JOIN (SELECT $1::uuid AS pilot_id, $3::date AS start_d, $4::date AS end_d, $5::date AS freeze_date, $6::bigint AS data_version, $7::timestamptz AS as_of) prm`;

/**
 * Computes per-territory KPIs: the sums and counts in SQL (heavy work stays in PostgreSQL), the
 * ratios by the one definition in stats/sales-velocity.ts.
 *
 * Inside a report transaction bound with {@link bindReport}, every method reads the report's
 * data: opportunities as of its data version (and optional source-time cut-off), each attributed
 * to the territory its owner had on the pilot's freeze date; the pilot's windows come from the
 * stored rollups when those are exactly at that data version, else from one direct aggregation
 * (the same numbers: test/integration/rollups.spec.ts). Unbound calls read the current
 * opportunities by their record territory.
 */
@Injectable()
export class KpiService {
  private readonly bound = new WeakMap<EntityManager, BoundReport>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rollups: RollupsService,
  ) {}

  /**
   * Binds the report transaction `em` to report `reportId` of pilot `pilotId`: fixes its data
   * version (the one requested with the report, else the latest committed in this snapshot) and
   * stores it in the report row, decides between rollups and direct aggregation, and counts the
   * contamination per arm. Call it first in the report's REPEATABLE READ transaction.
   * Every won deal of the windows must have a rate into the pilot's reporting currency on its
   * close date (docs/kpis.md, "Currencies"); a report never sums a partial revenue.
   * @throws Error when the pilot has no assignment, or the requested data version does not exist yet;
   *   UnrecoverableError naming each currency and the days without a rate
   */
  async bindReport(em: EntityManager, reportId: string, pilotId: string): Promise<ReportDataContext> {
    const scope = await this.rollups.scope(pilotId, em);
    if (!scope) throw new Error(`pilot ${pilotId} has no assignment`);
    const { dataVersion: latest, mappingVersion } = await this.rollups.versions(em);
    const [req]: { data_version: string | null; as_of: Date | null; history_received_by: Date | null }[] = await em.query(
      `SELECT data_version, as_of, history_received_by FROM reports WHERE id = $1`,
      [reportId],
    );
    const dataVersion = req?.data_version != null ? parseRequiredDecimal(req.data_version) : latest;
    if (dataVersion > latest) throw new Error(`data version ${dataVersion} does not exist yet (latest ${latest})`);
    const asOfTime = req?.as_of ?? null;
    const asOf: AsOf | null = dataVersion === latest && asOfTime === null ? null : { dataVersion, asOf: asOfTime };
    // A design drawn on its pre-period as known at an instant: the report reads its pre-period as
    // known then too (or at the report's as_of when that is earlier), the covariates it balanced on.
    const [d]: { at: Date | null }[] = await em.query(`SELECT (design->>'pre_period_as_of')::timestamptz AS at FROM assignments WHERE pilot_id = $1`, [pilotId]);
    const designAt = d?.at ?? null;
    const preAt = designAt && (asOfTime === null || new Date(designAt) < new Date(asOfTime)) ? designAt : null;
    const preAsOf: AsOf | null = preAt ? { dataVersion, asOf: preAt } : null;
    let historyReceivedBy: Date | null = null;
    if (asOfTime !== null || preAsOf !== null) {
      // Pin the field histories this report reads (every row received so far, unless the request
      // pinned earlier ones), for this transaction's SQL (opportunity_history_as_of) and for a
      // recomputation: later uploads never change this report.
      const [pin]: { at: Date }[] = await em.query(
        // rounded UP to the millisecond (the precision of a JS Date and of the JSON pin): it keeps the newest row
        `SELECT CASE WHEN x = date_trunc('milliseconds', x) THEN x ELSE date_trunc('milliseconds', x) + interval '1 millisecond' END AS at
           FROM (SELECT coalesce($1::timestamptz, (SELECT max(received_at) FROM opportunity_field_history), now()) AS x) p`,
        [req.history_received_by],
      );
      historyReceivedBy = pin.at;
      await em.query(`SELECT set_config('pilotlab.history_received_by', $1, true)`, [historyReceivedBy.toISOString()]);
      await em.query(`UPDATE reports SET history_received_by = $2 WHERE id = $1`, [reportId, historyReceivedBy]);
    }
    const missing: { currency: string; reporting_currency: string; first_day: string; last_day: string; deals: number }[] = await em.query(
      missingRatesQuery(asOf),
      rollupParams(scope, asOf),
    );
    if (missing.length) {
      const list = missing.map((m) => `${m.currency}→${m.reporting_currency} for ${m.deals} won deal(s) closed ${m.first_day}..${m.last_day}`).join('; ');
      throw new UnrecoverableError(`missing exchange rates: ${list} (POST /exchange-rates, then request the report again)`);
    }
    const [{ reporting_currency }]: { reporting_currency: string | null }[] = await em.query(`SELECT reporting_currency FROM pilots WHERE id = $1`, [pilotId]);
    const rollupsFresh = asOf === null && (await this.rollups.isFresh(em, scope, dataVersion, mappingVersion));
    this.bound.set(em, { scope, asOf, preAsOf, dataVersion, rollupsFresh });
    await em.query(`UPDATE reports SET data_version = $2 WHERE id = $1`, [reportId, dataVersion]);
    let asOfState: AsOfStateSources | null = null;
    if (asOf?.asOf) {
      const [c]: { field_history: number; row_version: number; history_only: number }[] = await em.query(asOfSourcesQuery(asOf), rollupParams(scope, asOf));
      asOfState = {
        as_of: new Date(asOf.asOf).toISOString(),
        from_field_history: c.field_history,
        from_row_versions: c.row_version,
        history_without_opportunity: c.history_only,
        history_received_by: historyReceivedBy!.toISOString(),
        note: `KPIs use each opportunity as known at ${new Date(asOf.asOf).toISOString()}: stage, amount and close date rebuilt from the field history for ${c.field_history} deal(s); ${c.row_version} deal(s) without history by then use their newest row version known then`,
      };
    }
    return {
      data_version: dataVersion,
      latest_data_version: latest,
      as_of: asOfTime ? new Date(asOfTime).toISOString() : null,
      attribution_date: scope.freezeDate,
      kpi_source: rollupsFresh ? 'rollups' : 'aggregation',
      contamination: await this.contamination(em, scope, asOf),
      reporting_currency,
      as_of_state: asOfState,
      pre_period_as_of: preAt ? new Date(preAt).toISOString() : null,
    };
  }

  /**
   * KPIs of each territory over `window`, keyed by territory id. Territories without any cohort
   * opportunity get the empty values (0 counts, null ratios), never a missing entry.
   * `date - date` in PostgreSQL is whole days, so cycles are exact integers.
   */
  async forTerritories(territoryIds: string[], window: DateWindow, em?: EntityManager): Promise<Map<string, TerritoryKpis>> {
    const b = em ? this.bound.get(em) : undefined;
    let rows: Record<string, string | null>[];
    const period = b ? periodOf(b.scope, window) : null;
    const bAsOf = b && period === 'pre' && b.preAsOf ? b.preAsOf : (b?.asOf ?? null);
    if (b && period && b.rollupsFresh && bAsOf === null) {
      rows = await em!.query(
        `SELECT t.id AS territory_id, ${COHORT_SUM_COLUMNS.map((c) => `coalesce(sum(r.${c}), 0) AS ${c}`).join(', ')}
           FROM unnest($1::uuid[]) AS t(id)
           LEFT JOIN kpi_rollups r ON r.pilot_id = $2 AND r.period = $3 AND r.territory_id = t.id
          GROUP BY t.id`,
        [territoryIds, b.scope.pilotId, period],
      );
    } else if (b) {
      rows = await em!.query(
        `SELECT t.id AS territory_id, ${cohortAggregateColumns('$4::date', { count: 'count(a.opportunity_id)' })}
           FROM unnest($2::uuid[]) AS t(id)
           ${BIND_PARAMS}
           LEFT JOIN (${attributedRelation(bAsOf)}) a ON a.territory_id = t.id AND a.engage_date BETWEEN $3::date AND $4::date
          GROUP BY t.id`,
        [b.scope.pilotId, territoryIds, window.start, window.end, b.scope.freezeDate, bAsOf?.dataVersion ?? null, bAsOf?.asOf ?? null],
      );
    } else {
      rows = await (em ?? this.dataSource.manager).query(
        `SELECT t.id AS territory_id, ${cohortAggregateColumns('$3::date', { count: 'count(a.opportunity_id)' })}
           FROM unnest($1::uuid[]) AS t(id)
           LEFT JOIN opportunities a ON a.territory_id = t.id AND a.engage_date BETWEEN $2::date AND $3::date
          GROUP BY t.id`,
        [territoryIds, window.start, window.end],
      );
    }
    const out = new Map<string, TerritoryKpis>();
    for (const r of rows) out.set(String(r.territory_id), kpisFromAggregates(cohortAggregatesOf(r)));
    return out;
  }

  /**
   * {@link forTerritories} unbound (each deal by its record territory), over the opportunities as
   * known at instant `at` (the as-of source of reports, `sourceRelation`: field history, else the
   * newest row version by then; the latest data version, every field-history row received so far).
   * A design's `pre_period_as_of` reads its pre-period covariates this way.
   */
  async forTerritoriesAsOf(territoryIds: string[], window: DateWindow, at: Date, em?: EntityManager): Promise<Map<string, TerritoryKpis>> {
    const m = em ?? this.dataSource.manager;
    const { dataVersion } = await this.rollups.versions(m);
    const rows: Record<string, string | null>[] = await m.query(
      `SELECT t.id AS territory_id, ${cohortAggregateColumns('$3::date', { count: 'count(a.opportunity_id)' })}
         FROM unnest($1::uuid[]) AS t(id)
         CROSS JOIN (SELECT $4::uuid AS unused_pilot, $5::date AS unused_freeze_date) prm
         LEFT JOIN (${sourceRelation({ dataVersion, asOf: at })}) a ON a.territory_id = t.id AND a.engage_date BETWEEN $2::date AND $3::date
        GROUP BY t.id`,
      [territoryIds, window.start, window.end, null, null, dataVersion, at],
    );
    const out = new Map<string, TerritoryKpis>();
    for (const r of rows) out.set(String(r.territory_id), kpisFromAggregates(cohortAggregatesOf(r)));
    return out;
  }

  /**
   * Cohort aggregates per territory, period and ISO week, for weekly panels (difference in
   * differences): a deal belongs to the ISO week (Monday) of its engage date, and counts as closed
   * when it closed by the end of its window (the cohort convention of `forTerritories`), so the
   * weeks of a window add up to the window. `week_start` is the Monday, or the window's first day
   * for a window that starts mid-week. Territory-weeks without a deal are absent. In a bound
   * report transaction the pilot's windows are read from the rollups when they are fresh.
   * @param windows named, disjoint windows of `YYYY-MM-DD` days (e.g. pre-period and test period)
   */
  async weeklyPanel<P extends string>(
    territoryIds: string[],
    windows: { period: P; start: string; end: string }[],
    em?: EntityManager,
  ): Promise<{ territory_id: string; period: P; week_start: string; aggregates: CohortAggregates }[]> {
    const b = em ? this.bound.get(em) : undefined;
    if (b?.preAsOf && windows.length > 1 && windows.some((w) => periodOf(b.scope, w) === 'pre')) {
      // the pre-period is read as of the design's pre_period_as_of: one call per window
      const out = [];
      for (const w of windows) out.push(...(await this.weeklyPanel(territoryIds, [w], em)));
      return out;
    }
    const periods = b ? windows.map((w) => periodOf(b.scope, w)) : [];
    const bAsOf = b && b.preAsOf && periods.length === 1 && periods[0] === 'pre' ? b.preAsOf : (b?.asOf ?? null);
    let rows: Record<string, string>[];
    if (b && b.rollupsFresh && bAsOf === null && periods.every((p) => p !== null)) {
      rows = await em!.query(
        `SELECT r.territory_id, w.period, greatest(r.week_start, w.start_d)::text AS week_start,
                ${COHORT_SUM_COLUMNS.map((c) => `r.${c}`).join(', ')}
           FROM unnest($2::text[], $3::text[], $4::date[]) AS w(period, rollup_period, start_d)
           JOIN kpi_rollups r ON r.pilot_id = $1 AND r.period = w.rollup_period
          WHERE r.territory_id = ANY($5::uuid[])`,
        [b.scope.pilotId, windows.map((w) => w.period), periods, windows.map((w) => w.start), territoryIds],
      );
    } else {
      const relation = b ? `(${attributedRelation(bAsOf)})` : `opportunities`;
      rows = await (em ?? this.dataSource.manager).query(
        `SELECT a.territory_id, w.period, greatest(iso_week_start(a.engage_date), w.start_d)::text AS week_start,
                ${cohortAggregateColumns('w.end_d')}
           FROM unnest($2::text[], $3::date[], $4::date[]) AS w(period, start_d, end_d)
           ${BIND_PARAMS}
           JOIN ${relation} a ON a.engage_date BETWEEN w.start_d AND w.end_d
          WHERE a.territory_id = ANY($8::uuid[])
          GROUP BY 1, 2, 3`,
        [
          b?.scope.pilotId ?? null,
          windows.map((w) => w.period),
          windows.map((w) => w.start),
          windows.map((w) => w.end),
          b?.scope.freezeDate ?? null,
          bAsOf?.dataVersion ?? null,
          bAsOf?.asOf ?? null,
          territoryIds,
        ],
      );
    }
    return rows.map((r) => ({
      territory_id: String(r.territory_id),
      period: r.period as P,
      week_start: r.week_start,
      aggregates: cohortAggregatesOf(r),
    }));
  }

  /** Opportunities still open (status open, any engage date) per territory id: now, or at the bound report's data. */
  async openNowByTerritory(territoryIds: string[], em?: EntityManager): Promise<Map<string, number>> {
    const b = em ? this.bound.get(em) : undefined;
    const rows: { territory_id: string; n: string }[] = b
      ? await em!.query(
          `SELECT a.territory_id, count(*) AS n FROM (${attributedRelation(b.asOf)}) a ${BIND_ALL}
            WHERE a.territory_id = ANY($2::uuid[]) AND a.status = 'open' GROUP BY a.territory_id`,
          [b.scope.pilotId, territoryIds, null, null, b.scope.freezeDate, b.asOf?.dataVersion ?? null, b.asOf?.asOf ?? null],
        )
      : await (em ?? this.dataSource.manager).query(
          `SELECT territory_id, count(*) AS n FROM opportunities
            WHERE territory_id = ANY($1::uuid[]) AND status = 'open' GROUP BY territory_id`,
          [territoryIds],
        );
    return new Map(rows.map((r) => [String(r.territory_id), parseRequiredDecimal(r.n)]));
  }

  /**
   * The data's cut-off: when the newest opportunity version was ingested (in a bound report: when
   * its data version committed), and the latest engage or close date present, over the territories.
   */
  async dataCutoff(territoryIds: string[], em?: EntityManager): Promise<{ ingested_at: Date | null; latest_activity_date: string | null; opportunities: number }> {
    const b = em ? this.bound.get(em) : undefined;
    if (b) {
      const [row]: { ingested_at: Date | null; latest: string | null; n: string }[] = await em!.query(
        `SELECT (SELECT completed_at FROM opportunity_batches WHERE data_version = $6::bigint) AS ingested_at,
                max(greatest(a.engage_date, a.close_date)) AS latest, count(*) AS n
           FROM (${attributedRelation(b.asOf)}) a ${BIND_ALL}
          WHERE a.territory_id = ANY($2::uuid[])`,
        [b.scope.pilotId, territoryIds, null, null, b.scope.freezeDate, b.dataVersion, b.asOf?.asOf ?? null],
      );
      return { ingested_at: row.ingested_at, latest_activity_date: row.latest, opportunities: parseDecimal(row.n) ?? 0 };
    }
    const [row]: { ingested_at: Date | null; latest: string | null; n: string }[] = await (em ?? this.dataSource.manager).query(
      `SELECT max(ingested_at) AS ingested_at,
              max(greatest(engage_date, close_date)) AS latest,
              count(*) AS n
         FROM opportunities WHERE territory_id = ANY($1::uuid[])`,
      [territoryIds],
    );
    return { ingested_at: row.ingested_at, latest_activity_date: row.latest, opportunities: parseDecimal(row.n) ?? 0 };
  }

  /**
   * Time to close of every deal engaged in `window` (added for issue 3's Kaplan–Meier analysis, helper
   * a1): whole days from engage to close for deals won or lost by `cutoff` (event), else days from
   * engage to `cutoff` (censored: still open, or closed after the cut-off). Deals engaged after the
   * cut-off are left out. In a bound report transaction, reads the report's data and attribution.
   * @param cutoff `YYYY-MM-DD`
   */
  async cycleTimesForSurvival(territoryIds: string[], window: DateWindow, cutoff: string, em?: EntityManager): Promise<{ territory_id: string; days: number; closed: boolean }[]> {
    const b = em ? this.bound.get(em) : undefined;
    const select = (relation: string, c: string, extra = '') => `
      SELECT a.territory_id,
             (a.status IN ('won', 'lost') AND a.close_date IS NOT NULL AND a.close_date <= ${c}) AS closed,
             CASE WHEN a.status IN ('won', 'lost') AND a.close_date IS NOT NULL AND a.close_date <= ${c}
                  THEN a.close_date - a.engage_date ELSE ${c} - a.engage_date END AS days
        FROM ${relation} a ${extra}
       WHERE a.territory_id = ANY($2::uuid[]) AND a.engage_date BETWEEN $3::date AND $4::date AND a.engage_date <= ${c}`;
    const rows: { territory_id: string; days: string | number; closed: boolean }[] = b
      ? await em!.query(select(`(${attributedRelation(b.asOf)})`, '$8::date', BIND_ALL), [
          b.scope.pilotId,
          territoryIds,
          window.start,
          window.end,
          b.scope.freezeDate,
          b.asOf?.dataVersion ?? null,
          b.asOf?.asOf ?? null,
          cutoff,
        ])
      : await (em ?? this.dataSource.manager).query(select('opportunities', '$5::date', 'CROSS JOIN (SELECT $1::uuid AS unused) prm'), [null, territoryIds, window.start, window.end, cutoff]);
    return rows.map((r) => ({ territory_id: String(r.territory_id), days: Math.max(0, parseRequiredDecimal(r.days)), closed: r.closed === true }));
  }

  /**
   * Contamination per arm: test-period cohort deals attributed (at the freeze date) to a territory
   * of arm A whose owner was mapped, at some day of the test period, to a pilot territory of
   * another arm (effective dates inclusive). Deals without an owner never count.
   */
  private async contamination(em: EntityManager, scope: PilotScope, asOf: AsOf | null): Promise<Record<string, ArmContamination>> {
    const arms = [...new Set(scope.arms.values())].sort();
    const rows: { arm: string; opportunities: string; owners: string }[] = await em.query(
      `WITH units AS (SELECT * FROM unnest($2::uuid[], $8::text[]) AS u(territory_id, arm))
       SELECT u.arm, count(*) AS opportunities, count(DISTINCT a.owner) AS owners
         FROM (${attributedRelation(asOf)}) a ${BIND_PARAMS}
         JOIN units u ON u.territory_id = a.territory_id
        WHERE a.engage_date BETWEEN $3::date AND $4::date AND a.owner IS NOT NULL
          AND EXISTS (SELECT 1 FROM owner_territories ot JOIN units u2 ON u2.territory_id = ot.territory_id
                       WHERE ot.owner = a.owner AND u2.arm <> u.arm
                         AND ot.valid_from <= $4::date AND (ot.valid_to IS NULL OR ot.valid_to >= $3::date))
        GROUP BY u.arm`,
      [
        scope.pilotId,
        [...scope.arms.keys()],
        scope.test.start,
        scope.test.end,
        scope.freezeDate,
        asOf?.dataVersion ?? null,
        asOf?.asOf ?? null,
        [...scope.arms.values()],
      ],
    );
    const out: Record<string, ArmContamination> = {};
    for (const arm of arms) {
      const r = rows.find((x) => x.arm === arm);
      out[arm] = { opportunities: r ? parseRequiredDecimal(r.opportunities) : 0, owners: r ? parseRequiredDecimal(r.owners) : 0 };
    }
    return out;
  }
}

/** 'pre' or 'test' when `window` is exactly that window of the pilot, else null. */
function periodOf(scope: PilotScope, window: DateWindow): 'pre' | 'test' | null {
  if (window.start === scope.test.start && window.end === scope.test.end) return 'test';
  if (window.start === scope.pre.start && window.end === scope.pre.end) return 'pre';
  return null;
}
