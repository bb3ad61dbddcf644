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
import { backtestPower, BacktestLength } from '../stats/synthetic/backtest-power';
import { WEEKLY_PANEL_KPIS } from '../stats/weekly-panel';
import { backtestPanel, backtestWindowDates, fewTreatedPowerText } from './few-treated-power';

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
    if (row.request.mode === 'few_treated') return this.computeFewTreated(row, pilot, onProgress);
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

  /**
   * A chosen pilot's power plan (mode 'few_treated'): for each candidate length L the backtest windows
   * (few-treated-power.ts: the pseudo test period ends on the pre-period end, then every week earlier,
   * at most MAX_PLACEBO_WINDOWS, after a pseudo pre-period of the pilot's length inside the treated
   * territories' data), their weekly panel read in one query as the report reads it (each window's
   * cohorts censored at its own end), SDID on each (backtest-power.ts), and the MDE per length. Fails
   * with the reasons when no length gets an MDE (never a silent "completed").
   */
  private async computeFewTreated(row: PowerAnalysisEntity, pilot: Awaited<ReturnType<PilotRepository['getById']>>, onProgress: (fraction: number) => Promise<void>): Promise<boolean> {
    const req = row.request as { kpi: KpiKey; power: number; weeks: number[]; target_mde: number | null };
    const panelKpi = WEEKLY_PANEL_KPIS[req.kpi];
    if (!panelKpi) throw new UnrecoverableError(`${req.kpi} has no weekly panel: a chosen pilot is planned on opportunities or revenue_won`);
    const units = await this.history.fewTreatedUnits(pilot);
    const all = [...units.donors, ...units.treated];
    const treatedFirsts = units.treated.map((u) => units.firstEngage.get(u.id) ?? null);
    const latestTreatedFirst = treatedFirsts.some((f) => f === null) ? null : treatedFirsts.reduce((a, b) => (a! > b! ? a : b), treatedFirsts[0]);
    const dated = req.weeks.map((L) => ({ L, ...backtestWindowDates({ start: pilot.prePeriodStart, end: pilot.prePeriodEnd }, L, latestTreatedFirst, MAX_PLACEBO_WINDOWS) }));
    const windows = dated.flatMap((d) => d.windows.flatMap((w, k) => [{ period: `${d.L}:${k}:pre`, ...w.pre }, { period: `${d.L}:${k}:test`, ...w.test }]));
    const rows = windows.length ? await this.kpis.weeklyPanel(all.map((u) => u.id), windows) : [];
    const byWindow = new Map<string, Parameters<typeof backtestPanel>[0]>();
    for (const r of rows) {
      const [L, k, period] = r.period.split(':');
      const key = `${L}:${k}`;
      if (!byWindow.has(key)) byWindow.set(key, []);
      byWindow.get(key)!.push({ ...r, period: period as 'pre' | 'test' });
    }
    const lengths: BacktestLength[] = dated.map((d) => ({
      weeks: d.L,
      unavailable: d.unavailable,
      windows: d.windows.map((w, k) => ({ test_start: w.test.start, test_end: w.test.end, ...backtestPanel(byWindow.get(`${d.L}:${k}`) ?? [], all, panelKpi.field, w, units.firstEngage) })),
    }));
    await onProgress(0.5);
    const result = backtestPower({ lengths, treated: units.treated.map((u) => u.code), alpha: pilot.alpha, power: req.power });
    if (result.lengths.every((l) => l.status !== 'ok')) {
      throw new UnrecoverableError(`no candidate test length got an MDE: ${result.lengths.map((l) => `${l.weeks} weeks: ${l.skip_reasons.map((s) => s.reason).join('; ')}`).join(' | ')}`);
    }
    const { text, weeks_needed } = fewTreatedPowerText(result, panelKpi.unit, req.target_mde);
    const stored = {
      ...result,
      kpi: req.kpi,
      unit: panelKpi.unit,
      design: { type: 'chosen', treated: units.treated.map((u) => u.code), donors: units.donors.map((u) => u.code), donors_left_out: units.left_out, source: units.source },
      history: { treated_data_from: latestTreatedFirst, pre_period: { start: pilot.prePeriodStart, end: pilot.prePeriodEnd }, max_windows: MAX_PLACEBO_WINDOWS },
      target_mde: req.target_mde,
      weeks_needed,
      text,
    };
    const done = result.lengths.reduce((s, l) => s + l.windows_offered, 0);
    await this.dataSource.query(
      `UPDATE power_analyses SET status = 'completed', completed_at = now(), simulation = $2::jsonb, simulations_done = $3, simulations_total = $3, error = NULL
        WHERE id = $1 AND status NOT IN ('completed', 'failed')`,
      [row.id, JSON.stringify(stored), done],
    );
    await onProgress(1);
    this.logger.log(`few-treated power analysis ${row.id} for pilot ${pilot.id} completed (${done} backtest windows)`);
    return true;
  }

  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE power_analyses SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [
      id,
      reason.slice(0, 2000),
    ]);
  }
}
