import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { AssignmentEntity } from '../../assignment/assignment.entity';
import { AssignmentRepository } from '../../assignment/assignment.repository';
import { AssignmentDrawRepository, PlanDraw, planDraws } from '../../assignment/assignment-draws';
import { randomizationDesignForAssignment } from '../../assignment/design-plan';
import { utcDateOf } from '../../common/utils/dates';
import { DateWindow, KpiService, ReportDataContext, TerritoryKpis } from '../../kpis/kpi.service';
import { PilotEntity } from '../../pilots/pilot.entity';
import { PilotRepository } from '../../pilots/pilot.repository';
import type { RandomizationDesign } from '../../stats/design/designs';
import { DEFAULT_FEW_CLUSTER_METHOD, FEW_CLUSTER_METHOD_LABELS, FewClusterMethod } from '../../stats/few-cluster-inference';
import { PRIMARY_METHOD_NAMES, PrimaryMethod, PrimaryMethodKey, recommendedPanelMethod, recommendedPrimaryMethod } from '../../stats/primary-method';
import { flaggedReasons } from '../../stats/calibration-flags';
import type { WeeklyPanelRow } from '../../stats/weekly-series';

type Manager = DataSource['manager'];

/**
 * Everything a report is computed from, read in one REPEATABLE READ transaction bound to the
 * report's data version: the pilot, its frozen assignment, the per-territory KPIs of both windows,
 * the weekly panel, the time-to-close sample and the primary method in force.
 */
export interface ReportInputs {
  reportId: string;
  pilot: PilotEntity;
  assignment: AssignmentEntity;
  /** every recorded draw of the assignment, first first (seed shopping is visible in the report) */
  draws: PlanDraw[];
  controlArm: string;
  /** treatment arm keys in design order (one for a two-arm pilot) */
  treatmentArms: string[];
  /** territory ids in assignment-unit order */
  ids: string[];
  /** test period and pre-period, `YYYY-MM-DD` inclusive */
  window: DateWindow;
  preWindow: DateWindow;
  dataContext: ReportDataContext;
  /** per territory id: cohort KPIs of the test period and of the pre-period */
  test: Map<string, TerritoryKpis>;
  pre: Map<string, TerritoryKpis>;
  /** per territory id: deals open now (at the report's data) */
  openNow: Map<string, number>;
  cutoff: { ingested_at: Date | null; latest_activity_date: string | null; opportunities: number };
  /** territory × ISO week cohort aggregates over both windows */
  panel: WeeklyPanelRow[];
  /** the day time to close is censored at: the test-period end, or today while it runs */
  survivalCutoff: string;
  cycles: { territory_id: string; days: number; closed: boolean }[];
  /** the stored design replayed for randomization inference; undefined when it cannot be (its strata are used) */
  design: RandomizationDesign | undefined;
  primaryMethod: PrimaryMethod;
  /** the few-cluster method that decides the weekly-panel DiD: the locked plan's, else `recommendedPanelMethod` */
  fewClusterMethod: FewClusterMethod;
  /** why it decides (locked, or chosen after calibration at this size), for the report text */
  fewClusterReason: string;
}

/** Loads a report's {@link ReportInputs}: the one place a report reads pilots, assignments and KPIs. */
@Injectable()
export class ReportInputsLoader {
  private readonly logger = new Logger(ReportInputsLoader.name);

  constructor(
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentRepository,
    private readonly drawRecords: AssignmentDrawRepository,
    private readonly kpis: KpiService,
  ) {}

