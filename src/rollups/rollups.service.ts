import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { parseRequiredDecimal } from '../common/database/transformers';
import { AsOf, COHORT_SUM_COLUMNS, CohortSums, cohortSumsOf, rollupAggregate, rollupParams, RollupScope } from './rollup.sql';

/** The pilot facts a rollup depends on: windows, territories with arms, freeze date. */
export interface PilotScope extends RollupScope {
  assignmentId: string;
  arms: Map<string, string>;
  /** Everything that, when changed, makes the stored rollups of the pilot invalid. */
  signature: string;
}

/** One rollup row (sums as numbers; amounts exact in SQL, converted once per row). */
export interface RollupRow extends CohortSums {
  territory_id: string;
  period: 'pre' | 'test';
  week_start: string;
}

/** What a refresh did. */
export interface RefreshOutcome {
  pilot_id: string;
  mode: 'none' | 'full' | 'incremental' | 'up_to_date';
  data_version: number;
  keys_refreshed: number;
}

/**
 * Incremental KPI rollups per pilot × period × territory × ISO week (rollup.sql.ts), kept in
 * PostgreSQL and computed there. A refresh runs in one REPEATABLE READ transaction (one snapshot:
 * the data version it records is exactly the data it read) under a per-pilot session lock:
 * - full, when the pilot has no rollups yet or its assignment, windows, freeze date or the owner
 *   mapping changed;
 * - incremental otherwise: only the (territory, ISO week) keys that the data versions since the
 *   last refresh touched (opportunity_changes, old and new values of each changed row), mapped
 *   through the owner attribution, are deleted and recomputed;
 * - nothing when no data version is newer.
 */
