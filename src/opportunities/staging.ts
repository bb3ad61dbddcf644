import { once } from 'node:events';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import type { EntityManager, QueryRunner } from 'typeorm';
import { utcInstantText } from '../common/utils/dates';
import { parseOpportunityRow, RawOpportunityRow } from './ingestion/opportunity-row.parser';

/**
 * Per-batch staging tables. A batch's rows are parsed once at intake and written with PostgreSQL
 * `COPY … FROM STDIN` into `opportunity_staging.b_<batch id>`, a table LIST-partitioned by
 * `chunk` = FNV-1a hash of opportunity_id mod the number of chunks. Every row of one opportunity
 * lands in one partition, so the ingestion job can upsert partition by partition (progress between
 * partitions) and still pick each opportunity's newest row of the whole batch. Rejected rows are
 * staged too, with their reasons; the job moves them to opportunity_batch_rejections in the same
 * transaction as the upsert. The job drops the table when the batch is done.
 */
export const STAGING_SCHEMA = 'opportunity_staging';

/** Rows per staging partition we aim for; at most MAX_CHUNKS partitions. */
export const ROWS_PER_CHUNK = 10_000;
export const MAX_CHUNKS = 16;

/** `opportunity_staging."b_<32 hex>"`, or one partition of it. */
export function stagingTable(batchId: string, chunk?: number): string {
  const base = `b_${batchId.replace(/-/g, '')}`;
  if (!/^b_[0-9a-f]{32}$/.test(base)) throw new Error(`not a batch id: ${batchId}`);
  return `${STAGING_SCHEMA}."${base}${chunk === undefined ? '' : `_p${chunk}`}"`;
}

/** Number of partitions for a batch of `rows` rows (unknown for a CSV upload: the maximum). */
export function chunkCountFor(rows: number | null): number {
  if (rows === null) return MAX_CHUNKS;
  return Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(rows / ROWS_PER_CHUNK)));
}

/** 32-bit FNV-1a of a string's UTF-16 code units (stable, fast; only used to spread ids). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const STAGING_COLUMNS =
  'row_number, chunk, opportunity_id, territory_id, owner, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at, product, account, reasons, currency';

/** Creates the batch's staging table and its partitions inside the caller's transaction. */
export async function createStagingTable(em: EntityManager, batchId: string, chunks: number): Promise<void> {
  await em.query(
    `CREATE TABLE ${stagingTable(batchId)} (
       row_number integer NOT NULL,
       chunk smallint NOT NULL,
       opportunity_id varchar(128),
       territory_id uuid,
       owner varchar(128),
       stage varchar(64),
       status varchar(8),
       amount numeric(16,2),
       engage_date date,
       close_date date,
       created_at_source timestamptz,
       source_updated_at timestamptz,
       product varchar(128),
       account varchar(256),
       reasons text[],
       currency char(3)
     ) PARTITION BY LIST (chunk)`,
  );
  for (let k = 0; k < chunks; k++) {
    await em.query(`CREATE TABLE ${stagingTable(batchId, k)} PARTITION OF ${stagingTable(batchId)} FOR VALUES IN (${k})`);
  }
}

