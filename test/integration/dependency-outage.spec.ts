import { createServer } from 'node:net';
import request from 'supertest';
import { loadEnvironment } from '../../src/config/env.validation';
import { WorkerHealthServer } from '../../src/health/worker-health.server';
import { startTcpProxy, TcpProxy } from '../utils/tcp-proxy';
import { resetDatabase, startStack, TestStack, waitFor } from '../utils/test-stack';

/** A port nothing listens on right now (for the worker's health endpoint). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const RETRY_AFTER_S = 7;

/**
 * Outages of PostgreSQL and Redis, simulated by TCP proxies in front of the configured servers
 * (the real servers are never touched): the API answers 503 DEPENDENCY_UNAVAILABLE with
 * Retry-After naming the dependency, never 500 or a hung request; `/health` of the API and of
 * the worker name the dependency that is down; everything answers 200 again once it is back.
 */
describe('PostgreSQL or Redis unreachable', () => {
  let pg: TcpProxy;
  let redis: TcpProxy;
  let stack: TestStack;
  let workerHealth: string;
  let analystKey: string;

  const apiHealth = () => request(stack.raw).get('/health');
  const workerCheck = async () => {
    const res = await fetch(workerHealth);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const env = loadEnvironment();
    pg = await startTcpProxy({ host: env.DB_HOST, port: env.DB_PORT });
    redis = await startTcpProxy({ host: env.REDIS_HOST, port: env.REDIS_PORT });
    stack = await startStack({
      overrides: {
        DB_HOST: pg.host,
        DB_PORT: pg.port,
        REDIS_HOST: redis.host,
        REDIS_PORT: redis.port,
        WORKER_HEALTH_PORT: await freePort(),
        DB_CONNECT_TIMEOUT_MS: 1_000,
        ENQUEUE_TIMEOUT_MS: 500,
        DEPENDENCY_RETRY_AFTER_S: RETRY_AFTER_S,
      },
    });
    workerHealth = `http://127.0.0.1:${stack.worker!.get(WorkerHealthServer).port()}/health`;
    await resetDatabase(stack.dataSource);
    await request(stack.http).post('/territories').send([{ code: 'D1', name: 'D1', region: 'North' }]).expect(200);
    analystKey = await stack.keyFor('analyst');
  });

  afterEach(async () => {
    pg.restore();
    redis.restore();
    await waitFor(async () => (await apiHealth()).status === 200 && (await workerCheck()).status === 200, 'API and worker healthy again', 45_000);
  });

  afterAll(async () => {
    await stack?.close();
    await pg?.close();
    await redis?.close();
  });

  it('healthy: API and worker /health are 200 in terminus shape, with the postgres and redis booleans', async () => {
    const health = await apiHealth().expect(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      postgres: true,
      redis: true,
      down: [],
      info: { postgres: { status: 'up' }, redis: { status: 'up' } },
      error: {},
    });
    const worker = await workerCheck();
    expect(worker).toMatchObject({ status: 200, body: { status: 'ok', postgres: true, redis: true, down: [] } });
    expect((await fetch(workerHealth.replace('/health', '/other'))).status).toBe(404);
  });

  it('PostgreSQL down: an authenticated request is 503 DEPENDENCY_UNAVAILABLE with Retry-After (not 401 or 500); health names postgres', async () => {
    pg.cut('reset');
    const res = await request(stack.raw).get('/pilots').set('x-api-key', analystKey);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(res.body).toMatchObject({ statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'postgres', retry_after_seconds: RETRY_AFTER_S } });
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    const write = await request(stack.http).post('/territories').send([{ code: 'D2', name: 'D2', region: 'North' }]);
    expect(write.status).toBe(503);
    expect(write.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'postgres' } });

    const health = await apiHealth().expect(503);
    expect(health.body).toMatchObject({ status: 'error', postgres: false, redis: true, down: ['postgres'], error: { postgres: { status: 'down' } } });
    const worker = await workerCheck();
    expect(worker).toMatchObject({ status: 503, body: { postgres: false, redis: true, down: ['postgres'] } });

    pg.restore();
    await waitFor(async () => (await request(stack.raw).get('/pilots').set('x-api-key', analystKey)).status === 200, 'GET /pilots 200 after restore', 30_000);
    expect((await apiHealth()).body).toMatchObject({ status: 'ok', postgres: true, redis: true });
  });

  it('PostgreSQL not answering at all: the request gives up after DB_CONNECT_TIMEOUT_MS with 503 instead of hanging', async () => {
    pg.cut('blackhole');
    const started = Date.now();
    const res = await request(stack.raw).get('/pilots').set('x-api-key', analystKey).timeout(15_000);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'postgres' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    const health = await apiHealth().timeout(5_000).expect(503);
    expect(health.body).toMatchObject({ postgres: false, down: ['postgres'] });
  });

  it('Redis down: a route that needs Redis is 503 naming redis, an upload is still 202 and kept; health names redis', async () => {
    redis.cut('reset');
    const queues = await request(stack.raw).get('/queues').set('x-api-key', analystKey);
    expect(queues.status).toBe(503);
    expect(queues.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(queues.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'redis', retry_after_seconds: RETRY_AFTER_S } });

    // persist first, enqueue second: the batch is kept in PostgreSQL and enqueued by the sweeper later
    const upload = await request(stack.http)
      .post('/opportunities/batches')
      .send({ rows: [{ opportunity_id: 'DX-1', territory: 'D1', stage: 'Won', engage_date: '2024-01-02', close_date: '2024-01-20', amount: '10' }] })
      .expect(202);
    expect(upload.body).toMatchObject({ status: 'queued', enqueued: false, rows_received: 1 });
    const kept = await request(stack.http).get(`/opportunities/batches/${upload.body.batch_id}`).expect(200);
    expect(kept.body.status).toBe('queued');

    const health = await apiHealth().expect(503);
    expect(health.body).toMatchObject({ status: 'error', postgres: true, redis: false, down: ['redis'], error: { redis: { status: 'down' } } });
    const worker = await workerCheck();
    expect(worker).toMatchObject({ status: 503, body: { postgres: true, redis: false, down: ['redis'] } });

    redis.restore();
    await waitFor(async () => (await request(stack.raw).get('/queues').set('x-api-key', analystKey)).status === 200, 'GET /queues 200 after restore', 45_000);
  });
});
