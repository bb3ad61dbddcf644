import request from 'supertest';
import { loadTerritories, territory } from '../factories/territory.factory';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

/**
 * Inputs that used to reach PostgreSQL or busboy unchecked and answered 500 (issue 15, issue 13):
 * NUL bytes in JSON strings, query and path parameters; paging beyond the database's range;
 * impossible or zone-less dates in GET /audit; a multipart upload without a boundary. Each must be
 * a 400 in the API's error shape, naming the field, with nothing written.
 */
describe('input hardening: no 500 for bad input', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  beforeEach(() => resetDatabase(stack.dataSource));
  afterAll(() => stack.close());

  const territoryCount = async () => Number((await stack.dataSource.query(`SELECT count(*)::int AS n FROM territories`))[0].n);

  it('a NUL byte in a JSON string (value or key) is a 400 naming the field; nothing is stored', async () => {
    const res = await request(stack.http)
      .post('/territories')
      .send([territory({ code: 'T-OK1' }), territory({ code: 'T-NUL', name: 'bad\u0000name' })]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([expect.objectContaining({ path: '1.name', in: 'body' })]);
    expect(await territoryCount()).toBe(0);

    const key = await request(stack.http).post('/territories').send([{ ...territory({ code: 'T-K' }), attributes: { 'a\u0000b': 1 } }]);
    expect(key.status).toBe(400);
    expect(key.body.details[0].path).toBe('0.attributes.a\\u0000b');
    expect(await territoryCount()).toBe(0);
  });

  it('a NUL byte in a query or path parameter is a 400 naming it', async () => {
    const q = await request(stack.http).get('/territories').query({ region: 'Cen\u0000tral' });
    expect(q.status).toBe(400);
    expect(q.body.details).toEqual([expect.objectContaining({ path: 'region', in: 'query' })]);
    const p = await request(stack.http).get('/opportunities/O%00-1');
    expect(p.status).toBe(400);
    expect(p.body.details).toEqual([expect.objectContaining({ path: 'opportunityId', in: 'path' })]);
    const t = await request(stack.http).get('/territories/T%00X');
    expect(t.status).toBe(400);
  });

  it('offset and limit beyond the database range are a 400 (was: bigint out of range, 500)', async () => {
    for (const path of ['/territories', '/pilots', '/audit', '/api-keys']) {
      for (const q of [{ offset: '99999999999999999999' }, { offset: '9223372036854775808' }, { limit: '99999999999999999999' }]) {
        const res = await request(stack.http).get(path).query(q);
        expect({ path, q, status: res.status }).toEqual({ path, q, status: 400 });
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    }
    await loadTerritories(stack.http, [territory({ code: 'T-P1' })]);
    const ok = await request(stack.http).get('/territories').query({ offset: '2147483647' });
    expect(ok.status).toBe(200);
    expect(ok.body.items).toEqual([]);
  });

  it('GET /audit validates from/to like every other date: impossible days and zone-less timestamps are a 400', async () => {
    for (const from of ['2017-02-30', '2024-02-30T00:00:00Z', '2024-03-01T10:00:00', '2024-03-01 10:00', '2024-13-01', 'yesterday']) {
      const res = await request(stack.http).get('/audit').query({ from });
      expect({ from, status: res.status }).toEqual({ from, status: 400 });
      expect(res.body.details[0].path).toBe('from');
    }
    const to = await request(stack.http).get('/audit').query({ to: '2024-02-30' });
    expect(to.status).toBe(400);
    const day = await request(stack.http).get('/audit').query({ from: '2024-02-29', to: '2999-01-01T00:00:00+01:00' });
    expect(day.status).toBe(200);
    const future = await request(stack.http).get('/audit').query({ from: '2999-01-01' });
    expect(future.status).toBe(200);
    expect(future.body.total).toBe(0);
  });

  it('a multipart upload without a boundary is a 400, like /territories/csv', async () => {
    const key = await stack.keyFor('sales_ops');
    const res = await request(stack.raw)
      .post('/opportunities/batches/csv')
      .set('x-api-key', key)
      .set('content-type', 'multipart/form-data')
      .send('opportunity_id,territory\nO-1,T-1\n');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_CSV');
    const terr = await request(stack.http).post('/territories/csv').set('content-type', 'multipart/form-data').send('code,name\n');
    expect(terr.status).toBe(400);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_batches`);
    expect(n).toBe(0);
  });
});
