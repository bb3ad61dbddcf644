import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../src/config/env.validation';
import { buildDataSourceOptions } from '../../src/database/typeorm-options';
import { TEST_DB_NAME } from '../utils/test-env';
import { OpportunityHistoryWithoutCurrentVersion1765600000001 } from '../../migrations/1765600000001-OpportunityHistoryWithoutCurrentVersion';
import { ChosenDesign1766600000000 } from '../../migrations/1766600000000-ChosenDesign';
import { SelectedDesign1766800000000 } from '../../migrations/1766800000000-SelectedDesign';

/** One connection to the test database for every block below (built by the migrations alone: global-setup.ts). */
let ds: DataSource;

beforeAll(async () => {
  ds = new DataSource(buildDataSourceOptions(validateEnvironment({ ...process.env, DB_NAME: TEST_DB_NAME })));
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
});

/**
 * Entities and migrations describe the same schema (house style: CI fails on migration drift).
 * The test database was built by the migrations alone (global-setup.ts); TypeORM's schema builder
 * then diffs it against the entity metadata. Any pending query means `migration:generate` would
 * emit a migration, e.g. DROPs of the unique keys the upserts rely on.
 */
describe('migrations match the entities', () => {
  it('has no pending schema change (no drift)', async () => {
    const log = await ds.driver.createSchemaBuilder().log();
    const pending = log.upQueries.map((q) => q.query);
    // Printed in the failure message, so the drift is visible without re-running anything.
    expect(pending).toEqual([]);
  });

  it('applied exactly the listed migrations', async () => {
    const rows: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(ds.migrations.map((m) => m.name));
    expect(await ds.showMigrations()).toBe(false);
  });
});

/**
 * opportunities.territory_id → territories.id is enforced by statement-level triggers instead of a
 * foreign key (migration 1765600000000): the same rule, for every writer, with the same SQLSTATE.
 * Each case runs in a transaction that is rolled back.
 */
describe('opportunities refer to existing territories (checked per statement)', () => {
  /** Runs `work` in a transaction that is always rolled back; returns the SQLSTATE it failed with, or null. */
  async function sqlstateOf(work: (q: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>): Promise<string | null> {
    const qr = ds.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      await work((sql, params) => qr.query(sql, params));
      return null;
    } catch (err) {
      return (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code ?? 'unknown';
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  }

  const territory = `INSERT INTO territories (code, name, region) VALUES ($1, $1, 'North') RETURNING id`;
  const opportunity = `INSERT INTO opportunities (opportunity_id, territory_id, stage, status, version_at, version_batch_seq, version_row, batch_id)
                       VALUES ($1, $2, 'engaging', 'open', now(), 1, 1, gen_random_uuid())`;

  it('accepts rows whose territories exist, several at once', async () => {
    const state = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-A'])) as { id: string }[];
      const [b] = (await q(territory, ['FKT-B'])) as { id: string }[];
      await q(`${opportunity}, ($3, $4, 'engaging', 'open', now(), 1, 2, gen_random_uuid())`, ['FKO-1', a.id, 'FKO-2', b.id]);
      const rows = (await q(`SELECT count(*)::int AS n FROM opportunities WHERE opportunity_id IN ('FKO-1', 'FKO-2')`)) as { n: number }[];
      expect(rows[0].n).toBe(2);
    });
    expect(state).toBeNull();
  });

  it('rejects an insert naming a missing territory with 23503, even among good rows', async () => {
    const state = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-C'])) as { id: string }[];
      await q(
        `INSERT INTO opportunities (opportunity_id, territory_id, stage, status, version_at, version_batch_seq, version_row, batch_id)
         SELECT 'FKO-' || i, CASE WHEN i = 7 THEN gen_random_uuid() ELSE $1::uuid END, 'engaging', 'open', now(), 1, i, gen_random_uuid()
           FROM generate_series(1, 10) i`,
        [a.id],
      );
    });
    expect(state).toBe('23503');
  });

  it('rejects an upsert that moves a row to a missing territory with 23503', async () => {
    const state = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-D'])) as { id: string }[];
      await q(opportunity, ['FKO-3', a.id]);
      await q(
        `${opportunity} ON CONFLICT (opportunity_id) DO UPDATE SET territory_id = EXCLUDED.territory_id`,
        ['FKO-3', '00000000-0000-4000-8000-000000000000'],
      );
    });
    expect(state).toBe('23503');
  });

  it('refuses to delete, or change the id of, a territory that opportunities refer to; an unreferenced one can go', async () => {
    const deleted = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-E'])) as { id: string }[];
      await q(opportunity, ['FKO-4', a.id]);
      await q(`DELETE FROM territories WHERE id = $1`, [a.id]);
    });
    expect(deleted).toBe('23503');
    const renumbered = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-F'])) as { id: string }[];
      await q(opportunity, ['FKO-5', a.id]);
      await q(`UPDATE territories SET id = gen_random_uuid() WHERE id = $1`, [a.id]);
    });
    expect(renumbered).toBe('23503');
    const unreferenced = await sqlstateOf(async (q) => {
      const [a] = (await q(territory, ['FKT-G'])) as { id: string }[];
      await q(`UPDATE territories SET name = 'renamed' WHERE id = $1`, [a.id]);
      const [, count] = (await q(`DELETE FROM territories WHERE id = $1 RETURNING id`, [a.id])) as [unknown[], number];
      expect(count).toBe(1);
    });
    expect(unreferenced).toBeNull();
  });
});

