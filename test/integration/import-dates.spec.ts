import request from 'supertest';
import { opportunityRow, postBatch, useIngestionStack } from '../factories';
import { waitForBatch } from '../utils/test-stack';

const BEFORE_1900 = (field: string, raw: string, what: 'a day' | 'an instant', year: string) =>
  `${field} '${raw}' is ${what} before 1900 (year ${year}): not a plausible CRM date; check the year`;

/**
 * Dates before 1900 in an upload (0025-03-04 for 2025-03-04, 0000-01-01 placeholders): each such row
 * is rejected with its row number and reason, the good rows are kept, no day is shifted or mis-read,
 * and year 0 (which PostgreSQL cannot store) no longer fails the whole batch.
 */
describe('import: dates before 1900', () => {
  const stack = useIngestionStack(['T-DEFAULT']);

  it('JSON batch: rows dated before 1900 are rejected per row with the reason; the others are stored as written', async () => {
    const rows = [
      opportunityRow({ opportunity_id: 'D-1', engage_date: '1925-03-04', close_date: '1925-03-20', created_at: null, source_updated_at: null }), // 1 good: kept as 1925
      opportunityRow({ opportunity_id: 'D-2', engage_date: '0025-03-04', close_date: '0025-03-20', created_at: null, source_updated_at: null }), // 2 typo for 2025
      opportunityRow({ opportunity_id: 'D-3', engage_date: '0000-01-01', close_date: '2024-03-15' }), // 3 placeholder: PostgreSQL has no year 0
      opportunityRow({ opportunity_id: 'D-4', created_at: '0000-01-01T00:30:00+01:00', engage_date: null }), // 4 UTC year -1
      opportunityRow({ opportunity_id: 'D-5' }), // 5 good
    ];
    const accepted = await postBatch(stack.http, rows);
    const status = await waitForBatch(stack.http, accepted.batch_id);
    expect(status).toMatchObject({ status: 'completed', rows_received: 5, rows_accepted: 2, rows_rejected: 3, error: null });
    expect(status.rejected_rows.items).toEqual([
      { row_number: 2, opportunity_id: 'D-2', reasons: [BEFORE_1900('engage_date', '0025-03-04', 'a day', '0025'), BEFORE_1900('close_date', '0025-03-20', 'a day', '0025')] },
      { row_number: 3, opportunity_id: 'D-3', reasons: [BEFORE_1900('engage_date', '0000-01-01', 'a day', '0000')] },
      { row_number: 4, opportunity_id: 'D-4', reasons: [BEFORE_1900('created_at', '0000-01-01T00:30:00+01:00', 'an instant', '-1'), 'a won deal needs an engage_date (or created_at)'] },
    ]);
    const stored = await stack.dataSource.query(`SELECT opportunity_id, engage_date::text AS engage, close_date::text AS close FROM opportunities ORDER BY opportunity_id`);
    expect(stored).toEqual([
      { opportunity_id: 'D-1', engage: '1925-03-04', close: '1925-03-20' },
      { opportunity_id: 'D-5', engage: '2024-03-01', close: '2024-03-15' },
    ]);
  });

  it('CSV upload: the same rule, with the CSV row number', async () => {
    const csv = 'opportunity_id,territory,stage,amount,engage_date,close_date\nC-1,T-DEFAULT,Won,100,2025-03-04,2025-03-20\nC-2,T-DEFAULT,Won,100,0025-03-04,2025-03-20\n';
    const res = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send(csv).expect(202);
    const status = await waitForBatch(stack.http, res.body.batch_id);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 1, rows_rejected: 1 });
    expect(status.rejected_rows.items).toEqual([{ row_number: 2, opportunity_id: 'C-2', reasons: [BEFORE_1900('engage_date', '0025-03-04', 'a day', '0025')] }]);
    expect((await request(stack.http).get('/opportunities/C-1').expect(200)).body).toMatchObject({ engage_date: '2025-03-04', close_date: '2025-03-20' });
  });
});
