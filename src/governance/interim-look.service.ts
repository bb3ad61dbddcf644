import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  conditionalPowerCurrentTrend,
  continueSpending,
  obrienFlemingBoundaries,
  SequentialRecommendation,
} from '../stats/group-sequential';
import { normalInv } from '../stats/distributions';
import { AuditService } from '../audit/audit.service';
import { daysBetween, utcDateOf } from '../common/utils/dates';
import { PilotEntity } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';

/** Conditional power (current trend) below which an interim look recommends stopping for futility (non-binding). */
export const FUTILITY_CONDITIONAL_POWER = 0.1;

/** The sequential section every report carries (null fields when the pilot plans no looks). */
export interface SequentialSection {
  method: 'lan_demets_obrien_fleming';
  spending: 'standard: each side spends alpha/2 with f(t) = 2 - 2 Phi(Phi^-1(1 - alpha/4)/sqrt(t))';
  information: 'calendar time: days of the test period elapsed at the look / days of the test period';
  alpha: number;
  /** 'interim' for a scheduled look's report, 'final' once the test period is over, else 'unscheduled' */
  kind: 'interim' | 'final' | 'unscheduled';
  look_number: number | null;
  planned_looks: { look_number: number; date: string; information_fraction: number }[];
  /** the looks taken before this report (and this one, for an interim report), with their outcome */
  looks_taken: {
    look_number: number;
    date: string;
    information_fraction: number;
    z_boundary: number | null;
    nominal_p_two_sided: number | null;
    cumulative_alpha_spent: number | null;
    z: number | null;
    recommendation: SequentialRecommendation | null;
  }[];
  /** this report's boundary test (null for an unscheduled report) */
  current: {
    information_fraction: number;
    /** null when the look spends no alpha (information decreased) */
    z_boundary: number | null;
    nominal_p_two_sided: number | null;
    /** alpha spent up to this look: never below what the completed looks spent */
    cumulative_alpha_spent: number;
    incremental_alpha: number;
    /** the look's information fraction does not exceed a completed look's (see `information_decreased`) */
    information_decreased: boolean;
    z: number | null;
    crosses: boolean | null;
    conditional_power: number | null;
    recommendation: SequentialRecommendation | null;
    reason: string;
  } | null;
  /**
   * The flag "information decreased": this look's fraction does not exceed a completed look's (an
   * amendment moved the test period or the looks). The completed looks keep their fractions and the
   * alpha they spent; this look spends none. Null otherwise.
   */
  information_decreased: {
    information_fraction: number;
    completed_look_number: number;
    completed_information_fraction: number;
    cumulative_alpha_spent: number;
    note: string;
  } | null;
  note: string;
}

interface LookRow {
  look_number: number;
  planned_date: string;
  information_fraction: number;
  status: 'computing' | 'completed' | 'failed';
  report_id: string | null;
  result: SequentialSection['current'] | null;
  error: string | null;
  started_at: Date;
  completed_at: Date | null;
}

/** The calendar information fraction of a look on `date`: elapsed days of the test period (inclusive) / its length. */
export function informationFraction(pilot: Pick<PilotEntity, 'testPeriodStart' | 'testPeriodEnd'>, date: string): number {
  const total = daysBetween(pilot.testPeriodStart, pilot.testPeriodEnd) + 1;
  const elapsed = Math.min(Math.max(daysBetween(pilot.testPeriodStart, date) + 1, 1), total);
  return elapsed / total;
}

/**
 * The primary KPI's signed z statistic, favourable direction positive: the decision p mapped to
 * the normal scale, z = sign · Φ⁻¹(1 − p/2), sign from the estimate and `higher_is_better`.
 * @returns null when the primary KPI has no estimate or p (e.g. too few data at this look)
 */
export function favourableZ(result: unknown): number | null {
  const kpis = (result as { kpis?: unknown[] } | null)?.kpis;
  if (!Array.isArray(kpis)) return null;
  const primary = kpis.find((k) => (k as { role?: string }).role === 'primary') as Record<string, any> | undefined;
  if (!primary) return null;
  // Only an estimable KPI has a z (insufficient_data, zero_variance… have none).
  if (typeof primary.status === 'string' && primary.status !== 'ok') return null;
  const p = primary.decision_p;
  const estimate = primary.primary?.estimate ?? primary.difference?.estimate;
  if (typeof p !== 'number' || !Number.isFinite(p) || typeof estimate !== 'number' || !Number.isFinite(estimate)) return null;
  const magnitude = p >= 1 ? 0 : -normalInv(Math.max(p, 1e-300) / 2);
  const sign = estimate === 0 ? 0 : estimate > 0 ? 1 : -1;
  return sign * magnitude * (primary.higher_is_better === false ? -1 : 1);
}

