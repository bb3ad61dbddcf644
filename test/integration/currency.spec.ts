import request from 'supertest';
import { designAndLaunch, ingest, loadTerritories, pilot, postBatch, territory } from '../factories';
import { loadFixture } from '../fixtures/load-fixture';
import { resetDatabase, startStack, TestStack, waitForBatch, waitForReport } from '../utils/test-stack';

interface FxRow {
  opportunity_id: string;
  territory: string;
  stage: string;
  amount: string;
  currency?: string;
  engage_date: string;
  close_date: string | null;
}
interface Fixture {
  rates: { from_currency: string; to_currency: string; valid_from: string; rate: number }[];
  pilots: { name: string; reporting_currency: string; territories: string[] }[];
  rows: FxRow[];
}
type Expected = Record<string, { reporting_currency: string; territories: Record<string, { revenue_won: number; won: number; average_deal_size: number | null }> }>;

/**
 * Issue 13, currencies, through the real HTTP API, queue and PostgreSQL: dated exchange rates
 * (POST/GET /exchange-rates), a currency column on opportunities, a mixed-currency batch without
 * the rates it needs (those rows are rejected with the pair and day; nothing of them is stored),
 * and amount KPIs in each pilot's reporting currency at the rate in force on the close date, the
 * EUR/USD rate changing mid test period (second route: test/fixtures/currency/expected.py).
 */
