import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { kpiValue } from '../kpis/kpi-catalogue';
import { KpiService } from '../kpis/kpi.service';
import { EligibilityService } from '../pilots/eligibility.service';
import { fewTreatedException } from '../pilots/few-treated-errors';
import { SELECTION_KPIS } from '../pilots/pilot-rules';
import { PilotEntity } from '../pilots/pilot.entity';
import { FewTreatedInputError } from '../stats/synthetic/few-treated';
import { selectTreatedSetAsync, TreatedSelectionResult } from '../stats/synthetic/treated-selection';
import { weeklyCalendars, weekStarts } from '../stats/weekly-panel';
import { DesignUnit, toDesignUnits } from './assignment-inputs';
import { StoredDesign, StoredSelection } from './assignment.entity';
import { CHOSEN_ALGORITHM_VERSION, CHOSEN_DONOR_RULES, ChosenDonorPool, chosenInputsHash } from './chosen-design';
import { resolveChosenDonorPool } from './chosen-pool';
import { designCovariateNames, PRE_PERIOD_PREFIX, preperiodKpisNeeded } from './design-plan';
import { SELECTED_ALGORITHM_VERSION, selectedInputsHash, selectionArgs } from './selected-design';

/** A design ready to store: its inputs hash, algorithm version, stored design and unit rows. */
export interface DrawnPlan {
  inputsHash: string;
  algorithmVersion: string;
  design: StoredDesign;
  rows: { territoryId: string; territoryCode: string; arm: string; stratum: string; covariates: Record<string, number | null> }[];
}

/**
 * The plans of the few-treated designs (issue 12: chosen and selected; no randomization) and the
 * pre-period covariates every design reads. AssignmentService stores, audits and replays them.
 */
