import request from 'supertest';
import { opportunityRow, postBatch, useIngestionStack } from '../factories';
import { waitForBatch } from '../utils/test-stack';

/**
 * Issue 13: each batch reports warnings beside rejections (row number, kind, reason), stored with
 * the batch and shown by GET /opportunities/batches/:id; warned rows are still accepted.
 */
describe('batch warnings', () => {
  const stack = useIngestionStack(['T-DEFAULT', 'West']);

  const run = async (rows: ReturnType<typeof opportunityRow>[]) => waitForBatch(stack.http, (await postBatch(stack.http, rows)).batch_id);
  type Warning = { row_number: number; kind: string; opportunity_id: string; message: string };
  const warningsOf = (status: { warnings: { items: Warning[] } }) => status.warnings.items;

  it('negative won amount, repeated id (naming the row that won) and close before create: warned, kept, not rejected', async () => {
    const status = await run([
      opportunityRow({ opportunity_id: 'W-OK' }), // 1: no warning
      opportunityRow({ opportunity_id: 'W-NEG', amount: '-500.00' }), // 2
      opportunityRow({ opportunity_id: 'W-REP', source_updated_at: '2024-03-20T00:00:00Z', amount: '700.00' }), // 3: newest version: wins
      opportunityRow({ opportunity_id: 'W-REP', source_updated_at: '2024-03-10T00:00:00Z', amount: '600.00' }), // 4: loses
      opportunityRow({ opportunity_id: 'W-CLOSE', engage_date: '2024-02-01', close_date: '2024-02-20', created_at: '2024-03-01T09:00:00Z' }), // 5
    ]);
    expect(status).toMatchObject({ status: 'completed', rows_rejected: 0, rows_accepted: 5 });
    const items = warningsOf(status);
    expect(items.map((w) => [w.row_number, w.kind, w.opportunity_id])).toEqual([
      [2, 'negative_won_amount', 'W-NEG'],
      [4, 'repeated_opportunity_id', 'W-REP'],
      [5, 'close_before_create', 'W-CLOSE'],
    ]);
    expect(items[0].message).toMatch(/-500\.00/);
    expect(items[1].message).toMatch(/appears 2 times.*row 3 won/);
    expect(items[2].message).toMatch(/2024-02-20 is before the create date 2024-03-01/);
    expect(status.warnings.total).toBe(3);
    expect((await request(stack.http).get('/opportunities/W-REP')).body.amount).toBe('700.00');
    expect((await request(stack.http).get('/opportunities/W-NEG')).body.amount).toBe('-500.00');
  });

  it('an amount far outside the territory history (median ± 5 × 1.4826 × MAD) is warned; one inside is not', async () => {
    const history = Array.from({ length: 25 }, (_, i) => opportunityRow({ territory: 'West', amount: `${1000 + 10 * i}.00` }));
    expect(warningsOf(await run(history))).toEqual([]);
    // median 1120, MAD 60 → robust range 1120 ± 444.78
    const status = await run([
      opportunityRow({ opportunity_id: 'W-IN', territory: 'West', amount: '1500.00' }),
      opportunityRow({ opportunity_id: 'W-OUT', territory: 'West', amount: '1000000.00' }),
      opportunityRow({ opportunity_id: 'W-OTHER', territory: 'T-DEFAULT', amount: '1000000.00' }), // no history there: not checked
    ]);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 3 });
    const items = warningsOf(status);
    expect(items.map((w) => [w.row_number, w.kind, w.opportunity_id])).toEqual([[2, 'amount_outlier', 'W-OUT']]);
    expect(items[0].message).toMatch(/median 1120\.00, robust range 675\.22 to 1564\.78/);
  });

  it('amounts are judged against the history in their own currency: a JPY deal is not an outlier of a default-currency history', async () => {
    const history = Array.from({ length: 25 }, (_, i) => opportunityRow({ territory: 'West', amount: `${1000 + 10 * i}.00` }));
    expect(warningsOf(await run(history))).toEqual([]);
    const defaultCurrency = (await stack.dataSource.query(`SELECT currency FROM opportunities WHERE territory_id IS NOT NULL LIMIT 1`))[0].currency.trim();
    const other = defaultCurrency === 'JPY' ? 'USD' : 'JPY';
    await request(stack.http).post('/exchange-rates').send([{ from_currency: other, to_currency: defaultCurrency, valid_from: '2020-01-01', rate: 0.0067 }]).expect(200);
    const status = await run([
      opportunityRow({ opportunity_id: 'W-JPY', territory: 'West', amount: '150000.00', currency: other }), // no history in that currency: not checked
      opportunityRow({ opportunity_id: 'W-OUT', territory: 'West', amount: '150000.00' }), // the default currency: an outlier
    ]);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 2 });
    const items = warningsOf(status);
    expect(items.map((w) => [w.row_number, w.kind, w.opportunity_id])).toEqual([[2, 'amount_outlier', 'W-OUT']]);
    expect(items[0].message).toContain(`history in ${defaultCurrency}`);
  });

  it('CSV uploads carry the same warnings', async () => {
    const csv = 'opportunity_id;territory;stage;amount;engage_date;close_date\nC-1;West;Won;-5;2024-03-01;2024-03-02\nC-1;West;Won;5;2024-03-01;2024-03-02\n';
    const res = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send(csv);
    expect(res.status).toBe(202);
    const status = await waitForBatch(stack.http, res.body.batch_id);
    expect(warningsOf(status).map((w: Warning) => [w.row_number, w.kind])).toEqual([
      [1, 'negative_won_amount'],
      [1, 'repeated_opportunity_id'],
    ]);
  });
});
