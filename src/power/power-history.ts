import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { matchedBlocks } from '../stats/design/designs';
import { DesignUnit, toDesignUnits } from '../assignment/assignment-inputs';
import { PRE_PERIOD_PREFIX, planDesign, PlannedDesign, preperiodKpisNeeded, designCovariateNames } from '../assignment/design-plan';
import { addDays, daysBetween } from '../common/utils/dates';
import { KpiKey, kpiValue } from '../kpis/kpi-catalogue';
import { DateWindow, KpiService } from '../kpis/kpi.service';
import { EligibilityService } from '../pilots/eligibility.service';
import { PilotEntity } from '../pilots/pilot.entity';
import { SimulationWindow } from './power-plan';
import { firstEngageDates, resolveChosenDonorPool } from '../assignment/chosen-pool';
import type { DonorLeftOut } from '../assignment/chosen-design';

/** The treated territories and donors a chosen pilot's power plan backtests, and where they come from. */
export interface FewTreatedUnits {
  treated: { id: string; code: string }[];
  donors: { id: string; code: string }[];
  left_out: Pick<DonorLeftOut, 'code' | 'reason' | 'detail'>[];
  /** 'assignment': the stored assignment's donor pool; 'donor_pool_rules': the rules applied to the data now (a draft) */
  source: 'assignment' | 'donor_pool_rules';
  /** earliest engage date by territory id (null without opportunities) */
  firstEngage: Map<string, string | null>;
}

/** Most past windows a simulation cycles through (weekly shifts). */
export const MAX_PLACEBO_WINDOWS = 26;

/**
 * The territories' own history as the power plan reads it: the eligible territories under the
 * pilot's design (exclusions applied), and the pilot's two windows shifted back in time so that the
 * shifted test period ends where the pre-period ends (shift s0 = test end − pre-period end), then
 * further back by whole weeks for more placebo pilots.
 */