@Injectable()
export class FewTreatedPlanner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly eligibility: EligibilityService,
    private readonly kpis: KpiService,
  ) {}

  /** Adds the `pre_period_<kpi>` covariates the pilot's design reads (pairing, rerandomization, cap) to `units`. */
  async addPreperiodCovariates(pilot: PilotEntity, units: DesignUnit[]): Promise<void> {
    const needed = preperiodKpisNeeded(designCovariateNames(pilot));
    if (!needed.length) return;
    const at = pilot.designOptions?.pre_period_as_of;
    const window = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
    const ids = units.map((u) => u.territory_id);
    // as known at the design's pre_period_as_of (stored in the design and its hash), else the data now
    const pre = at ? await this.kpis.forTerritoriesAsOf(ids, window, new Date(at)) : await this.kpis.forTerritories(ids, window);
    for (const u of units) {
      for (const k of needed) u.covariates[`${PRE_PERIOD_PREFIX}${k}`] = kpiValue(pre.get(u.territory_id)!, k);
    }
  }

  /**
   * A chosen design's assignment (no randomization): the named treated territories in the treatment
   * arm, the donor pool (chosen-design.ts rules: excluded, reserved by running pilots, incomplete
   * pre-period data left out, each with why) in the control arm.
   * @throws 422 PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE
   */
  async chosenPlan(pilot: PilotEntity, seed: number, em?: EntityManager): Promise<DrawnPlan> {
    const { units, pool } = await this.donorPool(pilot, pilot.designOptions?.treated ?? [], em);
    const design = this.fewTreatedDesign(pilot, units, pool);
    const included = units.filter((u) => pool.treated.includes(u.code) || pool.donors.includes(u.code));
    return { inputsHash: chosenInputsHash(design, seed, included), algorithmVersion: CHOSEN_ALGORITHM_VERSION, design, rows: this.fewTreatedRows(pilot, included, pool.treated) };
  }

  /**
   * The donor pool of a few-treated design (chosen-design.ts rules) over the pilot's eligible units:
   * `treated` named (chosen) or none (selected, which passes its k).
   * @throws 422 PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE
   */
  private async donorPool(pilot: PilotEntity, treated: string[], em?: EntityManager, k?: number): Promise<{ units: DesignUnit[]; pool: ChosenDonorPool; weeks: string[] }> {
    const eligible = await this.eligibility.resolve(pilot);
    const units = toDesignUnits(pilot, eligible);
    const { pool, weeks } = await resolveChosenDonorPool(em ?? this.dataSource.manager, pilot, units, { treated, k });
    return { units, pool, weeks };
  }

  /** The stored design of a few-treated assignment: treated set, donor pool with its rules, arms with counts. */
  private fewTreatedDesign(pilot: PilotEntity, units: DesignUnit[], pool: ChosenDonorPool, type: 'chosen' | 'selected' = 'chosen'): StoredDesign {
    const treatmentKey = pilot.arms.find((a) => a.role === 'treatment')!.key;
    const controlKey = pilot.arms.find((a) => a.role === 'control')!.key;
    const arms = pilot.arms.map((a) => ({ key: a.key, role: a.role, count: a.role === 'treatment' ? pool.treated.length : pool.donors.length }));
    const included = units.filter((u) => pool.treated.includes(u.code) || pool.donors.includes(u.code));
    const exclude = pilot.designOptions?.constraints?.exclude;
    return {
      type,
      stratify_by: null,
      arms,
      strata: [{ stratum: 'all', n: included.length, counts: { [treatmentKey]: pool.treated.length, [controlKey]: pool.donors.length } }],
      ...(exclude?.length ? { constraints: { exclude } } : {}),
      treated: [...pool.treated].sort(),
      donor_pool: { donors: pool.donors, left_out: pool.left_out, pre_weeks: pool.pre_weeks, min_pre_weeks: pool.min_pre_weeks, rules: CHOSEN_DONOR_RULES },
    };
  }

  /** Unit rows of a few-treated assignment: `treated` in the treatment arm, the rest (the donors) in the control arm. */
  private fewTreatedRows(pilot: PilotEntity, included: DesignUnit[], treated: readonly string[]): DrawnPlan['rows'] {
    const treatmentKey = pilot.arms.find((a) => a.role === 'treatment')!.key;
    const controlKey = pilot.arms.find((a) => a.role === 'control')!.key;
    return included.map((u) => ({
      territoryId: u.territory_id,
      territoryCode: u.code,
      arm: treated.includes(u.code) ? treatmentKey : controlKey,
      stratum: 'all',
      covariates: u.covariates,
    }));
  }

  /**
   * What a selected design's selection reads, before it runs: the donor pool (chosen-design.ts rules,
   * checked against k), the pool's weekly primary-KPI panel over the pre-period, forced and
   * never-treated codes (constraints.force to the treatment / control arm), the cap's values, and
   * the inputs hash (selected-design.ts). A draw and the launch-time freshness check both use it.
   * @throws 422 as donorPool
   */
  async selectedInputs(pilot: PilotEntity, seed: number, em?: EntityManager) {
    const o = pilot.designOptions ?? {};
    const k = o.k ?? 0;
    const { units, pool } = await this.donorPool(pilot, [], em, k);
    const included = units.filter((u) => pool.donors.includes(u.code));
    await this.addPreperiodCovariates(pilot, included);
    const pre = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
    const test = { start: pilot.testPeriodStart, end: pilot.testPeriodEnd };
    const ids = included.map((u) => u.territory_id);
    const calendars = weeklyCalendars(await this.kpis.weeklyPanel(ids, [{ period: 'pre' as const, ...pre }], em), ids, pre, test);
    const field = pilot.primaryKpi as (typeof SELECTION_KPIS)[number]; // pilot-rules: a selected design's primary KPI is additive
    const treatmentKey = pilot.arms.find((a) => a.role === 'treatment')!.key;
    const force = o.constraints?.force ?? [];
    const capSpec = o.constraints?.max_treated_share;
    const selection: Omit<StoredSelection, 'result'> = {
      settings: o.selection ?? {},
      test_weeks: weekStarts(test).length,
      panel: { kpi: field, weeks: weekStarts(pre), values: Object.fromEntries(included.map((u) => [u.code, calendars.get(u.territory_id)![field].pre])) },
      forced: force.filter((f) => f.arm === treatmentKey).map((f) => f.territory_code).sort(),
      never_treated: force.filter((f) => f.arm !== treatmentKey).map((f) => f.territory_code).sort(),
      cap: capSpec
        ? { covariate: capSpec.covariate, max_share: capSpec.max_share, values: Object.fromEntries(included.map((u) => [u.code, u.covariates[capSpec.covariate] ?? null])) as Record<string, number> }
        : null,
    };
    const design: StoredDesign = {
      ...this.fewTreatedDesign(pilot, units, pool, 'selected'),
      ...(o.constraints ? { constraints: o.constraints } : {}),
      k,
      selection: selection as StoredSelection,
    };
    return { design, selection, included, pool, k, inputsHash: selectedInputsHash(design, seed, included) };
  }

  /**
   * A selected design's assignment: PilotLab picks the k treated territories among the donor pool
   * by placebo backtests (treated-selection.ts, seeded by the draw's seed); rank 1 is treated, the
   * rest of the pool are donors; the ranked candidates with their backtest figures are stored with
   * the design.
   * @throws 422 as donorPool, and PRE_PERIOD_TOO_SHORT (backtest windows), CAP_EXCLUDES_ALL, SELECTION_INFEASIBLE
   */
  async selectedPlan(pilot: PilotEntity, seed: number, em?: EntityManager): Promise<DrawnPlan> {
    const inp = await this.selectedInputs(pilot, seed, em);
    const { input, options } = selectionArgs(inp.selection, inp.k, seed);
    let result: TreatedSelectionResult;
    try {
      result = await selectTreatedSetAsync(input, options);
    } catch (err) {
      throw err instanceof FewTreatedInputError ? fewTreatedException(err) : err;
    }
    const winners = result.ranked[0].treated;
    const pool = { ...inp.pool, treated: winners, donors: inp.pool.donors.filter((c) => !winners.includes(c)) };
    const design: StoredDesign = {
      ...inp.design,
      ...this.fewTreatedDesign(pilot, inp.included, pool, 'selected'),
      ...(inp.design.constraints ? { constraints: inp.design.constraints } : {}),
      donor_pool: { ...inp.design.donor_pool!, donors: pool.donors },
      selection: { ...inp.selection, result },
    };
    return { inputsHash: inp.inputsHash, algorithmVersion: SELECTED_ALGORITHM_VERSION, design, rows: this.fewTreatedRows(pilot, inp.included, winners) };
  }
}

/** The audit record of a selection: how it searched and the ranked candidates' figures (rank, set, MDE, bias, score). */
export function selectionAudit(r: TreatedSelectionResult) {
  return {
    algorithm_version: r.algorithm_version,
    search: r.search,
    candidates_scored: r.candidates_scored,
    candidates_over_cap: r.candidates_over_cap,
    ranked: r.ranked.map((c) => ({ rank: c.rank, treated: c.treated, mde: c.mde, placebo_bias: c.placebo_bias, score: c.score })),
  };
}
