import request from 'supertest';
import { BatchRequeueScheduler } from '../../src/opportunities/batch-requeue.scheduler';
import { resetDatabase, startStack, TestStack, waitFor, waitForBatch } from '../utils/test-stack';

/**
 * "Persist first, enqueue second" (pitfall P15's kind): with Redis unreachable the API still answers
 * fast, keeps the batch in PostgreSQL, and the requeue sweeper enqueues it once Redis is there;
 * the batch is then processed exactly once.
 */
describe('Redis unreachable at upload time', () => {
  let healthy: TestStack;
  let cut: TestStack;

  beforeAll(async () => {
    healthy = await startStack({ overrides: { ENQUEUE_TIMEOUT_MS: 500 } });
    await resetDatabase(healthy.dataSource);
    // Same database and queue prefix, but Redis on a port where nothing listens.
    cut = await startStack({
      withWorker: false,
      overrides: { QUEUE_PREFIX: String(healthy.overrides.QUEUE_PREFIX), REDIS_PORT: 6390, ENQUEUE_TIMEOUT_MS: 500 },
    });
  });
  afterAll(async () => {
    await cut.app.close();
    await healthy.close();
  });

  it('answers 202 within seconds, keeps the batch, and processes it exactly once after the sweep', async () => {
    await request(healthy.http).post('/territories').send([{ code: 'R1', name: 'R1', region: 'North' }]).expect(200);
    const health = await request(cut.http).get('/health').expect(503);
    expect(health.body).toMatchObject({ postgres: true, redis: false });

    const started = Date.now();
    const res = await request(cut.http)
      .post('/opportunities/batches')
      .send({ rows: [{ opportunity_id: 'RX-1', territory: 'R1', stage: 'Won', engage_date: '2024-01-02', close_date: '2024-01-20', amount: '1,200.50' }] })
      .expect(202);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.body).toMatchObject({ status: 'queued', enqueued: false, rows_received: 1 });

    const before = await request(healthy.http).get(`/opportunities/batches/${res.body.batch_id}`).expect(200);
    expect(before.body.status).toBe('queued');

    // Redis is reachable from the healthy instance: its sweep enqueues what the cut one could not.
    // (after a grace period of ENQUEUE_TIMEOUT_MS since the upload, so an add still in flight is not doubled)
    const sweeper = healthy.app.get(BatchRequeueScheduler);
    await waitFor(async () => (await sweeper.sweep()) === 1, 'the sweep to enqueue the kept batch', 10_000);
    const done = await waitForBatch(healthy.http, res.body.batch_id);
    expect(done).toMatchObject({ status: 'completed', rows_accepted: 1, rows_inserted: 1 });
    const again = await healthy.app.get(BatchRequeueScheduler).sweep();
    expect(again).toBe(0);
    const rows = await healthy.dataSource.query(`SELECT amount::text AS amount FROM opportunities WHERE opportunity_id = 'RX-1'`);
    expect(rows).toEqual([{ amount: '1200.50' }]);
  });
});
