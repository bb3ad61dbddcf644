import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isFewTreatedDesign } from '../../pilots/pilot.entity';
import { daysBetween } from '../../common/utils/dates';
import { EnvironmentVariables } from '../../config/env.validation';
import { ReportGovernanceService } from '../../governance/report-governance.service';
import { KpiKey, kpiValue } from '../../kpis/kpi-catalogue';
import { WEEKLY_PANEL_KPIS, weeklyCalendars, WeeklyPanelField } from '../../stats/weekly-panel';
import { adjustSecondary, compareKpiAsync } from '../comparison/kpi-comparison';
import { fewTreatedKpi } from '../comparison/few-treated-kpi';
import { ReportPageService } from '../rendering/report-page.service';
import { ReportEntity } from '../report.entity';
import { KpiResult, PilotReport } from '../report.types';
import { ReportInputs, ReportInputsLoader } from './report-inputs';
import { assembleReport } from './report-sections';

/**
 * Computes a pilot report: territory KPIs over the test period by SQL aggregation, then every
 * KPI's comparison (kpi-comparison.ts). Idempotent: the report row is locked and a completed
 * report is never recomputed, so a duplicated or retried job changes nothing.
 */
@Injectable()
export class ReportBuilderService {
  private readonly logger = new Logger(ReportBuilderService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly inputs: ReportInputsLoader,
    private readonly env: EnvironmentVariables,
    private readonly governance: ReportGovernanceService,
    private readonly pages: ReportPageService,
  ) {}

  /** Runs report `reportId` (status queued/running → completed). @returns false when already done. */
  async computeReport(reportId: string): Promise<boolean> {
    await this.dataSource.query(
      `UPDATE reports SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1 AND status IN ('queued', 'running')`,
      [reportId],
    );
    return this.dataSource.transaction('REPEATABLE READ', async (em) => {
      const report = await em.getRepository(ReportEntity).findOne({ where: { id: reportId }, lock: { mode: 'pessimistic_write' } });
      if (!report || report.status === 'completed' || report.status === 'failed') return false;
      const result = await this.buildReport(report.id, report.pilotId, em);
      Object.assign(result, await this.governance.addendum(report.id, report.pilotId, result, em));
      const json = JSON.stringify(result);
      // completed_at is the transaction's now() at millisecond precision: the page shows the value a reader reads back.
      const [{ now }]: { now: Date }[] = await em.query(`SELECT date_trunc('milliseconds', now()) AS now`);
      const html = await this.renderPage({ ...report, status: 'completed', completedAt: now, result: JSON.parse(json) as PilotReport });
      await em.query(
        `UPDATE reports SET status = 'completed', completed_at = $4, result = $2::json, data_cutoff_at = $3, html = $5, error = NULL WHERE id = $1`,
        [reportId, json, result.data_cutoff.ingested_at, now, html],
      );
      this.logger.log(`report ${reportId} for pilot ${report.pilotId} completed`);
      return true;
    });
  }

  /**
   * The report's HTML page, rendered from the result as a reader will read it back (the parsed
   * JSON, not the in-memory object), so the stored page is the page a fresh render gives. Null
   * (the API then renders it on first read) when rendering fails: a page is never a reason to
   * fail a computed report.
   */
  private async renderPage(row: ReportEntity): Promise<string | null> {
    try {
      return await this.pages.render(row);
    } catch (err) {
      this.logger.warn(`report ${row.id}: HTML page not stored (${(err as Error).message}); it is rendered on first read`);
      return null;
    }
  }