/**
 * Scheduled interim looks: the repeatable `interim-look-sweep` job takes each due look of a
 * running pilot (planned date ≤ today, UTC) once: it computes an interim report and records the
 * O'Brien–Fleming boundary and the recommendation. Reports carry the sequential section built by
 * {@link sectionFor}; the final report tests against the final boundary given the looks taken.
 */
@Injectable()
export class InterimLookService {
  private readonly logger = new Logger(InterimLookService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly audit: AuditService,
  ) {}

  /** Planned looks and the looks taken, with the planned boundaries. @throws PILOT_NOT_FOUND */
  async list(pilotId: string) {
    const pilot = await this.pilots.getById(pilotId);
    const planned = this.planned(pilot);
    const boundaries = planned.length
      ? obrienFlemingBoundaries([...planned.map((l) => l.information_fraction), 1], Number(pilot.alpha))
      : [];
    const rows = await this.rows(this.dataSource.manager, pilotId);
    return {
      pilot_id: pilotId,
      alpha: Number(pilot.alpha),
      planned: planned.map((l, i) => ({ ...l, planned_z_boundary: boundaries[i].z_boundary })),
      planned_final_z_boundary: boundaries.length ? boundaries[boundaries.length - 1].z_boundary : null,
      taken: rows.map((r) => ({
        look_number: r.look_number,
        date: r.planned_date,
        information_fraction: r.information_fraction,
        status: r.status,
        report_id: r.report_id,
        result: r.result,
        error: r.error,
        completed_at: r.completed_at,
      })),
    };
  }

  /**
   * One sweep: every due look of every running pilot, oldest first. `compute` runs a report (the
   * analysis service's computeReport) in this process. Idempotent and resumable: a look is one row
   * (pilot, look number), its report is created once, and a completed look is never redone.
   * @returns the looks completed in this sweep
   */
  async sweep(compute: (reportId: string) => Promise<unknown>, today = utcDateOf(new Date())): Promise<number> {
    const due: { id: string }[] = await this.dataSource.query(
      `SELECT p.id FROM pilots p
        WHERE p.status = 'running' AND cardinality(p.interim_look_dates) > 0
          AND EXISTS (SELECT 1 FROM unnest(p.interim_look_dates) WITH ORDINALITY AS d(day, n)
                       WHERE d.day <= $1
                         AND NOT EXISTS (SELECT 1 FROM interim_looks l WHERE l.pilot_id = p.id AND l.planned_date = d.day::date AND l.status <> 'computing'))
        ORDER BY p.launched_at, p.id`,
      [today],
    );
    let done = 0;
    for (const { id } of due) {
      try {
        done += await this.takeDueLooks(id, compute, today);
      } catch (err) {
        this.logger.warn(`interim looks of pilot ${id} failed: ${(err as Error).message}`);
      }
    }
    return done;
  }

  private async takeDueLooks(pilotId: string, compute: (reportId: string) => Promise<unknown>, today: string): Promise<number> {
    const pilot = await this.pilots.getById(pilotId);
    let done = 0;
    for (const look of this.planned(pilot)) {
      if (look.date > today) break;
      const row = await this.start(pilot, look);
      if (row.status !== 'computing') continue;
      try {
        await compute(row.report_id!);
        const [report] = await this.dataSource.query(`SELECT status, error, result FROM reports WHERE id = $1`, [row.report_id]);
        if (report?.status === 'failed') {
          // A report that failed for good (e.g. an unrecoverable error) is not retried: the look is failed, with the reason.
          await this.dataSource.query(`UPDATE interim_looks SET status = 'failed', error = $3, completed_at = now() WHERE pilot_id = $1 AND look_number = $2`, [
            pilotId,
            row.look_number,
            String(report.error ?? 'report failed').slice(0, 2000),
          ]);
          continue;
        }
        if (report?.status !== 'completed') throw new Error(report?.error ?? `report ${row.report_id} did not complete`);
        const current = (report.result?.sequential as SequentialSection | undefined)?.current ?? null;
        await this.dataSource.transaction(async (em) => {
          await em.query(`UPDATE interim_looks SET status = 'completed', result = $3::jsonb, completed_at = now() WHERE pilot_id = $1 AND look_number = $2`, [
            pilotId,
            row.look_number,
            JSON.stringify(current),
          ]);
          await this.audit.record(
            {
              action: 'pilot.interim_look_taken',
              entity_type: 'pilot',
              entity_id: pilotId,
              pilot_id: pilotId,
              after: { look_number: row.look_number, date: look.date, report_id: row.report_id, recommendation: current?.recommendation ?? null, z: current?.z ?? null },
            },
            em,
          );
        });
        done++;
      } catch (err) {
        const reason = (err as Error).message.slice(0, 2000);
        if (err instanceof UnrecoverableError) {
          // Permanent (the report can never be computed): report and look are failed, not retried.
          await this.dataSource.query(`UPDATE reports SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`, [row.report_id, reason]);
          await this.dataSource.query(`UPDATE interim_looks SET status = 'failed', error = $3, completed_at = now() WHERE pilot_id = $1 AND look_number = $2`, [
            pilotId,
            row.look_number,
            reason,
          ]);
          continue;
        }
        // Left as 'computing': the next sweep retries it (the report is idempotent).
        await this.dataSource.query(`UPDATE interim_looks SET error = $3 WHERE pilot_id = $1 AND look_number = $2`, [pilotId, row.look_number, reason]);
        throw err;
      }
    }
    return done;
  }

