import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { parseRequiredDecimal } from '../common/database/transformers';
import { EnvironmentVariables } from '../config/env.validation';
import { BatchRepository } from './batch.repository';
import { recordBatchWarnings, REPEATED_ID_MESSAGE } from './batch-warnings';
import { dropStagingTable, stagingTable } from './staging';

/** What an upsert did to a batch's accepted rows (they add up to rows_accepted). */
export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
}

/** What one run of the ingestion job did. */
export interface IngestionOutcome {
  batch_id: string;
  skipped: boolean;
  accepted: number;
  rejected: number;
  counts: UpsertCounts;
  data_version?: number;
}

/** The batch transaction's scratch table of (territory, owner, ISO week) keys whose KPIs may change. */
const CHANGE_KEYS = 'pg_temp.opportunity_change_keys';

/** Thrown between staging partitions when the batch was cancelled meanwhile (rolls back). */
class BatchCancelled extends Error {}

/**
 * Moves a staged batch (staging.ts) into the opportunities, set-based, in ONE transaction
 * together with its versions, its rejections, its change keys for the rollups and its final
 * counts. The transaction first takes the global ingest lock, so batches commit one at a time and
 * each gets the next data version in commit order (a report that read data version D saw exactly
 * the batches up to D). A retried, duplicated or crashed-and-restarted job either finds the batch
 * completed (and does nothing) or redoes it from scratch: nothing is lost or counted twice.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly batches: BatchRepository,
    private readonly env: EnvironmentVariables,
  ) {}

  /**
   * Processes batch `batchId`. Version of each row: (source_updated_at, or the batch's arrival
   * time `received_at` when absent; batch sequence; row number), so the newest source version wins
   * whatever the arrival order, and a later row of the same batch supersedes an earlier one with
   * the same source version. Every accepted row is kept: the current version of each opportunity
   * in `opportunities`, every other one in `opportunity_versions` (view `opportunity_all_versions`
   * has both; migration 1765600000001).
   * @param onProgress called with rows processed so far (after each staging partition)
   */
  async processBatch(batchId: string, onProgress?: (rows: number) => Promise<void>): Promise<IngestionOutcome> {
    await this.dataSource.query(
      `UPDATE opportunity_batches SET status = 'processing', started_at = coalesce(started_at, now()), rows_processed = 0
        WHERE id = $1 AND status IN ('queued', 'processing')`,
      [batchId],
    );
    const empty = { inserted: 0, updated: 0, unchanged: 0, stale: 0 };
    const skipped: IngestionOutcome = { batch_id: batchId, skipped: true, accepted: 0, rejected: 0, counts: empty };
    try {
      return await this.dataSource.transaction(async (em) => {
        // One batch at a time, so data versions follow commit order (and upserts never deadlock).
        await em.query(`SELECT pg_advisory_xact_lock(hashtext('opportunity_ingest'))`);
        const batch = await this.batches.findById(batchId, em);
        if (!batch || batch.status === 'completed' || batch.status === 'failed') return skipped;
        if (batch.status === 'cancelled') {
          await dropStagingTable(em, batchId);
          return skipped;
        }
        const [{ dv }]: { dv: string }[] = await em.query(`SELECT nextval('opportunity_data_version_seq') AS dv`);
        const dataVersion = parseRequiredDecimal(dv);
        // Change keys of every partition, made distinct once for the whole batch at the end.
        await em.query(`CREATE TEMP TABLE ${CHANGE_KEYS} (territory_id uuid NOT NULL, owner varchar(128) NOT NULL, engage_week date NOT NULL) ON COMMIT DROP`);
        await this.rejectRowsWithoutRate(em, batchId);
        await recordBatchWarnings(em, batchId, this.env.DEFAULT_CURRENCY);
        const totals: UpsertCounts = { ...empty };
        let processed = 0;
        for (let chunk = 0; chunk < batch.stagingChunks; chunk++) {
          const c = await this.upsertChunk(em, batchId, chunk, batch.receivedAt, batch.seq, dataVersion);
          for (const k of Object.keys(totals) as (keyof UpsertCounts)[]) totals[k] += c.counts[k];
          processed += c.rows;
          if (await this.batches.isCancelled(batchId)) throw new BatchCancelled();
          await this.batches.setProgress(batchId, processed);
          await onProgress?.(processed);
        }
        await em.query(
          `INSERT INTO opportunity_changes (data_version, territory_id, owner, engage_week)
           SELECT DISTINCT $1::bigint, territory_id, owner, engage_week FROM ${CHANGE_KEYS}
           ON CONFLICT DO NOTHING`,
          [dataVersion],
        );
        const [{ n: rejectedText }]: { n: string }[] = await em.query(
          `WITH moved AS (
             INSERT INTO opportunity_batch_rejections (batch_id, row_number, opportunity_id, reasons)
             SELECT $1, row_number, opportunity_id, reasons FROM ${stagingTable(batchId)} WHERE reasons IS NOT NULL
             ON CONFLICT (batch_id, row_number) DO UPDATE SET reasons = EXCLUDED.reasons, opportunity_id = EXCLUDED.opportunity_id
             RETURNING 1)
           SELECT count(*) AS n FROM moved`,
          [batchId],
        );
        const rejected = parseRequiredDecimal(rejectedText);
        const accepted = totals.inserted + totals.updated + totals.unchanged + totals.stale;
        await dropStagingTable(em, batchId);
        await em.query(
          `UPDATE opportunity_batches SET status = 'completed', completed_at = now(), error = NULL, data_version = $8,
                  rows_processed = row_count, rows_accepted = $2, rows_rejected = $3, rows_inserted = $4,
                  rows_updated = $5, rows_unchanged = $6, rows_stale = $7
            WHERE id = $1`,
          [batchId, accepted, rejected, totals.inserted, totals.updated, totals.unchanged, totals.stale, dataVersion],
        );
        this.logger.log(`batch ${batchId}: data version ${dataVersion}, ${accepted} accepted, ${rejected} rejected, ${JSON.stringify(totals)}`);
        return { batch_id: batchId, skipped: false, accepted, rejected, counts: totals, data_version: dataVersion };
      });
    } catch (err) {
      if (err instanceof BatchCancelled) {
        await this.dataSource.transaction((em) => dropStagingTable(em, batchId));
        this.logger.log(`batch ${batchId} cancelled while processing; nothing of it was stored`);
        return skipped;
      }
      throw err;
    }
  }

  /**
   * One staging partition in ONE statement: rank each opportunity's rows of the batch by version
   * (newest first), write the newest into `opportunities` when it is newer than the stored one (a plain INSERT for new ids, an UPDATE for stored ones: the
   * global ingest lock guarantees nobody else writes `opportunities` meanwhile, so which ids exist
   * is known from the join below), keep every other version in `opportunity_versions` (the
   * history: rows superseded within the batch, rows older than the stored version, and the stored
   * version a newer row replaces), and note the (territory, owner, ISO week) keys whose KPIs may
   * change (old and new values of changed rows) in the batch's change-key table, and write the
   * batch warning `repeated_opportunity_id` for each superseded row of the batch. All CTEs see the
   * table as it was before the statement, so `incoming` joins each row to the version it would
   * replace and decides there whether it is newer. No join between CTEs except the UPDATE's
   * (they have no statistics, and a nested loop over two of them is quadratic).
   * Counts: inserted (new ids), updated (data changed), unchanged (newer version with the same
   * data, or superseded in the batch by a later row of the same version), stale (older than the
   * stored version or than another row of the batch; ignored).
   * @throws Error when the rows written differ from the rows decided newer (an invariant)
   */
  private async upsertChunk(em: EntityManager, batchId: string, chunk: number, receivedAt: Date, seq: number, dataVersion: number) {
    const data = (p: string) =>
      `(${p}territory_id, ${p}owner, ${p}stage, ${p}status, ${p}amount, ${p}engage_date, ${p}close_date, ${p}created_at_source, ${p}product, ${p}account, ${p}${p === 'o.' ? 'currency' : 'row_currency'})`;
    const [r]: Record<string, string>[] = await em.query(
      `WITH ranked AS (
         SELECT s.*, v.version_at, coalesce(s.currency, $5::char(3)) AS row_currency,
                row_number() OVER w AS rn, first_value(v.version_at) OVER w AS top_version,
                first_value(s.row_number) OVER w AS winner, count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS copies
           FROM ${stagingTable(batchId, chunk)} s
           CROSS JOIN LATERAL (SELECT coalesce(s.source_updated_at, $1::timestamptz) AS version_at) v
          WHERE s.reasons IS NULL
         WINDOW w AS (PARTITION BY s.opportunity_id ORDER BY v.version_at DESC, s.row_number DESC)
       ),
       incoming AS (
         SELECT r.*, o.opportunity_id IS NOT NULL AS existed,
                o.territory_id AS before_territory_id, o.owner AS before_owner, o.engage_date AS before_engage_date,
                (o.opportunity_id IS NULL OR (r.version_at, $2::bigint, r.row_number) > (o.version_at, o.version_batch_seq, o.version_row)) AS newer,
                ${data('o.')} IS DISTINCT FROM ${data('r.')} AS changed
           FROM ranked r LEFT JOIN opportunities o ON o.opportunity_id = r.opportunity_id
          WHERE r.rn = 1
       ),
       history AS (
         -- Versions that are not (or no longer) current: rows superseded within the batch, rows
         -- older than the stored version, and the stored version each newer row replaces.
         INSERT INTO opportunity_versions (opportunity_id, version_at, version_batch_seq, version_row, data_version, territory_id,
                owner, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at, product, account, batch_id, currency)
         SELECT opportunity_id, version_at, $2::bigint, row_number, $3::bigint, territory_id, owner, stage, status, amount, engage_date,
                close_date, created_at_source, source_updated_at, product, account, $4::uuid, row_currency
           FROM ranked WHERE rn > 1
         UNION ALL
         SELECT opportunity_id, version_at, $2::bigint, row_number, $3::bigint, territory_id, owner, stage, status, amount, engage_date,
                close_date, created_at_source, source_updated_at, product, account, $4::uuid, row_currency
           FROM incoming WHERE NOT newer
         UNION ALL
         SELECT o.opportunity_id, o.version_at, o.version_batch_seq, o.version_row, o.data_version, o.territory_id, o.owner, o.stage,
                o.status, o.amount, o.engage_date, o.close_date, o.created_at_source, o.source_updated_at, o.product, o.account, o.batch_id, o.currency
           FROM incoming i JOIN opportunities o ON o.opportunity_id = i.opportunity_id
          WHERE i.newer AND i.existed
       ),
       repeated AS (
         -- batch warning repeated_opportunity_id (src/opportunities/batch-warnings.ts): every row an
         -- id's newer row of this batch superseded names the row kept; ranked here, not sorted twice
         INSERT INTO opportunity_batch_warnings (batch_id, row_number, kind, opportunity_id, message)
         SELECT $4::uuid, row_number, 'repeated_opportunity_id', opportunity_id, ${REPEATED_ID_MESSAGE}
           FROM ranked WHERE rn > 1
         ON CONFLICT (batch_id, row_number, kind) DO UPDATE SET message = EXCLUDED.message
       ),
       inserted AS (
         INSERT INTO opportunities (opportunity_id, territory_id, owner, stage, status, amount, engage_date, close_date,
                created_at_source, source_updated_at, product, account, version_at, version_batch_seq, version_row, batch_id, data_version, currency)
         SELECT opportunity_id, territory_id, owner, stage, status, amount, engage_date, close_date, created_at_source,
                source_updated_at, product, account, version_at, $2, row_number, $4, $3, row_currency
           FROM incoming WHERE newer AND NOT existed
         RETURNING 1
       ),
       updated AS (
         UPDATE opportunities o SET
           territory_id = i.territory_id, owner = i.owner, stage = i.stage, status = i.status,
           amount = i.amount, engage_date = i.engage_date, close_date = i.close_date,
           created_at_source = i.created_at_source, source_updated_at = i.source_updated_at,
           product = i.product, account = i.account, version_at = i.version_at, currency = i.row_currency,
           version_batch_seq = $2, version_row = i.row_number, batch_id = $4, data_version = $3, ingested_at = now()
           FROM incoming i
          WHERE i.newer AND i.existed AND o.opportunity_id = i.opportunity_id
            AND (i.version_at, $2::bigint, i.row_number) > (o.version_at, o.version_batch_seq, o.version_row)
         RETURNING 1
       ),
       changes AS (
         INSERT INTO ${CHANGE_KEYS} (territory_id, owner, engage_week)
         SELECT DISTINCT t, coalesce(ow, ''), iso_week_start(d)
           FROM (SELECT territory_id AS t, owner AS ow, engage_date AS d FROM incoming WHERE newer AND changed
                 UNION ALL
                 SELECT before_territory_id, before_owner, before_engage_date FROM incoming WHERE newer AND changed AND existed) x
          WHERE d IS NOT NULL
       ),
       ranks AS (
         SELECT count(*) FILTER (WHERE rn > 1 AND version_at < top_version) AS stale_in_batch,
                count(*) FILTER (WHERE rn > 1 AND version_at = top_version) AS superseded
           FROM ranked
       )
       SELECT count(*) FILTER (WHERE newer AND NOT existed) AS inserted,
              count(*) FILTER (WHERE newer AND existed AND changed) AS updated,
              count(*) FILTER (WHERE newer AND existed AND NOT changed) AS unchanged,
              count(*) FILTER (WHERE NOT newer) AS stale,
              (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated) AS written,
              (SELECT stale_in_batch FROM ranks) AS stale_in_batch,
              (SELECT superseded FROM ranks) AS superseded,
              (SELECT count(*) FROM ${stagingTable(batchId, chunk)}) AS rows
         FROM incoming`,
      [receivedAt, seq, dataVersion, batchId, this.env.DEFAULT_CURRENCY],
    );
    const n = (k: string) => parseRequiredDecimal(r[k]);
    if (n('written') !== n('inserted') + n('updated') + n('unchanged')) {
      throw new Error(`batch ${batchId} chunk ${chunk}: ${n('written')} rows written, ${n('inserted') + n('updated') + n('unchanged')} decided newer`);
    }
    return {
      rows: n('rows'),
      counts: {
        inserted: n('inserted'),
        updated: n('updated'),
        unchanged: n('unchanged') + n('superseded'),
        stale: n('stale') + n('stale_in_batch'),
      },
    };
  }

  /**
   * Currency rule (docs/kpis.md, "Currencies"): a staged row with an amount in a currency other
   * than the default (DEFAULT_CURRENCY) needs a rate between the two in force on its conversion
   * day: the close date, else (open deals) the UTC day of created_at, else the engage date. Rows
   * without one are rejected here, in the batch's transaction, with the pair and the day, so
   * nothing of them is stored and the other rows are kept (the batch contract).
   */
  private async rejectRowsWithoutRate(em: EntityManager, batchId: string): Promise<void> {
    // One scan of the staging table with a cheap filter; fx_rate runs only for foreign-currency rows.
    const day = `coalesce(close_date, (created_at_source AT TIME ZONE 'UTC')::date, engage_date)`;
    await em.query(
      `UPDATE ${stagingTable(batchId)}
          SET reasons = ARRAY[format('no exchange rate %s→%s in force on %s (%s); POST /exchange-rates, then send the row again',
                                     currency, $1::text, coalesce(${day}::text, 'an unknown day'),
                                     CASE WHEN close_date IS NOT NULL THEN 'close_date' WHEN created_at_source IS NOT NULL THEN 'created_at' ELSE 'engage_date' END)]
        WHERE reasons IS NULL AND amount IS NOT NULL AND currency IS NOT NULL AND currency <> $1::char(3)
          AND fx_rate(currency, $1::char(3), ${day}) IS NULL`,
      [this.env.DEFAULT_CURRENCY],
    );
  }

  /** Marks a batch failed after its job ran out of attempts (the reason is kept for the user). */
  async markFailed(batchId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE opportunity_batches SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status NOT IN ('completed', 'cancelled')`,
      [batchId, reason.slice(0, 2000)],
    );
  }
}
