import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApi, createWorker } from '../../src/bootstrap';
import { QUEUES } from '../../src/queues/queue.constants';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TEST_ADMIN_KEY, testOverrides } from './test-env';

/** A Node request listener; supertest serves it on an ephemeral port per request. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export type TestRole = 'admin' | 'sales_ops' | 'experimenter' | 'analyst';

/** A real API (full AppModule) and a real worker on the test database and a private queue prefix. */
export interface TestStack {
  app: NestExpressApplication;
  worker: INestApplicationContext | null;
  /**
   * The API as a request handler for supertest: a request without `x-api-key` or `Authorization`
   * gets the stack's default admin key (created by the bootstrap key at start, see `defaultKey`),
   * so tests that are not about access control need no keys.
   */
  http: RequestHandler;
  /** The API with no default key (access-control tests). */
  raw: RequestHandler;
  /** The admin key `http` sends by default (created by the bootstrap key; not the bootstrap key). */
  defaultKey: string;
  dataSource: DataSource;
  /**
   * A key of `role` created through POST /api-keys with the bootstrap key (cached per stack and
   * role; `fresh` makes a new one): a sibling of the default key, never its descendant.
   */
  keyFor(role: TestRole, fresh?: boolean): Promise<string>;
  overrides: Record<string, string | number>;
  startWorker(): Promise<INestApplicationContext>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the stack; `withWorker: false` lets a test hold jobs in Redis before consuming them. */
export async function startStack(opts: { withWorker?: boolean; overrides?: Record<string, string | number> } = {}): Promise<TestStack> {
  const overrides = testOverrides(opts.overrides);
  const app = await createApi(overrides);
  await app.init();
  const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void;
  const bootstrapKey = String(overrides.BOOTSTRAP_ADMIN_KEY ?? TEST_ADMIN_KEY);
  // The default key is an admin key the bootstrap key creates, not the bootstrap key itself: keys
  // made by keyFor() are then its siblings, so one may approve what the default key authored
  // (separation of duties refuses an approver created by an author).
  const created = await request(express).post('/api-keys').set('x-api-key', bootstrapKey).send({ name: 'test default admin', role: 'admin' });
  if (created.status !== 201) throw new Error(`POST /api-keys answered ${created.status}: ${JSON.stringify(created.body)}`);
  const defaultKey = String(created.body.key);
  const withDefaultKey = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-api-key'] === undefined && req.headers.authorization === undefined) req.headers['x-api-key'] = defaultKey;
    express(req, res);
  };
  const keys = new Map<TestRole, string>();
  const stack: TestStack = {
    app,
    worker: null,
    http: withDefaultKey,
    raw: express,
    defaultKey,
    dataSource: app.get(DataSource),
    overrides,
    async keyFor(role, fresh = false) {
      if (!fresh && keys.has(role)) return keys.get(role)!;
      const res = await request(express).post('/api-keys').set('x-api-key', bootstrapKey).send({ name: `test ${role}`, role });
      if (res.status !== 201) throw new Error(`POST /api-keys answered ${res.status}: ${JSON.stringify(res.body)}`);
      if (!fresh) keys.set(role, res.body.key);
      return res.body.key as string;
    },
    async startWorker() {
      if (!stack.worker) stack.worker = await createWorker(overrides);
      return stack.worker;
    },
    async stopWorker() {
      await stack.worker?.close();
      stack.worker = null;
    },
    async close() {
      await stack.stopWorker();
      for (const name of Object.values(QUEUES)) {
        const q = app.get<Queue>(getQueueToken(name));
        await q.obliterate({ force: true }).catch(() => undefined);
      }
      await app.close();
    },
  };
  if (opts.withWorker !== false) await stack.startWorker();
  return stack;
}

/**
 * Empties every table (keeps the schema and the migrations table) except `api_keys` (the stack's
 * keys stay valid) and the append-only `audit_events` (a trigger refuses TRUNCATE; tests filter it
 * by pilot or key).
 */
export async function resetDatabase(ds: DataSource): Promise<void> {
  // A worker's repeatable job (rollups, interim looks) can hold row locks that the TRUNCATE's
  // ACCESS EXCLUSIVE locks meet in the other order; PostgreSQL then aborts one side with a deadlock
  // (40P01). The TRUNCATE is all-or-nothing, so trying it again is safe.
  for (let attempt = 1; ; attempt++) {
    try {
      await truncateAll(ds);
      break;
    } catch (err) {
      if ((err as { driverError?: { code?: string } }).driverError?.code !== '40P01' || attempt >= 5) throw err;
    }
  }
  // Per-batch staging tables (src/opportunities/staging.ts) of batches never processed.
  await ds.query(`DROP SCHEMA IF EXISTS opportunity_staging CASCADE; CREATE SCHEMA opportunity_staging`);
}

function truncateAll(ds: DataSource): Promise<unknown> {
  return ds.query(
    `TRUNCATE power_analyses, reports, opportunities, opportunity_versions, opportunity_field_history, opportunity_changes, owner_territories, kpi_rollups,
              kpi_rollup_state, opportunity_batch_rejections, opportunity_batches, import_sources,
              interim_looks, pilot_compatibility, analysis_plans, pilot_transitions,
              assignment_units, assignments, pilots, territories, exchange_rates RESTART IDENTITY CASCADE`,
  );
}

/** Polls until `check` returns a value, or fails after `timeoutMs` (never a fixed sleep). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for a batch to finish (completed or failed) and returns its status body. */
export function waitForBatch(http: TestStack['http'], batchId: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const res = await request(http).get(`/opportunities/batches/${batchId}`);
      return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
    },
    `batch ${batchId}`,
    timeoutMs,
  );
}

/**
 * Waits for a power analysis (the `power` job) to finish (completed or failed) and returns the GET
 * /pilots/:id/power/:analysisId body; a GET that does not answer 200 fails at once.
 * @param what names the wait in the timeout error
 */
export function waitForPowerAnalysis(http: TestStack['http'], pilotId: string, analysisId: string, what = `power analysis ${analysisId}`, timeoutMs = 120_000) {
  return waitFor(
    async () => {
      const r = await request(http).get(`/pilots/${pilotId}/power/${analysisId}`).expect(200);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
    },
    what,
    timeoutMs,
  );
}

/** Waits for a report to finish and returns the GET body. */
export function waitForReport(http: TestStack['http'], pilotId: string, reportId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const res = await request(http).get(`/pilots/${pilotId}/reports/${reportId}`);
      return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
    },
    `report ${reportId}`,
    timeoutMs,
  );
}
