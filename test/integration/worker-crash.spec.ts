import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { BatchRequeueScheduler } from '../../src/opportunities/batch-requeue.scheduler';
import { resetDatabase, startStack, TestStack, waitFor, waitForBatch } from '../utils/test-stack';

const ROWS = 50_000;

/** Starts `src/worker.ts` in its own process (killed with SIGKILL by the test: no graceful exit). */
function spawnWorker(env: Record<string, string | number>): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'worker.ts')], {
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: 'ignore',
  });
}

/**
 * A worker process killed (SIGKILL) in the middle of a batch loses nothing and duplicates nothing:
 * its transaction rolls back with its connection, the batch is enqueued again (stale-work sweep),
 * and another worker processes it from scratch exactly once.
 */
describe('a worker killed mid-batch', () => {
  let stack: TestStack;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false, overrides: { REQUEUE_STALE_MS: 1_000 } });
    await resetDatabase(stack.dataSource);
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await stack.close();
  });

  it('is redone from scratch by another worker, exactly once', async () => {
    await request(stack.http)
      .post('/territories')
      .send([{ code: 'K1', name: 'K1', region: 'North' }, { code: 'K2', name: 'K2', region: 'South' }])
      .expect(200);
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      opportunity_id: `K-${i}`,
      territory: i % 2 ? 'K1' : 'K2',
      stage: i % 3 ? 'Engaging' : 'Won',
      engage_date: '2024-02-01',
      close_date: i % 3 ? null : '2024-03-01',
      amount: i % 3 ? null : String(100 + (i % 7)),
    }));
    const res = await request(stack.http).post('/opportunities/batches').send({ rows }).expect(202);
    const batchId = res.body.batch_id;

    child = spawnWorker({ ...stack.overrides, LOG_LEVEL: 'silent' });
    await waitFor(
      async () => {
        const s = await request(stack.http).get(`/opportunities/batches/${batchId}?limit=1`);
        return s.body.status === 'processing' && s.body.rows_processed > 0 && s.body.rows_processed < ROWS;
      },
      'the child worker to be mid-batch',
      60_000,
    );
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const mid = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunities`);
    expect(mid[0].n).toBe(0); // the killed transaction left nothing behind

    await stack.startWorker();
    const sweeper = stack.app.get(BatchRequeueScheduler);
    await waitFor(async () => (await sweeper.sweep()) >= 1, 'the stale batch to be enqueued again', 20_000);
    const done = await waitForBatch(stack.http, batchId, 120_000);
    expect(done).toMatchObject({ status: 'completed', rows_accepted: ROWS, rows_rejected: 0, rows_inserted: ROWS });
    const after = await stack.dataSource.query(`SELECT count(*)::int AS n, count(DISTINCT opportunity_id)::int AS d FROM opportunities`);
    expect(after[0]).toEqual({ n: ROWS, d: ROWS });
  });
});
