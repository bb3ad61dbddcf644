import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { AssignmentRepository } from '../../assignment/assignment.repository';
import { utcDateOf } from '../../common/utils/dates';
import { EnvironmentVariables } from '../../config/env.validation';
import { ReportGovernanceService } from '../../governance/report-governance.service';
import { KpiKey, KPI_KEYS, kpiMeasure, kpiValue } from '../../kpis/kpi-catalogue';
import { KpiService } from '../../kpis/kpi.service';
import { PilotRepository } from '../../pilots/pilot.repository';
import { ReportEntity } from '../report.entity';
import { randomizationDesignForAssignment } from '../../assignment/design-plan';
import type { RandomizationDesign } from '../../stats/design/designs';
import { adjustSecondary, compareKpiAsync } from '../comparison/kpi-comparison';
import { PRIMARY_METHOD_NAMES, PrimaryMethod, PrimaryMethodKey, recommendedPrimaryMethod } from '../../stats/primary-method';
import { weeklyCalendars } from '../../stats/weekly-panel';
import { exactCompletenessCheck } from '../../stats/srm-exact';
import { kaplanMeier, logRankTest, SurvivalSample } from '../../stats/survival';
import { velocityDecomposition, VelocityTotals } from '../../stats/velocity-decomposition';
import { KpiResult, PilotReport, TerritoryRow } from '../report.types';
import { weeklyArmSeries } from '../../stats/weekly-series';

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
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentRepository,
    private readonly kpis: KpiService,
    private readonly env: EnvironmentVariables,
    private readonly governance: ReportGovernanceService,
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

  /**
   * The primary method: the one locked in the pilot's approved analysis plan (governance,
   * `analysis_plans`), so the report decides with what was named before launch; without a locked
   * plan (or with an unknown key), the recommendation for the design (primary-method.ts).
   */
  private async primaryMethodOf(pilotId: string, designType: string, nTerritories: number, em: DataSource['manager']): Promise<PrimaryMethod> {
    const recommended = recommendedPrimaryMethod(designType, nTerritories);
    const rows: { method: string | null; version: number }[] = await em.query(
      `SELECT plan->>'primary_method' AS method, version FROM analysis_plans
        WHERE pilot_id = $1 AND status = 'approved' ORDER BY version DESC LIMIT 1`,
      [pilotId],
    );
    const locked = rows[0]?.method ?? null;
    if (!locked || !(locked in PRIMARY_METHOD_NAMES) || locked === recommended.key) return recommended;
    const key = locked as PrimaryMethodKey;
    return {
      key,
      name: PRIMARY_METHOD_NAMES[key],
      reason: `locked in the approved analysis plan (version ${rows[0].version}); the recommendation for this design today would be ${recommended.key}`,
      skipped: [],
    };
  }

  private async buildReport(reportId: string, pilotId: string, em: DataSource['manager']): Promise<PilotReport> {
    const pilot = await this.pilots.getById(pilotId, em);
    const a = await this.assignments.findByPilot(pilotId, em);
    if (!a) throw new UnrecoverableError(`pilot ${pilotId} has no assignment`);
    const controlArm = a.design.arms.find((x) => x.role === 'control')!.key;
    const treatmentArms = a.design.arms.filter((x) => x.role === 'treatment').map((x) => x.key);
    const treatmentArm = treatmentArms[0];
    const ids = a.units.map((u) => u.territoryId);
    const window = { start: pilot.testPeriodStart, end: pilot.testPeriodEnd };
    const preWindow = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
    // One transaction client: queries run one after another (pg does not pipeline on a client).
    // Binds this transaction to the report's data version (kpi.service.ts: as-of, owner attribution, rollups).
    const dataContext = await this.kpis.bindReport(em, reportId, pilotId);
    const test = await this.kpis.forTerritories(ids, window, em);
    const pre = await this.kpis.forTerritories(ids, preWindow, em);
    const openNow = await this.kpis.openNowByTerritory(ids, em);
    const cutoff = await this.kpis.dataCutoff(ids, em);
    const panel = await this.kpis.weeklyPanel(ids, [{ period: 'pre' as const, ...preWindow }, { period: 'test' as const, ...window }], em);
    const survivalCutoff = minDate(window.end, utcDateOf(new Date()));
    const cycles = await this.kpis.cycleTimesForSurvival(ids, window, survivalCutoff, em);

    const arms = a.units.map((u) => u.arm);
    const strata = a.units.map((u) => u.stratum);
    let design: RandomizationDesign | undefined;
    try {
      design = randomizationDesignForAssignment(a);
    } catch (e) {
      this.logger.warn(`report ${reportId}: the stored design cannot be replayed for randomization inference (${(e as Error).message}); using its strata`);
    }
    const primaryMethod = await this.primaryMethodOf(pilotId, a.design.type, a.units.length, em);
    const multipleTesting: 'holm' | 'bh' = pilot.multipleTesting ?? 'holm';
    // Holm-consistent intervals need the primary method's CI at α/j, j = 1..size of the secondary/guardrail family.
    const familySize = (pilot.secondaryKpis.length + pilot.guardrailKpis.length) * treatmentArms.length;
    const intervalAlphas = multipleTesting === 'holm' ? Array.from({ length: familySize }, (_, j) => pilot.alpha / (j + 1)) : [];
    const opts = { alpha: pilot.alpha, maxExact: this.env.RI_MAX_EXACT, draws: this.env.RI_DRAWS, seed: pilot.seed, primaryMethod: primaryMethod.key, intervalAlphas };
    const roles: [KpiKey, KpiResult['role']][] = [
      [pilot.primaryKpi, 'primary'],
      ...pilot.secondaryKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'secondary']),
      ...pilot.guardrailKpis.map((k): [KpiKey, KpiResult['role']] => [k, 'guardrail']),
    ];
    const weekly = weeklyCalendars(panel, ids, preWindow, window);
    const covariates = balancingCovariates(a);
    const compared: KpiResult[] = [];
    for (const [kpi, role] of roles) {
      const values = a.units.map((u) => kpiValue(test.get(u.territoryId)!, kpi));
      const preValues = a.units.map((u) => kpiValue(pre.get(u.territoryId)!, kpi));
      const panelKpi = DID_PANEL_KPIS[kpi];
      const margin = (pilot.guardrailMargins ?? []).find((m) => m.kpi === kpi) ?? null;
      for (const arm of treatmentArms) {
        const units = { arms, strata, treatmentArm: arm, controlArm, design, designType: a.design.type };
        compared.push(
          await compareKpiAsync(kpi, role, values, units, opts, {
            pre: preValues,
            weekly: panelKpi ? ids.map((id) => weekly.get(id)?.[panelKpi.field] ?? null) : null,
            weeklyUnit: panelKpi?.unit,
            margin: role === 'guardrail' && margin ? { margin: margin.margin, type: margin.type } : null,
            covariates,
            codes: a.units.map((u) => u.territoryCode),
          }),
        );
      }
    }
    const results = adjustSecondary(compared, pilot.alpha, multipleTesting);

    const territories: TerritoryRow[] = a.units.map((u) => {
      const k = test.get(u.territoryId)!;
      return {
        territory_code: u.territoryCode,
        arm: u.arm,
        stratum: u.stratum,
        kpis: Object.fromEntries(KPI_KEYS.map((key) => [key, kpiValue(k, key)])) as Record<KpiKey, number | null>,
        open_now: openNow.get(u.territoryId) ?? 0,
        pre_period_kpis: Object.fromEntries(KPI_KEYS.map((key) => [key, kpiValue(pre.get(u.territoryId)!, key)])) as Record<KpiKey, number | null>,
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
    const allArms = [controlArm, ...treatmentArms];

    // Why pooled velocity moved, per treatment arm.
    const totalsOf = (arm: string): VelocityTotals[] =>
      a.units
        .filter((u) => u.arm === arm)
        .map((u) => {
          const k = test.get(u.territoryId)!;
          return {
            n_opportunities: k.n_opportunities,
            n_closed: k.n_closed,
            n_won: k.n_won,
            won_amount_total: k.won_amount_total,
            cycle_days_total: (k.avg_cycle_days ?? 0) * k.n_closed,
          };
        });
    const velocity = treatmentArms.map((arm) => ({
      treatment_arm: arm,
      control_arm: controlArm,
      ...velocityDecomposition(totalsOf(arm), totalsOf(controlArm), { alpha: pilot.alpha }),
    }));

    // Time to close with censoring.
    const armOfTerritory = new Map(a.units.map((u) => [u.territoryId, u.arm]));
    const sampleOf = (arm: string): SurvivalSample => {
      const rows = cycles.filter((r) => armOfTerritory.get(r.territory_id) === arm);
      return { time: rows.map((r) => r.days), event: rows.map((r) => r.closed) };
    };
    const survival: PilotReport['sales_cycle_survival'] = {
      method: 'Kaplan–Meier (Greenwood variance, log-log CI; median CI by Brookmeyer–Crowley) and log-rank test',
      cutoff: survivalCutoff,
      arms: allArms.map((arm) => {
        const km = kaplanMeier(sampleOf(arm), { alpha: pilot.alpha });
        return {
          arm,
          n: km.n,
          events: km.events,
          censored: km.censored,
          median_days: km.median,
          median_ci_low: km.median_ci_low,
          median_ci_high: km.median_ci_high,
        };
      }),
      log_rank: treatmentArms.map((arm) => {
        const lr = logRankTest(sampleOf(arm), sampleOf(controlArm));
        return { treatment_arm: arm, control_arm: controlArm, chi2: lr.chi2, p_value: lr.p_value, status: lr.status };
      }),
    };

    // Data completeness against the design and the pre-period.
    const completenessArms = allArms.map((arm) => {
      const us = a.units.filter((u) => u.arm === arm);
      return {
        arm,
        designed_territories: us.length,
        territories_reporting: us.filter((u) => test.get(u.territoryId)!.n_opportunities > 0).length,
        opportunities_test: us.reduce((s, u) => s + test.get(u.territoryId)!.n_opportunities, 0),
        opportunities_pre: us.reduce((s, u) => s + pre.get(u.territoryId)!.n_opportunities, 0),
      };
    });
    const checks = [
      exactCompletenessCheck(
        'territories reporting (at least one opportunity in the test period) vs the designed territories per arm',
        completenessArms.map((x) => x.territories_reporting),
        completenessArms.map((x) => x.designed_territories),
      ),
      exactCompletenessCheck(
        'test-period opportunities vs each arm’s share of the pre-period opportunities',
        completenessArms.map((x) => x.opportunities_test),
        completenessArms.map((x) => x.opportunities_pre),
      ),
    ];
    const completenessState = checks.some((x) => x.state === 'mismatch') ? 'mismatch' : checks.every((x) => x.state === 'ok') ? 'ok' : 'too_little_data';

    const adjName = multipleTesting === 'bh' ? 'Benjamini–Hochberg' : 'Holm';
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
        monthly_cost: pilot.monthlyCost ?? null,
        pre_period: preWindow,
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
      data: dataContext,
      decision_method:
        `${primaryMethod.name} (${primaryMethod.reason}); randomization inference is exact when there are at most ` +
        `${this.env.RI_MAX_EXACT} assignments, else ${this.env.RI_DRAWS} Monte Carlo draws`,
      multiplicity:
        `primary KPI unadjusted${treatmentArms.length > 1 ? ` per comparison, ${adjName}-adjusted across the ${treatmentArms.length} treatment arms` : ''}; ` +
        `secondary and guardrail KPIs ${adjName}-adjusted as one family${treatmentArms.length > 1 ? ' over every treatment arm' : ''}; ` +
        `guardrail non-inferiority p-values ${adjName}-adjusted among themselves`,
      arms: { control: controlArm, treatment: treatmentArm, treatments: treatmentArms },
      primary_method: primaryMethod,
      multiple_testing: multipleTesting,
      completeness: {
        control: { territories: c.territories, territories_with_opportunities: c.territories_with_opportunities },
        treatment: { territories: t.territories, territories_with_opportunities: t.territories_with_opportunities },
      },
      data_completeness: { state: completenessState, arms: completenessArms, checks },
      open_opportunities: {
        control: { open_at_test_end: c.open_at_test_end, open_now: c.open_now },
        treatment: { open_at_test_end: t.open_at_test_end, open_now: t.open_now },
      },
      velocity_decomposition: velocity,
      sales_cycle_survival: survival,
      kpis: results,
      territories,
      // The primary KPI week by week, per arm, for the HTML report's time-series chart.
      weekly_primary_kpi: weeklyArmSeries(
        panel,
        a.units.map((u) => ({ territory_id: u.territoryId, arm: u.arm })),
        [controlArm, ...treatmentArms],
        kpiMeasure(pilot.primaryKpi),
        [{ period: 'pre', ...preWindow }, { period: 'test', ...window }],
      ),
    };
  }
}

