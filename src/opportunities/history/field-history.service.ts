import { randomUUID } from 'crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { copyTextValue } from '../../common/utils/copy-text';
import { utcInstantText } from '../../common/utils/dates';
import { AppException } from '../../common/errors/app.exception';
import { parseInstant } from '../ingestion/dates';
import { statusOfStage } from '../ingestion/stage';
import { AsOfKpis, AsOfState, HistoryAnomaly, HistoryEvent, HistoryField, historyAnomalies, kpisOfStates, parseHistoryRecord } from './field-history';

/** The answer to an upload of history records. */
export interface HistoryUploadResult {
  upload_id: string;
  rows_received: number;
  rows_accepted: number;
  changes_stored: number;
  rejected_rows: { row_number: number; reasons: string[] }[];
  /** Anomalies of this upload's rows, judged against every stored change of their opportunities. */
  anomalies: HistoryAnomaly[];
}

/** A stored change and the upload it came with. */
type StoredEvent = HistoryEvent & { upload: string };

const COPY_COLUMNS = 'upload_id, source_row, field, opportunity_id, changed_at, old_value, new_value, new_status';

/**
 * The stored order of changes. The field breaks the tie of one snapshot row's changes (same
 * instant, upload and row) in the order parseHistoryRecord gives them: stage, amount, close date.
 */
const STORED_ORDER = `changed_at, received_at, source_row, CASE field WHEN 'stage' THEN 0 WHEN 'amount' THEN 1 ELSE 2 END`;

/** `a.localeCompare(b)` (default locale and options), without a collator per call. */
const COLLATOR = new Intl.Collator();

/** Rows per COPY chunk: about 64 KB of text for typical rows. */
const COPY_CHUNK_ROWS = 500;

/**
 * The COPY text-format lines of an upload's changes ({@link COPY_COLUMNS}), in chunks of
 * {@link COPY_CHUNK_ROWS} lines; the deal status of a stage change is written for the SQL as-of
 * state (opportunity_history_as_of). @throws Error (from copyTextValue) for a value with a NUL.
 */
