import { validateEnvironment } from '../config/env.validation';
import { buildDataSourceOptions } from './typeorm-options';

describe('buildDataSourceOptions: pool size', () => {
  it('sizes the pg pool from DB_POOL_MAX (default 10)', () => {
    const extra = (env: Record<string, string>) => (buildDataSourceOptions(validateEnvironment(env)) as { extra: { max: number } }).extra;
    expect(extra({}).max).toBe(10);
    expect(extra({ DB_POOL_MAX: '24' }).max).toBe(24);
  });

  it('refuses a pool size outside 1..500, naming the variable', () => {
    expect(() => validateEnvironment({ DB_POOL_MAX: '0' })).toThrow(/DB_POOL_MAX/);
    expect(() => validateEnvironment({ DB_POOL_MAX: 'many' })).toThrow(/DB_POOL_MAX/);
  });
});
