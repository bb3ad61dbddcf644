import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';

/** Where a draw's seed came from: stated by the plan before the first draw, or drawn by the server. */
export type SeedSource = 'server' | 'plan';

/** One recorded draw of a pilot's assignment (the API and plan/report view). */
export interface DrawView {
  /** 1 for the first draw, then 2, 3, … for each redraw */
  number: number;
  /** the PRNG seed of this draw, 0 to 2^53 − 1 */
  seed: number;
  seed_source: SeedSource;
  /** why the assignment was drawn again (null for the first draw) */
  reason: string | null;
  /** the API key that drew it (null for draws recorded before keys were stored with draws) */
  actor_key_id: string | null;
  /** ISO 8601 instant */
  drawn_at: string;
}

/**
 * A crypto-random seed in the PRNG's accepted range [0, 2^53 − 1] (src/stats/design/prng.ts):
 * 53 bits of `crypto.randomBytes`, uniform over the range.
 */
export function serverSeed(): number {
  return Number(randomBytes(8).readBigUInt64BE() & ((1n << 53n) - 1n));
}

/** The record of every draw of a pilot's assignment (`assignment_draws`, append-only). */
@Injectable()
export class AssignmentDrawRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The pilot's draws, first first. */
  async list(pilotId: string, em: EntityManager = this.dataSource.manager): Promise<DrawView[]> {
    const rows: { draw_number: number; seed: string; seed_source: SeedSource; reason: string | null; actor_key_id: string | null; drawn_at: Date }[] = await em.query(
      `SELECT draw_number, seed, seed_source, reason, actor_key_id, drawn_at FROM assignment_draws WHERE pilot_id = $1 ORDER BY draw_number`,
      [pilotId],
    );
    return rows.map((r) => ({
      number: r.draw_number,
      seed: Number(r.seed),
      seed_source: r.seed_source,
      reason: r.reason,
      actor_key_id: r.actor_key_id,
      drawn_at: new Date(r.drawn_at).toISOString(),
    }));
  }

  /** Records draw `number` inside the caller's transaction (the unique (pilot, number) key refuses a concurrent duplicate). */
  async record(em: EntityManager, d: { pilotId: string; number: number; seed: number; source: SeedSource; reason: string | null; actorKeyId: string | null }): Promise<DrawView> {
    const [r]: { drawn_at: Date }[] = await em.query(
      `INSERT INTO assignment_draws (pilot_id, draw_number, seed, seed_source, reason, actor_key_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING drawn_at`,
      [d.pilotId, d.number, String(d.seed), d.source, d.reason, d.actorKeyId],
    );
    return { number: d.number, seed: d.seed, seed_source: d.source, reason: d.reason, actor_key_id: d.actorKeyId, drawn_at: new Date(r.drawn_at).toISOString() };
  }
}

/** A draw as the locked plan and the report show it: without the drawing key (that is in the audit trail). */
export type PlanDraw = Omit<DrawView, 'actor_key_id'>;

/** The plan/report view of the draws, first first. */
export function planDraws(draws: DrawView[]): PlanDraw[] {
  return draws.map(({ number, seed, seed_source, reason, drawn_at }) => ({ number, seed, seed_source, reason, drawn_at }));
}