  async markFailed(reportId: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE reports SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [
      reportId,
      reason.slice(0, 2000),
    ]);
  }

  /**
   * The report of `reportId`: its inputs (report-inputs.ts), every KPI's comparison per treatment
   * arm with the multiplicity adjustment (kpi-comparison.ts), and the descriptive sections
   * (report-sections.ts).
   */
  private async buildReport(reportId: string, pilotId: string, em: DataSource['manager']): Promise<PilotReport> {
    const inputs = await this.inputs.load(reportId, pilotId, em);
    const ri = { maxExact: this.env.RI_MAX_EXACT, draws: this.env.RI_DRAWS };
    return assembleReport(inputs, await this.compareKpis(inputs, ri), ri);
  }

  /**
   * Compares every KPI of the pilot (primary, secondary, guardrail) for every treatment arm against
   * the control with the methods its design allows, then adjusts the secondary and guardrail family.
   */
  private async compareKpis(inp: ReportInputs, ri: { maxExact: number; draws: number }): Promise<KpiResult[]> {
    const { pilot, assignment: a, treatmentArms, controlArm, ids } = inp;
    const multipleTesting: 'holm' | 'bh' = pilot.multipleTesting ?? 'holm';
    // Holm-consistent intervals need the primary method's CI at α/j, j = 1..size of the secondary/guardrail family.
    const familySize = (pilot.secondaryKpis.length + pilot.guardrailKpis.length) * treatmentArms.length;
    const intervalAlphas = multipleTesting === 'holm' ? Array.from({ length: familySize }, (_, j) => pilot.alpha / (j + 1)) : [];
    const opts = { alpha: pilot.alpha, maxExact: ri.maxExact, draws: ri.draws, seed: a.seed, primaryMethod: inp.primaryMethod.key, fewClusterMethod: inp.fewClusterMethod, fewClusterReason: inp.fewClusterReason, intervalAlphas };
    const roles: [KpiKey, KpiResult['role']][] = [
      [pilot.primaryKpi, 'primary'],
      ...pilot.secondaryKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'secondary']),
      ...pilot.guardrailKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'guardrail']),
    ];
    const weekly = weeklyCalendars(inp.panel, ids, inp.preWindow, inp.window);
    const covariates = balancingCovariates(a);
    const covariateNames = balancingCovariateNames(a);
    const arms = a.units.map((u) => u.arm);
    const strata = a.units.map((u) => u.stratum);
    // both windows are inclusive calendar days: the change score of a window total compares per-day rates
    const windowDays = { pre: daysBetween(inp.preWindow.start, inp.preWindow.end) + 1, test: daysBetween(inp.window.start, inp.window.end) + 1 };
    const compared: KpiResult[] = [];
    for (const [kpi, role] of roles) {
      const values = a.units.map((u) => kpiValue(inp.test.get(u.territoryId)!, kpi));
      const preValues = a.units.map((u) => kpiValue(inp.pre.get(u.territoryId)!, kpi));
      const panelKpi = DID_PANEL_KPIS[kpi];
      const margin = (pilot.guardrailMargins ?? []).find((m) => m.kpi === kpi) ?? null;
      for (const arm of treatmentArms) {
        const units = { arms, strata, treatmentArm: arm, controlArm, design: inp.design, designType: a.design.type };
        const result = await compareKpiAsync(kpi, role, values, units, opts, {
            pre: preValues,
            windowDays,
            weekly: panelKpi ? ids.map((id) => weekly.get(id)?.[panelKpi.field] ?? null) : null,
            weeklyUnit: panelKpi?.unit,
            margin: role === 'guardrail' && margin ? { margin: margin.margin, type: margin.type } : null,
            covariates,
            covariateNames,
            codes: a.units.map((u) => u.territoryCode),
          });
        compared.push(isFewTreatedDesign(a.design.type) ? fewTreatedResult(result, inp, panelKpi ? ids.map((id) => weekly.get(id)?.[panelKpi.field] ?? null) : null, arm, panelKpi?.unit) : result);
      }
    }
    return adjustSecondary(compared, pilot.alpha, multipleTesting);
  }
}

/**
 * A chosen (few-treated) pilot's KPI: the few-treated block (DiD, SC, SDID; few-treated-kpi.ts), and
 * SDID's placebo-randomization numbers as the primary block that decides. KPIs without a weekly panel
 * (ratios) cannot be judged: no randomization-based method decides for this design.
 */
function fewTreatedResult(
  r: KpiResult,
  inp: ReportInputs,
  weekly: ({ pre: number[]; test: number[] } | null)[] | null,
  arm: string,
  unit: string | undefined,
): KpiResult {
  const a = inp.assignment;
  if (!weekly || !unit) {
    const note = 'a chosen (few-treated) design is judged on the territory × week panel of an additive KPI (opportunities, revenue_won); this KPI has none, and randomization-based methods do not decide without randomization';
    return {
      ...r,
      few_treated: null,
      primary: { method: 'sdid_placebo_randomization', status: 'not_applicable', estimate: null, ci_low: null, ci_high: null, se: null, df: null, p_value: null, note },
      primary_intervals: null,
      decision_p: null,
    };
  }
  const { block, primary } = fewTreatedKpi(weekly, a.units.map((u) => u.territoryCode), a.units.map((u) => u.arm), arm, unit, { alpha: inp.pilot.alpha, seed: a.seed });
  return { ...r, few_treated: block, primary, primary_intervals: null, decision_p: r.role === 'primary' ? primary.p_value : null };
}

/** Additive KPIs analysed on the weekly panel (difference-in-differences), with the panel field and unit. */
const DID_PANEL_KPIS: Partial<Record<KpiKey, { field: WeeklyPanelField; unit: string }>> = WEEKLY_PANEL_KPIS;

/**
 * The rerandomization's balancing covariates per assigned territory (rows in unit order), from the
 * covariate snapshot stored with the assignment; a missing value is mean-imputed (never 0) and a
 * covariate without any value or without variation is left out. Null for other designs.
 */
export function balancingCovariates(a: BalancingAssignment): number[][] | null {
  const cols = balancingColumns(a).map((c) => c.col);
  return cols.length ? a.units.map((_, i) => cols.map((c) => c[i])) : null;
}

/** The names of the columns of {@link balancingCovariates}, in its column order (empty for other designs). */
export function balancingCovariateNames(a: BalancingAssignment): string[] {
  return balancingColumns(a).map((c) => c.name);
}

type BalancingAssignment = { design: { type: string; rerandomization?: { covariates: string[] } | null }; units: { covariates?: Record<string, number | null | undefined> | null }[] };

function balancingColumns(a: BalancingAssignment): { name: string; col: number[] }[] {
  const names = a.design.type === 'rerandomization' ? (a.design.rerandomization?.covariates ?? []) : [];
  return names
    .map((name) => {
      const raw = a.units.map((u) => u.covariates?.[name]);
      const seen = raw.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (seen.length === 0) return null;
      const m = seen.reduce((s, v) => s + v, 0) / seen.length;
      const col = raw.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : m));
      return col.some((v) => v !== col[0]) ? { name, col } : null;
    })
    .filter((c): c is { name: string; col: number[] } => c !== null);
}