function* copyChunks(uploadId: string, events: HistoryEvent[]): Generator<string> {
  let chunk = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const status = e.field === 'stage' && e.newValue !== null ? statusOfStage(e.newValue) : null;
    chunk += `${uploadId}\t${e.row}\t${e.field}\t${copyTextValue(e.opportunityId)}\t${utcInstantText(e.changedAt)}\t${copyTextValue(e.oldValue)}\t${copyTextValue(e.newValue)}\t${status ?? '\\N'}\n`;
    if ((i + 1) % COPY_CHUNK_ROWS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** Events grouped by opportunity (first appearance order), each group in the input's order. */
function groupByOpportunity<E extends HistoryEvent>(events: E[]): Map<string, E[]> {
  const byOpp = new Map<string, E[]>();
  for (const e of events) {
    const list = byOpp.get(e.opportunityId);
    if (list) list.push(e);
    else byOpp.set(e.opportunityId, [e]);
  }
  return byOpp;
}

/** Stores opportunity field histories and answers as-of questions from them (docs/kpis.md). */
@Injectable()
export class FieldHistoryService {
  constructor(private readonly ds: DataSource) {}

  /**
   * Parses `records` (any shape of {@link parseHistoryRecord}); stores the good rows' changes with
   * one `COPY … FROM STDIN` (a single statement: all of them or, when it fails, none), reports each
   * bad row with its 1-based number and reasons, and the anomalies of the stored rows (as
   * {@link anomaliesOf} of this upload would give them). Nothing is stored when no row is good.
   */
  async upload(records: Record<string, unknown>[]): Promise<HistoryUploadResult> {
    const { events, rejected, accepted } = this.parse(records);
    const uploadId = randomUUID();
    if (events.length > 0) await this.store(uploadId, events);
    const anomalies = events.length > 0 ? await this.anomaliesOfUpload(uploadId, events) : [];
    return { upload_id: uploadId, rows_received: records.length, rows_accepted: accepted, changes_stored: events.length, rejected_rows: rejected, anomalies };
  }

  /** The changes of the good records (row = index + 1) and the bad records with their reasons. */
  private parse(records: Record<string, unknown>[]): { events: HistoryEvent[]; rejected: HistoryUploadResult['rejected_rows']; accepted: number } {
    const events: HistoryEvent[] = [];
    const rejected: HistoryUploadResult['rejected_rows'] = [];
    let accepted = 0;
    for (let i = 0; i < records.length; i++) {
      const res = parseHistoryRecord(records[i], i + 1);
      if (res.ok) {
        accepted += 1;
        for (const e of res.events) events.push(e);
      } else rejected.push({ row_number: i + 1, reasons: res.reasons });
    }
    return { events, rejected, accepted };
  }

  /**
   * Streams the changes into opportunity_field_history with one COPY (text format, lines sent in
   * chunks of about 64 KB as PostgreSQL takes them), on a connection of its own. A failure (a NUL
   * in a value, a check, a lost connection) aborts the COPY: PostgreSQL then stores none of them.
   */
  private async store(uploadId: string, events: HistoryEvent[]): Promise<void> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      const client = (qr as unknown as { databaseConnection: PoolClient }).databaseConnection;
      const copy = client.query(copyFrom(`COPY opportunity_field_history (${COPY_COLUMNS}) FROM STDIN`));
      await pipeline(Readable.from(copyChunks(uploadId, events)), copy);
    } finally {
      await qr.release();
    }
  }

  /**
   * The anomalies of this upload's changes, judged against every stored change of their
   * opportunities, in the order {@link anomaliesOf}(touched, uploadId) gives them. An opportunity
   * whose stored changes all come from this upload is judged on `events` as parsed (their stored
   * order: instant, then row, then stage/amount/close date as parsed); only the opportunities that
   * other uploads touched too are reloaded.
   */
  private async anomaliesOfUpload(uploadId: string, events: HistoryEvent[]): Promise<(HistoryAnomaly & { upload_id: string })[]> {
    const byOpp = groupByOpportunity(events);
    const reloaded = await this.load(null, uploadId);
    const out: (HistoryAnomaly & { upload_id: string })[] = this.replay(reloaded, uploadId);
    const shared = new Set(reloaded.map((e) => e.opportunityId));
    for (const [id, evs] of byOpp) {
      if (shared.has(id)) continue;
      // One upload: row numbers do not repeat, so the rows themselves order the events.
      for (const a of historyAnomalies(evs)) out.push({ ...a, upload_id: uploadId });
    }
    // Same row, same opportunity: a stable sort keeps their event order.
    return out.sort((a, b) => a.row - b.row);
  }

  /**
   * Stored changes in their order (instant, upload received, row, field as parsed). `ids` null:
   * every opportunity. With `sharedWith` (an upload id; `ids` is then ignored): every change of
   * the opportunities of that upload that another upload changed too (found through the upload's
   * own rows, so the ids need not be sent).
   */
  private async load(ids: string[] | null, sharedWith: string | null = null): Promise<StoredEvent[]> {
    const rows: { upload_id: string; opportunity_id: string; changed_at: Date; field: HistoryField; old_value: string | null; new_value: string | null; source_row: number }[] =
      await this.ds.query(
        sharedWith === null
          ? `SELECT upload_id, opportunity_id, changed_at, field, old_value, new_value, source_row FROM opportunity_field_history
              WHERE ($1::varchar[] IS NULL OR opportunity_id = ANY($1)) ORDER BY ${STORED_ORDER}`
          : `SELECT upload_id, opportunity_id, changed_at, field, old_value, new_value, source_row FROM opportunity_field_history
              WHERE opportunity_id IN (SELECT m.opportunity_id FROM opportunity_field_history m
                                        WHERE m.upload_id = $1::uuid
                                          AND EXISTS (SELECT 1 FROM opportunity_field_history o WHERE o.opportunity_id = m.opportunity_id AND o.upload_id <> $1::uuid))
              ORDER BY ${STORED_ORDER}`,
        sharedWith === null ? [ids] : [sharedWith],
      );
    const out: StoredEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = { opportunityId: r.opportunity_id, changedAt: r.changed_at, field: r.field, oldValue: r.old_value, newValue: r.new_value, row: r.source_row, upload: r.upload_id };
    }
    return out;
  }

  /**
   * The anomalies of stored changes (any number of opportunities, in stored order). Row numbers
   * repeat across uploads: each history is judged on positions, then each anomaly gets its own row
   * back. With `uploadId`, only those of that upload's rows.
   */
  private replay(events: StoredEvent[], uploadId: string | null): (HistoryAnomaly & { upload_id: string })[] {
    const out: (HistoryAnomaly & { upload_id: string })[] = [];
    for (const evs of groupByOpportunity(events).values()) {
      const positioned = new Array<HistoryEvent>(evs.length);
      for (let i = 0; i < evs.length; i++) {
        const e = evs[i];
        positioned[i] = { opportunityId: e.opportunityId, changedAt: e.changedAt, field: e.field, oldValue: e.oldValue, newValue: e.newValue, row: i };
      }
      for (const a of historyAnomalies(positioned)) {
        const src = evs[a.row];
        if (uploadId === null || src.upload === uploadId) out.push({ ...a, row: src.row, upload_id: src.upload });
      }
    }
    return out;
  }

  /**
   * Anomalies over the stored histories of `ids` (all opportunities when null), by upload then
   * row. With `uploadId`, only those of that upload's rows.
   */
  async anomaliesOf(ids: string[] | null, uploadId: string | null = null): Promise<(HistoryAnomaly & { upload_id: string })[]> {
    return this.replay(await this.load(ids), uploadId).sort((a, b) => COLLATOR.compare(a.upload_id, b.upload_id) || a.row - b.row);
  }

  /**
   * States as known at `when` from the SQL function `opportunity_history_as_of` (migration
   * 1766820000000), the one definition as-of reports read too: each field's latest change at or
   * before `when` (same instant: the later upload, then the later row). `ids` null: every opportunity.
   */
  private async statesAsOf(when: Date, ids: string[] | null): Promise<AsOfState[]> {
    const rows: { opportunity_id: string; stage: string | null; status: AsOfState['status']; amount: string | null; close_date: string | null; known_since: Date }[] = await this.ds.query(
      `SELECT opportunity_id, stage, status, amount::text AS amount, close_date::text AS close_date, known_since
         FROM opportunity_history_as_of($1::timestamptz) WHERE ($2::varchar[] IS NULL OR opportunity_id = ANY($2)) ORDER BY opportunity_id`,
      [when.toISOString(), ids],
    );
    return rows.map((r) => ({ ...r, known_since: r.known_since.toISOString() }));
  }

  /** One opportunity as known at `at` (ISO instant with a zone). 404 when nothing was known then. */
  async stateAsOf(opportunityId: string, at: string): Promise<AsOfState> {
    const [state] = await this.statesAsOf(this.instant(at), [opportunityId]);
    if (!state) throw new AppException('NOT_FOUND', `Opportunity ${opportunityId} has no recorded change at or before ${at}`);
    return state;
  }

  /** KPIs over every stored history as known at `at` (ISO instant with a zone). */
  async kpisAsOf(at: string): Promise<AsOfKpis & { as_of: string }> {
    const when = this.instant(at);
    return { as_of: when.toISOString(), ...kpisOfStates(await this.statesAsOf(when, null), when) };
  }

  private instant(at: string | undefined): Date {
    const p = parseInstant(at, 'at');
    if (!p.ok || !p.value) throw new AppException('VALIDATION_FAILED', p.ok ? 'at (an ISO instant with a zone) is required' : p.reason, { field: 'at' });
    return p.value;
  }
}
