import { Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ReportsService } from '../reports.service';
import type { ReportData } from './chart-data';
import { kpiResultCsv, territoryKpiCsv, type TerritoryExtras } from './report-csv';
import { ReportPageService } from './report-page.service';

/**
 * The human-readable formats of a stored report: the HTML page and the CSV exports. Reads the
 * report row and the pilot's frozen assignment (regions, balance); computes nothing statistical.
 */
@Injectable()
export class ReportExportService {
  constructor(
    private readonly reports: ReportsService,
    private readonly pages: ReportPageService,
  ) {}

  /**
   * The report as one self-contained HTML page; a short status page while it is queued or
   * running, or when it failed. A completed report's page is the one stored when it completed;
   * one completed before pages were stored is rendered once here and stored.
   * @throws REPORT_NOT_FOUND
   */
  async html(pilotId: string, reportId: string): Promise<string> {
    const stored = await this.reports.storedHtml(pilotId, reportId);
    if (stored !== null) return stored;
    const { page, completed } = await this.render(pilotId, reportId);
    return completed ? this.reports.storeHtml(reportId, page) : page;
  }

  /**
   * The page rendered now from the stored report and the pilot's assignment, ignoring any stored
   * page (what every read rendered before pages were stored). @throws REPORT_NOT_FOUND
   */
  async freshHtml(pilotId: string, reportId: string): Promise<string> {
    return (await this.render(pilotId, reportId)).page;
  }

  private async render(pilotId: string, reportId: string): Promise<{ page: string; completed: boolean }> {
    const r = await this.reports.get(pilotId, reportId, true);
    const row = { id: r.report_id, pilotId: r.pilot_id, status: r.status, requestedAt: r.requested_at, completedAt: r.completed_at, error: r.error, result: r.result };
    return { page: await this.pages.render(row), completed: r.status === 'completed' && !!r.result };
  }

  /**
   * Territory-level KPI values per arm and period (pre-period rows when the report stores them).
   * @throws REPORT_NOT_FOUND; INVALID_STATE while the report is not completed
   */
  async territoriesCsv(pilotId: string, reportId: string): Promise<string> {
    const report = await this.completed(pilotId, reportId);
    const view = await this.pages.assignmentView(pilotId);
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
}