@Injectable()
export class RollupsService {
  private readonly logger = new Logger(RollupsService.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The pilot's scope, or null when it has no assignment. Freeze date: the UTC day of the launch
   * (the assignment is frozen then), or of the assignment's creation before launch.
   */
  async scope(pilotId: string, em?: EntityManager): Promise<PilotScope | null> {
    const m = em ?? this.dataSource.manager;
    const rows: Record<string, string>[] = await m.query(
      `SELECT p.pre_period_start::text AS pre_start, p.pre_period_end::text AS pre_end, p.test_period_start::text AS test_start,
              p.test_period_end::text AS test_end, a.id AS assignment_id,
              to_char(coalesce(p.launched_at, a.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS freeze_date,
              p.reporting_currency, (SELECT coalesce(max(id), 0) FROM exchange_rates)::text AS rates_version
         FROM pilots p JOIN assignments a ON a.pilot_id = p.id WHERE p.id = $1`,
      [pilotId],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    const units: { territory_id: string; arm: string }[] = await m.query(
      `SELECT territory_id, arm FROM assignment_units WHERE assignment_id = $1 ORDER BY territory_id`,
      [r.assignment_id],
    );
    const scope = {
      pilotId,
      assignmentId: r.assignment_id,
      territoryIds: units.map((u) => u.territory_id),
      arms: new Map(units.map((u) => [u.territory_id, u.arm])),
      pre: { start: r.pre_start, end: r.pre_end },
      test: { start: r.test_start, end: r.test_end },
      freezeDate: r.freeze_date,
    };
    // Converted amounts depend on the reporting currency and the stored rates: a change of either
    // (rates are append-only, so their largest id is their version) makes the rollups stale.
    return { ...scope, signature: JSON.stringify([scope.assignmentId, scope.freezeDate, scope.pre, scope.test, r.reporting_currency, r.rates_version]) };
  }

  /** The latest committed data version and owner-mapping version, as seen by `em`'s snapshot. */
  async versions(em: EntityManager): Promise<{ dataVersion: number; mappingVersion: number }> {
    const [r]: { dv: string; mv: string }[] = await em.query(
      `SELECT (SELECT coalesce(max(data_version), 0) FROM opportunity_batches) AS dv,
              (SELECT coalesce(max(mapping_version), 0) FROM owner_territories) AS mv`,
    );
    return { dataVersion: parseRequiredDecimal(r.dv), mappingVersion: parseRequiredDecimal(r.mv) };
  }

  /** Brings the pilot's rollups up to the latest data version (see the class comment). */
  async refresh(pilotId: string): Promise<RefreshOutcome> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    try {
      // A session lock taken BEFORE the snapshot, so a refresh never works on a snapshot older
      // than the previous refresh's commit.
      await qr.query(`SELECT pg_advisory_lock(hashtext('kpi_rollups'), hashtext($1))`, [pilotId]);
      await qr.startTransaction('REPEATABLE READ');
      try {
        const out = await this.refreshIn(qr.manager, pilotId);
        await qr.commitTransaction();
        if (out.mode === 'full' || out.mode === 'incremental') {
          this.logger.log(`rollups of pilot ${pilotId}: ${out.mode}, ${out.keys_refreshed} territory-weeks, data version ${out.data_version}`);
        }
        return out;
      } catch (err) {
        await qr.rollbackTransaction();
        throw err;
      } finally {
        await qr.query(`SELECT pg_advisory_unlock(hashtext('kpi_rollups'), hashtext($1))`, [pilotId]);
      }
    } finally {
      await qr.release();
    }
  }

  private async refreshIn(em: EntityManager, pilotId: string): Promise<RefreshOutcome> {
    const scope = await this.scope(pilotId, em);
    const { dataVersion, mappingVersion } = await this.versions(em);
    if (!scope) return { pilot_id: pilotId, mode: 'none', data_version: dataVersion, keys_refreshed: 0 };
    const [state]: { signature: string; data_version: string; mapping_version: string }[] = await em.query(
      `SELECT signature, data_version, mapping_version FROM kpi_rollup_state WHERE pilot_id = $1`,
      [pilotId],
    );
    const params = rollupParams(scope, null);
    let mode: RefreshOutcome['mode'];
    let keys = 0;
    if (!state || state.signature !== scope.signature || parseRequiredDecimal(state.mapping_version) !== mappingVersion) {
      mode = 'full';
      await em.query(`DELETE FROM kpi_rollups WHERE pilot_id = $1`, [pilotId]);
      const [{ n }]: { n: string }[] = await em.query(
        `WITH ins AS (
           INSERT INTO kpi_rollups (pilot_id, territory_id, period, week_start, ${COHORT_SUM_COLUMNS.join(', ')})
           SELECT $1, * FROM (${rollupAggregate(null)}) x
           RETURNING 1)
         SELECT count(*) AS n FROM ins`,
        params,
      );
      keys = parseRequiredDecimal(n);
    } else if (parseRequiredDecimal(state.data_version) >= dataVersion) {
      return { pilot_id: pilotId, mode: 'up_to_date', data_version: dataVersion, keys_refreshed: 0 };
    } else {
      mode = 'incremental';
      // Touched keys, attributed the way the rollup attributes rows, restricted to the pilot.
      const touched: { territory_id: string; week: string }[] = await em.query(
        `SELECT DISTINCT coalesce(ot.territory_id, c.territory_id) AS territory_id, c.engage_week::text AS week
           FROM opportunity_changes c
           LEFT JOIN owner_territories ot
             ON ot.owner = c.owner AND c.owner <> '' AND ot.valid_from <= $4::date AND (ot.valid_to IS NULL OR ot.valid_to >= $4::date)
          WHERE c.data_version > $1::bigint AND c.data_version <= $2::bigint
            AND coalesce(ot.territory_id, c.territory_id) = ANY($3::uuid[])`,
        [state.data_version, dataVersion, scope.territoryIds, scope.freezeDate],
      );
      keys = touched.length;
      if (keys > 0) {
        const keyParams = [...params, touched.map((k) => k.territory_id), touched.map((k) => k.week)];
        await em.query(
          `DELETE FROM kpi_rollups r USING unnest($2::uuid[], $3::date[]) AS k(territory_id, week_start)
            WHERE r.pilot_id = $1 AND r.territory_id = k.territory_id AND r.week_start = k.week_start`,
          [pilotId, keyParams[7], keyParams[8]],
        );
        await em.query(
          `INSERT INTO kpi_rollups (pilot_id, territory_id, period, week_start, ${COHORT_SUM_COLUMNS.join(', ')})
           SELECT $1, * FROM (${rollupAggregate(null, 8)}) x`,
          keyParams,
        );
      }
    }
    await em.query(
      `INSERT INTO kpi_rollup_state (pilot_id, signature, data_version, mapping_version, full_refreshes, incremental_refreshes, last_keys_refreshed, refreshed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (pilot_id) DO UPDATE SET signature = EXCLUDED.signature, data_version = EXCLUDED.data_version,
         mapping_version = EXCLUDED.mapping_version, last_keys_refreshed = EXCLUDED.last_keys_refreshed, refreshed_at = now(),
         full_refreshes = kpi_rollup_state.full_refreshes + EXCLUDED.full_refreshes,
         incremental_refreshes = kpi_rollup_state.incremental_refreshes + EXCLUDED.incremental_refreshes`,
      [pilotId, scope.signature, dataVersion, mappingVersion, mode === 'full' ? 1 : 0, mode === 'incremental' ? 1 : 0, keys],
    );
    return { pilot_id: pilotId, mode, data_version: dataVersion, keys_refreshed: keys };
  }

  /**
   * Whether the stored rollups of the pilot reflect exactly data version `dataVersion` and the
   * current owner mapping for `scope` (read in the caller's snapshot).
   */
  async isFresh(em: EntityManager, scope: PilotScope, dataVersion: number, mappingVersion: number): Promise<boolean> {
    const rows: { signature: string; data_version: string; mapping_version: string }[] = await em.query(
      `SELECT signature, data_version, mapping_version FROM kpi_rollup_state WHERE pilot_id = $1`,
      [scope.pilotId],
    );
    return (
      rows.length === 1 &&
      rows[0].signature === scope.signature &&
      parseRequiredDecimal(rows[0].data_version) === dataVersion &&
      parseRequiredDecimal(rows[0].mapping_version) === mappingVersion
    );
  }

  /** The stored rollup rows of a pilot, ordered (period, territory, week). */
  async stored(pilotId: string, em?: EntityManager): Promise<RollupRow[]> {
    const rows: Record<string, string>[] = await (em ?? this.dataSource.manager).query(
      `SELECT territory_id, period, week_start::text AS week_start, ${COHORT_SUM_COLUMNS.join(', ')}
         FROM kpi_rollups WHERE pilot_id = $1 ORDER BY period, territory_id, week_start`,
      [pilotId],
    );
    return rows.map(toRollupRow);
  }

  /**
   * The same rows recomputed from scratch, from the current opportunities or as of a data
   * version (not stored). The tests compare it with {@link stored}.
   */
  async recompute(scope: RollupScope, asOf: AsOf | null, em?: EntityManager): Promise<RollupRow[]> {
    const rows: Record<string, string>[] = await (em ?? this.dataSource.manager).query(
      `SELECT territory_id, period, week_start::text AS week_start, ${COHORT_SUM_COLUMNS.join(', ')}
         FROM (${rollupAggregate(asOf)}) x ORDER BY period, territory_id, week_start`,
      rollupParams(scope, asOf),
    );
    return rows.map(toRollupRow);
  }

  /** Pilots whose rollups are kept: every pilot with an assignment that is running. */
  async runningPilotIds(): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT p.id FROM pilots p WHERE p.status = 'running' AND EXISTS (SELECT 1 FROM assignments a WHERE a.pilot_id = p.id) ORDER BY p.id`,
    );
    return rows.map((r) => r.id);
  }
}

function toRollupRow(r: Record<string, string>): RollupRow {
  return { territory_id: String(r.territory_id), period: r.period as 'pre' | 'test', week_start: r.week_start, ...cohortSumsOf(r) };
}
