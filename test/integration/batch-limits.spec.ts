import request from 'supertest';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

/** BATCH_MAX_ROWS is checked before row validation: 413 BATCH_TOO_LARGE, nothing stored. */
describe('JSON batch row limit', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false, overrides: { BATCH_MAX_ROWS: 3 } });
    await resetDatabase(stack.dataSource);
  });
  afterAll(() => stack.close());

  it('refuses more rows than BATCH_MAX_ROWS with 413 and stores nothing; at the limit it accepts', async () => {
    const row = (i: number) => ({ opportunity_id: `L-${i}`, territory: 'T', stage: 'Engaging', engage_date: '2024-01-02' });
    const tooMany = await request(stack.http).post('/opportunities/batches').send({ rows: [0, 1, 2, 3].map(row) }).expect(413);
    expect(tooMany.body).toEqual({
      statusCode: 413,
      code: 'BATCH_TOO_LARGE',
      message: expect.stringMatching(/at most 3 rows; got 4/),
      details: { max_rows: 3, rows: 4 },
      request_id: tooMany.headers['x-request-id'],
    });
    expect(await stack.dataSource.query('SELECT count(*)::int AS n FROM opportunity_batches')).toEqual([{ n: 0 }]);
    await request(stack.http).post('/opportunities/batches').send({ rows: [0, 1, 2].map(row) }).expect(202);
    expect(await stack.dataSource.query('SELECT count(*)::int AS n FROM opportunity_batches')).toEqual([{ n: 1 }]);
  });
});
