import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { bigintTransformer } from '../common/database/transformers';
import { EnvironmentVariables } from '../config/env.validation';
import { PilotRepository } from '../pilots/pilot.repository';
import { JobProducer } from '../queues/job-producer.service';
import { requeuePending } from '../queues/requeue-pending';
import { ReportEntity } from './report.entity';
import { RequestReportDto } from './dto/request-report.dto';
import { parseAsOf, parseInstant } from '../opportunities/ingestion/dates';

/** Requests and reads pilot reports; the analysis job computes them. */
@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly producer: JobProducer,
    private readonly env: EnvironmentVariables,
  ) {}

  /**
   * Stores a queued report for a launched pilot and enqueues its analysis job: three short
   * statements and one Redis add; the computation is the worker's.
   * @throws PILOT_NOT_FOUND; INVALID_STATE before launch (there is no frozen assignment to analyse)
   */
  async request(pilotId: string, asOf: RequestReportDto = {}) {
    const pilot = await this.pilots.getById(pilotId);
    if (pilot.status === 'draft' || pilot.status === 'in_review' || pilot.status === 'approved') {
      throw new AppException('INVALID_STATE', 'A report needs a launched pilot (its assignment frozen); launch it first', { status: pilot.status });
    }
    const pinned = await this.pinnedData(asOf);
    // One statement (no save() transaction around it): under load every round trip waits for a pooled connection.
    const [report]: { id: string; status: string }[] = await this.dataSource.query(
      `INSERT INTO reports (pilot_id, status, data_version, as_of, history_received_by) VALUES ($1, 'queued', $2, $3, $4) RETURNING id, status`,
      [pilotId, pinned.dataVersion, pinned.asOf, pinned.historyReceivedBy],
    );
    const enqueued = await this.producer.enqueueReport(report.id);
    if (enqueued) await this.markEnqueued(report.id);
    return {
      report_id: report.id,
      pilot_id: pilotId,
      status: report.status,
      enqueued,
      status_url: `/pilots/${pilotId}/reports/${report.id}`,
    };
  }

  /**
   * Records that the report's job is in Redis, unless a worker already holds the row: a worker
   * picks the job up within milliseconds and keeps the row locked while it computes the report
   * (seconds), and a plain UPDATE would wait for all of it (issue 15: POST took 8–10 s under load).
   * Skipping is safe: a locked row is being computed (`status` running, `started_at` set), which
   * is all the requeue sweeper needs. @returns whether enqueued_at was written
   */
  async markEnqueued(reportId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH marked AS (UPDATE reports SET enqueued_at = now() WHERE id = (SELECT id FROM reports WHERE id = $1 FOR UPDATE SKIP LOCKED) RETURNING id)
       SELECT id FROM marked`,
      [reportId],
    );
    return rows.length > 0;
  }

  /**
   * The data a report is pinned to, from the optional request body: a data version that exists
   * (0 up to the latest), an as-of instant ({@link parseAsOf}) and, with it, the instant up to
   * which field-history rows are read. @throws VALIDATION_FAILED
   */
  private async pinnedData(body: RequestReportDto): Promise<{ dataVersion: number | null; asOf: Date | null; historyReceivedBy: Date | null }> {
    const details: { path: string; errors: string[] }[] = [];
    let asOf: Date | null = null;
    if (body.as_of !== undefined) {
      const parsed = parseAsOf(body.as_of);
      if (!parsed.ok || !parsed.value) details.push({ path: 'as_of', errors: [parsed.ok ? 'as_of must not be empty' : parsed.reason] });
      else asOf = parsed.value;
    }
    let historyReceivedBy: Date | null = null;
    if (body.history_received_by !== undefined) {
      const parsed = parseInstant(body.history_received_by, 'history_received_by');
      if (!parsed.ok || !parsed.value) details.push({ path: 'history_received_by', errors: [parsed.ok ? 'history_received_by must not be empty' : parsed.reason] });
      else if (body.as_of === undefined) details.push({ path: 'history_received_by', errors: ['history_received_by needs as_of (it pins the field histories an as-of report reads)'] });
      else historyReceivedBy = parsed.value;
    }
    if (body.data_version !== undefined) {
      const [{ latest }]: { latest: string }[] = await this.dataSource.query(`SELECT coalesce(max(data_version), 0)::text AS latest FROM opportunity_batches`);
      if (body.data_version > Number(latest)) details.push({ path: 'data_version', errors: [`must be at most the latest data version, ${latest}`] });
    }
    if (details.length) throw new AppException('VALIDATION_FAILED', 'The report cannot be pinned to that data', details);
    return { dataVersion: body.data_version ?? null, asOf, historyReceivedBy };
  }

  /** A report; `includeTerritories: false` leaves out the per-territory rows. @throws REPORT_NOT_FOUND */
  async get(pilotId: string, reportId: string, includeTerritories = true) {
    const r = await this.dataSource.getRepository(ReportEntity).findOne({ where: { id: reportId, pilotId } });
    if (!r) throw new AppException('REPORT_NOT_FOUND', `No report ${reportId} for pilot ${pilotId}`);
    return {
      report_id: r.id,
      pilot_id: r.pilotId,
      status: r.status,
      requested_at: r.requestedAt,
      started_at: r.startedAt,
      completed_at: r.completedAt,
      data_cutoff_at: r.dataCutoffAt,
      data_version: r.dataVersion,
      as_of: r.asOf,
      error: r.error,
      result: r.result && !includeTerritories ? { ...r.result, territories: undefined } : r.result,
    };
  }

  /**
   * The JSON answer of GET /pilots/:id/reports/:reportId with the territories, as text: the same
   * bytes as `JSON.stringify(await get(pilotId, reportId, true))`, but the stored `result` (a `json`
   * column, so PostgreSQL keeps the text the worker wrote) is spliced in as read, never parsed into
   * objects and serialized again. Under load that parse/stringify of a ~120 kB report per read was
   * the API's main allocation and its longest GC pauses (docs/performance.md, "Under load").
   * @throws REPORT_NOT_FOUND
   */
  async getJsonText(pilotId: string, reportId: string): Promise<string> {
    const [r]: { id: string; pilot_id: string; status: string; requested_at: Date; started_at: Date | null; completed_at: Date | null; data_cutoff_at: Date | null; data_version: string | null; as_of: Date | null; error: string | null; result: string | null }[] =
      await this.dataSource.query(
        `SELECT id, pilot_id, status, requested_at, started_at, completed_at, data_cutoff_at, data_version, as_of, error, result::text AS result
           FROM reports WHERE id = $1 AND pilot_id = $2`,
        [reportId, pilotId],
      );
    if (!r) throw new AppException('REPORT_NOT_FOUND', `No report ${reportId} for pilot ${pilotId}`);
    const head = JSON.stringify({
      report_id: r.id,
      pilot_id: r.pilot_id,
      status: r.status,
      requested_at: r.requested_at,
      started_at: r.started_at,
      completed_at: r.completed_at,
      data_cutoff_at: r.data_cutoff_at,
      data_version: bigintTransformer.from(r.data_version) as number | null,
      as_of: r.as_of,
      error: r.error,
    });
    return `${head.slice(0, -1)},"result":${r.result ?? 'null'}}`;
  }

  /**
   * The stored HTML page of a report, or null when none is stored yet (not completed, or completed
   * before pages were stored). Reads only that column, never the result. @throws REPORT_NOT_FOUND
   */
  async storedHtml(pilotId: string, reportId: string): Promise<string | null> {
    const [row]: { html: string | null }[] = await this.dataSource.query(`SELECT html FROM reports WHERE id = $1 AND pilot_id = $2`, [reportId, pilotId]);
    if (!row) throw new AppException('REPORT_NOT_FOUND', `No report ${reportId} for pilot ${pilotId}`);
    return row.html;
  }

  /**
   * Stores the page of a completed report that has none yet (only the first writer wins: two
   * readers rendering at once store one page) and returns the stored page.
   */
  async storeHtml(reportId: string, html: string): Promise<string> {
    await this.dataSource.query(`UPDATE reports SET html = $2 WHERE id = $1 AND status = 'completed' AND html IS NULL`, [reportId, html]);
    const [row]: { html: string | null }[] = await this.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [reportId]);
    return row?.html ?? html;
  }

  /** The pilot's reports, newest first (at most 100; id, status and times). @throws PILOT_NOT_FOUND */
  async list(pilotId: string) {
    await this.pilots.getById(pilotId);
    const rows = await this.dataSource.getRepository(ReportEntity).find({
      where: { pilotId },
      order: { requestedAt: 'DESC' },
      select: { id: true, status: true, requestedAt: true, completedAt: true },
      take: 100,
    });
    return rows.map((r) => ({ report_id: r.id, status: r.status, requested_at: r.requestedAt, completed_at: r.completedAt }));
  }

  /** Re-enqueues reports persisted but never (or long ago) enqueued; called by the requeue sweeper. */
  async requeuePending(): Promise<number> {
    const timing = { enqueueTimeoutMs: this.env.ENQUEUE_TIMEOUT_MS, staleMs: this.env.REQUEUE_STALE_MS };
    return requeuePending(this.dataSource, 'reports', timing, (id) => this.producer.enqueueReport(id));
  }
}

