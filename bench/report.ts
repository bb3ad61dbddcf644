import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ReportBuilderService } from '../src/reports/building/report-builder.service';
import { createApi, createWorker } from '../src/bootstrap';
import { KpiService } from '../src/kpis/kpi.service';
import { QUEUES } from '../src/queues/queue.constants';
import { RollupsService } from '../src/rollups/rollups.service';
import { ApiClient } from '../src/demo/api-client';
import { createRunningPilot, roleClients, technicalSpecialistPilot } from '../src/demo/pilot-factory';
import { benchEnvironment, freshSchema, intArg } from './bench-util';

/**
 * `npm run bench:report [-- --rows N --territories T]` (defaults 1,000,000 and 1,000; 104 weeks).
 *
 * Loads N opportunities over T territories and 104 ISO weeks (pre-period = the first 52, test
 * period = the last 52) straight into PostgreSQL, defines and launches a pilot on all territories
 * through the API (src/demo/pilot-factory.ts, as the demo does), refreshes its rollups, then measures in ONE run:
 * - the full report (`ReportBuilderService.computeReport`: every KPI, randomization inference with
 *   RI_DRAWS = 10,000 Monte Carlo draws, CUPED/regression-adjusted estimates, weekly panel, ...);
 * - the bare SQL aggregation that report needs, run directly on `opportunities` without rollups
 *   (test and pre-period KPIs per territory, the weekly panel, the survival cycle times, open
 *   deals and the data cut-off).
 * Prints both and last the ratio line. Wipes DB_NAME (default pilotlab_bench).
 */
const PRE_PERIOD = { start: '2023-01-02', end: '2023-12-31' };
const TEST_PERIOD = { start: '2024-01-01', end: '2024-12-29' };

