import { randomUUID } from 'crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
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

type StoredRow = { opportunity_id: string; changed_at: Date; field: HistoryField; old_value: string | null; new_value: string | null; source_row: number };

/** Stores opportunity field histories and answers as-of questions from them (docs/kpis.md). */
@Injectable()
export class FieldHistoryService {
  constructor(private readonly ds: DataSource) {}

  /**
   * Parses `records` (any shape of {@link parseHistoryRecord}); stores the good rows' changes in one
   * INSERT, reports each bad row with its 1-based number and reasons, and the anomalies of the
   * stored rows. Nothing is stored when no row is good.
   */
  async upload(records: Record<string, unknown>[]): Promise<HistoryUploadResult> {
    const events: HistoryEvent[] = [];
    const rejected: HistoryUploadResult['rejected_rows'] = [];
    let accepted = 0;
    records.forEach((r, i) => {
      const res = parseHistoryRecord(r, i + 1);
      if (res.ok) {
        accepted += 1;
        events.push(...res.events);
      } else rejected.push({ row_number: i + 1, reasons: res.reasons });
    });
    const uploadId = randomUUID();
    if (events.length > 0) {
      await this.ds.query(
        `INSERT INTO opportunity_field_history (upload_id, source_row, field, opportunity_id, changed_at, old_value, new_value, new_status)
         SELECT $1::uuid, * FROM unnest($2::int[], $3::varchar[], $4::varchar[], $5::timestamptz[], $6::text[], $7::text[], $8::varchar[])`,
        [uploadId, events.map((e) => e.row), events.map((e) => e.field), events.map((e) => e.opportunityId),
          events.map((e) => e.changedAt.toISOString()), events.map((e) => e.oldValue), events.map((e) => e.newValue),
          // the deal status of a stage change, for the SQL as-of state (opportunity_history_as_of)
          events.map((e) => (e.field === 'stage' && e.newValue !== null ? statusOfStage(e.newValue) : null))],
      );
    }
    const touched = [...new Set(events.map((e) => e.opportunityId))];
    const mine = new Set(events.map((e) => `${e.opportunityId}|${e.row}`));
    const anomalies = touched.length ? (await this.anomaliesOf(touched, uploadId)).filter((a) => mine.has(`${a.opportunity_id}|${a.row}`)) : [];
    return { upload_id: uploadId, rows_received: records.length, rows_accepted: accepted, changes_stored: events.length, rejected_rows: rejected, anomalies };
  }

  /** Every stored change of the given opportunities (all when `ids` is null). */
  private async load(ids: string[] | null): Promise<(HistoryEvent & { upload: string })[]> {
    const rows: (StoredRow & { upload_id: string })[] = await this.ds.query(
      `SELECT upload_id, opportunity_id, changed_at, field, old_value, new_value, source_row FROM opportunity_field_history
        WHERE ($1::varchar[] IS NULL OR opportunity_id = ANY($1)) ORDER BY changed_at, received_at, source_row`,
      [ids],
    );
    return rows.map((r) => ({ opportunityId: r.opportunity_id, changedAt: r.changed_at, field: r.field, oldValue: r.old_value, newValue: r.new_value, row: r.source_row, upload: r.upload_id }));
  }

  /**
   * Anomalies over the stored histories of `ids` (all opportunities when null). With `uploadId`,
   * only those of that upload's rows.
   */
  async anomaliesOf(ids: string[] | null, uploadId: string | null = null): Promise<(HistoryAnomaly & { upload_id: string })[]> {
    const events = await this.load(ids);
    const byOpp = new Map<string, (HistoryEvent & { upload: string })[]>();
    for (const e of events) byOpp.set(e.opportunityId, [...(byOpp.get(e.opportunityId) ?? []), e]);
    const out: (HistoryAnomaly & { upload_id: string })[] = [];
    for (const evs of byOpp.values()) {
      // Row numbers repeat across uploads: judge on positions, then give each anomaly its own row back.
      for (const a of historyAnomalies(evs.map((e, i) => ({ ...e, row: i })))) {
        const src = evs[a.row];
        if (uploadId === null || src.upload === uploadId) out.push({ ...a, row: src.row, upload_id: src.upload });
      }
    }
    return out.sort((a, b) => a.upload_id.localeCompare(b.upload_id) || a.row - b.row);
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
