import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { KpiKey } from '../kpis/kpi-catalogue';
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

  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE power_analyses SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [
      id,
      reason.slice(0, 2000),
    ]);
  }
}
