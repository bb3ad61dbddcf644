import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PRNG_ALGORITHM } from '../stats/design/prng';
import { mahalanobisBalance } from '../stats/design/mahalanobis';
import { balanceRow } from '../stats/balance';
import { AppException } from '../common/errors/app.exception';
import { KPI_CATALOGUE, kpiValue } from '../kpis/kpi-catalogue';
import { KpiService } from '../kpis/kpi.service';
import { EligibilityService } from '../pilots/eligibility.service';
import { assertDraft } from '../pilots/pilot-rules';
import { isFewTreatedDesign, PilotEntity } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';
import { TerritoryRepository } from '../territories/territory.repository';
import { toDesignUnits } from './assignment-inputs';
import { drawPlanned, PlannedDesign, planDesign, replayAssignment, storedDesignOf } from './design-plan';
import { AssignmentEntity } from './assignment.entity';
import { EntityManager } from 'typeorm';
import { AssignmentRepository } from './assignment.repository';
import { AssignmentDrawRepository, planDraws, SeedSource, serverSeed } from './assignment-draws';
import { DrawAssignmentDto } from './dto/draw-assignment.dto';
import { AuditService } from '../audit/audit.service';
import { DrawnPlan, FewTreatedPlanner, selectionAudit } from './few-treated-plan';
import type { Actor } from '../common/auth/principal';

