import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import request from 'supertest';
import { JOBS, QUEUES } from '../../src/queues/queue.constants';
import { stagingTable } from '../../src/opportunities/staging';
import { loadTerritories, opportunityRow, postBatch, territory } from '../factories';
import { resetDatabase, startStack, TestStack, waitFor, waitForBatch } from '../utils/test-stack';

/** Operations on ingestion: queue-depth back-pressure (429), cancel, failed jobs visible and retryable. */
describe('ingestion operations', () => {
  let stack: TestStack;
  const count = async (sql: string) => Number((await stack.dataSource.query(`SELECT count(*) AS n FROM ${sql}`))[0].n);
  const stagingExists = async (batchId: string) =>
    (await stack.dataSource.query(`SELECT to_regclass($1) AS t`, [stagingTable(batchId)]))[0].t !== null;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false, overrides: { QUEUE_MAX_DEPTH: 1, QUEUE_RETRY_AFTER_S: 17 } });
  });
  afterAll(() => stack?.close());
  beforeEach(async () => {
    await stack.stopWorker();
    await stack.app.get<Queue>(getQueueToken(QUEUES.ingestion)).obliterate({ force: true });
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, [territory({ code: 'T-DEFAULT' })]);
  });

  it('refuses uploads with 429 and Retry-After while the ingestion queue is deeper than QUEUE_MAX_DEPTH', async () => {
    await postBatch(stack.http, [opportunityRow()]);
    await postBatch(stack.http, [opportunityRow()]); // depth 1 is not above the limit
    const full = await request(stack.http).post('/opportunities/batches').send({ rows: [opportunityRow()] }).expect(429);
    expect(full.headers['retry-after']).toBe('17');
    expect(full.body).toMatchObject({ statusCode: 429, code: 'QUEUE_FULL', details: { queue: 'ingestion', depth: 2, max_depth: 1, retry_after_seconds: 17 } });
    const csv = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send('opportunity_id,territory,stage\nX-1,T-DEFAULT,Engaging\n');
    expect(csv.status).toBe(429);
    expect(await count('opportunity_batches')).toBe(2);
    const queues = await request(stack.http).get('/queues').expect(200);
    expect(queues.body.ingestion.waiting).toBe(2);
  });

  it('shows every queue the product runs, each with its failed-job list', async () => {
    const queues = await request(stack.http).get('/queues').expect(200);
    expect(Object.keys(queues.body).sort()).toEqual(Object.values(QUEUES).sort());
    for (const name of Object.values(QUEUES)) {
      const failed = await request(stack.http).get(`/queues/${name}/failed`).expect(200);
      expect(failed.body).toMatchObject({ queue: name, total: 0, items: [] });
    }
  });

  it('cancels a queued batch: nothing of it is stored, its job skips it, a second cancel is a 409', async () => {
    const accepted = await postBatch(stack.http, [opportunityRow({ opportunity_id: 'C-1' }), opportunityRow({ opportunity_id: 'C-2' })]);
    expect(await stagingExists(accepted.batch_id)).toBe(true);
    const cancelled = await request(stack.http).post(`/opportunities/batches/${accepted.batch_id}/cancel`).expect(200);
    expect(cancelled.body).toEqual({ batch_id: accepted.batch_id, status: 'cancelled' });
    expect(await stagingExists(accepted.batch_id)).toBe(false);
    await stack.startWorker();
    const queue = stack.app.get<Queue>(getQueueToken(QUEUES.ingestion));
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, 'the job to run');
    const status = await request(stack.http).get(`/opportunities/batches/${accepted.batch_id}`).expect(200);
    expect(status.body).toMatchObject({ status: 'cancelled', rows_accepted: 0, rows_inserted: 0 });
    expect(await count('opportunities')).toBe(0);
    const again = await request(stack.http).post(`/opportunities/batches/${accepted.batch_id}/cancel`).expect(409);
    expect(again.body.code).toBe('INVALID_STATE');
  });

  it('shows a failed job with its reason and retries it: the batch then completes exactly once', async () => {
    const accepted = await postBatch(stack.http, [opportunityRow({ opportunity_id: 'F-1' }), opportunityRow({ opportunity_id: 'F-2' })]);
    const queue = stack.app.get<Queue>(getQueueToken(QUEUES.ingestion));
    // Replace the upload's job (5 attempts) by one with a single attempt, and hide the staged rows so it fails.
    await queue.drain();
    await queue.add(JOBS.ingestBatch, { batchId: accepted.batch_id }, { attempts: 1 });
    const table = stagingTable(accepted.batch_id);
    const hidden = table.replace(/"$/, '_hidden"');
    await stack.dataSource.query(`ALTER TABLE ${table} RENAME TO ${hidden.split('.')[1]}`);
    await stack.startWorker();
    const failedBatch = await waitForBatch(stack.http, accepted.batch_id);
    expect(failedBatch.status).toBe('failed');
    expect(failedBatch.error).toMatch(/does not exist/);

    const failed = await request(stack.http).get('/queues/ingestion/failed').expect(200);
    expect(failed.body.total).toBe(1);
    expect(failed.body.items[0]).toMatchObject({ name: JOBS.ingestBatch, data: { batchId: accepted.batch_id }, attempts_made: 1 });
    expect(failed.body.items[0].failed_reason).toMatch(/does not exist/);
    await request(stack.http).get('/queues/nope/failed').expect(404);

    await stack.dataSource.query(`ALTER TABLE ${hidden} RENAME TO ${table.split('.')[1]}`);
    const jobId = failed.body.items[0].job_id;
    await request(stack.http).post(`/queues/ingestion/jobs/${jobId}/retry`).expect(202);
    const done = await waitForBatch(stack.http, accepted.batch_id);
    expect(done).toMatchObject({ status: 'completed', rows_inserted: 2, percent_done: 100, rows_processed: 2 });
    expect(await count('opportunities')).toBe(2);
    // Both rows are current; the history holds only replaced versions (none yet).
    expect(await count('opportunity_versions')).toBe(0);
    expect(await count('opportunity_all_versions')).toBe(2);
    const retryDone = await request(stack.http).post(`/opportunities/batches/${accepted.batch_id}/retry`).expect(409);
    expect(retryDone.body.code).toBe('INVALID_STATE');
    expect((await request(stack.http).post(`/queues/ingestion/jobs/${jobId}/retry`)).status).toBe(409);
  });
});
