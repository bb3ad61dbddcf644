import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { AssignmentRepository } from '../assignment/assignment.repository';
import { utcDateOf } from '../common/utils/dates';
import { EnvironmentVariables } from '../config/env.validation';
import { KpiKey, KPI_KEYS } from '../kpis/kpi-catalogue';
import { KpiService, kpiValue } from '../kpis/kpi.service';
import { PilotRepository } from '../pilots/pilot.repository';
import { ReportEntity } from '../reports/report.entity';
import { adjustSecondary, compareKpi } from './kpi-comparison';
import { KpiResult, PilotReport, TerritoryRow } from './report.types';

/**
 * Computes a pilot report: territory KPIs over the test period by SQL aggregation, then every
 * KPI's comparison (kpi-comparison.ts). Idempotent: the report row is locked and a completed
 * report is never recomputed, so a duplicated or retried job changes nothing.
 */
@Injectable()
export class AnalysisService {
  private readonly logger = new Logger(AnalysisService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentRepository,
    private readonly kpis: KpiService,
    private readonly env: EnvironmentVariables,
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
      await em.query(
        `UPDATE reports SET status = 'completed', completed_at = now(), result = $2::json, data_cutoff_at = $3, error = NULL WHERE id = $1`,
        [reportId, JSON.stringify(result), result.data_cutoff.ingested_at],
      );
      this.logger.log(`report ${reportId} for pilot ${report.pilotId} completed`);
      return true;
    });
  }

  async markFailed(reportId: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE reports SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [
      reportId,
      reason.slice(0, 2000),
    ]);
  }

  private async buildReport(reportId: string, pilotId: string, em: DataSource['manager']): Promise<PilotReport> {
    const pilot = await this.pilots.getById(pilotId, em);
    const a = await this.assignments.findByPilot(pilotId, em);
    if (!a) throw new UnrecoverableError(`pilot ${pilotId} has no assignment`);
    const treatmentArm = a.design.arms.find((x) => x.role === 'treatment')!.key;
    const controlArm = a.design.arms.find((x) => x.role === 'control')!.key;
    const ids = a.units.map((u) => u.territoryId);
    const window = { start: pilot.testPeriodStart, end: pilot.testPeriodEnd };
    // One transaction client: queries run one after another (pg does not pipeline on a client).
    const test = await this.kpis.forTerritories(ids, window, em);
    const openNow = await this.kpis.openNowByTerritory(ids, em);
    const cutoff = await this.kpis.dataCutoff(ids, em);
    const units = { arms: a.units.map((u) => u.arm), strata: a.units.map((u) => u.stratum), treatmentArm, controlArm };
    const opts = { alpha: pilot.alpha, maxExact: this.env.RI_MAX_EXACT, draws: this.env.RI_DRAWS, seed: pilot.seed };
    const roles: [KpiKey, KpiResult['role']][] = [
      [pilot.primaryKpi, 'primary'],
      ...pilot.secondaryKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'secondary']),
      ...pilot.guardrailKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'guardrail']),
    ];
    const compared = roles.map(([kpi, role]) =>
      compareKpi(kpi, role, a.units.map((u) => kpiValue(test.get(u.territoryId)!, kpi)), units, opts),
    );
    const results = adjustSecondary(compared, pilot.alpha);

    const territories: TerritoryRow[] = a.units.map((u) => {
      const k = test.get(u.territoryId)!;
      return {
        territory_code: u.territoryCode,
        arm: u.arm,
        stratum: u.stratum,
        kpis: Object.fromEntries(KPI_KEYS.map((key) => [key, kpiValue(k, key)])) as Record<KpiKey, number | null>,
        open_now: openNow.get(u.territoryId) ?? 0,
      };
    });
    const armStats = (arm: string) => {
      const rows = a.units.filter((u) => u.arm === arm).map((u) => test.get(u.territoryId)!);
      return {
        territories: rows.length,
        territories_with_opportunities: rows.filter((k) => k.n_opportunities > 0).length,
        open_at_test_end: rows.reduce((s, k) => s + k.n_open, 0),
        open_now: a.units.filter((u) => u.arm === arm).reduce((s, u) => s + (openNow.get(u.territoryId) ?? 0), 0),
      };
    };
    const c = armStats(controlArm);
    const t = armStats(treatmentArm);
    return {
      report_id: reportId,
      pilot: {
        id: pilot.id,
        name: pilot.name,
        hypothesis: pilot.hypothesis,
        treatment_description: pilot.treatmentDescription,
        status: pilot.status,
        primary_kpi: pilot.primaryKpi,
        alpha: pilot.alpha,
        pre_period: { start: pilot.prePeriodStart, end: pilot.prePeriodEnd },
        test_period: window,
      },
      design: {
        type: a.design.type,
        stratify_by: a.design.stratify_by,
        seed: a.seed,
        algorithm_version: a.algorithmVersion,
        inputs_hash: a.inputsHash,
        strata: a.design.strata,
      },
      generated_at: new Date().toISOString(),
      readout: readoutOf(window.end),
      data_cutoff: {
        ingested_at: cutoff.ingested_at ? new Date(cutoff.ingested_at).toISOString() : null,
        latest_activity_date: cutoff.latest_activity_date,
        opportunities: cutoff.opportunities,
      },
      decision_method:
        'randomization inference (Fisher), re-drawing assignments from the pilot design; exact when there are at most ' +
        `${this.env.RI_MAX_EXACT} assignments, else ${this.env.RI_DRAWS} Monte Carlo draws`,
      multiplicity: 'primary KPI unadjusted; secondary and guardrail KPIs Holm-adjusted as one family',
      arms: { control: controlArm, treatment: treatmentArm },
      completeness: {
        control: { territories: c.territories, territories_with_opportunities: c.territories_with_opportunities },
        treatment: { territories: t.territories, territories_with_opportunities: t.territories_with_opportunities },
      },
      open_opportunities: {
        control: { open_at_test_end: c.open_at_test_end, open_now: c.open_now },
        treatment: { open_at_test_end: t.open_at_test_end, open_now: t.open_now },
      },
      kpis: results,
      territories,
    };
  }
}

/** Whether the test period is over (UTC calendar day), with a warning when it is not. */
function readoutOf(testPeriodEnd: string): PilotReport['readout'] {
  const complete = utcDateOf(new Date()) > testPeriodEnd;
  return {
    test_period_complete: complete,
    note: complete
      ? null
      : `Interim look: the test period runs until ${testPeriodEnd}. Deals engaged later are missing and p-values are not corrected for repeated looks.`,
  };
}
