/**
 * The SQL that turns opportunities into per pilot × period × territory × ISO week KPI sums. One
 * definition serves the rollup refresh (full or restricted to touched keys), the from-scratch
 * recomputation the tests compare against, and the as-of computation of a report: only the
 * source relation changes.
 *
 * Conventions (docs/kpis.md, the cohort conventions of shared/reference/sales_velocity.json):
 * - a deal belongs to the period whose window contains its engage date, and to the ISO week
 *   (Monday) of that date; `week_start` is that Monday (a window starting mid-week clips its
 *   first week on read);
 * - it counts as won or lost when it closed by the END OF ITS PERIOD (later closes are open, i.e.
 *   right-censored at the window end), so summing a period's weeks gives exactly the period KPIs;
 * - territory attribution (intent to treat): the territory its owner was mapped to on the pilot's
 *   freeze date (owner_territories, effective dates inclusive), else the record's own territory.
 */

import type { CohortAggregates } from '../stats/sales-velocity';
import { parseRequiredDecimal } from '../common/database/transformers';

/**
 * The cohort sums every KPI is computed from (stats/sales-velocity.ts `kpisFromAggregates`), in
 * the order of the `kpi_rollups` columns. A KPI that needs a new sum adds it here, in
 * {@link cohortAggregateColumns}, in `CohortAggregates` and as a `kpi_rollups` column (a migration).
 */
export const COHORT_SUM_COLUMNS = ['n_opportunities', 'n_won', 'n_lost', 'won_amount_total', 'cycle_days_total'] as const;

/** One row's cohort sums (the stored part of `CohortAggregates`: `n_closed` is derived). */
export type CohortSums = Pick<CohortAggregates, (typeof COHORT_SUM_COLUMNS)[number]>;

/**
 * The SQL select list of the cohort sums over attributed opportunities `a` (cohort convention: a
 * deal counts as won or lost when it closed by `end`, a SQL date expression).
 * @param options.count the expression counting deals (default `count(*)`; a LEFT JOIN counts `count(a.opportunity_id)`)
 * @param options.typed cast to the `kpi_rollups` column types (int, numeric(20,2), bigint) for an INSERT … SELECT
 * @returns `<expr> AS n_opportunities, …` in {@link COHORT_SUM_COLUMNS} order
 */
export function cohortAggregateColumns(end: string, options: { count?: string; typed?: boolean } = {}): string {
  const closedBy = `a.close_date <= ${end}`;
  const typed = (sql: string, type: string) => (options.typed ? `(${sql})::${type}` : sql);
  const columns: Record<(typeof COHORT_SUM_COLUMNS)[number], string> = {
    n_opportunities: typed(options.count ?? 'count(*)', 'int'),
    n_won: typed(`count(*) FILTER (WHERE a.status = 'won' AND ${closedBy})`, 'int'),
    n_lost: typed(`count(*) FILTER (WHERE a.status = 'lost' AND ${closedBy})`, 'int'),
    won_amount_total: typed(`coalesce(sum(a.amount) FILTER (WHERE a.status = 'won' AND ${closedBy}), 0)`, 'numeric(20,2)'),
    cycle_days_total: typed(`coalesce(sum(a.close_date - a.engage_date) FILTER (WHERE a.status IN ('won', 'lost') AND ${closedBy}), 0)`, 'bigint'),
  };
  return COHORT_SUM_COLUMNS.map((c) => `${columns[c]} AS ${c}`).join(',\n       ');
}

/**
 * The cohort sums of a query row (pg returns bigint and numeric as strings).
 * @throws Error when a sum is missing or not a number
 */
export function cohortSumsOf(row: Record<string, unknown>): CohortSums {
  const out = {} as CohortSums;
  for (const c of COHORT_SUM_COLUMNS) out[c] = parseRequiredDecimal(row[c] as string | number | null);
  return out;
}

/** The `CohortAggregates` of a query row: its sums plus `n_closed = n_won + n_lost`. */
export function cohortAggregatesOf(row: Record<string, unknown>): CohortAggregates {
  const sums = cohortSumsOf(row);
  return { ...sums, n_closed: sums.n_won + sums.n_lost };
}

/** Positional parameters every rollup query takes (see {@link rollupParams}). */
export interface RollupScope {
  pilotId: string;
  territoryIds: string[];
  pre: { start: string; end: string };
  test: { start: string; end: string };
  /** UTC day the pilot's assignment was frozen (launch), for owner → territory attribution. */
  freezeDate: string;
}

/** What an as-of source reads: versions known at data version `dataVersion`, optionally up to a source time. */
export interface AsOf {
  dataVersion: number;
  asOf: Date | null;
}

