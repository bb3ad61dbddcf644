import type { EntityManager } from 'typeorm';
import { stagingTable } from './staging';

/** The warning kinds a batch can report (rows are kept; a warning never rejects a row). */
export const WARNING_KINDS = ['negative_won_amount', 'repeated_opportunity_id', 'close_before_create', 'amount_outlier'] as const;

/**
 * Robust outlier rule for `amount_outlier`: a won amount is flagged when it lies beyond
 * median ± K × 1.4826 × MAD of the territory's stored won amounts (before this batch), with
 * MAD the median absolute deviation (1.4826 × MAD estimates σ for normal data: Rousseeuw &
 * Croux 1993, JASA 88:1273; Leys et al. 2013, J. Exp. Soc. Psych. 49:764 recommend 2.5–3 as a
 * cut; deal sizes are skewed, so K = 5). Only territories with at least MIN_HISTORY past won
 * deals and MAD > 0 are checked. Amounts are compared within one currency (the row's, else the
 * default currency): a JPY deal is never judged against the territory's EUR history.
 */
export const OUTLIER_K = 5;
export const OUTLIER_MIN_HISTORY = 20;

/**
 * The message of a `repeated_opportunity_id` warning, as SQL over `opportunity_id`, `copies` (rows
 * of that id in the batch) and `winner` (the row number kept: the newest source_updated_at, then
 * the later row, the upsert's own order). Written by the upsert of each staging partition.
 */
export const REPEATED_ID_MESSAGE = `format('opportunity %s appears %s times in this batch; row %s won', opportunity_id, copies, winner)`;

/**
 * Writes the row-wise warnings of a batch's accepted staged rows (reasons IS NULL) into
 * opportunity_batch_warnings, one row per (row_number, kind). Run inside the processing
 * transaction, before the rows are upserted (so the territory history excludes this batch).
 * - negative_won_amount: a won deal with amount < 0 (the amount parser reads "(1,500.00)" as −1500);
 * - close_before_create: close_date before the (UTC) date of created_at;
 * - amount_outlier: see {@link OUTLIER_K}.
 * The fourth kind, repeated_opportunity_id, needs each opportunity's rows ranked by version; the
 * upsert of each staging partition ranks them already, so it writes that warning in the same
 * statement ({@link REPEATED_ID_MESSAGE}; IngestionService.upsertChunk), instead of a second sort
 * of the whole batch here (about 3 s of 1,000,000 rows: docs/performance.md).
 * Each kind is one filtered scan of the staging table (no materialized copy of it).
 * @returns the number of warnings written
 */
export async function recordBatchWarnings(em: EntityManager, batchId: string, defaultCurrency: string): Promise<number> {
  const s = stagingTable(batchId);
  const [{ n }]: { n: string }[] = await em.query(
    `WITH history AS (
       SELECT territory_id, coalesce(currency, $4) AS currency, count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS med
         FROM opportunities WHERE status = 'won' AND amount IS NOT NULL
          AND territory_id IN (SELECT DISTINCT territory_id FROM ${s} WHERE reasons IS NULL AND status = 'won' AND amount IS NOT NULL)
        GROUP BY territory_id, coalesce(currency, $4)
     ),
     spread AS (
       SELECT h.territory_id, h.currency, h.n, h.med, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(o.amount - h.med)) AS mad
         FROM history h JOIN opportunities o ON o.territory_id = h.territory_id AND coalesce(o.currency, $4) = h.currency
          AND o.status = 'won' AND o.amount IS NOT NULL
        GROUP BY h.territory_id, h.currency, h.n, h.med
     ),
     found AS (
       SELECT row_number, 'negative_won_amount' AS kind, opportunity_id,
              format('won deal with a negative amount (%s); kept as sent', amount) AS message
         FROM ${s} WHERE reasons IS NULL AND status = 'won' AND amount < 0
       UNION ALL
       SELECT row_number, 'close_before_create', opportunity_id,
              format('close date %s is before the create date %s', close_date, (created_at_source AT TIME ZONE 'UTC')::date)
         FROM ${s} WHERE reasons IS NULL AND close_date < (created_at_source AT TIME ZONE 'UTC')::date
       UNION ALL
       SELECT ok.row_number, 'amount_outlier', ok.opportunity_id,
              format('won amount %s %s is far outside the territory''s history in %s: median %s, robust range %s to %s (median ± %s × 1.4826 × MAD over %s deals)',
                     ok.amount, sp.currency, sp.currency, round(sp.med::numeric, 2), round((sp.med - $2 * 1.4826 * sp.mad)::numeric, 2),
                     round((sp.med + $2 * 1.4826 * sp.mad)::numeric, 2), $2, sp.n)
         FROM ${s} ok JOIN spread sp ON sp.territory_id = ok.territory_id AND sp.currency = coalesce(ok.currency, $4)
        WHERE ok.reasons IS NULL AND ok.status = 'won' AND ok.amount IS NOT NULL AND sp.n >= $3 AND sp.mad > 0
          AND abs(ok.amount - sp.med) > $2 * 1.4826 * sp.mad
     ),
     moved AS (
       INSERT INTO opportunity_batch_warnings (batch_id, row_number, kind, opportunity_id, message)
       SELECT $1, row_number, kind, opportunity_id, message FROM found
       ON CONFLICT (batch_id, row_number, kind) DO UPDATE SET message = EXCLUDED.message
       RETURNING 1)
     SELECT count(*) AS n FROM moved`,
    [batchId, OUTLIER_K, OUTLIER_MIN_HISTORY, defaultCurrency],
  );
  return Number(n);
}

/** One page of a batch's warnings, by row number. */
export function findBatchWarnings(em: Pick<EntityManager, 'query'>, batchId: string, limit: number, offset: number) {
  return em.query(
    `SELECT row_number, kind, opportunity_id, message FROM opportunity_batch_warnings
      WHERE batch_id = $1 ORDER BY row_number, kind LIMIT $2 OFFSET $3`,
    [batchId, limit, offset],
  ) as Promise<{ row_number: number; kind: string; opportunity_id: string | null; message: string }[]>;
}

/** The number of warnings of a batch. */
export async function countBatchWarnings(em: Pick<EntityManager, 'query'>, batchId: string): Promise<number> {
  const [{ n }]: { n: string }[] = await em.query(`SELECT count(*) AS n FROM opportunity_batch_warnings WHERE batch_id = $1`, [batchId]);
  return Number(n);
}