describe('migration 1765600000001: the history keeps only non-current versions', () => {
  it('down copies the current versions into the history, up removes exactly those copies; every version stays in the view', async () => {
    const qr = ds.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const n = async (table: string) => ((await qr.query(`SELECT count(*)::int AS n FROM ${table} WHERE opportunity_id LIKE 'MH-%'`)) as { n: number }[])[0].n;
      const [t] = (await qr.query(`INSERT INTO territories (code, name, region) VALUES ('MH-T', 'MH-T', 'North') RETURNING id`)) as { id: string }[];
      const insert = (table: string, id: string, at: string) =>
        qr.query(
          `INSERT INTO ${table} (opportunity_id, territory_id, stage, status, version_at, version_batch_seq, version_row, batch_id, data_version)
           VALUES ($1, $2, 'engaging', 'open', $3, 1, 1, gen_random_uuid(), 1)`,
          [id, t.id, at],
        );
      await insert('opportunities', 'MH-1', '2024-02-01T00:00:00Z');
      await insert('opportunities', 'MH-2', '2024-02-01T00:00:00Z');
      await insert('opportunity_versions', 'MH-1', '2024-01-01T00:00:00Z'); // an older, replaced version
      const migration = new OpportunityHistoryWithoutCurrentVersion1765600000001();
      await migration.down(qr);
      expect(await n('opportunity_versions')).toBe(3);
      await migration.up(qr);
      expect(await n('opportunity_versions')).toBe(1);
      expect(await n('opportunity_all_versions')).toBe(3);
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  });
});

describe('migration 1766600000000 (chosen design): down refuses while chosen pilots exist', () => {
  it('down with a chosen pilot fails before changing anything; without one it reverts the constraint and up restores it', async () => {
    const qr = ds.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const migration = new ChosenDesign1766600000000();
      // other suites may have left chosen pilots in this database: re-type them inside this (rolled back) transaction
      await qr.query(`UPDATE pilots SET design_type = 'complete' WHERE design_type IN ('chosen', 'selected')`);
      await new SelectedDesign1766800000000().down(qr); // the later migration first, as a revert runs
      const [p] = (await qr.query(
        `INSERT INTO pilots (name, hypothesis, treatment_description, eligibility, arms, primary_kpi, pre_period_start, pre_period_end, test_period_start, test_period_end, design_type)
         VALUES ('MD-chosen', 'h', 't', '{}', '[]', 'revenue_won', '2024-01-01', '2024-03-31', '2024-04-01', '2024-06-30', 'chosen') RETURNING id`,
      )) as { id: string }[];
      await expect(migration.down(qr)).rejects.toThrow(/1 pilot\(s\) use design_type 'chosen'/);
      const check = async () => ((await qr.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'ck_pilots_design'`)) as { def: string }[])[0].def;
      expect(await check()).toContain("'chosen'");
      await qr.query(`DELETE FROM pilots WHERE id = $1`, [p.id]);
      await migration.down(qr);
      expect(await check()).not.toContain("'chosen'");
      await migration.up(qr);
      expect(await check()).toContain("'chosen'");
      await expect(new SelectedDesign1766800000000().up(qr)).resolves.toBeUndefined();
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  });
});
