import { randomBytes } from 'node:crypto';
import request from 'supertest';
import Redis from 'ioredis';
import { loadEnvironment } from '../../src/config/env.validation';
import { startStack, TestStack } from '../utils/test-stack';

/**
 * Rate limits that made-up keys cannot get around, enforced across API processes (issue 15): the
 * per-key request limit and the failed-authentication limit (per client address and global) keep
 * their counters in Redis, so two APIs on one Redis and QUEUE_PREFIX enforce one limit. Client
 * addresses come from X-Forwarded-For here (TRUST_PROXY=loopback), as behind a load balancer.
 */
const madeUp = () => `plk_${randomBytes(4).toString('hex')}_${randomBytes(20).toString('base64url')}`;

describe('rate limits shared by every API process', () => {
  /** Two API processes on the same database, Redis and prefix (no workers: nothing is queued here). */
  async function twoApis(overrides: Record<string, string | number>): Promise<[TestStack, TestStack]> {
    const prefix = `pilotlab-test-rl-${randomBytes(4).toString('hex')}`;
    const a = await startStack({ withWorker: false, overrides: { QUEUE_PREFIX: prefix, TRUST_PROXY: 'loopback', ...overrides } });
    const b = await startStack({ withWorker: false, overrides: { QUEUE_PREFIX: prefix, TRUST_PROXY: 'loopback', ...overrides } });
    return [a, b];
  }
  const from = (stack: TestStack, address: string, key?: string) => {
    const req = request(stack.raw).get('/pilots').set('x-forwarded-for', address);
    return key ? req.set('x-api-key', key) : req;
  };

  describe('failed authentication per client address', () => {
    let a: TestStack;
    let b: TestStack;
    beforeAll(async () => {
      [a, b] = await twoApis({ AUTH_FAILURE_LIMIT: 5, AUTH_FAILURE_TTL_MS: 60_000 });
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    it('made-up keys from one address are refused with 429 after the limit, counted over both APIs; valid keys from that address too, other addresses unaffected', async () => {
      const address = '203.0.113.7';
      for (let i = 0; i < 3; i++) expect((await from(a, address, madeUp())).status).toBe(401);
      for (let i = 0; i < 2; i++) expect((await from(b, address, madeUp())).status).toBe(401);
      const limited = await from(a, address, madeUp());
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED', details: { scope: 'address', limit: 5 } });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      // No key at all counts the same way; a valid key from the blocked address is refused too.
      expect((await from(b, address)).status).toBe(429);
      expect((await from(b, address, a.defaultKey)).status).toBe(429);
      // Another address is not affected, and a valid key there works.
      expect((await from(a, '203.0.113.8', madeUp())).status).toBe(401);
      expect((await from(b, '203.0.113.8', a.defaultKey)).status).toBe(200);
    });
  });

  describe('failed authentication over all addresses', () => {
    let a: TestStack;
    let b: TestStack;
    beforeAll(async () => {
      [a, b] = await twoApis({ AUTH_FAILURE_LIMIT: 100, AUTH_FAILURE_GLOBAL_LIMIT: 6, AUTH_FAILURE_TTL_MS: 60_000 });
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    it('a key-guessing run spread over many addresses is answered 429 once the global limit is spent; valid keys still work', async () => {
      for (let i = 0; i < 6; i++) expect((await from(i % 2 ? a : b, `198.51.100.${i + 1}`, madeUp())).status).toBe(401);
      const limited = await from(a, '198.51.100.99', madeUp());
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', details: { scope: 'global', limit: 6 } });
      expect(limited.headers['retry-after']).toBeDefined();
      expect((await from(b, '198.51.100.100', b.defaultKey)).status).toBe(200);
    });
  });

  describe('requests per key', () => {
    let a: TestStack;
    let b: TestStack;
    beforeAll(async () => {
      [a, b] = await twoApis({ RATE_LIMIT_LIMIT: 4, RATE_LIMIT_TTL_MS: 60_000 });
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    it('one key gets RATE_LIMIT_LIMIT requests over both APIs together, then 429 with Retry-After; the counters live under the prefix', async () => {
      const key = a.defaultKey;
      for (const s of [a, b, a, b]) expect((await from(s, '192.0.2.1', key)).status).toBe(200);
      const limited = await from(b, '192.0.2.1', key);
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      const env = loadEnvironment();
      const redis = new Redis({ host: env.REDIS_HOST, port: env.REDIS_PORT });
      try {
        const keys = await redis.keys(`{${a.overrides.QUEUE_PREFIX}:rate-limit:*`); // the storage wraps each key in a hash tag
        expect(keys.length).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('Redis unreachable', () => {
    let cut: TestStack;
    beforeAll(async () => {
      // Nothing listens on this port: the limiters fail open and the API keeps answering.
      cut = await startStack({ withWorker: false, overrides: { REDIS_PORT: 6390, AUTH_FAILURE_LIMIT: 1, RATE_LIMIT_LIMIT: 1 } });
    });
    afterAll(() => cut.app.close());

    it('the limits fail open: a valid key gets 200, a made-up key 401, never 500', async () => {
      for (let i = 0; i < 3; i++) {
        expect((await request(cut.raw).get('/pilots').set('x-api-key', cut.defaultKey)).status).toBe(200);
        expect((await request(cut.raw).get('/pilots').set('x-api-key', madeUp())).status).toBe(401);
      }
    });
  });
});
