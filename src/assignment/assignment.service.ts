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
import { PilotEntity } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';
import { TerritoryRepository } from '../territories/territory.repository';
import { toDesignUnits } from './assignment-inputs';
import { designCovariateNames, drawPlanned, PlannedDesign, planDesign, PRE_PERIOD_PREFIX, preperiodKpisNeeded, replayAssignment, storedDesignOf } from './design-plan';
import { AssignmentEntity, StoredDesign } from './assignment.entity';
import { EntityManager } from 'typeorm';
import { weekStarts } from '../stats/weekly-panel';
import { FewTreatedInputError } from '../stats/synthetic/few-treated';
import { fewTreatedException } from '../pilots/few-treated-errors';
import { CHOSEN_ALGORITHM_VERSION, CHOSEN_DONOR_RULES, ChosenDonorPool, chosenDonorPool, chosenInputsHash, weeksWithoutCoverage } from './chosen-design';
import { AssignmentRepository } from './assignment.repository';
import { AssignmentDrawRepository, planDraws, SeedSource, serverSeed } from './assignment-draws';
import { DrawAssignmentDto } from './dto/draw-assignment.dto';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/principal';

/** A design ready to store: its inputs hash, algorithm version, stored design and unit rows. */
interface DrawnPlan {
  inputsHash: string;
  algorithmVersion: string;
  design: StoredDesign;
  rows: { territoryId: string; territoryCode: string; arm: string; stratum: string; covariates: Record<string, number | null> }[];
}

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
      const drawnPlan = pilot.designType === 'chosen' ? await this.chosenPlan(pilot, seed, em) : await this.randomizedPlan(pilot, seed);
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
            ...(drawnPlan.design.type === 'chosen' ? { design_type: 'chosen', treated: drawnPlan.design.treated, donor_pool: drawnPlan.design.donor_pool } : {}),
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
      current_inputs: current,
    };
  }

  /** The inputs hash the pilot's current inputs give with `seed` (what a draw now would store). */
  private async currentInputsHash(pilot: PilotEntity, seed: number, em?: EntityManager): Promise<string> {
    return pilot.designType === 'chosen' ? (await this.chosenPlan(pilot, seed, em)).inputsHash : (await this.plan(pilot, seed)).inputsHash;
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

  /**
   * A chosen design's assignment (no randomization): the named treated territories in the treatment
   * arm, the donor pool (chosen-design.ts rules: excluded, reserved by running pilots, incomplete
   * pre-period data left out, each with why) in the control arm.
   * @throws 422 PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE
   */
  private async chosenPlan(pilot: PilotEntity, seed: number, em?: EntityManager): Promise<DrawnPlan> {
    const eligible = await this.eligibility.resolve(pilot);
    const units = toDesignUnits(pilot, eligible);
    const weeks = weekStarts({ start: pilot.prePeriodStart, end: pilot.prePeriodEnd });
    const q = em ?? this.dataSource.manager;
    const ids = units.map((u) => u.territory_id);
    const firsts: { territory_id: string; first: string }[] = await q.query(
      `SELECT territory_id, min(engage_date)::text AS first FROM opportunities WHERE territory_id = ANY($1::uuid[]) GROUP BY territory_id`,
      [ids],
    );
    const firstById = new Map(firsts.map((r) => [String(r.territory_id), r.first]));
    const reservedRows: { territory_code: string; pilot_id: string; name: string }[] = await q.query(
      `SELECT DISTINCT u.territory_code, p.id AS pilot_id, p.name
         FROM pilots p JOIN assignments a ON a.pilot_id = p.id JOIN assignment_units u ON u.assignment_id = a.id
        WHERE p.status = 'running' AND p.id <> $1 AND u.territory_id = ANY($2::uuid[])
          AND NOT (EXISTS (SELECT 1 FROM pilot_compatibility c WHERE c.pilot_id = $1 AND c.compatible_pilot_id = p.id)
               AND EXISTS (SELECT 1 FROM pilot_compatibility c WHERE c.pilot_id = p.id AND c.compatible_pilot_id = $1))
        ORDER BY u.territory_code, p.name, p.id`,
      [pilot.id, ids],
    );
    const reserved = new Map<string, { pilot_id: string; name: string }[]>();
    for (const r of reservedRows) reserved.set(r.territory_code, [...(reserved.get(r.territory_code) ?? []), { pilot_id: r.pilot_id, name: r.name }]);
    const missingWeeks = new Map(units.map((u) => [u.code, weeksWithoutCoverage(weeks, firstById.get(u.territory_id) ?? null)]));
    let pool: ChosenDonorPool;
    try {
      pool = chosenDonorPool({
        eligible: units.map((u) => u.code),
        treated: pilot.designOptions?.treated ?? [],
        excluded: pilot.designOptions?.constraints?.exclude ?? [],
        reserved,
        missingWeeks,
        preWeeks: weeks.length,
      });
    } catch (err) {
      throw err instanceof FewTreatedInputError ? fewTreatedException(err) : err;
    }
    const treatmentKey = pilot.arms.find((a) => a.role === 'treatment')!.key;
    const controlKey = pilot.arms.find((a) => a.role === 'control')!.key;
    const arms = pilot.arms.map((a) => ({ key: a.key, role: a.role, count: a.role === 'treatment' ? pool.treated.length : pool.donors.length }));
    const treated = new Set(pool.treated);
    const included = units.filter((u) => treated.has(u.code) || pool.donors.includes(u.code));
    const exclude = pilot.designOptions?.constraints?.exclude;
    const design: StoredDesign = {
      type: 'chosen',
      stratify_by: null,
      arms,
      strata: [{ stratum: 'all', n: included.length, counts: { [treatmentKey]: pool.treated.length, [controlKey]: pool.donors.length } }],
      ...(exclude?.length ? { constraints: { exclude } } : {}),
      treated: [...pool.treated].sort(),
      donor_pool: { donors: pool.donors, left_out: pool.left_out, pre_weeks: pool.pre_weeks, min_pre_weeks: pool.min_pre_weeks, rules: CHOSEN_DONOR_RULES },
    };
    const inputsHash = chosenInputsHash(design, seed, included);
    return {
      inputsHash,
      algorithmVersion: CHOSEN_ALGORITHM_VERSION,
      design,
      rows: included.map((u) => ({
        territoryId: u.territory_id,
        territoryCode: u.code,
        arm: treated.has(u.code) ? treatmentKey : controlKey,
        stratum: 'all',
        covariates: u.covariates,
      })),
    };
  }

  /** Eligible units (with the pre-period covariates the design needs), exact arm counts, the draw spec and the inputs hash. */
  private async plan(pilot: PilotEntity, seed: number): Promise<PlannedDesign> {
    const eligible = await this.eligibility.resolve(pilot);
    const excluded = pilot.designOptions?.constraints?.exclude ?? [];
    // plain designs keep the original count check and message
    if (pilot.designType !== 'matched_pairs' && excluded.length === 0) this.eligibility.armCounts(pilot, eligible.length);
    const units = toDesignUnits(pilot, eligible);
    const needed = preperiodKpisNeeded(designCovariateNames(pilot));
    if (needed.length) {
      const at = pilot.designOptions?.pre_period_as_of;
      const window = { start: pilot.prePeriodStart, end: pilot.prePeriodEnd };
      const ids = units.map((u) => u.territory_id);
      // as known at the design's pre_period_as_of (stored in the design and its hash), else the data now
      const pre = at ? await this.kpis.forTerritoriesAsOf(ids, window, new Date(at)) : await this.kpis.forTerritories(ids, window);
      for (const u of units) {
        for (const k of needed) u.covariates[`${PRE_PERIOD_PREFIX}${k}`] = kpiValue(pre.get(u.territory_id)!, k);
      }
    }
    return planDesign(pilot, units, seed);
  }
}
