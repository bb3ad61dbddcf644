import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';
import { PilotRepository } from '../pilots/pilot.repository';
import { JobProducer } from '../queues/job-producer.service';
import { requeuePending } from '../queues/requeue-pending';
import { PowerRequestDto } from './dto/power-request.dto';
import { PowerAnalysisEntity } from './power-analysis.entity';
import { powerDecision, StoredPowerParts } from './power-decision';
import { PowerHistory } from './power-history';
import { analyticPlan, AnalyticPlan } from './power-plan';
import { DESIGN_TYPES } from '../stats/design/designs';
import { WEEKLY_PANEL_KPIS } from '../stats/weekly-panel';
import { FEW_TREATED_WEEK_CANDIDATES } from './few-treated-power';
import { MAX_PLACEBO_WINDOWS } from './power-history';

/** Candidate test-period lengths (weeks) for "how many weeks are needed". */
const WEEK_CANDIDATES = [2, 4, 6, 8, 10, 13, 17, 21, 26, 35, 52];

/**
 * Power planning requests: computes the analytic part at once (it needs only a few SQL aggregations),
 * stores the request in `power_analyses` and enqueues the simulation job (202 + GET, like reports).
 */
@Injectable()
export class PowerService {

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly pilots: PilotRepository,
    private readonly history: PowerHistory,
    private readonly env: EnvironmentVariables,
  ) {}

  /**
   * Plans power for a pilot in any state (a draft needs no assignment): analytic MDE, power at the
   * given lifts, territories and weeks needed for a target MDE, and a queued placebo simulation.
   * @throws PILOT_NOT_FOUND; UNKNOWN_TERRITORY; DESIGN_INFEASIBLE (design cannot be filled, or too
   *   little history to plan)
   */
  async request(pilotId: string, dto: PowerRequestDto) {
    const pilot = await this.pilots.getById(pilotId);
    if (pilot.designType === 'chosen') return this.requestFewTreated(pilot, dto);
    if (dto.mode === 'planner') return this.requestPlanner(pilot, dto);
    const kpi = dto.kpi ?? pilot.primaryKpi;
    const power = dto.power ?? 0.8;
    const lifts = dto.lifts ?? [0.05, 0.1, 0.2];
    const simulations = dto.simulations ?? 200;
    const covariate = dto.covariate_adjustment ?? true;
    const plan = await this.history.plan(pilot);
    const shift = this.history.baseShift(pilot);
    const dataStart = await this.history.dataStart(plan.units.map((u) => u.territory_id));
    const window = await this.history.window(pilot, plan.units, kpi, shift, dataStart);
    let analytic: AnalyticPlan;
    try {
      analytic = analyticPlan({
        y: window.y,
        x: covariate && window.pre_complete ? window.x : null,
        blocks: this.history.blocksOf(pilot, window),
        paired: pilot.designType === 'matched_pairs',
        arms: plan.design.arms,
        alpha: pilot.alpha,
        power,
        lifts,
        target_mde: dto.target_mde ?? null,
      });
    } catch (err) {
      if (err instanceof RangeError) {
        throw new AppException('DESIGN_INFEASIBLE', `Too little history to plan power: ${err.message}`, {
          kpi,
          reference_window: window.outcome,
        });
      }
      throw err;
    }
    const weeks = dto.target_mde !== undefined ? await this.weeksNeeded(pilot, plan, kpi, analytic, dto.target_mde) : null;
    const request = { kpi, power, lifts, target_mde: dto.target_mde ?? null, simulations, covariate_adjustment: covariate };
    const result = {
      kpi,
      design: { type: plan.design.type, arms: plan.design.arms, territories: plan.units.length },
      reference_window: {
        outcome: window.outcome,
        pre_period: window.pre,
        pre_period_complete: window.pre_complete,
        rule: 'the pilot windows shifted back so that the test period ends on the last pre-period day; a pre-period reaching before the data gives no covariate',
      },
      ...analytic,
      weeks_needed: weeks,
    };
    const repo = this.dataSource.getRepository(PowerAnalysisEntity);
    const row = await repo.save(
      repo.create({
        pilotId,
        status: simulations > 0 ? 'queued' : 'completed',
        request,
        analytic: result,
        simulation: null,
        simulationsTotal: simulations,
        simulationsDone: 0,
        completedAt: simulations > 0 ? null : new Date(),
      }),
    );
    const enqueued = simulations > 0 ? await this.producer.enqueuePower(row.id) : false;
    if (enqueued) await repo.update(row.id, { enqueuedAt: new Date() });
    return {
      power_analysis_id: row.id,
      pilot_id: pilotId,
      status: row.status,
      enqueued,
      status_url: `/pilots/${pilotId}/power/${row.id}`,
      analytic: result,
      decision: powerDecision({ analytic: result, simulation: null, power, simulationState: simulations > 0 ? 'pending' : 'none' }),
    };
  }

  /**
   * The power planner (mode 'planner', power-planner.ts): stores the request and enqueues the job
   * that runs placebo backtests over territories × weeks × design on the pilot's own history.
   * @throws VALIDATION_FAILED without target_mde or with a territory count above the eligible pool;
   *   PILOT_NOT_FOUND; UNKNOWN_TERRITORY; DESIGN_INFEASIBLE
   */
  private async requestPlanner(pilot: Parameters<PowerHistory['plan']>[0], dto: PowerRequestDto) {
    if (dto.target_mde === undefined) {
      throw plannerNeedsTarget();
    }
    const plan = await this.history.plan(pilot);
    const pool = plan.units.length;
    const counts = dto.territory_counts ?? defaultTerritoryCounts(pool);
    const tooMany = counts.filter((n) => n > pool);
    if (tooMany.length) {
      throw new AppException('VALIDATION_FAILED', `territory_counts above the ${pool} eligible territories: ${tooMany.join(', ')}`, { field: 'territory_counts', eligible: pool, rejected: tooMany });
    }
    const stratified = pilot.designType === 'stratified';
    const designs = (dto.designs ?? [...DESIGN_TYPES]).filter((d) => d !== 'stratified' || stratified);
    const leftOut = dto.designs?.includes('stratified') || !dto.designs ? (stratified ? [] : [{ design: 'stratified', reason: 'the pilot has no strata (stratify_by) to block on' }]) : [];
    if (designs.length === 0) throw new AppException('VALIDATION_FAILED', 'No design left to plan: stratified needs a pilot with strata', { field: 'designs' });
    const simulations = dto.simulations && dto.simulations > 0 ? dto.simulations : 200;
    const request = {
      mode: 'planner',
      kpi: dto.kpi ?? pilot.primaryKpi,
      power: dto.power ?? 0.8,
      target_mde: dto.target_mde,
      simulations,
      territory_counts: counts,
      weeks: dto.weeks ?? [4, 8, 13, 26],
      designs,
      designs_left_out: leftOut,
    };
    const cells = counts.length * request.weeks.length * designs.length;
    const repo = this.dataSource.getRepository(PowerAnalysisEntity);
    const row = await repo.save(repo.create({ pilotId: pilot.id, status: 'queued', request, analytic: null, simulation: null, simulationsTotal: cells * simulations, simulationsDone: 0, completedAt: null }));
    const enqueued = await this.producer.enqueuePower(row.id);
    if (enqueued) await repo.update(row.id, { enqueuedAt: new Date() });
    return { power_analysis_id: row.id, pilot_id: pilot.id, status: row.status, enqueued, status_url: `/pilots/${pilot.id}/power/${row.id}`, request };
  }

  /**
   * The power plan of a chosen (few-treated) pilot, in either mode: the randomization-based plans do
   * not apply (nothing is drawn), so the job runs SDID placebo backtests on the pilot's own history
   * for each candidate test length (`weeks`, default FEW_TREATED_WEEK_CANDIDATES) and gives the MDE of
   * each (few-treated-power.ts, backtest-power.ts); with `target_mde` also the shortest length that
   * reaches it. The donor pool is resolved now, so an infeasible one is a 422 and nothing is stored.
   * @throws VALIDATION_FAILED for a KPI without a weekly panel, or mode 'planner' without target_mde;
   *   422 from the donor-pool rules (PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE)
   */
  private async requestFewTreated(pilot: Parameters<PowerHistory['plan']>[0], dto: PowerRequestDto) {
    const kpi = dto.kpi ?? pilot.primaryKpi;
    if (!WEEKLY_PANEL_KPIS[kpi]) {
      throw new AppException('VALIDATION_FAILED', `A chosen (few-treated) pilot is planned on the weekly panel of an additive KPI (${Object.keys(WEEKLY_PANEL_KPIS).join(', ')}); ${kpi} has none`, {
        field: 'kpi',
        allowed: Object.keys(WEEKLY_PANEL_KPIS),
      });
    }
    if (dto.mode === 'planner' && dto.target_mde === undefined) {
      throw plannerNeedsTarget();
    }
    const units = await this.history.fewTreatedUnits(pilot);
    const weeks = [...new Set(dto.weeks ?? FEW_TREATED_WEEK_CANDIDATES)].sort((a, b) => a - b);
    const request = { mode: 'few_treated', requested_mode: dto.mode ?? 'plan', kpi, power: dto.power ?? 0.8, weeks, target_mde: dto.target_mde ?? null };
    const repo = this.dataSource.getRepository(PowerAnalysisEntity);
    const row = await repo.save(
      repo.create({ pilotId: pilot.id, status: 'queued', request, analytic: null, simulation: null, simulationsTotal: weeks.length * MAX_PLACEBO_WINDOWS, simulationsDone: 0, completedAt: null }),
    );
    const enqueued = await this.producer.enqueuePower(row.id);
    if (enqueued) await repo.update(row.id, { enqueuedAt: new Date() });
    return {
      power_analysis_id: row.id,
      pilot_id: pilot.id,
      status: row.status,
      enqueued,
      status_url: `/pilots/${pilot.id}/power/${row.id}`,
      request,
      analytic: null,
      treated: units.treated.map((u) => u.code),
      donors: units.donors.map((u) => u.code),
      donors_left_out: units.left_out,
      decision: fewTreatedDecisionOf(row),
    };
  }

  /** A power analysis with its progress. @throws POWER_ANALYSIS_NOT_FOUND (404) */
  async get(pilotId: string, id: string) {
    const r = await this.dataSource.getRepository(PowerAnalysisEntity).findOne({ where: { id, pilotId } });
    if (!r) throw new AppException('NOT_FOUND', `No power analysis ${id} for pilot ${pilotId}`);
    return {
      power_analysis_id: r.id,
      pilot_id: r.pilotId,
      status: r.status,
      progress: { simulations_done: r.simulationsDone, simulations_total: r.simulationsTotal },
      request: r.request,
      requested_at: r.requestedAt,
      started_at: r.startedAt,
      completed_at: r.completedAt,
      error: r.error,
      analytic: r.analytic,
      simulation: r.simulation,
      decision: r.request.mode === 'planner' ? plannerDecisionOf(r) : r.request.mode === 'few_treated' ? fewTreatedDecisionOf(r) : powerDecisionOf(r),
    };
  }

  /** The pilot's power analyses, newest first (at most 100). @throws PILOT_NOT_FOUND */
  async list(pilotId: string) {
    await this.pilots.getById(pilotId);
    const rows = await this.dataSource.getRepository(PowerAnalysisEntity).find({
      where: { pilotId },
      order: { requestedAt: 'DESC' },
      select: { id: true, status: true, requestedAt: true, completedAt: true, simulationsDone: true, simulationsTotal: true },
      take: 100,
    });
    return rows.map((r) => ({
      power_analysis_id: r.id,
      status: r.status,
      requested_at: r.requestedAt,
      completed_at: r.completedAt,
      progress: { simulations_done: r.simulationsDone, simulations_total: r.simulationsTotal },
    }));
  }

  /** Re-enqueues power analyses persisted but never (or long ago) enqueued; called by the sweeper. */
  async requeuePending(): Promise<number> {
    const timing = { enqueueTimeoutMs: this.env.ENQUEUE_TIMEOUT_MS, staleMs: this.env.REQUEUE_STALE_MS };
    return requeuePending(this.dataSource, 'power_analyses', timing, (id) => this.producer.enqueuePower(id));
  }

  /**
   * Smallest test-period length (whole weeks, from WEEK_CANDIDATES, history permitting) whose analytic
   * MDE for the first comparison is ≤ the target, with the same territories, design adjustment and
   * power; each candidate's σ and mean come from the window of that length ending on the last day of
   * the reference window.
   */
  private async weeksNeeded(pilot: Parameters<PowerHistory['plan']>[0], plan: Awaited<ReturnType<PowerHistory['plan']>>, kpi: string, analytic: AnalyticPlan, target: number) {
    const start = await this.history.dataStart(plan.units.map((u) => u.territory_id));
    const end = this.history.shifted(pilot, this.history.baseShift(pilot)).outcome.end;
    const c = analytic.comparisons[0];
    const table: { weeks: number; mde_relative: number | null }[] = [];
    for (const weeks of WEEK_CANDIDATES) {
      if (!start || daysSpan(start, end) < 7 * weeks) break;
      const y = (await this.history.kpiOver(plan.units, kpi as never, end, 7 * weeks)).filter((v): v is number => v !== null);
      if (y.length < 4) continue;
      const mean = y.reduce((s, v) => s + v, 0) / y.length;
      const sd = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / (y.length - 1));
      const mdeAbs = (c.mde.absolute / analytic.adjusted_sd) * sd * Math.sqrt(analytic.adjustment.variance_ratio);
      table.push({ weeks, mde_relative: mean > 0 && sd > 0 ? mdeAbs / mean : null });
    }
    const hit = table.find((r) => r.mde_relative !== null && r.mde_relative <= target);
    return {
      target_mde: target,
      weeks: hit?.weeks ?? null,
      note: hit ? null : 'no test-period length the history covers reaches the target MDE with these territories',
      by_length: table,
      rule: 'σ and mean of the KPI over windows of each length ending on the last day of the reference window; same territories, design adjustment and power',
    };
  }
}