async function main(): Promise<void> {
  const n = intArg('rows', 1_000_000);
  const nTerritories = intArg('territories', 1_000);
  const adminKey = `bench-admin-${Date.now()}-0123456789abcdef`;
  const env = benchEnvironment();
  const overrides = { DB_NAME: env.DB_NAME, QUEUE_PREFIX: `${env.QUEUE_PREFIX}-bench-${process.pid}`, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', BOOTSTRAP_ADMIN_KEY: adminKey, RI_DRAWS: 10_000 };
  console.log(`bench:report  rows=${n.toLocaleString('en')}  territories=${nTerritories}  weeks=104  database=${env.DB_NAME}`);
  await freshSchema(env);

  const app = await createApi(overrides);
  await app.listen(0, '127.0.0.1');
  let worker: INestApplicationContext | null = null;
  try {
    const admin = new ApiClient(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, adminKey);
    const ds = app.get(DataSource);
    const codes = Array.from({ length: nTerritories }, (_, i) => `RT-${String(i).padStart(4, '0')}`);
    await admin.post(
      '/territories',
      codes.map((code, i) => ({ code, name: code, region: ['North', 'South', 'East', 'West'][i % 4], attributes: { headcount: 2 + (i % 5) } })),
    );

    // N opportunities straight into the tables (this bench measures reports, not ingestion).
    let t = Date.now();
    await ds.query(`INSERT INTO opportunity_batches (source, status, row_count, rows_processed, rows_accepted, rows_inserted, data_version, completed_at)
                    VALUES ('csv', 'completed', $1, $1, $1, $1, nextval('opportunity_data_version_seq'), now())`, [n]);
    await ds.query(
      `INSERT INTO opportunities (opportunity_id, territory_id, stage, status, amount, engage_date, close_date, version_at, version_batch_seq, version_row, batch_id, data_version)
       SELECT 'RO-' || g, t.id, s.stage, s.status,
              CASE WHEN s.status = 'won' THEN round((200 + 9800 * ((g * 7919) % 1000) / 1000.0)::numeric, 2) END,
              e.d, CASE WHEN s.status = 'open' THEN NULL ELSE e.d + 1 + (g % 90)::int END,
              now(), b.seq, g::int, b.id, b.data_version
         FROM generate_series(1::bigint, $1::bigint) g
         CROSS JOIN LATERAL (SELECT DATE '2023-01-02' + ((g * 104729) % 728)::int AS d) e
         CROSS JOIN LATERAL (SELECT (ARRAY['won', 'lost', 'open', 'won'])[1 + (g % 4)::int] AS status) st
         CROSS JOIN LATERAL (SELECT st.status, CASE st.status WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' ELSE 'engaging' END AS stage) s
         JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k FROM territories) t ON t.k = (g * 31) % $2
         CROSS JOIN (SELECT id, seq, data_version FROM opportunity_batches) b`,
      [n, nTerritories],
    );
    // Every row is a current version (the history, opportunity_versions, holds only replaced ones).
    await ds.query(`ANALYZE opportunities`);
    console.log(`loaded ${n.toLocaleString('en')} opportunities in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // The pilot on every territory, through the API and its lifecycle (admin authors, an experimenter
    // draws and launches, another experimenter approves: separation of duties).
    const { experimenter } = await roleClients(admin, 'bench', ['experimenter'] as const);
    const { experimenter: approver } = await roleClients(admin, 'bench approver', ['experimenter'] as const);
    const { pilot } = await createRunningPilot(
      { author: admin, experimenter, approver },
      technicalSpecialistPilot({ name: 'Bench pilot', territoryCodes: codes, prePeriod: PRE_PERIOD, testPeriod: TEST_PERIOD, design: { type: 'complete', seed: 42 } }),
    );
    const pilotId = pilot.id as string;

    t = Date.now();
    const refreshed = await app.get(RollupsService).refresh(pilotId);
    console.log(`rollups (full refresh): ${refreshed.keys_refreshed.toLocaleString('en')} territory-weeks in ${((Date.now() - t) / 1000).toFixed(2)} s`);

    // The bare aggregation, directly on opportunities (no rollups, no statistics).
    const kpis = app.get(KpiService);
    const ids: string[] = (await ds.query(`SELECT territory_id FROM assignment_units u JOIN assignments a ON a.id = u.assignment_id WHERE a.pilot_id = $1`, [pilotId])).map(
      (r: { territory_id: string }) => r.territory_id,
    );
    const pre = PRE_PERIOD;
    const test = TEST_PERIOD;
    const bare = async () => {
      const s = Date.now();
      await kpis.forTerritories(ids, test);
      await kpis.forTerritories(ids, pre);
      await kpis.weeklyPanel(ids, [{ period: 'pre', ...pre }, { period: 'test', ...test }]);
      await kpis.cycleTimesForSurvival(ids, test, test.end);
      await kpis.openNowByTerritory(ids);
      await kpis.dataCutoff(ids);
      return Date.now() - s;
    };
    await bare(); // warm the cache once, for both sides
    const aggregateMs = await bare();

    worker = await createWorker({ ...overrides, WORKER_QUEUES: '' });
    const analysis = worker.get(ReportBuilderService);
    const [{ id: reportId }] = await ds.query(`INSERT INTO reports (pilot_id, status) VALUES ($1, 'queued') RETURNING id`, [pilotId]);
    t = Date.now();
    await analysis.computeReport(reportId);
    const reportMs = Date.now() - t;
    const [row] = await ds.query(`SELECT status, error, result::jsonb -> 'data' ->> 'kpi_source' AS source FROM reports WHERE id = $1`, [reportId]);
    if (row.status !== 'completed') throw new Error(`report ${row.status}: ${row.error}`);

    // The report's data access alone (bound to its data version, rollups when fresh), for the split.
    t = Date.now();
    await ds.transaction('REPEATABLE READ', async (em) => {
      await kpis.bindReport(em, reportId, pilotId);
      await kpis.forTerritories(ids, test, em);
      await kpis.forTerritories(ids, pre, em);
      await kpis.weeklyPanel(ids, [{ period: 'pre', ...pre }, { period: 'test', ...test }], em);
      await kpis.cycleTimesForSurvival(ids, test, test.end, em);
      await kpis.openNowByTerritory(ids, em);
      await kpis.dataCutoff(ids, em);
    });
    const dataMs = Date.now() - t;

    console.log(`bare SQL aggregation (no rollups): ${(aggregateMs / 1000).toFixed(2)} s`);
    console.log(`the report's own data access (bound to its data version; rollups, attribution, contamination): ${(dataMs / 1000).toFixed(2)} s`);
    console.log(`the rest of the report (statistics: ${nTerritories} territories, 7 KPIs, RI, adjustments): ${((reportMs - dataMs) / 1000).toFixed(2)} s`);
    console.log(`full report (KPIs from ${row.source}, RI ${overrides.RI_DRAWS} draws, adjusted estimates): ${(reportMs / 1000).toFixed(2)} s`);
    console.log(`report/aggregate ratio=${(reportMs / aggregateMs).toFixed(1)}`);
  } finally {
    await worker?.close();
    await app.get<Queue>(getQueueToken(QUEUES.analysis)).obliterate({ force: true }).catch(() => undefined);
    await app.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