describe('currency: dated exchange rates and reporting currency', () => {
  let stack: TestStack;
  const fx = loadFixture<Fixture>('currency/fixture.json');
  const expected = loadFixture<Expected>('currency/expected.json');
  const rateFrom = (day: string) => fx.rates.filter((r) => r.valid_from === day);

  beforeAll(async () => {
    stack = await startStack({ overrides: { ROLLUP_DEBOUNCE_MS: 50 } });
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, fx.pilots.flatMap((p) => p.territories).map((code) => territory({ code })));
  });
  afterAll(() => stack?.close());

  it('POST /exchange-rates validates every rate (400 with details), never changes a stored one (409), and GET lists the rate in force', async () => {
    const bad = await request(stack.http)
      .post('/exchange-rates')
      .send([
        { from_currency: 'EURO', to_currency: 'USD', valid_from: '2024-01-01', rate: 1.1 },
        { from_currency: 'EUR', to_currency: 'USD', valid_from: '2024-02-30', rate: 1.1 },
        { from_currency: 'EUR', to_currency: 'USD', valid_from: '2024-01-01', rate: -1 },
      ])
      .expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual(['0.from_currency', '1.valid_from', '2.rate']);
    const same = await request(stack.http).post('/exchange-rates').send([{ from_currency: 'USD', to_currency: 'USD', valid_from: '2024-01-01', rate: 1 }]).expect(400);
    expect(same.body.details).toEqual([{ path: '0.to_currency', errors: ['to_currency must differ from from_currency'] }]);
    expect(await stack.dataSource.query(`SELECT * FROM exchange_rates`)).toEqual([]);

    // Only the mid-period rate first: deals closed before 2024-02-15 have none yet.
    expect((await request(stack.http).post('/exchange-rates').send(rateFrom('2024-02-15')).expect(200)).body).toEqual({ inserted: 1, unchanged: 0 });
    expect((await request(stack.http).post('/exchange-rates').send(rateFrom('2024-02-15')).expect(200)).body).toEqual({ inserted: 0, unchanged: 1 });
    const conflict = await request(stack.http)
      .post('/exchange-rates')
      .send([{ ...rateFrom('2024-02-15')[0], rate: 2 }])
      .expect(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, code: 'RATE_CONFLICT', details: [{ path: '0' }] });
    const listed = await request(stack.http).get('/exchange-rates?from_currency=EUR&on=2024-03-01').expect(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ ...rateFrom('2024-02-15')[0] })]);
    expect((await request(stack.http).get('/exchange-rates?on=2024-02-14').expect(200)).body.items).toEqual([]);
    expect((await request(stack.http).get('/exchange-rates?to_currency=usd').expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('rejects the rows of a mixed-currency batch that lack a rate (pair and day in the reason), keeps the others, and takes them once the rate is there', async () => {
    const accepted = await postBatch(stack.http, fx.rows);
    const status = await waitForBatch(stack.http, accepted.batch_id);
    const needsEarlyRate = (r: FxRow) => r.currency === 'EUR' && (r.close_date ?? r.engage_date) < '2024-02-15';
    const refused = fx.rows.map((r, i) => ({ r, row_number: i + 1 })).filter(({ r }) => needsEarlyRate(r));
    expect(refused.length).toBeGreaterThan(0);
    expect(status).toMatchObject({ status: 'completed', rows_rejected: refused.length, rows_accepted: fx.rows.length - refused.length });
    expect(status.rejected_rows.items).toEqual(
      refused.map(({ r, row_number }) => ({
        row_number,
        opportunity_id: r.opportunity_id,
        reasons: [
          `no exchange rate EUR→USD in force on ${r.close_date ?? r.engage_date} (${r.close_date ? 'close_date' : 'engage_date'}); POST /exchange-rates, then send the row again`,
        ],
      })),
    );
    const stored: { opportunity_id: string }[] = await stack.dataSource.query(`SELECT opportunity_id FROM opportunity_all_versions`);
    expect(stored.map((s) => s.opportunity_id).sort()).toEqual(fx.rows.filter((r) => !needsEarlyRate(r)).map((r) => r.opportunity_id).sort());
    // A row without a currency is in the default currency.
    const noCurrency = fx.rows.find((r) => !r.currency)!;
    expect((await request(stack.http).get(`/opportunities/${noCurrency.opportunity_id}`).expect(200)).body).toMatchObject({ currency: 'USD', amount: noCurrency.amount });

    await request(stack.http).post('/exchange-rates').send(rateFrom('2023-09-01')).expect(200);
    const again = await ingest(stack.http, refused.map(({ r }) => r));
    expect(again).toMatchObject({ rows_rejected: 0, rows_inserted: refused.length });
    expect((await request(stack.http).get(`/opportunities/${refused[0].r.opportunity_id}`).expect(200)).body).toMatchObject({ currency: 'EUR' });
  });

  it('CSV upload: a currency column (any case) is read; a code that is not ISO 4217 rejects its row', async () => {
    const csv =
      'opportunity_id,territory,stage,amount,currency,engage_date,close_date\n' +
      'CSV-FX-1,CUR-9,Lost,10.00,eur,2023-10-04,2023-10-20\n' +
      'CSV-FX-2,CUR-9,Lost,10.00,EURO,2023-10-04,2023-10-20\n';
    const res = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send(csv).expect(202);
    const status = await waitForBatch(stack.http, res.body.batch_id);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 1, rows_rejected: 1 });
    expect(status.rejected_rows.items).toEqual([{ row_number: 2, opportunity_id: 'CSV-FX-2', reasons: ["currency 'EURO' is not an ISO 4217 code (e.g. USD, EUR)"] }]);
    expect((await request(stack.http).get('/opportunities/CSV-FX-1').expect(200)).body).toMatchObject({ currency: 'EUR' });
  });

  it('reports revenue won and average deal size in the pilot reporting currency, at the rate in force on each close date', async () => {
    for (const p of fx.pilots.filter((x) => x.name !== 'gbp')) {
      const created = await request(stack.http).post('/pilots').send(pilot(p.territories, { name: `currency ${p.name}`, reporting_currency: p.reporting_currency })).expect(201);
      expect(created.body.reporting_currency).toBe(p.reporting_currency);
      await designAndLaunch(stack.http, created.body.id);
      const queued = await request(stack.http).post(`/pilots/${created.body.id}/reports`).send({}).expect(202);
      const done = await waitForReport(stack.http, created.body.id, queued.body.report_id);
      expect(done.status).toBe('completed');
      expect(done.result.data.reporting_currency).toBe(p.reporting_currency);
      for (const code of p.territories) {
        const row = done.result.territories.find((t: { territory_code: string }) => t.territory_code === code);
        const want = expected[p.name].territories[code];
        expect({ code, revenue_won: row.kpis.revenue_won }).toEqual({ code, revenue_won: expect.closeTo(want.revenue_won, 6) });
        expect({ code, average_deal_size: row.kpis.average_deal_size }).toEqual({ code, average_deal_size: want.average_deal_size === null ? null : expect.closeTo(want.average_deal_size, 6) });
      }
    }
  });

  it('a pilot whose reporting currency has no rates: the report fails naming each currency and the days', async () => {
    const p = fx.pilots.find((x) => x.name === 'gbp')!;
    const created = await request(stack.http).post('/pilots').send(pilot(p.territories, { name: 'currency gbp', reporting_currency: 'GBP' })).expect(201);
    await designAndLaunch(stack.http, created.body.id);
    const queued = await request(stack.http).post(`/pilots/${created.body.id}/reports`).send({}).expect(202);
    const done = await waitForReport(stack.http, created.body.id, queued.body.report_id);
    expect(done.status).toBe('failed');
    const won = fx.rows.filter((r) => p.territories.includes(r.territory) && r.stage === 'Won');
    for (const cur of ['EUR', 'USD']) {
      const days = won.filter((r) => (r.currency ?? 'USD') === cur).map((r) => r.close_date!).sort();
      expect(done.error).toContain(`${cur}→GBP for ${days.length} won deal(s) closed ${days[0]}..${days[days.length - 1]}`);
    }
  });

  it('rejects a reporting currency that is not ISO 4217 (400)', async () => {
    const res = await request(stack.http).post('/pilots').send(pilot(['CUR-1', 'CUR-2'], { reporting_currency: 'usd' })).expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path: 'reporting_currency' })] });
  });
});