/** Drops a batch's staging table (no error when it is already gone). */
export async function dropStagingTable(em: EntityManager, batchId: string): Promise<void> {
  await em.query(`DROP TABLE IF EXISTS ${stagingTable(batchId)}`);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in PostgreSQL COPY text format (`\N` for null). */
function copyValue(v: string | null): string {
  if (v === null) return '\\N';
  return NEEDS_ESCAPE.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : v;
}

/** A text[] literal for COPY text format. */
function copyTextArray(items: string[]): string {
  return copyValue(`{${items.map((r) => `"${r.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
}

/**
 * Parses rows (canonical field names) and streams them into a staging table through one COPY on
 * the query runner's connection. Backpressure as for a Writable: {@link add} returns false when
 * PostgreSQL is slower than the producer; await {@link drained} then. Call {@link add} for every
 * row, then {@link finish}.
 */
export class StagingWriter {
  private stream: Writable | null = null;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private done: Promise<void> | null = null;
  rows = 0;
  rejected = 0;

  constructor(
    private readonly qr: QueryRunner,
    private readonly batchId: string,
    private readonly chunks: number,
    private readonly territoryIds: ReadonlyMap<string, string>,
  ) {}

  private open(): Writable {
    const client = (this.qr as unknown as { databaseConnection: PoolClient }).databaseConnection;
    const stream = client.query(copyFrom(`COPY ${stagingTable(this.batchId)} (${STAGING_COLUMNS}) FROM STDIN`));
    this.done = new Promise<void>((resolve, reject) => {
      stream.on('finish', () => resolve());
      stream.on('error', reject);
    });
    // Keep a rejection from surfacing as unhandled before finish() awaits it.
    this.done.catch(() => undefined);
    return stream;
  }

  /**
   * Parses one row and queues its COPY line. Row numbers count from 1 in arrival order unless the
   * caller gives the row's own number (an xlsx sheet row; increasing, as arrival order is).
   * Synchronous, like `Writable.write`: returns false when PostgreSQL is behind, and the caller
   * should await {@link drained} before adding more (memory then stays flat).
   */
  add(raw: RawOpportunityRow, profileReasons?: readonly string[], sourceRowNumber?: number): boolean {
    this.stream ??= this.open();
    const rowNumber = sourceRowNumber ?? this.rows + 1;
    this.rows++;
    let outcome = parseOpportunityRow(raw, this.territoryIds);
    // Reasons an import profile found (e.g. an unknown HubSpot dealstage) come first; the row is rejected.
    if (profileReasons?.length) {
      const id = typeof raw.opportunity_id === 'string' && raw.opportunity_id.trim() !== '' && raw.opportunity_id.trim().length <= 128 ? raw.opportunity_id.trim() : null;
      outcome = { ok: false, opportunity_id: id, reasons: [...profileReasons, ...(outcome.ok ? [] : outcome.reasons.filter((r) => !/^unknown stage /.test(r)))] };
    }
    let line: string;
    if (outcome.ok) {
      const r = outcome.row;
      line = [
        String(rowNumber),
        String(fnv1a(r.opportunity_id) % this.chunks),
        copyValue(r.opportunity_id),
        r.territory_id,
        copyValue(r.owner),
        copyValue(r.stage),
        r.status,
        r.amount ?? '\\N',
        r.engage_date ?? '\\N',
        r.close_date ?? '\\N',
        r.created_at ? utcInstantText(r.created_at) : '\\N',
        r.source_updated_at ? utcInstantText(r.source_updated_at) : '\\N',
        copyValue(r.product),
        copyValue(r.account),
        '\\N',
        r.currency ?? '\\N',
      ].join('\t');
    } else {
      this.rejected++;
      const id = outcome.opportunity_id;
      line = [String(rowNumber), id ? String(fnv1a(id) % this.chunks) : '0', copyValue(id), ...Array(11).fill('\\N'), copyTextArray(outcome.reasons), '\\N'].join('\t');
    }
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    return this.bufferedBytes >= 64 * 1024 ? this.flush() : true;
  }

  /** Resolves when the COPY can take more (at once when it can); rejects when the COPY failed. */
  drained(): Promise<void> {
    if (!this.stream || !this.stream.writableNeedDrain) return Promise.resolve();
    return Promise.race([once(this.stream, 'drain').then(() => undefined), this.done!]);
  }

  /** Sends the buffered lines; false when the COPY stream is full (see {@link drained}). */
  private flush(): boolean {
    if (this.buffer.length === 0 || !this.stream) return true;
    const chunk = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.bufferedBytes = 0;
    return this.stream.write(chunk);
  }

  /**
   * Ends the COPY; resolves when PostgreSQL has stored every row. Then ANALYZEs the staging table
   * (a sample), so the upsert's plan knows its size instead of guessing. A small sample (statistics
   * target 10: 3,000 rows per partition) is enough for that: the default target took 3.6 s of a
   * 1,000,000-row upload (16 partitions and their parent), this one a tenth of it.
   */
  async finish(): Promise<void> {
    if (!this.stream) return;
    if (!this.flush()) await this.drained();
    this.stream.end();
    await this.done;
    await this.qr.query(`SET LOCAL default_statistics_target = 10`);
    await this.qr.query(`ANALYZE ${stagingTable(this.batchId)}`);
  }

  /** Aborts a COPY in progress (the caller rolls the transaction back). */
  abort(err: Error): void {
    this.stream?.destroy(err);
  }
}