/** Draws, stores and explains assignments (launch and stop are lifecycle transitions: governance/). */
@Injectable()
export class AssignmentService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentRepository,
    private readonly eligibility: EligibilityService,
    private readonly territories: TerritoryRepository,
    private readonly kpis: KpiService,
    private readonly draws: AssignmentDrawRepository,
    private readonly audit: AuditService,
    private readonly fewTreated: FewTreatedPlanner,
  ) {}

  /**
   * Draws the assignment for a draft pilot with its seeded design and stores it with seed,
   * PRNG, algorithm version and the inputs hash. Same inputs and seed: same assignment. The seed is
   * the plan's stated seed (`design.seed`) or, without one, a crypto-random seed drawn by the
   * server; every draw is recorded (assignment_draws) and audited (`assignment.drawn`).
   * @param req `reason` (required for every draw after the first), `seed` (only the plan's own)
   * @throws PILOT_FROZEN after launch; VALIDATION_FAILED (400, path `reason`) for a redraw without a
   *   reason; SEED_LOCKED (409) for a seed other than the plan's; DESIGN_INFEASIBLE; UNKNOWN_TERRITORY
   */
  async assign(pilotId: string, req: DrawAssignmentDto = {}, actor?: Actor) {
    await this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      assertDraft(pilot, 'redraw the assignment');
      const previous = await this.draws.list(pilotId, em);
      const number = previous.length + 1;
      const reason = req.reason?.trim() ? req.reason.trim() : null;
      if (number > 1 && !reason) {
        throw new AppException('VALIDATION_FAILED', `This would be draw ${number} of the assignment: a redraw needs a reason`, [
          { path: 'reason', errors: ['a redraw (any draw after the first) needs a non-empty reason'] },
        ]);
      }
      if (req.seed !== undefined && req.seed !== pilot.seed) {
        throw new AppException(
          'SEED_LOCKED',
          pilot.seed === null
            ? 'The plan states no seed, so the server draws it; a draw cannot choose its seed'
            : `The plan states seed ${pilot.seed}; a draw cannot use another seed`,
          { requested_seed: req.seed, plan_seed: pilot.seed, draws: number - 1 },
        );
      }
      const seed = pilot.seed ?? serverSeed();
      const source: SeedSource = pilot.seed === null ? 'server' : 'plan';
      const drawnPlan =
        pilot.designType === 'chosen'
          ? await this.fewTreated.chosenPlan(pilot, seed, em)
          : pilot.designType === 'selected'
            ? await this.fewTreated.selectedPlan(pilot, seed, em)
            : await this.randomizedPlan(pilot, seed);
      await this.assignments.replace(
        em,
        {
          pilotId,
          seed,
          prngAlgorithm: PRNG_ALGORITHM,
          algorithmVersion: drawnPlan.algorithmVersion,
          inputsHash: drawnPlan.inputsHash,
          design: drawnPlan.design,
        },
        drawnPlan.rows,
      );
      const draw = await this.draws.record(em, { pilotId, number, seed, source, reason, actorKeyId: actor?.key.id ?? null });
      await this.audit.record(
        {
          actor: actor?.key ?? null,
          request_id: actor?.requestId,
          action: 'assignment.drawn',
          entity_type: 'pilot',
          entity_id: pilotId,
          pilot_id: pilotId,
          before: previous.length ? { draws: previous.length, seed: previous[previous.length - 1].seed } : null,
          after: {
            draw_number: number,
            seed,
            seed_source: source,
            reason,
            inputs_hash: drawnPlan.inputsHash,
            ...(isFewTreatedDesign(drawnPlan.design.type)
              ? { design_type: drawnPlan.design.type, treated: drawnPlan.design.treated, donor_pool: drawnPlan.design.donor_pool }
              : {}),
            ...(drawnPlan.design.selection ? { selection: selectionAudit(drawnPlan.design.selection.result) } : {}),
          },
        },
        em,
      );
    });
    return this.get(pilotId);
  }

  /**
   * The stored assignment with each territory's arm and the balance table: per covariate and for
   * the primary KPI's pre-period value, arm means, SDs and the standardized mean difference.
   * @throws ASSIGNMENT_NOT_FOUND
   */
  async get(pilotId: string) {
    const pilot = await this.pilots.getById(pilotId);
    const a = await this.requireAssignment(pilotId);
    const treatmentKey = a.design.arms.find((x) => x.role === 'treatment')!.key;
    const controlKey = a.design.arms.find((x) => x.role === 'control')!.key;
    const territories = await this.territories.findByCodes(a.units.map((u) => u.territoryCode));
    const byCode = new Map(territories.map((t) => [t.code, t]));

    const preName = `pre_period_${pilot.primaryKpi}`;
    const covariateNames = [...new Set(a.units.flatMap((u) => Object.keys(u.covariates)))].filter((n) => n !== preName).sort();
    const valuesOf = (arm: string, pick: (u: (typeof a.units)[number]) => number | null | undefined) =>
      a.units.filter((u) => u.arm === arm).map((u) => pick(u) ?? null);
    const rows = covariateNames.map((name) =>
      balanceRow(name, valuesOf(treatmentKey, (u) => u.covariates[name]), valuesOf(controlKey, (u) => u.covariates[name])),
    );
    const preIds = a.units.map((u) => u.territoryId);
    const preWindow = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
    const preAsOf = (a.design as { pre_period_as_of?: string }).pre_period_as_of;
    const pre = preAsOf ? await this.kpis.forTerritoriesAsOf(preIds, preWindow, new Date(preAsOf)) : await this.kpis.forTerritories(preIds, preWindow);
    rows.push(
      balanceRow(
        preName,
        valuesOf(treatmentKey, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
        valuesOf(controlKey, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
      ),
    );

    // Mahalanobis distance of the arm means over the balance covariates (all arms), with its χ² p-value
    const armOrder = a.design.arms.map((x) => x.key);
    const mCovariates = a.design.rerandomization?.covariates ?? [...covariateNames, ...(covariateNames.includes(preName) ? [] : [preName])];
    const mRows = a.units.map((u) => ({
      ...u.covariates,
      ...(u.covariates[preName] === undefined ? { [preName]: kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi) } : {}),
    }));
    const mahalanobis = mahalanobisBalance(mCovariates, mRows, a.units.map((u) => armOrder.indexOf(u.arm)), armOrder.length);
    const otherTreatments = a.design.arms.filter((x) => x.role === 'treatment' && x.key !== treatmentKey).map((x) => x.key);

    return {
      pilot_id: pilotId,
      pilot_status: pilot.status,
      seed: a.seed,
      draws: planDraws(await this.draws.list(pilotId)),
      prng_algorithm: a.prngAlgorithm,
      algorithm_version: a.algorithmVersion,
      inputs_hash: a.inputsHash,
      design: a.design,
      created_at: a.createdAt,
      units: a.units.map((u) => ({
        territory_code: u.territoryCode,
        name: byCode.get(u.territoryCode)?.name ?? null,
        region: byCode.get(u.territoryCode)?.region ?? null,
        stratum: u.stratum,
        arm: u.arm,
      })),
      balance: {
        treatment_arm: treatmentKey,
        control_arm: controlKey,
        smd_rule: '|SMD| < 0.1 good, < 0.25 acceptable (Stuart 2010)',
        primary_kpi_pre_period: {
          kpi: pilot.primaryKpi,
          label: KPI_CATALOGUE[pilot.primaryKpi].label,
          window: { start: pilot.prePeriodStart, end: pilot.prePeriodEnd },
          computed_at: new Date().toISOString(),
          /** the design's pre_period_as_of: the pre-period read as known then; null = the data now */
          as_of: preAsOf ?? null,
        },
        rows,
        /** the other treatment arms (multi-arm pilots), each against control */
        other_treatments: otherTreatments.map((arm) => ({
          treatment_arm: arm,
          rows: [
            ...covariateNames.map((name) => balanceRow(name, valuesOf(arm, (u) => u.covariates[name]), valuesOf(controlKey, (u) => u.covariates[name]))),
            balanceRow(
              preName,
              valuesOf(arm, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
              valuesOf(controlKey, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
            ),
          ],
        })),
        mahalanobis: mahalanobis
          ? { ...mahalanobis, arms: armOrder, rule: 'M = Σ_a n_a (x̄_a − x̄)ᵀ S⁻¹ (x̄_a − x̄); p = P(χ²_df ≥ M), df = k(A − 1) (Morgan & Rubin 2012)' }
          : null,
      },
    };
  }

  /**
   * The stored assignment, checked against the pilot's current inputs (used at launch).
   * @throws ASSIGNMENT_NOT_FOUND; ASSIGNMENT_STALE when territories or covariates changed since the draw
   */
  async assertFresh(pilot: PilotEntity, em?: Parameters<AssignmentRepository['findByPilot']>[1]): Promise<AssignmentEntity> {
    const a = await this.requireAssignment(pilot.id, em);
    const currentHash = await this.currentInputsHash(pilot, a.seed, em);
    if (currentHash !== a.inputsHash) {
      throw new AppException(
        'ASSIGNMENT_STALE',
        'The eligible territories or their covariates changed since the assignment was drawn; draw it again before launch',
        { stored_inputs_hash: a.inputsHash, current_inputs_hash: currentHash },
      );
    }
    return a;
  }

  /** Whether the pilot has a stored assignment (read in `em`'s transaction when given). */
  async hasAssignment(pilotId: string, em?: Parameters<AssignmentRepository['findByPilot']>[1]): Promise<boolean> {
    return (await this.assignments.findByPilot(pilotId, em)) !== null;
  }

  /** The stored assignment. @throws ASSIGNMENT_NOT_FOUND */
  async requireAssignment(pilotId: string, em?: Parameters<AssignmentRepository['findByPilot']>[1]): Promise<AssignmentEntity> {
    const a = await this.assignments.findByPilot(pilotId, em);
    if (!a) throw new AppException('ASSIGNMENT_NOT_FOUND', `Pilot ${pilotId} has no assignment yet; POST /pilots/${pilotId}/assignment`);
    return a;
  }

  /**
   * Replays the stored assignment from what was stored (seed, PRNG, algorithm version, design
   * parameters, the units' strata and covariates, left-out territories) and confirms it territory by
   * territory; also says whether the pilot's current inputs still hash to the stored inputs hash.
   * @throws ASSIGNMENT_NOT_FOUND
   */
  async verify(pilotId: string) {
    const pilot = await this.pilots.getById(pilotId);
    const a = await this.requireAssignment(pilotId);
    const replay = replayAssignment(a);
    let current: { inputs_hash: string | null; matches: boolean | null; error: string | null };
    try {
      const hash = await this.currentInputsHash(pilot, a.seed);
      current = { inputs_hash: hash, matches: hash === a.inputsHash, error: null };
    } catch (err) {
      current = { inputs_hash: null, matches: null, error: (err as Error).message };
    }
    return {
      pilot_id: pilotId,
      identical: replay.identical,
      design_type: a.design.type,
      seed: a.seed,
      prng_algorithm: a.prngAlgorithm,
      algorithm_version: a.algorithmVersion,
      inputs_hash: a.inputsHash,
      replayed_inputs_hash: replay.replayed_inputs_hash,
      stored_inputs_intact: replay.replayed_inputs_hash === a.inputsHash,
      units_compared: replay.units_compared,
      mismatches: replay.mismatches,
      left_out_identical: replay.left_out_identical,
      draws_tried: replay.draws_tried,
      ...(replay.selection_identical !== undefined ? { selection_identical: replay.selection_identical } : {}),
      current_inputs: current,
    };
  }

  /** The inputs hash the pilot's current inputs give with `seed` (what a draw now would store). */
  private async currentInputsHash(pilot: PilotEntity, seed: number, em?: EntityManager): Promise<string> {
    if (pilot.designType === 'chosen') return (await this.fewTreated.chosenPlan(pilot, seed, em)).inputsHash;
    if (pilot.designType === 'selected') return (await this.fewTreated.selectedInputs(pilot, seed, em)).inputsHash;
    return (await this.plan(pilot, seed)).inputsHash;
  }

  /** A randomized design's draw: plan, draw and the rows to store. */
  private async randomizedPlan(pilot: PilotEntity, seed: number): Promise<DrawnPlan> {
    const plan = await this.plan(pilot, seed);
    const drawn = drawPlanned(plan, pilot.designOptions?.constraints?.exclude ?? []);
    const byCode = new Map(plan.units.map((u) => [u.code, u]));
    return {
      inputsHash: plan.inputsHash,
      algorithmVersion: drawn.algorithm_version,
      design: storedDesignOf(plan, drawn),
      rows: Object.keys(drawn.arms)
        .sort()
        .map((code) => {
          const u = byCode.get(code)!;
          return { territoryId: u.territory_id, territoryCode: code, arm: drawn.arms[code], stratum: drawn.unit_strata[code], covariates: u.covariates };
        }),
    };
  }

  /** Eligible units (with the pre-period covariates the design needs), exact arm counts, the draw spec and the inputs hash. */
  private async plan(pilot: PilotEntity, seed: number): Promise<PlannedDesign> {
    const eligible = await this.eligibility.resolve(pilot);
    const excluded = pilot.designOptions?.constraints?.exclude ?? [];
    // plain designs keep the original count check and message
    if (pilot.designType !== 'matched_pairs' && excluded.length === 0) this.eligibility.armCounts(pilot, eligible.length);
    const units = toDesignUnits(pilot, eligible);
    await this.fewTreated.addPreperiodCovariates(pilot, units);
    return planDesign(pilot, units, seed);
  }
}
