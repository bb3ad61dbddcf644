import request from 'supertest';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/queues/queue.constants';
import { RollupScheduler } from '../../src/rollups/rollup.scheduler';
import { RollupsService } from '../../src/rollups/rollups.service';
import { ingest, loadTerritories, opportunityRow, OpportunityRowInput, pilot, designAndLaunch, territory } from '../factories';
import { resetDatabase, startStack, TestStack, waitFor, waitForReport } from '../utils/test-stack';

/**
 * Issue 4 on real PostgreSQL and Redis: versions arriving out of order, rollups that always equal a
 * from-scratch recomputation (late and back-dated rows included), reports pinned to a data version
 * that recompute to identical numbers, and owners who move between territories (attribution at the
 * freeze date, contamination per arm).
 */
describe('KPI collection at scale', () => {
  let stack: TestStack;
  let pilotId: string;
  let arms: Map<string, string>;
  const codes = ['KC-1', 'KC-2', 'KC-3', 'KC-4', 'KC-5', 'KC-6'];

  const inArm = (arm: string) => codes.filter((c) => arms.get(c) === arm);
  const rollupState = async () =>
    (await stack.dataSource.query(`SELECT data_version::int AS dv, full_refreshes, incremental_refreshes, last_keys_refreshed FROM kpi_rollup_state WHERE pilot_id = $1`, [pilotId]))[0] as
      | { dv: number; full_refreshes: number; incremental_refreshes: number; last_keys_refreshed: number }
      | undefined;
  const latestDataVersion = async () => Number((await stack.dataSource.query(`SELECT coalesce(max(data_version), 0) AS v FROM opportunity_batches`))[0].v);
  const waitForRollupsAt = (dv: number) => waitFor(async () => ((await rollupState())?.dv === dv ? true : undefined), `rollups at data version ${dv}`, 30_000);
  const report = async (body: Record<string, unknown> = {}) => {
    const res = await request(stack.http).post(`/pilots/${pilotId}/reports`).send(body).expect(202);
    const done = await waitForReport(stack.http, pilotId, res.body.report_id);
    expect(done.status).toBe('completed');
    return done;
  };
  const row = (o: OpportunityRowInput) => opportunityRow({ product: null, account: null, created_at: null, ...o });

  beforeAll(async () => {
    stack = await startStack({ overrides: { ROLLUP_DEBOUNCE_MS: 50 } });
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, codes.map((code) => territory({ code })));
    const created = await request(stack.http).post('/pilots').send(pilot(codes)).expect(201);
    pilotId = created.body.id;
    await designAndLaunch(stack.http, pilotId);
    const units: { territory_code: string; arm: string }[] = await stack.dataSource.query(
      `SELECT u.territory_code, u.arm FROM assignment_units u JOIN assignments a ON a.id = u.assignment_id WHERE a.pilot_id = $1`,
      [pilotId],
    );
    arms = new Map(units.map((u) => [u.territory_code, u.arm]));
  });
  afterAll(() => stack?.close());

  it('keeps the newest source version whatever the arrival order, and every version', async () => {
    const [c1] = inArm('control');
    await ingest(stack.http, [row({ opportunity_id: 'V-1', territory: c1, amount: '300.00', source_updated_at: '2024-02-10T00:00:00Z' })]);
    const older = await ingest(stack.http, [row({ opportunity_id: 'V-1', territory: c1, amount: '100.00', source_updated_at: '2024-02-01T00:00:00Z' })]);
    expect(older).toMatchObject({ rows_stale: 1, rows_updated: 0 });
    const current = await request(stack.http).get('/opportunities/V-1').expect(200);
    expect(current.body.amount).toBe('300.00');
    const versions = await stack.dataSource.query(`SELECT amount::text AS amount FROM opportunity_all_versions WHERE opportunity_id = 'V-1' ORDER BY version_at`);
    expect(versions).toEqual([{ amount: '100.00' }, { amount: '300.00' }]);
    // The current version lives in opportunities only; the history has the other one.
    const history = await stack.dataSource.query(`SELECT amount::text AS amount FROM opportunity_versions WHERE opportunity_id = 'V-1'`);
    expect(history).toEqual([{ amount: '100.00' }]);
  });

  it('keeps every accepted row exactly once (current ∪ history) through updates, stale rows, in-batch duplicates and re-sends', async () => {
    const [c1, c2] = inArm('control');
    const sent = [
      [
        row({ opportunity_id: 'H-1', territory: c1, amount: '10.00', source_updated_at: '2024-03-01T00:00:00Z' }),
        row({ opportunity_id: 'H-1', territory: c1, amount: '11.00', source_updated_at: '2024-03-02T00:00:00Z' }),
        row({ opportunity_id: 'H-2', territory: c2, amount: '20.00', source_updated_at: '2024-03-01T00:00:00Z' }),
      ],
      [
        row({ opportunity_id: 'H-1', territory: c2, amount: '12.00', source_updated_at: '2024-03-05T00:00:00Z' }),
        row({ opportunity_id: 'H-2', territory: c2, amount: '19.00', source_updated_at: '2024-02-01T00:00:00Z' }),
      ],
      [row({ opportunity_id: 'H-1', territory: c2, amount: '12.00', source_updated_at: '2024-03-05T00:00:00Z' })],
    ];
    for (const rows of sent) await ingest(stack.http, rows);
    const all = await stack.dataSource.query(
      `SELECT opportunity_id AS id, amount::text AS amount FROM opportunity_all_versions WHERE opportunity_id LIKE 'H-%' ORDER BY 1, version_at, version_batch_seq, version_row`,
    );
    expect(all).toEqual([
      { id: 'H-1', amount: '10.00' },
      { id: 'H-1', amount: '11.00' },
      { id: 'H-1', amount: '12.00' },
      { id: 'H-1', amount: '12.00' },
      { id: 'H-2', amount: '19.00' },
      { id: 'H-2', amount: '20.00' },
    ]);
    // No version is both current and in the history.
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM opportunity_versions v JOIN opportunities o
          ON o.opportunity_id = v.opportunity_id AND (o.version_at, o.version_batch_seq, o.version_row) = (v.version_at, v.version_batch_seq, v.version_row)`,
    );
    expect(n).toBe(0);
    const current = await stack.dataSource.query(`SELECT opportunity_id AS id, amount::text AS amount FROM opportunities WHERE opportunity_id LIKE 'H-%' ORDER BY 1`);
    expect(current).toEqual([
      { id: 'H-1', amount: '12.00' },
      { id: 'H-2', amount: '20.00' },
    ]);
  });

  it('rollups equal a from-scratch recomputation after late and back-dated rows, refreshing only touched territory-weeks', async () => {
    const [c1, c2] = inArm('control');
    const [t1, t2] = inArm('treatment');
    const first = await ingest(stack.http, [
      row({ opportunity_id: 'R-1', territory: c1, engage_date: '2024-01-08', close_date: '2024-02-01', amount: '1000.00', source_updated_at: '2024-02-01T00:00:00Z' }),
      row({ opportunity_id: 'R-2', territory: c2, engage_date: '2024-01-15', close_date: '2024-01-30', amount: '500.50', source_updated_at: '2024-01-30T00:00:00Z' }),
      row({ opportunity_id: 'R-3', territory: t1, engage_date: '2024-02-05', close_date: '2024-03-01', stage: 'Lost', amount: null, source_updated_at: '2024-03-01T00:00:00Z' }),
      row({ opportunity_id: 'R-4', territory: t2, engage_date: '2023-11-20', close_date: '2023-12-20', amount: '700.00', source_updated_at: '2023-12-20T00:00:00Z' }),
      row({ opportunity_id: 'R-5', territory: t2, engage_date: '2024-03-25', close_date: '2024-04-10', amount: '900.00', source_updated_at: '2024-04-10T00:00:00Z' }),
      row({ opportunity_id: 'R-6', territory: t1, stage: 'Engaging', engage_date: '2024-02-20', close_date: null, amount: null, source_updated_at: '2024-02-21T00:00:00Z' }),
    ]);
    await waitForRollupsAt(first.data_version);
    const rollups = stack.app.get(RollupsService);
    const scope = (await rollups.scope(pilotId))!;
    expect(await rollups.stored(pilotId)).toEqual(await rollups.recompute(scope, null));
    const before = (await rollups.stored(pilotId)).length;
    expect(before).toBeGreaterThan(3);
    const stateBefore = (await rollupState())!;

    // Late and back-dated changes: R-1 moves to another week and territory; R-2 becomes lost
    // (newer version); an older version of R-3 arrives late (stale, no change); R-7 is a new deal
    // back-dated into the pre-period; R-6 closes won after the test period (still open at its end).
    const second = await ingest(stack.http, [
      row({ opportunity_id: 'R-1', territory: t1, engage_date: '2024-03-04', close_date: '2024-03-20', amount: '1200.00', source_updated_at: '2024-03-20T00:00:00Z' }),
      row({ opportunity_id: 'R-2', territory: c2, engage_date: '2024-01-15', close_date: '2024-02-02', stage: 'Lost', amount: null, source_updated_at: '2024-02-02T00:00:00Z' }),
      row({ opportunity_id: 'R-3', territory: t1, stage: 'Engaging', engage_date: '2024-02-05', close_date: null, amount: null, source_updated_at: '2024-02-06T00:00:00Z' }),
      row({ opportunity_id: 'R-7', territory: c1, engage_date: '2023-10-02', close_date: '2023-10-30', amount: '80.25', source_updated_at: '2023-10-30T00:00:00Z' }),
      row({ opportunity_id: 'R-6', territory: t1, engage_date: '2024-02-20', close_date: '2024-05-02', amount: '640.00', source_updated_at: '2024-05-02T00:00:00Z' }),
    ]);
    expect(second).toMatchObject({ rows_stale: 1, rows_inserted: 1, rows_updated: 3 });
    await waitForRollupsAt(second.data_version);
    const stateAfter = (await rollupState())!;
    expect(stateAfter.incremental_refreshes).toBeGreaterThan(stateBefore.incremental_refreshes);
    expect(stateAfter.full_refreshes).toBe(stateBefore.full_refreshes);
    // R-1 old and new week/territory, R-2's week, R-7's week, R-6's week: 5 keys, not the whole pilot.
    expect(stateAfter.last_keys_refreshed).toBe(5);
    const stored = await rollups.stored(pilotId);
    expect(stored).toEqual(await rollups.recompute(scope, null));
    // ... and equal to the recomputation as of the latest data version from the versions table.
    expect(stored).toEqual(await rollups.recompute(scope, { dataVersion: second.data_version, asOf: null }));
    const idOf = async (code: string) => (await stack.dataSource.query(`SELECT id FROM territories WHERE code = $1`, [code]))[0].id as string;
    // R-1 left c1's week of 2024-01-08 (nothing else engaged there) and now sits in t1's week of 2024-03-04.
    const [c1Id, t1Id] = [await idOf(c1), await idOf(t1)];
    expect(stored.filter((r) => r.territory_id === c1Id && r.week_start === '2024-01-08')).toEqual([]);
    expect(stored.find((r) => r.territory_id === t1Id && r.week_start === '2024-03-04')).toMatchObject({
      period: 'test',
      n_opportunities: 1,
      n_won: 1,
      won_amount_total: 1200,
      cycle_days_total: 16,
    });
  });

  it('a report pinned to an earlier data version recomputes to identical numbers', async () => {
    const [c1] = inArm('control');
    const [t1] = inArm('treatment');
    await ingest(stack.http, [
      row({ opportunity_id: 'P-1', territory: c1, engage_date: '2024-01-10', close_date: '2024-01-25', amount: '410.00', source_updated_at: '2024-01-25T00:00:00Z' }),
      row({ opportunity_id: 'P-2', territory: t1, engage_date: '2024-02-10', close_date: '2024-02-25', amount: '620.00', source_updated_at: '2024-02-25T00:00:00Z' }),
    ]);
    const d1 = await latestDataVersion();
    await waitForRollupsAt(d1);
    const first = await report();
    expect(first.data_version).toBe(d1);
    expect(first.result.data).toMatchObject({ data_version: d1, latest_data_version: d1, as_of: null, kpi_source: 'rollups' });

    // Late, back-dated rows and a newer version of P-1 arrive afterwards.
    await ingest(stack.http, [
      row({ opportunity_id: 'P-1', territory: c1, engage_date: '2024-01-10', close_date: '2024-01-25', amount: '9999.00', source_updated_at: '2024-01-26T00:00:00Z' }),
      row({ opportunity_id: 'P-3', territory: t1, engage_date: '2024-01-03', close_date: '2024-01-05', amount: '55.00', source_updated_at: '2024-01-05T00:00:00Z' }),
    ]);
    const pinned = await report({ data_version: d1 });
    expect(pinned.result.data).toMatchObject({ data_version: d1, kpi_source: 'aggregation' });
    expect(pinned.result.data.latest_data_version).toBeGreaterThan(d1);
    expect(pinned.result.territories).toEqual(first.result.territories);
    expect(pinned.result.kpis).toEqual(first.result.kpis);
    expect(pinned.result.data_cutoff).toEqual(first.result.data_cutoff);

    const latest = await report();
    const revenue = (r: typeof latest, code: string) => r.result.territories.find((t: { territory_code: string }) => t.territory_code === code).kpis.revenue_won;
    expect(revenue(latest, c1) - revenue(first, c1)).toBeCloseTo(9999 - 410, 6);
    expect(revenue(latest, t1) - revenue(first, t1)).toBeCloseTo(55, 6);

    const bad = await request(stack.http).post(`/pilots/${pilotId}/reports`).send({ data_version: 1e9 }).expect(400);
    expect(bad.body.details[0].path).toBe('data_version');
    const badAsOf = await request(stack.http).post(`/pilots/${pilotId}/reports`).send({ as_of: '2024-01-01 10:00' }).expect(400);
    expect(badAsOf.body.details[0].path).toBe('as_of');
  });

  it('attributes an owner who moved to the territory of the freeze date and counts the contamination per arm', async () => {
    const [c1, c2] = inArm('control');
    const [t1] = inArm('treatment');
    const before = await report();
    const revenueOf = (r: typeof before, code: string) => r.result.territories.find((t: { territory_code: string }) => t.territory_code === code).kpis.revenue_won;

    // rep-X worked in t1 (treatment) in January, then moved to c1 (control) for good: on the freeze
    // date (the launch, today) rep-X belongs to c1. rep-Y stays in c2.
    const loaded = await request(stack.http)
      .post('/owners/territories')
      .send([
        { owner: 'rep-X', territory: t1, valid_from: '2023-06-01', valid_to: '2024-01-31' },
        { owner: 'rep-X', territory: c1, valid_from: '2024-02-01' },
        { owner: 'rep-Y', territory: c2, valid_from: '2023-01-01', valid_to: null },
      ])
      .expect(200);
    expect(loaded.body).toMatchObject({ inserted: 3, updated: 0 });
    const overlap = await request(stack.http).post('/owners/territories').send([{ owner: 'rep-X', territory: c2, valid_from: '2024-03-01' }]).expect(400);
    expect(overlap.body.code).toBe('VALIDATION_FAILED');
    await request(stack.http).post('/owners/territories').send([{ owner: 'rep-Z', territory: 'nowhere', valid_from: '2024-03-01' }]).expect(422);
    const history = await request(stack.http).get('/owners/rep-X/territories').expect(200);
    expect(history.body.intervals.map((i: { territory: string }) => i.territory)).toEqual([t1, c1]);

    // The CRM still records rep-X's January deals under t1.
    await ingest(stack.http, [
      row({ opportunity_id: 'O-1', territory: t1, owner: 'rep-X', engage_date: '2024-01-12', close_date: '2024-01-29', amount: '2000.00', source_updated_at: '2024-01-29T00:00:00Z' }),
      row({ opportunity_id: 'O-2', territory: t1, owner: 'rep-X', engage_date: '2024-01-20', close_date: '2024-02-15', amount: '3000.00', source_updated_at: '2024-02-15T00:00:00Z' }),
      row({ opportunity_id: 'O-3', territory: c2, owner: 'rep-Y', engage_date: '2024-02-01', close_date: '2024-02-20', amount: '100.00', source_updated_at: '2024-02-20T00:00:00Z' }),
    ]);
    await waitForRollupsAt(await latestDataVersion());
    const after = await report();
    expect(after.result.data.kpi_source).toBe('rollups');
    expect(revenueOf(after, c1) - revenueOf(before, c1)).toBeCloseTo(5000, 6); // intent to treat: rep-X's deals count for c1
    expect(revenueOf(after, t1)).toBeCloseTo(revenueOf(before, t1), 6);
    expect(revenueOf(after, c2) - revenueOf(before, c2)).toBeCloseTo(100, 6);
    expect(after.result.data.contamination).toEqual({ control: { opportunities: 2, owners: 1 }, treatment: { opportunities: 0, owners: 0 } });
    expect(after.result.data.attribution_date).toBe(new Date().toISOString().slice(0, 10));
    const rollups = stack.app.get(RollupsService);
    expect(await rollups.stored(pilotId)).toEqual(await rollups.recompute((await rollups.scope(pilotId))!, null));
    // A mapping load changes the mapping version: the next refresh recomputes the whole pilot.
    const fullBefore = (await rollupState())!.full_refreshes;
    const csv = 'owner,territory,valid_from,valid_to\r\nrep-Y,' + c2 + ',2023-01-01,\r\n';
    const loadedCsv = await request(stack.http).post('/owners/territories/csv').attach('file', Buffer.from(csv), { filename: 'owners.csv', contentType: 'text/csv' }).expect(200);
    expect(loadedCsv.body).toMatchObject({ inserted: 0, updated: 1 });
    expect((await rollups.refresh(pilotId)).mode).toBe('full');
    expect((await rollupState())!.full_refreshes).toBe(fullBefore + 1);
  });

  it('keeps one repeatable rollup refresh per running pilot, and removes it when the pilot stops', async () => {
    const scheduler = stack.app.get(RollupScheduler);
    const queue = stack.app.get<Queue>(getQueueToken(QUEUES.rollups));
    expect(await scheduler.reconcile()).toEqual({ upserted: 1, removed: 0 });
    const schedulers = await queue.getJobSchedulers(0, -1);
    expect(schedulers.map((j) => j.key ?? j.id)).toContain(`rollups:${pilotId}`);
    expect(await scheduler.reconcile()).toEqual({ upserted: 0, removed: 0 });
    await request(stack.http).post(`/pilots/${pilotId}/stop`).send({}).expect(200);
    expect(await scheduler.reconcile()).toEqual({ upserted: 0, removed: 1 });
    expect((await queue.getJobSchedulers(0, -1)).map((j) => j.key ?? j.id)).not.toContain(`rollups:${pilotId}`);
  });
});
