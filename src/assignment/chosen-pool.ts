import { EntityManager } from 'typeorm';
import { fewTreatedException } from '../pilots/few-treated-errors';
import { PilotEntity } from '../pilots/pilot.entity';
import { FewTreatedInputError } from '../stats/synthetic/few-treated';
import { weekStarts } from '../stats/weekly-panel';
import { DesignUnit } from './assignment-inputs';
import { ChosenDonorPool, chosenDonorPool, weeksWithoutCoverage } from './chosen-design';

/**
 * Each territory's earliest engage date ('YYYY-MM-DD'; null for a territory without opportunities).
 * @param ids territory ids; @returns id → date, every id present
 */
export async function firstEngageDates(q: EntityManager, ids: readonly string[]): Promise<Map<string, string | null>> {
  const rows: { territory_id: string; first: string }[] = await q.query(
    `SELECT territory_id, min(engage_date)::text AS first FROM opportunities WHERE territory_id = ANY($1::uuid[]) GROUP BY territory_id`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [String(r.territory_id), r.first]));
  return new Map(ids.map((id) => [id, byId.get(id) ?? null]));
}

/**
 * The donor pool a chosen design gets from the data as it is now (chosen-design.ts rules): each
 * eligible territory's first recorded opportunity (incomplete pre-period data) and the running pilots
 * that reserve it, then `chosenDonorPool`. Used by the assignment (it stores the result) and by the
 * few-treated power plan of a draft pilot (nothing stored).
 *
 * @param q the entity manager to read with (the assignment's transaction, or the data source's)
 * @param units the pilot's eligible territories (toDesignUnits)
 * @returns the pool, and each unit's earliest engage date by territory id (null without opportunities)
 * @throws 422 PRE_PERIOD_TOO_SHORT, TREATED_MISSING_WEEKS, EMPTY_DONOR_POOL, K_EXCEEDS_POOL, DESIGN_INFEASIBLE
 * @param opts `treated` (default: the pilot's named treated territories) and `k` (a selected design:
 *   no treated named, the pool is checked against the k it will pick)
 */
export async function resolveChosenDonorPool(
  q: EntityManager,
  pilot: PilotEntity,
  units: DesignUnit[],
  opts: { treated?: string[]; k?: number } = {},
): Promise<{ pool: ChosenDonorPool; firstEngage: Map<string, string | null>; weeks: string[] }> {
  const weeks = weekStarts({ start: pilot.prePeriodStart, end: pilot.prePeriodEnd });
  const ids = units.map((u) => u.territory_id);
  const firstById = await firstEngageDates(q, ids);
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
  try {
    const pool = chosenDonorPool({
      eligible: units.map((u) => u.code),
      treated: opts.treated ?? pilot.designOptions?.treated ?? [],
      excluded: pilot.designOptions?.constraints?.exclude ?? [],
      reserved,
      missingWeeks,
      preWeeks: weeks.length,
      k: opts.k,
    });
    return { pool, firstEngage: firstById, weeks };
  } catch (err) {
    throw err instanceof FewTreatedInputError ? fewTreatedException(err) : err;
  }
}
