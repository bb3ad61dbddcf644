import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import { DataSource, QueryRunner } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { canonicalJson } from '../common/utils/canonical-json';
import { EnvironmentVariables } from '../config/env.validation';
import { JobProducer } from '../queues/job-producer.service';
import { BatchRepository } from './batch.repository';
import { BatchAcceptedDto } from './dto/create-batch.dto';
import { resolveColumnMapping, ResolvedMapping, rowMapper } from './ingestion/column-mapping';
import { readJsonBatch } from './import-profiles/json-rows';
import { ImportSourceService } from './import-profiles/import-sources';
import { CompiledProfileMapping, compileProfileMapping, ImportProfile } from './import-profiles/profiles';
import { OpportunityBatchEntity } from './opportunity-batch.entity';
import { chunkCountFor, createStagingTable, dropStagingTable, StagingWriter } from './staging';
import { TerritoryRepository } from '../territories/territory.repository';
import { countBatchWarnings, findBatchWarnings } from './batch-warnings';
import { FormatOverride } from './upload-decoding';
import { readUploadRows, UploadDetected } from './upload-rows';
import { Upload, uploadOf } from './upload-stream';

/**
 * Receives opportunity batches: stores them in PostgreSQL first (so nothing is lost if Redis is
 * down), then enqueues an `ingestion` job that carries only the batch id.
 */