/**
 * The opportunity relation to aggregate: the current table, or each opportunity as known at data
 * version $6 and instant $7 (docs/kpis.md, "As-of reports"):
 * - the base row is the newest version (view `opportunity_all_versions`, current ones included)
 *   loaded up to data version $6 with version_at ≤ $7 (null: no source-time limit);
 * - with an instant $7, stage (status), amount and close date are rebuilt from the field history
 *   (`opportunity_history_as_of($7)`, the function behind GET /opportunities/:id/as-of): a field
 *   whose latest change by $7 is at or after the base version's time takes the history's value;
 * - an opportunity none of whose versions is that old is still counted when its field history
 *   knows it by $7: its earliest version gives the fields histories do not carry (territory,
 *   owner, engage date, currency), the history the rest (a field without a change by $7 keeps
 *   that version's value).
 * `state_source` says where the three fields came from: 'field_history' (at least one of them),
 * 'row_version' (an as-of without history for that deal) or 'current'. The two sources agree when
 * $6 is the latest data version and $7 is null.
 */
export function sourceRelation(asOf: AsOf | null): string {
  if (!asOf) return `SELECT opportunity_id, territory_id, owner, status, amount, currency, engage_date, close_date, 'current'::text AS state_source FROM opportunities`;
  const known = `($7::timestamptz IS NULL OR v.version_at <= $7::timestamptz)`;
  // a history value wins when the base version was not known by $7 or is not newer than the change
  const newer = (at: string) => `(h.${at} IS NOT NULL AND (NOT b.known_by_version OR h.${at} >= b.version_at))`;
  return `WITH h AS (SELECT * FROM opportunity_history_as_of($7::timestamptz))
          SELECT b.opportunity_id, b.territory_id, b.owner,
                 CASE WHEN ${newer('stage_at')} THEN h.status ELSE b.status END AS status,
                 CASE WHEN ${newer('amount_at')} THEN h.amount ELSE b.amount END AS amount,
                 b.currency, b.engage_date,
                 CASE WHEN ${newer('close_date_at')} THEN h.close_date ELSE b.close_date END AS close_date,
                 CASE WHEN ${newer('stage_at')} OR ${newer('amount_at')} OR ${newer('close_date_at')} THEN 'field_history' ELSE 'row_version' END AS state_source
            FROM (SELECT DISTINCT ON (v.opportunity_id) v.opportunity_id, v.territory_id, v.owner, v.status, v.amount, v.currency,
                         v.engage_date, v.close_date, v.version_at, ${known} AS known_by_version
                    FROM opportunity_all_versions v
                   WHERE v.data_version <= $6::bigint AND (${known} OR v.opportunity_id IN (SELECT opportunity_id FROM h))
                   -- the newest version known by $7; else (history-only deals) the earliest one
                   ORDER BY v.opportunity_id, ${known} DESC,
                            CASE WHEN ${known} THEN v.version_at END DESC, CASE WHEN ${known} THEN v.version_batch_seq END DESC,
                            CASE WHEN ${known} THEN v.version_row END DESC, v.version_at, v.version_batch_seq, v.version_row) b
            LEFT JOIN h ON h.opportunity_id = b.opportunity_id`;
}

/**
 * The amount of source row `s` in the reporting currency `rc.currency` of pilot $1 (docs/kpis.md,
 * "Currencies"): as stored when the currencies agree (or either is unknown: rows and pilots from
 * before currencies, i.e. the behaviour before), else converted at the rate in force on the close
 * date (the engage date for a deal still open; only won deals' amounts enter a KPI) and rounded
 * to cents per deal, so rollups and direct aggregation sum the same cents. Null when no rate is
 * in force: {@link missingRatesQuery} finds those rows before a report reads them.
 */
const REPORTING_AMOUNT = `CASE WHEN s.amount IS NULL OR s.currency IS NULL OR rc.currency IS NULL OR s.currency = rc.currency THEN s.amount
                 ELSE round(s.amount * fx_rate(s.currency, rc.currency, coalesce(s.close_date, s.engage_date)), 2) END`;

/**
 * Attributed opportunities: the source with each row's territory as of the freeze date ($5), and
 * `amount` in the reporting currency of pilot $1 (`source_amount` and `currency`: as stored).
 */
export function attributedRelation(asOf: AsOf | null): string {
  return `SELECT s.opportunity_id, coalesce(ot.territory_id, s.territory_id) AS territory_id, s.territory_id AS record_territory_id,
                 s.owner, s.status, ${REPORTING_AMOUNT} AS amount, s.amount AS source_amount, s.currency, rc.currency AS reporting_currency,
                 s.engage_date, s.close_date, s.state_source
            FROM (${sourceRelation(asOf)}) s
            LEFT JOIN (SELECT p.reporting_currency AS currency FROM pilots p WHERE p.id = $1::uuid) rc ON true
            LEFT JOIN owner_territories ot
              ON ot.owner = s.owner AND ot.valid_from <= $5::date AND (ot.valid_to IS NULL OR ot.valid_to >= $5::date)`;
}

