import { Injectable, Logger } from '@nestjs/common';
import { AssignmentService } from '../../assignment/assignment.service';
import { AppException } from '../../common/errors/app.exception';
import { ReportsService } from '../reports.service';
import type { ReportData } from './chart-data';
import { kpiResultCsv, territoryKpiCsv, type TerritoryExtras } from './report-csv';
import { renderPendingHtml, renderReportHtml, type AssignmentView } from './report-html.renderer';

/**
 * The human-readable formats of a stored report: the HTML page and the CSV exports. Reads the
 * report row and the pilot's frozen assignment (regions, balance); computes nothing statistical.
 */
@Injectable()
export class ReportExportService {
  private readonly logger = new Logger(ReportExportService.name);

  constructor(
    private readonly reports: ReportsService,
    private readonly assignments: AssignmentService,
  ) {}

  /**
   * The report as one self-contained HTML page; a short status page while it is queued or
   * running, or when it failed.
   * @throws PILOT_NOT_FOUND / REPORT_NOT_FOUND
   */
  async html(pilotId: string, reportId: string): Promise<string> {
    const r = await this.reports.get(pilotId, reportId, true);
    const meta = { report_id: r.report_id, pilot_id: r.pilot_id, status: r.status, requested_at: r.requested_at, completed_at: r.completed_at };
    if (r.status !== 'completed' || !r.result) return renderPendingHtml({ ...meta, error: r.error });
    const base = `/pilots/${pilotId}/reports/${reportId}`;
    return renderReportHtml({
      report: r.result as ReportData,
      meta,
      assignment: await this.assignmentView(pilotId),
      links: { json: base, kpisCsv: `${base}/kpis.csv`, territoriesCsv: `${base}/territories.csv` },
    });
  }

  /**
   * Territory-level KPI values per arm and period (pre-period rows when the report stores them).
   * @throws REPORT_NOT_FOUND; INVALID_STATE while the report is not completed
   */
  async territoriesCsv(pilotId: string, reportId: string): Promise<string> {
    const report = await this.completed(pilotId, reportId);
    const view = await this.assignmentView(pilotId);
    const extras = new Map<string, TerritoryExtras>((view?.units ?? []).map((u) => [u.territory_code, { region: u.region ?? null }]));
    return territoryKpiCsv(report, extras);
  }

  /** The KPI result table. @throws REPORT_NOT_FOUND; INVALID_STATE while the report is not completed */
  async kpisCsv(pilotId: string, reportId: string): Promise<string> {
    return kpiResultCsv(await this.completed(pilotId, reportId));
  }

  private async completed(pilotId: string, reportId: string): Promise<ReportData> {
    const r = await this.reports.get(pilotId, reportId, true);
    if (r.status !== 'completed' || !r.result) {
      throw new AppException('INVALID_STATE', `Report ${reportId} is ${r.status}; its CSV exports exist once it is completed`, { status: r.status });
    }
    return r.result as ReportData;
  }

  /** The assignment with regions and balance; null (the page then says so) when it cannot be read. */
  private async assignmentView(pilotId: string): Promise<AssignmentView | null> {
    try {
      return (await this.assignments.get(pilotId)) as unknown as AssignmentView;
    } catch (err) {
      this.logger.warn(`assignment of pilot ${pilotId} not shown in its report: ${(err as Error).message}`);
      return null;
    }
  }
}