/** Additive KPIs analysed on the weekly panel (difference-in-differences), with the panel field and unit. */
const DID_PANEL_KPIS: Partial<Record<KpiKey, { field: 'opportunities' | 'revenue_won'; unit: string }>> = {
  opportunities: { field: 'opportunities', unit: 'opportunities engaged per territory-week' },
  revenue_won: { field: 'revenue_won', unit: 'won amount per territory-week (deals engaged that week, won by the window end)' },
};

function minDate(x: string, y: string): string {
  return x < y ? x : y;
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

/**
 * The rerandomization's balancing covariates per assigned territory (rows in unit order), from the
 * covariate snapshot stored with the assignment; a missing value is mean-imputed (never 0) and a
 * covariate without any value or without variation is left out. Null for other designs.
 */
export function balancingCovariates(a: { design: { type: string; rerandomization?: { covariates: string[] } | null }; units: { covariates?: Record<string, number | null | undefined> | null }[] }): number[][] | null {
  const names = a.design.type === 'rerandomization' ? (a.design.rerandomization?.covariates ?? []) : [];
  const cols = names
    .map((name) => {
      const raw = a.units.map((u) => u.covariates?.[name]);
      const seen = raw.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (seen.length === 0) return null;
      const m = seen.reduce((s, v) => s + v, 0) / seen.length;
      const col = raw.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : m));
      return col.some((v) => v !== col[0]) ? col : null;
    })
    .filter((c): c is number[] => c !== null);
  return cols.length ? a.units.map((_, i) => cols.map((c) => c[i])) : null;
}