  /**
   * Creates (once) the look row for a planned date and its report row; returns the row. Looks are
   * keyed by date (an amended schedule never retakes a date) and numbered in the order taken.
   */
  private async start(pilot: PilotEntity, look: { date: string; information_fraction: number }): Promise<LookRow> {
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('pilotlab:interim-looks:' || $1::text))`, [pilot.id]);
      let [row]: LookRow[] = await em.query(`SELECT * FROM interim_looks WHERE pilot_id = $1 AND planned_date = $2 FOR UPDATE`, [pilot.id, look.date]);
      if (!row) {
        [row] = await em.query(
          `INSERT INTO interim_looks (pilot_id, look_number, planned_date, information_fraction, status)
           VALUES ($1, (SELECT coalesce(max(look_number), 0) + 1 FROM interim_looks WHERE pilot_id = $1), $2, $3, 'computing') RETURNING *`,
          [pilot.id, look.date, look.information_fraction],
        );
      }
      if (row.status === 'computing' && !row.report_id) {
        // enqueued_at set: this process computes it, so the requeue sweeper must not enqueue it too.
        const [report] = await em.query(`INSERT INTO reports (pilot_id, status, enqueued_at) VALUES ($1, 'queued', now()) RETURNING id`, [pilot.id]);
        await em.query(`UPDATE interim_looks SET report_id = $3 WHERE pilot_id = $1 AND look_number = $2`, [pilot.id, row.look_number, report.id]);
        row.report_id = report.id;
      }
      return row;
    });
  }

  /**
   * The sequential section of report `reportId` (called while the report is computed). An interim
   * look's report tests |z| against that look's boundary given the looks before it; a report after
   * the test period tests against the final boundary (t = 1) given every look taken; any other report
   * is unscheduled and spends no alpha. Never throws on missing data: z is then null and the
   * recommendation 'continue'.
   */
  async sectionFor(reportId: string, pilot: PilotEntity, result: unknown, em: EntityManager = this.dataSource.manager): Promise<SequentialSection | null> {
    const planned = this.planned(pilot);
    const rows = await this.rows(em, pilot.id);
    const own = rows.find((r) => r.report_id === reportId) ?? null;
    if (!planned.length && !own) return null;
    const alpha = Number(pilot.alpha);
    const previous = rows.filter((r) => r.status === 'completed' && (own ? r.look_number < own.look_number : true));
    const z = favourableZ(result);
    const testOver = utcDateOf(new Date()) > pilot.testPeriodEnd;
    const kind: SequentialSection['kind'] = own ? 'interim' : testOver ? 'final' : 'unscheduled';
    const fractions = previous.map((r) => r.information_fraction);
    let current: SequentialSection['current'] = null;
    let decreased: SequentialSection['information_decreased'] = null;
    if (kind !== 'unscheduled') {
      const t = own ? own.information_fraction : 1;
      // Alpha already spent stays spent: the completed looks keep their stored fractions (continueSpending).
      const here = continueSpending(fractions, t, alpha);
      const reached = Math.max(t, ...fractions);
      const future = planned.map((l) => l.information_fraction).filter((f) => f > reached);
      const cFinal = kind === 'interim' ? continueSpending([...fractions, t, ...future], 1, alpha).z_boundary : here.z_boundary;
      const crosses = z === null ? null : here.z_boundary === null ? false : Math.abs(z) >= here.z_boundary;
      const cp = z === null || kind === 'final' || here.information_decreased || cFinal === null ? null : conditionalPowerCurrentTrend(z, t, cFinal);
      if (here.exceeded_by) {
        const before = previous[here.exceeded_by.index];
        decreased = {
          information_fraction: t,
          completed_look_number: before.look_number,
          completed_information_fraction: before.information_fraction,
          cumulative_alpha_spent: here.cumulative_alpha_spent,
          note:
            `information decreased: this ${kind} look is at information fraction ${t.toFixed(3)}, not above completed look ${before.look_number}'s ` +
            `${before.information_fraction.toFixed(3)} (the test period or the looks were amended); the alpha already spent ` +
            `(${here.cumulative_alpha_spent.toPrecision(4)}) stays spent, this look spends none and cannot reject`,
        };
      }
      const { recommendation, reason } = decide(kind, z, crosses, here.z_boundary, cp, decreased?.note ?? null);
      current = {
        information_fraction: t,
        z_boundary: here.z_boundary,
        nominal_p_two_sided: here.nominal_p_two_sided,
        cumulative_alpha_spent: here.cumulative_alpha_spent,
        incremental_alpha: here.incremental_alpha,
        information_decreased: here.information_decreased,
        z,
        crosses,
        conditional_power: cp,
        recommendation,
        reason,
      };
    }
    return {
      method: 'lan_demets_obrien_fleming',
      spending: 'standard: each side spends alpha/2 with f(t) = 2 - 2 Phi(Phi^-1(1 - alpha/4)/sqrt(t))',
      information: 'calendar time: days of the test period elapsed at the look / days of the test period',
      alpha,
      kind,
      look_number: own?.look_number ?? null,
      planned_looks: planned,
      looks_taken: previous.map((r) => ({
        look_number: r.look_number,
        date: r.planned_date,
        information_fraction: r.information_fraction,
        z_boundary: r.result?.z_boundary ?? null,
        nominal_p_two_sided: r.result?.nominal_p_two_sided ?? null,
        cumulative_alpha_spent: r.result?.cumulative_alpha_spent ?? null,
        z: r.result?.z ?? null,
        recommendation: r.result?.recommendation ?? null,
      })),
      current,
      information_decreased: decreased,
      note:
        (kind === 'unscheduled'
          ? 'Unscheduled report while looks are planned: it spends no alpha and is not a decision; use the scheduled looks and the final report.'
          : kind === 'final'
            ? `Final analysis after ${previous.length} interim look(s): the primary KPI is tested at the final O'Brien–Fleming boundary, not at alpha.`
            : `Interim look ${own!.look_number} of ${planned.length}.`) + (decreased ? ` Flag — ${decreased.note}.` : ''),
    };
  }

  private planned(pilot: PilotEntity): { look_number: number; date: string; information_fraction: number }[] {
    return [...(pilot.interimLookDates ?? [])]
      .sort()
      .map((date, i) => ({ look_number: i + 1, date, information_fraction: informationFraction(pilot, date) }));
  }

  private async rows(em: EntityManager, pilotId: string): Promise<LookRow[]> {
    const rows: LookRow[] = await em.query(
      `SELECT look_number, planned_date, information_fraction, status, report_id, result, error, started_at, completed_at
         FROM interim_looks WHERE pilot_id = $1 ORDER BY look_number`,
      [pilotId],
    );
    return rows;
  }
}