/**
 * Won deals of the pilot's territories ($2) in the pre-period ($3 window) or test period ($4)
 * whose amount has no rate into the reporting currency on their close date: one row per currency
 * with the first and last such day and the count. Takes the {@link rollupParams} parameters.
 */
export function missingRatesQuery(asOf: AsOf | null): string {
  return `SELECT a.currency, a.reporting_currency, min(a.close_date)::text AS first_day, max(a.close_date)::text AS last_day, count(*)::int AS deals
            FROM (${attributedRelation(asOf)}) a
           CROSS JOIN (SELECT $1::uuid AS pilot_id, $6::bigint AS data_version, $7::timestamptz AS as_of) prm
           WHERE a.territory_id = ANY($2::uuid[]) AND a.status = 'won' AND a.source_amount IS NOT NULL AND a.amount IS NULL
             AND (a.engage_date BETWEEN ($3::date[])[1] AND ($3::date[])[2] OR a.engage_date BETWEEN ($4::date[])[1] AND ($4::date[])[2])
           GROUP BY 1, 2 ORDER BY 1`;
}

/**
 * Where an as-of report's deals took their state from: among the deals of the pilot's territories
 * ($2) engaged in the pre-period ($3) or test period ($4), how many had at least one field rebuilt
 * from the field history (`field_history`) and how many kept their row version (`row_version`);
 * plus `history_only`, the opportunities the history knows by $7 that have no stored row up to
 * data version $6 (no territory: left out of every KPI). Takes the {@link rollupParams} parameters.
 */
export function asOfSourcesQuery(asOf: AsOf | null): string {
  return `SELECT count(*) FILTER (WHERE a.state_source = 'field_history')::int AS field_history,
                 count(*) FILTER (WHERE a.state_source <> 'field_history')::int AS row_version,
                 (SELECT count(*)::int FROM opportunity_history_as_of($7::timestamptz) h
                   WHERE NOT EXISTS (SELECT 1 FROM opportunity_all_versions v WHERE v.opportunity_id = h.opportunity_id AND v.data_version <= $6::bigint)) AS history_only
            FROM (${attributedRelation(asOf)}) a
           CROSS JOIN (SELECT $1::uuid AS pilot_id, $6::bigint AS data_version, $7::timestamptz AS as_of) prm
           WHERE a.territory_id = ANY($2::uuid[])
             AND (a.engage_date BETWEEN ($3::date[])[1] AND ($3::date[])[2] OR a.engage_date BETWEEN ($4::date[])[1] AND ($4::date[])[2])`;
}

/**
 * Rollup rows (territory_id, period, week_start, n_opportunities, n_won, n_lost, won_amount_total,
 * cycle_days_total) for the pilot's territories. With `keysParam` (a parameter index), only the
 * (territory, ISO week) keys given as two parallel arrays `$k::uuid[]`, `$k+1::date[]`.
 */
export function rollupAggregate(asOf: AsOf | null, keysParam?: number): string {
  const keys =
    keysParam === undefined
      ? ''
      : `AND (a.territory_id, iso_week_start(a.engage_date)) IN
             (SELECT * FROM unnest($${keysParam}::uuid[], $${keysParam + 1}::date[]))`;
  return `SELECT a.territory_id, w.period, iso_week_start(a.engage_date) AS week_start,
                 ${cohortAggregateColumns('w.end_d', { typed: true })}
            FROM (${attributedRelation(asOf)}) a
            JOIN (VALUES ('pre', ($3::date[])[1], ($3::date[])[2]), ('test', ($4::date[])[1], ($4::date[])[2])) AS w(period, start_d, end_d)
              ON a.engage_date BETWEEN w.start_d AND w.end_d
           -- binds every parameter to a type, whichever the source reads
           CROSS JOIN (SELECT $1::uuid AS pilot_id, $6::bigint AS data_version, $7::timestamptz AS as_of) prm
           WHERE a.territory_id = ANY($2::uuid[]) ${keys}
           GROUP BY 1, 2, 3`;
}

/**
 * The first seven parameters of every rollup query: pilot id, territory ids, pre window, test
 * window (each `[start, end]`), freeze date, data version and as-of (the last two only read by
 * as-of sources, always bound so the numbering never shifts).
 */
export function rollupParams(scope: RollupScope, asOf: AsOf | null): unknown[] {
  return [
    scope.pilotId,
    scope.territoryIds,
    [scope.pre.start, scope.pre.end],
    [scope.test.start, scope.test.end],
    scope.freezeDate,
    asOf?.dataVersion ?? null,
    asOf?.asOf ?? null,
  ];
}
