import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { parseRequiredDecimal } from '../database/transformers';
import { ParsedOpportunity } from './ingestion/opportunity-row.parser';

/** A parsed row with its version: (version_at, batch seq, row number), compared in that order. */
export interface VersionedOpportunity extends ParsedOpportunity {
  version_at: Date;
  version_batch_seq: number;
  version_row: number;
  batch_id: string;
}

/** What an upsert did to its rows (they add up to the rows given). */
export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
}

/** Set-based writes of opportunities. */
@Injectable()
export class OpportunityRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Upserts rows in ONE statement (unnest of column arrays), inside the caller's transaction.
   * A row replaces the stored opportunity only when its version is newer (newest source version
   * wins regardless of arrival order); replaying the same rows is a no-op. Rows must have distinct
   * opportunity ids (ON CONFLICT cannot touch one row twice).
   * @returns inserted (new ids), updated (data changed), unchanged (newer version, same data),
   *   stale (older than the stored version; ignored).
   */
  async upsert(em: EntityManager, rows: VersionedOpportunity[]): Promise<UpsertCounts> {
    if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0, stale: 0 };
    const col = <K extends keyof VersionedOpportunity>(k: K) => rows.map((r) => r[k]);
    const [result]: Record<string, string>[] = await em.query(
      `WITH incoming AS (
         SELECT * FROM unnest(
           $1::varchar[], $2::uuid[], $3::varchar[], $4::varchar[], $5::numeric[], $6::date[], $7::date[],
           $8::timestamptz[], $9::timestamptz[], $10::varchar[], $11::varchar[], $12::timestamptz[], $13::bigint[],
           $14::int[], $15::uuid[]
         ) AS i(opportunity_id, territory_id, stage, status, amount, engage_date, close_date, created_at_source,
                source_updated_at, product, account, version_at, version_batch_seq, version_row, batch_id)
       ),
       before AS (
         SELECT o.opportunity_id,
                ROW(o.territory_id, o.stage, o.status, o.amount, o.engage_date, o.close_date, o.created_at_source,
                    o.product, o.account)::text AS data
           FROM opportunities o JOIN incoming i USING (opportunity_id)
       ),
       written AS (
         INSERT INTO opportunities AS o (opportunity_id, territory_id, stage, status, amount, engage_date, close_date,
                created_at_source, source_updated_at, product, account, version_at, version_batch_seq, version_row, batch_id)
         SELECT * FROM incoming
         ON CONFLICT (opportunity_id) DO UPDATE SET
           territory_id = EXCLUDED.territory_id, stage = EXCLUDED.stage, status = EXCLUDED.status,
           amount = EXCLUDED.amount, engage_date = EXCLUDED.engage_date, close_date = EXCLUDED.close_date,
           created_at_source = EXCLUDED.created_at_source, source_updated_at = EXCLUDED.source_updated_at,
           product = EXCLUDED.product, account = EXCLUDED.account, version_at = EXCLUDED.version_at,
           version_batch_seq = EXCLUDED.version_batch_seq, version_row = EXCLUDED.version_row,
           batch_id = EXCLUDED.batch_id, ingested_at = now()
         WHERE (EXCLUDED.version_at, EXCLUDED.version_batch_seq, EXCLUDED.version_row)
             > (o.version_at, o.version_batch_seq, o.version_row)
         RETURNING o.opportunity_id, (xmax = 0) AS inserted,
                   ROW(o.territory_id, o.stage, o.status, o.amount, o.engage_date, o.close_date, o.created_at_source,
                       o.product, o.account)::text AS data
       )
       SELECT count(*) FILTER (WHERE w.inserted) AS inserted,
              count(*) FILTER (WHERE NOT w.inserted AND b.data IS DISTINCT FROM w.data) AS updated,
              count(*) FILTER (WHERE NOT w.inserted AND b.data IS NOT DISTINCT FROM w.data) AS unchanged,
              (SELECT count(*) FROM incoming) - count(*) AS stale
         FROM written w LEFT JOIN before b USING (opportunity_id)`,
      [
        col('opportunity_id'),
        col('territory_id'),
        col('stage'),
        col('status'),
        col('amount'),
        col('engage_date'),
        col('close_date'),
        col('created_at'),
        col('source_updated_at'),
        col('product'),
        col('account'),
        col('version_at'),
        col('version_batch_seq'),
        col('version_row'),
        col('batch_id'),
      ],
    );
    return {
      inserted: parseRequiredDecimal(result.inserted),
      updated: parseRequiredDecimal(result.updated),
      unchanged: parseRequiredDecimal(result.unchanged),
      stale: parseRequiredDecimal(result.stale),
    };
  }

  /** The API view of one opportunity (amount as exact decimal text, dates as YYYY-MM-DD), or null. */
  async findView(id: string): Promise<Record<string, unknown> | null> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT o.opportunity_id, t.code AS territory, o.stage, o.status, o.amount::text AS amount, o.engage_date,
              o.close_date, o.created_at_source AS created_at, o.source_updated_at, o.product, o.account,
              o.version_at, o.version_batch_seq::text AS version_batch_seq, o.version_row, o.batch_id, o.ingested_at
         FROM opportunities o JOIN territories t ON t.id = o.territory_id WHERE o.opportunity_id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }
}