/**
 * The recommendation at a look and its reason: efficacy or harm when |z| crosses the boundary, at
 * the final look futility when it does not, at an interim look futility when the conditional power
 * under the current trend is below {@link FUTILITY_CONDITIONAL_POWER} (non-binding), else continue.
 * A look whose information decreased (`decreasedNote`) has no boundary and cannot stop the pilot.
 */
function decide(
  kind: SequentialSection['kind'],
  z: number | null,
  crosses: boolean | null,
  boundary: number | null,
  cp: number | null,
  decreasedNote: string | null,
): { recommendation: SequentialRecommendation; reason: string } {
  if (z === null) return { recommendation: 'continue', reason: `the primary KPI has no estimate at this look (too few data); nothing to decide on${decreasedNote ? `; ${decreasedNote}` : ''}` };
  if (boundary === null) return { recommendation: 'continue', reason: `|z| = ${Math.abs(z).toFixed(3)}; ${decreasedNote ?? 'no alpha left to spend at this look'}` };
  if (crosses && z > 0) return { recommendation: 'stop_for_efficacy', reason: `|z| = ${Math.abs(z).toFixed(3)} ≥ boundary ${boundary.toFixed(3)} in the favourable direction` };
  if (crosses) return { recommendation: 'stop_for_futility', reason: `|z| = ${Math.abs(z).toFixed(3)} ≥ boundary ${boundary.toFixed(3)} in the unfavourable direction (harm)` };
  if (kind === 'final') {
    return { recommendation: 'stop_for_futility', reason: `final look: |z| = ${Math.abs(z).toFixed(3)} < final boundary ${boundary.toFixed(3)}; no effect shown at the adjusted level` };
  }
  if (cp !== null && cp < FUTILITY_CONDITIONAL_POWER) {
    return { recommendation: 'stop_for_futility', reason: `conditional power under the current trend ${cp.toFixed(3)} < ${FUTILITY_CONDITIONAL_POWER} (non-binding)` };
  }
  return { recommendation: 'continue', reason: `|z| = ${Math.abs(z).toFixed(3)} < boundary ${boundary.toFixed(3)}${cp !== null ? `; conditional power ${cp.toFixed(3)}` : ''}` };
}
