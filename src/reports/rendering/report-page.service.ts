import { Injectable, Logger } from '@nestjs/common';
import { AssignmentService } from '../../assignment/assignment.service';
import type { PilotReport } from '../report.types';
import type { ReportData } from './chart-data';
import { renderPendingHtml, renderReportHtml, type AssignmentView } from './report-html.renderer';

/** The parts of a report row the page shows (as the API reads them from `reports`). */
export interface ReportPageRow {
  id: string;
  pilotId: string;
  status: string;
  requestedAt: Date | string | null;
  completedAt: Date | string | null;
  error?: string | null;
  /** the stored result, as read back from the `json` column (not the worker's in-memory object) */
  result: PilotReport | object | null;
}

/**
 * Renders the HTML page of one report row: the pilot's frozen assignment (regions, balance) is read
 * here, everything else comes from the row. The one renderer of the page: the worker calls it when
 * it completes a report (the stored page), the API for a completed report stored without a page
 * and for the short status page of a report that is not completed.
 */
@Injectable()
export class ReportPageService {
  private readonly logger = new Logger(ReportPageService.name);

  constructor(private readonly assignments: AssignmentService) {}

  /**
   * The whole page of a completed report, or the short status page (queued, running, failed).
   * CPU-heavy for a completed report (the charts): a few hundred ms for a CRM-sized pilot.
   */
  async render(row: ReportPageRow): Promise<string> {
    const meta = { report_id: row.id, pilot_id: row.pilotId, status: row.status, requested_at: row.requestedAt, completed_at: row.completedAt };
    if (row.status !== 'completed' || !row.result) return renderPendingHtml({ ...meta, error: row.error ?? null });
    const base = `/pilots/${row.pilotId}/reports/${row.id}`;
    return renderReportHtml({
      report: row.result as ReportData,
      meta,
      assignment: await this.assignmentView(row.pilotId),
      links: { json: base, kpisCsv: `${base}/kpis.csv`, territoriesCsv: `${base}/territories.csv` },
    });
  }

  /** The assignment with regions and balance; null (the page then says so) when it cannot be read. */
  async assignmentView(pilotId: string): Promise<AssignmentView | null> {
    try {
      return (await this.assignments.get(pilotId)) as unknown as AssignmentView;
    } catch (err) {
      this.logger.warn(`assignment of pilot ${pilotId} not shown in its report: ${(err as Error).message}`);
      return null;
    }
  }
}