@Injectable()
export class BatchService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly batches: BatchRepository,
    private readonly producer: JobProducer,
    private readonly env: EnvironmentVariables,
    private readonly territories: TerritoryRepository,
    private readonly sources: ImportSourceService,
  ) {}

  /**
   * Stores a JSON batch (parsed rows COPied into its staging table, see staging.ts) and enqueues it. With an Idempotency-Key, re-sending the same rows returns
   * the first batch; different rows under a used key are a 409.
   * (The row limit is enforced before validation by BatchSizeGuard.) @throws IDEMPOTENCY_CONFLICT
   */
  async createFromJson(body: unknown, idempotencyKey: string | null, profileName?: string, sourceName?: string): Promise<BatchAcceptedDto> {
    const { profile, columnMap } = await this.sources.resolve(profileName, sourceName);
    const { rows, compiled } = await readJsonBatch(body, profile, columnMap);
    // The profile is part of the content (the same rows read by another profile are other data).
    const contentHash = createHash('sha256').update(canonicalJson(profile.name === 'pilotlab' ? rows : { profile: profile.name, rows })).digest('hex');
    if (idempotencyKey) {
      const replay = await this.replay(idempotencyKey, contentHash);
      if (replay) return replay;
    }
    let batch: OpportunityBatchEntity;
    try {
      batch = await this.inTransaction(async (qr) => {
        const repo = qr.manager.getRepository(OpportunityBatchEntity);
        const chunks = chunkCountFor(rows.length);
        const b = await repo.save(
          repo.create({ source: 'json', status: 'queued', idempotencyKey, contentHash, rowCount: rows.length, stagingChunks: chunks }),
        );
        await createStagingTable(qr.manager, b.id, chunks);
        const writer = new StagingWriter(qr, b.id, chunks, await this.territories.idsByCode(qr.manager));
        try {
          for (const record of rows) {
            const { row, reasons } = compiled.read(record);
            if (!writer.add(row, reasons)) await writer.drained();
          }
          await writer.finish();
        } catch (err) {
          writer.abort(err as Error);
          throw err;
        }
        return b;
      });
    } catch (err) {
      if (idempotencyKey && isUniqueViolation(err)) {
        const replay = await this.replay(idempotencyKey, contentHash);
        if (replay) return replay;
      }
      throw err;
    }
    return this.enqueue(batch, false);
  }

  /**
   * Streams a table upload, a CSV or an .xlsx workbook (multipart field `file`, a `text/csv` body or
   * an xlsx body; upload-stream.ts tells them apart), through its reader (upload-rows.ts: the CSV
   * reader, or exceljs's streaming workbook reader for one worksheet) and the same row mapping and
   * parser into the batch's staging table with one PostgreSQL COPY, inside one transaction: a
   * malformed file stores nothing. Memory stays flat whatever the file size (backpressure from
   * the COPY to the socket). CSV row numbers count data rows from 1 (header excluded); an xlsx's
   * are its sheet rows (as Excel shows them).
   * @param mappingJson optional JSON object canonical field → CSV header
   * @param worksheet `?worksheet=` of an xlsx (null: its first sheet)
   * @throws MALFORMED_CSV, MALFORMED_XLSX, UNSUPPORTED_XLSX, WORKSHEET_NOT_FOUND, VALIDATION_FAILED
   *   (mapping, an option of the other file kind), BATCH_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE
   */
  async createFromCsv(
    req: Request,
    mappingJson: string | undefined,
    idempotencyKey: string | null,
    format: FormatOverride = { delimiter: null, encoding: null },
    profileName?: string,
    sourceName?: string,
    worksheet: string | null = null,
  ): Promise<BatchAcceptedDto> {
    const resolved = await this.sources.resolve(profileName, sourceName);
    const profile = resolved.profile;
    // ?mapping= overrides the source's stored column map field by field.
    const given = parseMapping(mappingJson);
    const explicit = resolved.columnMap || given ? { ...(resolved.columnMap ?? {}), ...(given ?? {}) } : null;
    if (idempotencyKey) {
      const existing = await this.batches.findByIdempotencyKey(idempotencyKey);
      if (existing) return this.replayCsv(existing, (await uploadOf(req)).stream);
    }
    const upload = await uploadOf(req);
    const file = upload.stream;
    const hash = createHash('sha256');
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const repo = qr.manager.getRepository(OpportunityBatchEntity);
      const chunks = chunkCountFor(null);
      const batch = await repo.save(repo.create({ source: 'csv', status: 'queued', idempotencyKey, rowCount: 0, stagingChunks: chunks }));
      await createStagingTable(qr.manager, batch.id, chunks);
      const territoryIds = await this.territories.idsByCode(qr.manager);
      const { rowCount, mapping, detected } = await this.streamRows(new StagingWriter(qr, batch.id, chunks, territoryIds), upload, explicit, hash, { format, worksheet }, profile);
      await repo.update(batch.id, {
        rowCount,
        columnMapping: mapping.mapping as Record<string, string>,
        ignoredColumns: mapping.ignored_columns,
        contentHash: hash.digest('hex'),
      });
      await qr.commitTransaction();
      batch.rowCount = rowCount;
      return { ...(await this.enqueue(batch, false)), detected };
    } catch (err) {
      await qr.rollbackTransaction();
      if (idempotencyKey && isUniqueViolation(err)) {
        // The key's batch was created concurrently, before this upload was read: compare contents.
        const existing = await this.batches.findByIdempotencyKey(idempotencyKey);
        if (existing) return this.replayCsv(existing, file);
      }
      file.resume();
      throw err;
    } finally {
      await qr.release();
    }
  }

  /** Status, counts, progress and the first page of rejected rows. @throws BATCH_NOT_FOUND */
  async status(id: string, opts: { limit: number; offset: number }) {
    const b = await this.batches.findById(id);
    if (!b) throw new AppException('BATCH_NOT_FOUND', `No batch with id ${id}`);
    const rejected = await this.batches.findRejections(id, opts.limit, opts.offset);
    const [warnings, warningCount] = await Promise.all([findBatchWarnings(this.dataSource, id, opts.limit, opts.offset), countBatchWarnings(this.dataSource, id)]);
    return {
      batch_id: b.id,
      source: b.source,
      status: b.status,
      rows_received: b.rowCount,
      rows_processed: b.status === 'completed' ? b.rowCount : b.rowsProcessed,
      percent_done: b.rowCount === 0 ? 100 : Math.round((1000 * (b.status === 'completed' ? b.rowCount : b.rowsProcessed)) / b.rowCount) / 10,
      data_version: b.dataVersion,
      rows_accepted: b.rowsAccepted,
      rows_rejected: b.rowsRejected,
      rows_inserted: b.rowsInserted,
      rows_updated: b.rowsUpdated,
      rows_unchanged: b.rowsUnchanged,
      rows_stale: b.rowsStale,
      column_mapping: b.columnMapping,
      ignored_columns: b.ignoredColumns,
      error: b.error,
      received_at: b.receivedAt,
      started_at: b.startedAt,
      completed_at: b.completedAt,
      rejected_rows: { limit: opts.limit, offset: opts.offset, items: rejected },
      warnings: { total: warningCount, limit: opts.limit, offset: opts.offset, items: warnings },
    };
  }

  /**
   * Cancels a batch that is queued or processing: it is marked `cancelled` at once; a job that is
   * processing it stops at the next staging partition and rolls back, so nothing of it is stored.
   * The staging table is dropped here when no job holds it, else by that job.
   * @throws BATCH_NOT_FOUND; INVALID_STATE when the batch already completed, failed or was cancelled
   */
  async cancel(id: string) {
    const b = await this.batches.findById(id);
    if (!b) throw new AppException('BATCH_NOT_FOUND', `No batch with id ${id}`);
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH u AS (UPDATE opportunity_batches SET status = 'cancelled', completed_at = now() WHERE id = $1 AND status IN ('queued', 'processing') RETURNING id)
       SELECT id FROM u`,
      [id],
    );
    if (rows.length === 0) throw new AppException('INVALID_STATE', `Batch ${id} is ${b.status}; only a queued or processing batch can be cancelled`, { status: b.status });
    try {
      await this.dataSource.transaction(async (em) => {
        await em.query(`SET LOCAL lock_timeout = '1s'`);
        await dropStagingTable(em, id);
      });
    } catch {
      /* a job holds the staging table: it drops it when it sees the cancel */
    }
    return { batch_id: id, status: 'cancelled' };
  }

  /**
   * Runs a failed batch again: back to `queued` and enqueued (its staged rows are kept until it
   * completes). Processing is idempotent, so nothing is counted twice.
   * @throws BATCH_NOT_FOUND; INVALID_STATE unless the batch failed
   */
  async retry(id: string): Promise<BatchAcceptedDto> {
    const b = await this.batches.findById(id);
    if (!b) throw new AppException('BATCH_NOT_FOUND', `No batch with id ${id}`);
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH u AS (UPDATE opportunity_batches SET status = 'queued', error = NULL, completed_at = NULL, started_at = NULL, rows_processed = 0
                   WHERE id = $1 AND status = 'failed' RETURNING id)
       SELECT id FROM u`,
      [id],
    );
    if (rows.length === 0) throw new AppException('INVALID_STATE', `Batch ${id} is ${b.status}; only a failed batch can be retried`, { status: b.status });
    b.status = 'queued';
    return this.enqueue(b, false);
  }

  /** Re-enqueues batches whose enqueue failed (Redis was down); called by the requeue sweeper. */
  async requeuePending(): Promise<number> {
    const pending = await this.batches.findNeedingEnqueue(this.env.ENQUEUE_TIMEOUT_MS, this.env.REQUEUE_STALE_MS);
    let n = 0;
    for (const { id } of pending) {
      const ok = await this.producer.enqueueBatch(id);
      await this.batches.markEnqueued(id, ok);
      if (!ok) break;
      n++;
    }
    return n;
  }

  /** Runs `work` in one transaction on a dedicated connection (COPY needs the raw client). */
  private async inTransaction<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const out = await work(qr);
      await qr.commitTransaction();
      return out;
    } catch (err) {
      await qr.rollbackTransaction();
      throw err;
    } finally {
      await qr.release();
    }
  }

  private async enqueue(batch: OpportunityBatchEntity, replay: boolean): Promise<BatchAcceptedDto> {
    const ok = await this.producer.enqueueBatch(batch.id);
    await this.batches.markEnqueued(batch.id, ok);
    return toAccepted(batch, ok, replay);
  }

  private async replay(key: string, contentHash: string): Promise<BatchAcceptedDto | null> {
    const existing = await this.batches.findByIdempotencyKey(key);
    if (!existing) return null;
    if (existing.contentHash !== contentHash) {
      throw new AppException('IDEMPOTENCY_CONFLICT', `Idempotency-Key '${key}' was used for different rows (batch ${existing.id})`, {
        batch_id: existing.id,
      });
    }
    return toAccepted(existing, existing.enqueuedAt !== null, true);
  }

  /**
   * A CSV upload under an Idempotency-Key that already has a batch: the same bytes are a replay
   * (the first batch is returned); other bytes are a 409, as for JSON batches. Before this check a
   * different file under a used key was silently answered with the first batch, its rows dropped.
   * Reads (and discards) the upload to hash it. @throws IDEMPOTENCY_CONFLICT
   */
  private async replayCsv(existing: OpportunityBatchEntity, file: Readable): Promise<BatchAcceptedDto> {
    const hash = createHash('sha256');
    for await (const chunk of file) hash.update(chunk as Buffer);
    if (existing.contentHash !== hash.digest('hex')) {
      throw new AppException('IDEMPOTENCY_CONFLICT', `Idempotency-Key '${existing.idempotencyKey}' was used for a different upload (batch ${existing.id})`, {
        batch_id: existing.id,
      });
    }
    return toAccepted(existing, existing.enqueuedAt !== null, true);
  }

  /**
   * Reads the upload's rows (upload-rows.ts: CSV or xlsx) into the staging COPY, a slice of rows at
   * a time, with backpressure all the way from PostgreSQL to the socket; hashes the bytes as they
   * pass. The header picks the column mapping (pilotlab) or the profile's reader (other profiles).
   * @throws MALFORMED_CSV, MALFORMED_XLSX, WORKSHEET_NOT_FOUND, BATCH_TOO_LARGE, VALIDATION_FAILED
   */
  private async streamRows(
    writer: StagingWriter,
    upload: Upload,
    explicit: Record<string, string> | null,
    hash: ReturnType<typeof createHash>,
    options: { format: FormatOverride; worksheet: string | null },
    profile: ImportProfile,
  ): Promise<{ rowCount: number; mapping: ResolvedMapping; detected: UploadDetected }> {
    // Same tick as the pipe into the reader: every raw chunk is also hashed (for Idempotency-Key replays).
    upload.stream.on('data', (chunk: Buffer) => hash.update(chunk));
    let mapping: ResolvedMapping | null = null;
    let add: ((row: readonly string[], rowNumber: number | undefined) => boolean) | null = null;
    const limit = { maxRows: this.env.CSV_MAX_ROWS, message: `A ${upload.kind === 'xlsx' ? 'workbook' : 'CSV'} upload holds at most ${this.env.CSV_MAX_ROWS} rows` };
    let detected: UploadDetected;
    try {
      ({ detected } = await readUploadRows(upload, { ...options, limit }, (rows, header, rowNumbers) => {
        if (!add) ({ mapping, add } = this.rowAdder(writer, profile, header, explicit));
        let full = false;
        for (let i = 0; i < rows.length; i++) full = !add!(rows[i], rowNumbers?.[i]) || full;
        return full ? writer.drained() : undefined;
      }));
      await writer.finish();
    } catch (err) {
      writer.abort(err as Error);
      throw err;
    }
    return { rowCount: writer.rows, mapping: mapping!, detected };
  }

  /**
   * How the rows of one header go into the staging writer: the `pilotlab` profile maps columns to
   * fields (column-mapping.ts, the explicit map first); another profile reads each record by its
   * own column names (issue 13). @throws VALIDATION_FAILED (a mapping naming no column)
   */
  private rowAdder(writer: StagingWriter, profile: ImportProfile, header: readonly string[], explicit: Record<string, string> | null) {
    if (profile.name === 'pilotlab') {
      const mapping = resolveColumnMapping([...header], explicit);
      const toFields = rowMapper(header, mapping.mapping);
      return { mapping, add: (row: readonly string[], n: number | undefined) => writer.add(toFields(row), undefined, n) };
    }
    const compiled: CompiledProfileMapping = compileProfileMapping(profile, [...header], explicit);
    const mapping: ResolvedMapping = { mapping: compiled.mapping as ResolvedMapping['mapping'], ignored_columns: compiled.ignored_columns };
    const columns = header.map((h, i) => [h, i] as const);
    return {
      mapping,
      add: (row: readonly string[], n: number | undefined) => {
        const record: Record<string, string> = {};
        for (const [h, i] of columns) record[h] = row[i];
        const out = compiled.read(record);
        return writer.add(out.row, out.reasons, n);
      },
    };
  }
}

function parseMapping(json: string | undefined): Record<string, string> | null {
  if (json === undefined || json === '') return null;
  try {
    const value: unknown = JSON.parse(json);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, string>;
  } catch {
    /* reported below */
  }
  throw new AppException('VALIDATION_FAILED', 'mapping must be a JSON object of field → CSV column', [
    { path: 'mapping', errors: ['must be a JSON object'] },
  ]);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505' || (err as { driverError?: { code?: string } })?.driverError?.code === '23505';
}

function toAccepted(b: OpportunityBatchEntity, enqueued: boolean, replay: boolean): BatchAcceptedDto {
  return {
    batch_id: b.id,
    status: b.status,
    rows_received: b.rowCount,
    enqueued,
    idempotent_replay: replay,
    status_url: `/opportunities/batches/${b.id}`,
  };
}
