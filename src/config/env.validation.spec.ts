import { validateEnvironment } from './env.validation';

describe('validateEnvironment', () => {
  it('fills every default', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({ PORT: 3000, DB_NAME: 'pilotlab', REDIS_PORT: 6379, RI_MAX_EXACT: 100_000, RI_DRAWS: 10_000, WORKER_QUEUES: 'ingestion,analysis,rollups,governance,power' });
  });

  it('parses integers strictly and fails boot on bad values, naming each variable', () => {
    expect(validateEnvironment({ PORT: '8080' }).PORT).toBe(8080);
    expect(() => validateEnvironment({ PORT: '80abc', LOG_LEVEL: 'loud', RI_DRAWS: '5' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
    expect(() => validateEnvironment({ RI_DRAWS: '5' })).toThrow(/RI_DRAWS/);
  });
});
