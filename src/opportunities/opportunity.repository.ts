import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';

/** Reads of opportunities (writes: the set-based upsert in ingestion.service.ts). */
@Injectable()
export class OpportunityRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The API view of one opportunity (amount as exact decimal text, dates as YYYY-MM-DD), or null. */
  async findView(id: string): Promise<Record<string, unknown> | null> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT o.opportunity_id, t.code AS territory, o.stage, o.status, o.amount::text AS amount, o.currency, o.engage_date,
              o.close_date, o.created_at_source AS created_at, o.source_updated_at, o.product, o.account, o.owner,
              o.version_at, o.version_batch_seq::text AS version_batch_seq, o.version_row, o.batch_id, o.data_version::text AS data_version, o.ingested_at
         FROM opportunities o JOIN territories t ON t.id = o.territory_id WHERE o.opportunity_id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * The API view of opportunity `id` (see {@link findView}).
   * @throws AppException NOT_FOUND (404) when there is no such opportunity
   */
  async getView(id: string): Promise<Record<string, unknown>> {
    const row = await this.findView(id);
    if (!row) throw new AppException('NOT_FOUND', `No opportunity '${id}'`);
    return row;
  }
}
