import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { addDays, daysBetween } from '../common/utils/dates';
import { KpiKey, kpiValue } from '../kpis/kpi-catalogue';
import { KpiService } from '../kpis/kpi.service';
import { DesignType } from '../stats/design/designs';
import { planPower, PlannerResult, PlannerWindow } from './power-planner';
import { PilotRepository } from '../pilots/pilot.repository';
import { PowerAnalysisEntity } from './power-analysis.entity';
import { MAX_PLACEBO_WINDOWS, PowerHistory } from './power-history';
import { SimulationResult, SimulationWindow, simulatePlacebo, simulationFailure } from './power-plan';

/**
 * The simulation part of a power analysis (the `power` job): placebo pilots with the pilot's design
 * on past windows of the territories' own history. Idempotent: a completed or failed analysis is
 * never recomputed, the result is written once with a guarded UPDATE, and the seeds are fixed, so a
 * duplicated or retried job computes the same numbers. The loop yields to the event loop between
 * chunks and reports progress, so the BullMQ lock is renewed.
 */
@Injectable()
export class PowerJobService {
  private readonly logger = new Logger(PowerJobService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly history: PowerHistory,
    private readonly kpis: KpiService,
  ) {}

  /**
   * Runs the simulation of power analysis `id`. @returns false when it was already done.
   * @throws UnrecoverableError when the history has no window for a placebo pilot
   */
  async compute(id: string, onProgress: (fraction: number) => Promise<void> = async () => undefined): Promise<boolean> {
    await this.dataSource.query(
      `UPDATE power_analyses SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1 AND status IN ('queued', 'running')`,
      [id],
    );
    const row = await this.dataSource.getRepository(PowerAnalysisEntity).findOne({ where: { id } });
    if (!row || row.status === 'completed' || row.status === 'failed') return false;
    const pilot = await this.pilots.getById(row.pilotId);
    if (row.request.mode === 'planner') return this.computePlanner(row, pilot, onProgress);
    const req = row.request as { kpi: KpiKey; lifts: number[]; simulations: number };
    const plan = await this.history.plan(pilot);
    const dataStart = await this.history.dataStart(plan.units.map((u) => u.territory_id));
    const windows: SimulationWindow[] = [];
    const base = this.history.baseShift(pilot);
    // windows whose shifted test period lies inside the data; a pre-period reaching before the data
    // leaves the covariates missing (pre_complete: false), it is not filled with zeros
    for (let k = 0; k < MAX_PLACEBO_WINDOWS && dataStart; k++) {
      const shift = base + 7 * k;
      if (this.history.shifted(pilot, shift).outcome.start < dataStart) break;
      windows.push(await this.history.window(pilot, plan.units, req.kpi, shift, dataStart));
    }
    if (windows.length === 0) {
      throw new UnrecoverableError(`no past window of the test period's length inside the history (data start ${dataStart ?? 'none'}) for a placebo pilot`);
    }
    const { seed: _unused, ...spec } = plan.spec;
    const run = simulatePlacebo({ windows, spec, seed: pilot.seed ?? 0, simulations: req.simulations, lifts: req.lifts, alpha: pilot.alpha });
    let lastWrite = Date.now();
    let result: SimulationResult;
    for (;;) {
      const step = run.next();
      if (step.done) {
        result = step.value;
        break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (Date.now() - lastWrite > 250) {
        lastWrite = Date.now();
        await this.dataSource.query(`UPDATE power_analyses SET simulations_done = $2 WHERE id = $1 AND status = 'running'`, [id, step.value]);
        await onProgress(step.value / req.simulations);
      }
    }
    const failure = simulationFailure(result);
    if (failure !== null) throw new UnrecoverableError(failure);
    await this.dataSource.query(
      `UPDATE power_analyses SET status = 'completed', completed_at = now(), simulation = $2::jsonb, simulations_done = $3, error = NULL
        WHERE id = $1 AND status NOT IN ('completed', 'failed')`,
      [id, JSON.stringify(result), req.simulations],
    );
    await onProgress(1);
    this.logger.log(`power analysis ${id} for pilot ${pilot.id} completed (${windows.length} windows)`);
    return true;
  }

  /**
   * The planner job (mode 'planner'): per candidate test length L, up to MAX_PLACEBO_WINDOWS past
   * windows of L weeks ending on the pilot's pre-period end and then every week earlier (outcome
   * inside the data), each with the pre-period of the pilot's pre-period length before it (null KPI
   * where it reaches before the data); then `planPower`. Fails with the reason when no cell could be
   * analysed (never a silent "completed").
   */
  private async computePlanner(row: PowerAnalysisEntity, pilot: Awaited<ReturnType<PilotRepository['getById']>>, onProgress: (fraction: number) => Promise<void>): Promise<boolean> {
    const req = row.request as { kpi: KpiKey; power: number; target_mde: number; simulations: number; territory_counts: number[]; weeks: number[]; designs: DesignType[] };
    const plan = await this.history.plan(pilot);
    const ids = plan.units.map((u) => u.territory_id);
    const dataStart = await this.history.dataStart(ids);
    if (!dataStart) throw new UnrecoverableError('the eligible territories have no opportunities: no history to backtest on');
    const preDays = daysBetween(pilot.prePeriodStart, pilot.prePeriodEnd) + 1;
    const windowsByWeeks = new Map<number, PlannerWindow[]>();
    const tooLong: number[] = [];
    for (const L of req.weeks) {
      const windows: PlannerWindow[] = [];
      for (let k = 0; k < MAX_PLACEBO_WINDOWS; k++) {
        const end = addDays(pilot.prePeriodEnd, -7 * k);
        const outcome = { start: addDays(end, -(7 * L - 1)), end };
        if (outcome.start < dataStart) break;
        const pre = { start: addDays(outcome.start, -preDays), end: addDays(outcome.start, -1) };
        const preComplete = pre.start >= dataStart;
        const y = await this.kpis.forTerritories(ids, outcome);
        const x = preComplete ? await this.kpis.forTerritories(ids, pre) : null;
        windows.push({
          outcome,
          pre,
          y: plan.units.map((u) => kpiValue(y.get(u.territory_id)!, req.kpi)),
          x: plan.units.map((u) => (x ? kpiValue(x.get(u.territory_id)!, req.kpi) : null)),
        });
      }
      if (windows.length) windowsByWeeks.set(L, windows);
      else tooLong.push(L);
    }
    if (windowsByWeeks.size === 0) {
      throw new UnrecoverableError(`no test length fits the history: ${req.weeks.join(', ')} weeks all reach before the data start ${dataStart} from the pre-period end ${pilot.prePeriodEnd}`);
    }
    const run = planPower({
      units: plan.units.map((u) => ({ code: u.code, stratum: u.stratum })),
      windowsByWeeks,
      territoryCounts: req.territory_counts,
      designs: req.designs,
      mde: req.target_mde,
      power: req.power,
      alpha: pilot.alpha,
      simulations: req.simulations,
      seed: pilot.seed ?? 0,
    });
    let result: PlannerResult;
    for (;;) {
      const step = run.next();
      if (step.done) {
        result = step.value;
        break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.dataSource.query(`UPDATE power_analyses SET simulations_done = $2 WHERE id = $1 AND status = 'running'`, [row.id, step.value * req.simulations]);
      await onProgress(step.value / (req.territory_counts.length * windowsByWeeks.size * req.designs.length));
    }
    if (result.cells.every((c) => c.analysed === 0)) {
      throw new UnrecoverableError(`no planner cell could be analysed: ${result.cells.map((c) => `${c.design} n=${c.territories} ${c.weeks}w: ${c.invalid_reason}`).slice(0, 5).join('; ')}`);
    }
    const stored = { ...result, weeks_left_out: tooLong.map((w) => ({ weeks: w, reason: `no past window of ${w} weeks inside the history (data start ${dataStart})` })) };
    await this.dataSource.query(
      `UPDATE power_analyses SET status = 'completed', completed_at = now(), simulation = $2::jsonb, simulations_done = simulations_total, error = NULL
        WHERE id = $1 AND status NOT IN ('completed', 'failed')`,
      [row.id, JSON.stringify(stored)],
    );
    await onProgress(1);
    return true;
  }

  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE power_analyses SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [
      id,
      reason.slice(0, 2000),
    ]);
  }
}
