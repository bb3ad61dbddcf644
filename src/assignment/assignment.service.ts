import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { drawAssignment, DESIGN_ALGORITHM_VERSION } from '../analysis/design/randomization';
import { PRNG_ALGORITHM } from '../analysis/design/prng';
import { balanceRow } from '../analysis/stats/balance';
import { AppException } from '../common/errors/app.exception';
import { KPI_CATALOGUE } from '../kpis/kpi-catalogue';
import { KpiService, kpiValue } from '../kpis/kpi.service';
import { EligibilityService } from '../pilots/eligibility.service';
import { assertDraft } from '../pilots/pilot-rules';
import { PilotEntity } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';
import { TerritoryRepository } from '../territories/territory.repository';
import { DesignUnit, hashAssignmentInputs, toDesignUnits } from './assignment-inputs';
import { AssignmentEntity, StoredDesign } from './assignment.entity';
import { AssignmentRepository } from './assignment.repository';

/** Draws, stores and explains assignments; launches and stops pilots (which freezes them). */
@Injectable()
export class AssignmentService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentRepository,
    private readonly eligibility: EligibilityService,
    private readonly territories: TerritoryRepository,
    private readonly kpis: KpiService,
  ) {}

  /**
   * Draws the assignment for a draft pilot with its seeded design and stores it with seed,
   * PRNG, algorithm version and the inputs hash. Same inputs and seed: same assignment.
   * @throws PILOT_FROZEN after launch; DESIGN_INFEASIBLE; UNKNOWN_TERRITORY
   */
  async assign(pilotId: string) {
    await this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      assertDraft(pilot, 'redraw the assignment');
      const plan = await this.plan(pilot);
      let drawn: ReturnType<typeof drawAssignment>;
      try {
        drawn = drawAssignment(
          plan.units.map((u) => ({ code: u.code, stratum: u.stratum })),
          { type: pilot.designType, arms: plan.design.arms, seed: pilot.seed },
        );
      } catch (err) {
        throw new AppException('DESIGN_INFEASIBLE', (err as Error).message);
      }
      const design: StoredDesign = { ...plan.design, strata: drawn.strata };
      await this.assignments.replace(
        em,
        {
          pilotId,
          seed: pilot.seed,
          prngAlgorithm: PRNG_ALGORITHM,
          algorithmVersion: drawn.algorithm_version,
          inputsHash: plan.inputsHash,
          design,
        },
        plan.units.map((u) => ({
          territoryId: u.territory_id,
          territoryCode: u.code,
          arm: drawn.arms[u.code],
          stratum: u.stratum,
          covariates: u.covariates,
        })),
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

    const covariateNames = [...new Set(a.units.flatMap((u) => Object.keys(u.covariates)))].sort();
    const valuesOf = (arm: string, pick: (u: (typeof a.units)[number]) => number | null | undefined) =>
      a.units.filter((u) => u.arm === arm).map((u) => pick(u) ?? null);
    const rows = covariateNames.map((name) =>
      balanceRow(name, valuesOf(treatmentKey, (u) => u.covariates[name]), valuesOf(controlKey, (u) => u.covariates[name])),
    );
    const pre = await this.kpis.forTerritories(
      a.units.map((u) => u.territoryId),
      { start: pilot.prePeriodStart, end: pilot.prePeriodEnd },
    );
    const preName = `pre_period_${pilot.primaryKpi}`;
    rows.push(
      balanceRow(
        preName,
        valuesOf(treatmentKey, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
        valuesOf(controlKey, (u) => kpiValue(pre.get(u.territoryId)!, pilot.primaryKpi)),
      ),
    );

    return {
      pilot_id: pilotId,
      pilot_status: pilot.status,
      seed: a.seed,
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
        },
        rows,
      },
    };
  }

  /**
   * Launches a draft pilot: freezes design and assignment. Refuses when the stored assignment no
   * longer matches the current inputs (territories or covariates changed since the draw).
   * @throws ASSIGNMENT_NOT_FOUND, ASSIGNMENT_STALE, PILOT_FROZEN
   */
  async launch(pilotId: string) {
    return this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      if (pilot.status !== 'draft') {
        throw new AppException('INVALID_STATE', `Only a draft pilot can be launched; this one is ${pilot.status}`, { status: pilot.status });
      }
      const a = await this.requireAssignment(pilotId, em);
      const plan = await this.plan(pilot);
      if (plan.inputsHash !== a.inputsHash) {
        throw new AppException(
          'ASSIGNMENT_STALE',
          'The eligible territories or their covariates changed since the assignment was drawn; draw it again before launch',
          { stored_inputs_hash: a.inputsHash, current_inputs_hash: plan.inputsHash },
        );
      }
      pilot.status = 'running';
      pilot.launchedAt = new Date();
      await this.pilots.save(pilot, em);
      return { pilot_id: pilot.id, status: pilot.status, launched_at: pilot.launchedAt, inputs_hash: a.inputsHash };
    });
  }

  /** Stops a running pilot. @throws INVALID_STATE unless it is running. */
  async stop(pilotId: string) {
    return this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      if (pilot.status !== 'running') {
        throw new AppException('INVALID_STATE', `Only a running pilot can be stopped; this one is ${pilot.status}`, { status: pilot.status });
      }
      pilot.status = 'stopped';
      pilot.stoppedAt = new Date();
      await this.pilots.save(pilot, em);
      return { pilot_id: pilot.id, status: pilot.status, stopped_at: pilot.stoppedAt };
    });
  }

  /** The stored assignment. @throws ASSIGNMENT_NOT_FOUND */
  async requireAssignment(pilotId: string, em?: Parameters<AssignmentRepository['findByPilot']>[1]): Promise<AssignmentEntity> {
    const a = await this.assignments.findByPilot(pilotId, em);
    if (!a) throw new AppException('ASSIGNMENT_NOT_FOUND', `Pilot ${pilotId} has no assignment yet; POST /pilots/${pilotId}/assignment`);
    return a;
  }

  /** Eligible units, exact arm counts and the inputs hash for the pilot as it is now. */
  private async plan(pilot: PilotEntity): Promise<{ units: DesignUnit[]; design: Omit<StoredDesign, 'strata'>; inputsHash: string }> {
    const eligible = await this.eligibility.resolve(pilot);
    const counts = this.eligibility.armCounts(pilot, eligible.length);
    const units = toDesignUnits(pilot, eligible);
    const design = {
      type: pilot.designType,
      stratify_by: pilot.designType === 'stratified' ? (pilot.stratifyBy ?? 'region') : null,
      arms: pilot.arms.map((arm) => ({ key: arm.key, role: arm.role, count: counts[arm.key] })),
    };
    const inputsHash = hashAssignmentInputs({
      algorithm_version: DESIGN_ALGORITHM_VERSION,
      prng: PRNG_ALGORITHM,
      seed: pilot.seed,
      design,
      units,
    });
    return { units, design, inputsHash };
  }
}