@Injectable()
export class PowerHistory {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly eligibility: EligibilityService,
    private readonly kpis: KpiService,
  ) {}

  /** Design plan (units, arms, spec) of the pilot as it is now. @throws UNKNOWN_TERRITORY, DESIGN_INFEASIBLE */
  async plan(pilot: PilotEntity): Promise<PlannedDesign> {
    const eligible = await this.eligibility.resolve(pilot);
    return planDesign(pilot, toDesignUnits(pilot, eligible));
  }

  /**
   * The units of a chosen (few-treated) pilot's power plan: the stored assignment's treated territories
   * and donor pool when the pilot has one (what its report will analyse), else the donor-pool rules on
   * the data now (chosen-pool.ts), with each territory's first recorded opportunity.
   * @throws 422 from the donor-pool rules (PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE)
   */
  async fewTreatedUnits(pilot: PilotEntity): Promise<FewTreatedUnits> {
    const [stored] = await this.dataSource.query(`SELECT id, design FROM assignments WHERE pilot_id = $1`, [pilot.id]);
    if (stored) {
      const rows: { territory_id: string; territory_code: string }[] = await this.dataSource.query(
        `SELECT territory_id, territory_code FROM assignment_units WHERE assignment_id = $1 ORDER BY territory_code`,
        [stored.id],
      );
      const idOf = new Map(rows.map((r) => [r.territory_code, String(r.territory_id)]));
      const treated = (stored.design.treated ?? []) as string[];
      const donors = (stored.design.donor_pool?.donors ?? []) as string[];
      const ids = rows.map((r) => String(r.territory_id));
      return {
        treated: treated.map((code) => ({ id: idOf.get(code)!, code })),
        donors: donors.map((code) => ({ id: idOf.get(code)!, code })),
        left_out: (stored.design.donor_pool?.left_out ?? []).map((l: DonorLeftOut) => ({ code: l.code, reason: l.reason, detail: l.detail })),
        source: 'assignment',
        firstEngage: await firstEngageDates(this.dataSource.manager, ids),
      };
    }
    const units = toDesignUnits(pilot, await this.eligibility.resolve(pilot));
    const { pool, firstEngage } = await resolveChosenDonorPool(this.dataSource.manager, pilot, units);
    const idOf = new Map(units.map((u) => [u.code, u.territory_id]));
    return {
      treated: pool.treated.map((code) => ({ id: idOf.get(code)!, code })),
      donors: pool.donors.map((code) => ({ id: idOf.get(code)!, code })),
      left_out: pool.left_out.map((l) => ({ code: l.code, reason: l.reason, detail: l.detail })),
      source: 'donor_pool_rules',
      firstEngage,
    };
  }

  /** Earliest engage date of the territories' opportunities (null without data). */
  async dataStart(territoryIds: string[]): Promise<string | null> {
    const [row] = await this.dataSource.query(`SELECT min(engage_date) AS d FROM opportunities WHERE territory_id = ANY($1::uuid[])`, [territoryIds]);
    return row?.d ?? null;
  }

  /** The pilot's windows shifted back by `shiftDays`. */
  shifted(pilot: PilotEntity, shiftDays: number): { outcome: DateWindow; pre: DateWindow } {
    return {
      outcome: { start: addDays(pilot.testPeriodStart, -shiftDays), end: addDays(pilot.testPeriodEnd, -shiftDays) },
      pre: { start: addDays(pilot.prePeriodStart, -shiftDays), end: addDays(pilot.prePeriodEnd, -shiftDays) },
    };
  }

  /** Shift that makes the shifted test period end on the last pre-period day. */
  baseShift(pilot: PilotEntity): number {
    return daysBetween(pilot.prePeriodEnd, pilot.testPeriodEnd);
  }

  /**
   * One past window: the outcome KPI and the pre-period KPI per unit, and the units with the design
   * covariates (`pre_period_<kpi>`) computed over that window's pre-period. When the pre-period
   * starts before the data (`dataStart`), its values would be zeros of missing history, not data:
   * the pre-period KPI and the design covariates are then null (missing), never 0.
   */
  async window(pilot: PilotEntity, units: DesignUnit[], kpi: KpiKey, shiftDays: number, dataStart: string | null = null): Promise<SimulationWindow> {
    const w = this.shifted(pilot, shiftDays);
    const preComplete = dataStart === null || w.pre.start >= dataStart;
    const ids = units.map((u) => u.territory_id);
    const outcome = await this.kpis.forTerritories(ids, w.outcome);
    const pre = await this.kpis.forTerritories(ids, w.pre);
    const needed = preperiodKpisNeeded(designCovariateNames(pilot));
    return {
      outcome: w.outcome,
      pre: w.pre,
      units: units.map((u) => {
        const covariates = { ...u.covariates };
        for (const k of needed) covariates[`${PRE_PERIOD_PREFIX}${k}`] = preComplete ? kpiValue(pre.get(u.territory_id)!, k) : null;
        return { code: u.code, stratum: u.stratum, covariates };
      }),
      y: units.map((u) => kpiValue(outcome.get(u.territory_id)!, kpi)),
      x: units.map((u) => (preComplete ? kpiValue(pre.get(u.territory_id)!, kpi) : null)),
      pre_complete: preComplete,
    };
  }

  /** KPI per unit over a window of `days` days ending on `end`. */
  async kpiOver(units: DesignUnit[], kpi: KpiKey, end: string, days: number): Promise<(number | null)[]> {
    const values = await this.kpis.forTerritories(
      units.map((u) => u.territory_id),
      { start: addDays(end, -(days - 1)), end },
    );
    return units.map((u) => kpiValue(values.get(u.territory_id)!, kpi));
  }

  /** Block label per unit for the analytic plan: stratum, matched pair (paired on the window's covariate), or null. */
  blocksOf(pilot: PilotEntity, window: SimulationWindow): string[] | null {
    if (pilot.designType === 'stratified') return window.units.map((u) => String(u.stratum));
    if (pilot.designType === 'matched_pairs' && pilot.designOptions?.pair_on) {
      const on = pilot.designOptions.pair_on;
      const present = window.units.filter((u) => u.covariates?.[on] !== null && u.covariates?.[on] !== undefined);
      const { blocks } = matchedBlocks(present.map((u) => ({ code: u.code, value: u.covariates![on] as number })), pilot.arms.length, on);
      const pairOf = new Map(blocks.flatMap((b) => b.codes.map((c) => [c, b.pair] as const)));
      return window.units.map((u) => pairOf.get(u.code) ?? `unpaired:${u.code}`);
    }
    return null;
  }
}
