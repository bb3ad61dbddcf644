import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { waitFor } from '../utils/test-stack';
import { testOverrides } from '../utils/test-env';

/**
 * The API process's own log output (pino JSON lines on stdout, LOG_LEVEL=debug) never contains an
 * API key: not the bootstrap key, not a created key (it is only in the POST /api-keys response
 * body), whether sent as x-api-key or as Authorization: Bearer, valid or not.
 */
describe('no API keys in the logs', () => {
  let child: ChildProcess | undefined;
  let output = '';
  const port = 31000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  // The stacks' own bootstrap key: another one would retire it (rotation) in the shared test database.
  const env = testOverrides({ PORT: port, LOG_LEVEL: 'debug' });

  beforeAll(async () => {
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'main.ts')], {
      env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      async () => {
        try {
          return (await request(base).get('/health')).status === 200;
        } catch {
          return false;
        }
      },
      'the API process to listen',
      120_000,
    );
  }, 150_000);

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('logs requests with their ids but never the keys', async () => {
    const bootstrap = String(env.BOOTSTRAP_ADMIN_KEY);
    const created = await request(base).post('/api-keys').set('x-api-key', bootstrap).send({ name: 'log test', role: 'analyst' }).expect(201);
    const key: string = created.body.key;
    await request(base).get('/pilots').set('x-api-key', key).set('x-request-id', 'log-test-req-1').expect(200);
    await request(base).get('/pilots').set('authorization', `Bearer ${key}`).expect(200);
    await request(base).get('/pilots').set('x-api-key', `${key}-wrong`).expect(401);
    await request(base).post('/api-keys').set('x-api-key', key).send({ name: 'x', role: 'admin' }).expect(403);
    await request(base).post(`/api-keys/${created.body.id}/revoke`).set('x-api-key', bootstrap).expect(200);
    await request(base).get('/pilots').set('x-api-key', key).expect(401);

    await waitFor(async () => output.includes('log-test-req-1'), 'the request log line', 10_000);
    expect(output).toContain('[redacted]');
    const secretOf = (k: string) => k.slice(-16);
    expect(output).not.toContain(secretOf(bootstrap));
    expect(output).not.toContain(secretOf(key));
  });
});