/** The deciding figure of a stored power analysis (power-decision.ts): the simulated MDE once the simulation completed. */
function powerDecisionOf(r: PowerAnalysisEntity) {
  const state = r.status === 'completed' ? (r.simulation ? 'completed' : 'none') : r.status === 'failed' ? 'failed' : 'pending';
  const power = typeof r.request.power === 'number' ? r.request.power : 0.8;
  return powerDecision({ analytic: r.analytic as StoredPowerParts['analytic'], simulation: state === 'completed' ? (r.simulation as StoredPowerParts['simulation']) : null, power, simulationState: state });
}

/** The 400 of a planner request without target_mde. */
function plannerNeedsTarget(): AppException {
  return new AppException('VALIDATION_FAILED', 'The planner needs target_mde: the lift the pilot must detect (0.1 = +10%)', { field: 'target_mde' });
}

/** Default territory counts of the planner: ¼, ½, ¾ and all of the eligible pool (even, ≥ 4). */
function defaultTerritoryCounts(pool: number): number[] {
  return [...new Set([0.25, 0.5, 0.75, 1].map((f) => 2 * Math.floor((f * pool) / 2)).filter((n) => n >= 4))];
}

/** The answer of a chosen pilot's backtest power plan: per-length MDEs in words, or why there is none yet. */
function fewTreatedDecisionOf(r: PowerAnalysisEntity) {
  const result = r.simulation as { text?: string; weeks_needed?: number | null } | null;
  const source = 'few_treated_backtest';
  if (r.status === 'completed' && result) return { source, method: 'sdid', weeks_needed: result.weeks_needed ?? null, text: result.text ?? null };
  return { source, method: 'sdid', weeks_needed: null, text: r.status === 'failed' ? `The placebo backtests failed: ${r.error}` : 'The placebo backtests have not finished.' };
}

/** The planner's answer of a stored analysis: its text, or why there is none yet. */
function plannerDecisionOf(r: PowerAnalysisEntity) {
  const result = r.simulation as { text?: string; recommendation?: unknown } | null;
  if (r.status === 'completed' && result) return { source: 'planner', recommendation: result.recommendation ?? null, text: result.text ?? null };
  return { source: 'planner', recommendation: null, text: r.status === 'failed' ? `The planner failed: ${r.error}` : 'The planner has not finished.' };
}

function daysSpan(start: string, end: string): number {
  return (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000 + 1;
}
