import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApi, createWorker } from '../../src/bootstrap';
import { QUEUES } from '../../src/queues/queue.constants';
import { testOverrides } from './test-env';

/** A real API (full AppModule) and a real worker on the test database and a private queue prefix. */
export interface TestStack {
  app: NestExpressApplication;
  worker: INestApplicationContext | null;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  dataSource: DataSource;
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
  const stack: TestStack = {
    app,
    worker: null,
    http: app.getHttpServer(),
    dataSource: app.get(DataSource),
    overrides,
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

/** Empties every table (keeps the schema and the migrations table). */
export async function resetDatabase(ds: DataSource): Promise<void> {
  await ds.query(
    `TRUNCATE power_analyses, reports, opportunities, opportunity_batch_rejections, opportunity_batch_rows, opportunity_batches,
              assignment_units, assignments, pilots, territories RESTART IDENTITY CASCADE`,
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
