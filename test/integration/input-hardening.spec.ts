import request from 'supertest';
import { pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

/**
 * Inputs that used to reach PostgreSQL or busboy unchecked and answered 500 (issue 15, issue 13):
 * NUL bytes in JSON strings, query and path parameters; paging beyond the database's range;
 * impossible or zone-less dates in GET /audit; a multipart upload without a boundary; reserved keys
 * (`constructor`, `__proto__`) and out-of-range integer path parameters (both found by the fuzz
 * suite, test/integration/fuzz.spec.ts). Each must be
 * a 400 in the API's error shape, naming the field, with nothing written.
 */
describe('input hardening: no 500 for bad input', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  beforeEach(() => resetDatabase(stack.dataSource));
  afterAll(() => stack.close());

  const res400Paths = (res: request.Response) => (res.status === 400 ? res.body.details.map((d: { path: string }) => d.path) : [`status ${res.status}`]);
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

  it('a reserved key (constructor, __proto__, prototype) anywhere in a body or query is a 400 naming it (was: class-transformer TypeError, 500)', async () => {
    // Found by the fuzz suite: a nested object with an own "constructor" key made plainToInstance throw.
    const cases: [string, string][] = [
      ['/territories', JSON.stringify([{ ...territory({ code: 'T-C' }), team: { constructor: 'x' } }])],
      ['/owners/territories', JSON.stringify([{ owner: { constructor: 'NaN' }, territory: 'T-C', valid_from: '2024-01-01' }])],
      ['/territories', `[${JSON.stringify(territory({ code: 'T-P' })).slice(0, -1)}, "__proto__": {"admin": true}}]`],
      ['/pilots', JSON.stringify({ name: 'x', eligibility: { prototype: ['T-C'] } })],
    ];
    for (const [path, body] of cases) {
      const res = await request(stack.http).post(path).set('content-type', 'application/json').send(body);
      expect({ path, body, status: res.status, code: res.body.code }).toEqual({ path, body, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.details[0].errors[0]).toMatch(/reserved key/);
    }
    expect(res400Paths(await request(stack.http).get('/territories?constructor=1'))).toEqual(['constructor']);
    expect(await territoryCount()).toBe(0);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM pilots`);
    expect(n).toBe(0);
  });

  it('an integer path parameter beyond the column range is a 400 (was: integer out of range, 500)', async () => {
    const t = await loadTerritories(stack.http, ['T-1', 'T-2', 'T-3', 'T-4'].map((code) => territory({ code })));
    expect(t.size).toBe(4);
    const created = await request(stack.http).post('/pilots').send(pilot(['T-1', 'T-2', 'T-3', 'T-4'])).expect(201);
    for (const version of ['9007199254740992', '2147483648', '0', '-1', '1.5']) {
      for (const action of ['approve', 'reject']) {
        const res = await request(stack.http).post(`/pilots/${created.body.id}/plan/amendments/${version}/${action}`).send({});
        expect({ version, action, status: res.status, paths: res.body.details?.map((d: { path: string }) => d.path) }).toEqual({ version, action, status: 400, paths: ['version'] });
      }
    }
    // In range, the route reaches the service, which answers for the pilot's state (a 4xx, not a validation error).
    const inRange = await request(stack.http).post(`/pilots/${created.body.id}/plan/amendments/2147483647/approve`).send({});
    expect(inRange.status).toBeGreaterThanOrEqual(400);
    expect(inRange.status).toBeLessThan(500);
    expect(inRange.body.code).not.toBe('VALIDATION_FAILED');
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
    // Year 0 and instants carried by their zone outside 0001–9999 UTC cannot be stored by PostgreSQL (was: 500).
    for (const from of ['0000-01-01', '0001-01-01T00:30:00+01:00', '9999-12-31T23:30:00-02:00']) {
      const res = await request(stack.http).get('/audit').query({ from });
      expect({ from, status: res.status, path: res.body.details?.[0]?.path }).toEqual({ from, status: 400, path: 'from' });
    }
    expect((await request(stack.http).get('/audit').query({ from: '0001-01-01', to: '9999-12-31T23:59:59Z' })).status).toBe(200);
    const day = await request(stack.http).get('/audit').query({ from: '2024-02-29', to: '2999-01-01T00:00:00+01:00' });
    expect(day.status).toBe(200);
    const future = await request(stack.http).get('/audit').query({ from: '2999-01-01' });
    expect(future.status).toBe(200);
    expect(future.body.total).toBe(0);
  });

  it('a calendar day in year 0000 (no such year in PostgreSQL) is a 400 naming the field in pilot periods and owner mappings (was: 500)', async () => {
    const codes = ['T-Y1', 'T-Y2', 'T-Y3', 'T-Y4'];
    await loadTerritories(stack.http, codes.map((code) => territory({ code })));
    const p = await request(stack.http).post('/pilots').send(pilot(codes, { pre_period: { start: '0000-01-01', end: '2023-12-31' } }));
    expect(res400Paths(p)).toEqual(['pre_period.start']);
    const o = await request(stack.http).post('/owners/territories').send([{ owner: 'rep-1', territory: 'T-Y1', valid_from: '0000-01-01' }]);
    expect(res400Paths(o)).toEqual(['0.valid_from']);
    expect(Number((await stack.dataSource.query(`SELECT count(*)::int AS n FROM pilots`))[0].n)).toBe(0);
    await request(stack.http).post('/owners/territories').send([{ owner: 'rep-1', territory: 'T-Y1', valid_from: '0001-01-01' }]).expect(200);
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