  /**
   * Reads the inputs of report `reportId` of pilot `pilotId` inside the report transaction `em`,
   * first binding it to the report's data version (kpi.service.ts: as-of, owner attribution,
   * rollups). Queries run one after another: pg does not pipeline on one client.
   * @throws UnrecoverableError when the pilot has no assignment (retrying cannot help)
   */
  async load(reportId: string, pilotId: string, em: Manager): Promise<ReportInputs> {
    const pilot = await this.pilots.getById(pilotId, em);
    const assignment = await this.assignments.findByPilot(pilotId, em);
    if (!assignment) throw new UnrecoverableError(`pilot ${pilotId} has no assignment`);
    const ids = assignment.units.map((u) => u.territoryId);
    const window = { start: pilot.testPeriodStart, end: pilot.testPeriodEnd };
    const preWindow = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
    const dataContext = await this.kpis.bindReport(em, reportId, pilotId);
    const test = await this.kpis.forTerritories(ids, window, em);
    const pre = await this.kpis.forTerritories(ids, preWindow, em);
    const openNow = await this.kpis.openNowByTerritory(ids, em);
    const cutoff = await this.kpis.dataCutoff(ids, em);
    const panel = await this.kpis.weeklyPanel(ids, [{ period: 'pre' as const, ...preWindow }, { period: 'test' as const, ...window }], em);
    const survivalCutoff = minDate(window.end, utcDateOf(new Date()));
    const cycles = await this.kpis.cycleTimesForSurvival(ids, window, survivalCutoff, em);
    return {
      reportId,
      pilot,
      assignment,
      draws: planDraws(await this.drawRecords.list(pilotId, em)),
      controlArm: assignment.design.arms.find((x) => x.role === 'control')!.key,
      treatmentArms: assignment.design.arms.filter((x) => x.role === 'treatment').map((x) => x.key),
      ids,
      window,
      preWindow,
      dataContext,
      test,
      pre,
      openNow,
      cutoff,
      panel,
      survivalCutoff,
      cycles,
      design: this.replayableDesign(reportId, assignment),
      primaryMethod: await this.primaryMethodOf(pilotId, assignment.design.type, assignment.units.length, em),
      ...(await this.fewClusterMethodOf(pilotId, assignment.design.type, assignment.units.length, em)),
    };
  }

  private replayableDesign(reportId: string, assignment: AssignmentEntity): RandomizationDesign | undefined {
    try {
      return randomizationDesignForAssignment(assignment);
    } catch (e) {
      this.logger.warn(`report ${reportId}: the stored design cannot be replayed for randomization inference (${(e as Error).message}); using its strata`);
      return undefined;
    }
  }

  /**
   * The few-cluster method that decides the panel: the one locked in the approved plan (the reason
   * says when the calibration grid flags it at this design and size); without one (or an unknown
   * key), `recommendedPanelMethod` for the design and size (the default when none is valid, and the
   * reason says so).
   */
  private async fewClusterMethodOf(pilotId: string, designType: string, nTerritories: number, em: Manager): Promise<{ fewClusterMethod: FewClusterMethod; fewClusterReason: string }> {
    const rows: { method: string | null }[] = await em.query(
      `SELECT plan->>'few_cluster_method' AS method FROM analysis_plans
        WHERE pilot_id = $1 AND status = 'approved' ORDER BY version DESC LIMIT 1`,
      [pilotId],
    );
    const locked = rows[0]?.method ?? null;
    const rec = recommendedPanelMethod(designType, nTerritories);
    if (locked === null || !(locked in FEW_CLUSTER_METHOD_LABELS)) return { fewClusterMethod: rec.method ?? DEFAULT_FEW_CLUSTER_METHOD, fewClusterReason: rec.reason };
    const method = locked as FewClusterMethod;
    const flagged = flaggedReasons(designType, method, nTerritories);
    const now = rec.method && rec.method !== method ? `; today the recommendation would be ${FEW_CLUSTER_METHOD_LABELS[rec.method]}` : rec.method ? '' : '; no few-cluster method meets the calibration targets at this size';
    return {
      fewClusterMethod: method,
      fewClusterReason: `${FEW_CLUSTER_METHOD_LABELS[method]}, locked in the approved analysis plan${flagged.length ? `; it does not meet the calibration targets for this design and size (${flagged.join('; ')})${now}` : ''}`,
    };
  }

  /**
   * The primary method: the one locked in the pilot's approved analysis plan (governance,
   * `analysis_plans`), so the report decides with what was named before launch; without a locked
   * plan (or with an unknown key), the recommendation for the design (primary-method.ts).
   */
  private async primaryMethodOf(pilotId: string, designType: string, nTerritories: number, em: Manager): Promise<PrimaryMethod> {
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
}

function minDate(x: string, y: string): string {
  return x < y ? x : y;
}
