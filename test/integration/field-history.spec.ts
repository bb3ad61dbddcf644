import { readFileSync } from 'fs';
import { join } from 'path';
import Papa from 'papaparse';
import request from 'supertest';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

const DIR = join(__dirname, '../fixtures/imports');
// Expected values: the Python second route beside the fixture (salesforce-field-history-expected.py).
const expected = JSON.parse(readFileSync(join(DIR, 'salesforce-field-history-expected.json'), 'utf8'));
const records = Papa.parse<Record<string, string>>(readFileSync(join(DIR, 'salesforce-opportunity-field-history.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data;

/** Field histories through the real HTTP API and PostgreSQL: stored, rebuilt as of a date, anomalies reported. */
describe('opportunity field history (issue 13)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
    await resetDatabase(stack.dataSource);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stores the good rows, reports the bad ones and the anomalies with row numbers', async () => {
    const res = await request(stack.http).post('/opportunities/history').send({ records });
    expect(res.status).toBe(200);
    expect(res.body.rejected_rows.map((r: { row_number: number }) => r.row_number)).toEqual(expected.rejected_rows);
    expect(res.body.rejected_rows.every((r: { reasons: string[] }) => r.reasons.length > 0)).toBe(true);
    expect(res.body.anomalies.map(({ row, opportunity_id, kind }: Record<string, unknown>) => ({ row, opportunity_id, kind }))).toEqual(expected.anomalies);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_field_history`);
    expect(n).toBe(res.body.changes_stored);
    const q = await request(stack.http).get('/opportunities/history/anomalies');
    expect(q.status).toBe(200);
    expect(q.body.items.map((a: Record<string, unknown>) => a.kind).sort()).toEqual(expected.anomalies.map((a: Record<string, unknown>) => a.kind).sort());
  });

  it.each(Object.keys(expected.states))('returns each opportunity and the KPIs as known at %s', async (at) => {
    for (const [id, want] of Object.entries(expected.states[at] as Record<string, unknown>)) {
      const res = await request(stack.http).get(`/opportunities/${id}/as-of`).query({ at });
      if (want === null) expect(res.status).toBe(404);
      else expect({ id, body: res.body }).toEqual({ id, body: expect.objectContaining(want) });
    }
    const k = await request(stack.http).get('/opportunities/history/kpis').query({ at });
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ won: expected.kpis[at].won, lost: expected.kpis[at].lost, revenue_won: expected.kpis[at].revenue_won });
  });

  it('answers a zone-less instant with a 400 in the error shape and stores nothing for an all-bad upload', async () => {
    const bad = await request(stack.http).get('/opportunities/history/kpis').query({ at: '2024-03-01T00:00:00' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const [{ n: before }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_field_history`);
    const res = await request(stack.http).post('/opportunities/history').send({ records: [{ OpportunityId: 'Z', CreatedDate: 'yesterday', StageName: 'Prospecting' }] });
    expect(res.body).toMatchObject({ rows_accepted: 0, changes_stored: 0 });
    const [{ n: after }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_field_history`);
    expect(after).toBe(before);
  });
});

/**
 * The upload stores its changes with one COPY in text format (field-history.service.ts): values
 * with the format's special characters must come back exactly, and a COPY that fails part-way
 * (after chunks were sent) must store nothing.
 */
describe('opportunity field history stored with COPY', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps backslashes, tabs, newlines, carriage returns, \\N and \\. in ids and stage names exactly', async () => {
    const ids = ['a\\b', 'tab\there', 'new\nline', 'cr\r\nlf', '\\N', '\\.', '"quoted", é €', ' \\t literal '];
    const records = ids.map((id, i) => ({ opportunity_id: id, changed_at: `2024-01-0${i + 1}T00:00:00Z`, field: 'stage', old_value: 'Closed\tLost', new_value: 'closed\r\n won' }));
    const res = await request(stack.http).post('/opportunities/history').send({ records });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rows_accepted: ids.length, changes_stored: ids.length, rejected_rows: [] });
    const rows: { opportunity_id: string; old_value: string; new_value: string; new_status: string; source_row: number }[] = await stack.dataSource.query(
      `SELECT opportunity_id, old_value, new_value, new_status, source_row FROM opportunity_field_history ORDER BY source_row`,
    );
    // ids are trimmed by the parser, as before; everything inside is kept
    expect(rows.map((r) => r.opportunity_id)).toEqual(ids.map((id) => id.trim()));
    expect(rows.every((r) => r.old_value === 'Closed\tLost' && r.new_value === 'closed\r\n won' && r.new_status === 'won')).toBe(true);
    const asOf = await request(stack.http).get(`/opportunities/${encodeURIComponent('a\\b')}/as-of`).query({ at: '2024-02-01T00:00:00Z' });
    expect(asOf.body).toMatchObject({ opportunity_id: 'a\\b', stage: 'closed\r\n won', status: 'won' });
  });

  it('refuses a late row holding a NUL (PostgreSQL text cannot) with its row number, keeps the good rows, and answers 200, not 500', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `006N${i},2024-01-01T00:00:00Z,StageName,,Prospecting`);
    lines.push('006N\u0000X,2024-01-02T00:00:00Z,StageName,,Closed Won');
    const csv = Buffer.from(`OpportunityId,CreatedDate,Field,OldValue,NewValue\n${lines.join('\n')}\n`);
    const res = await request(stack.http).post('/opportunities/history/csv').set('content-type', 'text/csv').send(csv);
    expect(res.status).toBe(200);
    expect(res.body.rejected_rows).toEqual([{ row_number: 3001, reasons: ['a value holds a NUL character (U+0000), which cannot be stored'] }]);
    expect(res.body.changes_stored).toBe(3000);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_field_history`);
    expect(n).toBe(3000);
    const next = await request(stack.http).post('/opportunities/history').send({ records: [{ OpportunityId: '006OK', CreatedDate: '2024-01-01T00:00:00Z', StageName: 'Prospecting' }] });
    expect(next.body).toMatchObject({ changes_stored: 1 });
    const nulJson = await request(stack.http).post('/opportunities/history').send({ records: [{ OpportunityId: '006J', CreatedDate: '2024-01-01T00:00:00Z', StageName: 'Pro\u0000specting' }] });
    expect(nulJson.status).toBe(400); // JSON strings with NUL are refused before any parsing (issue 15)
  });

  it('judges a re-sent opportunity against the changes of earlier uploads, with its own rows', async () => {
    const first = await request(stack.http).post('/opportunities/history').send({
      records: [{ OpportunityId: 'R', CreatedDate: '2024-01-10T00:00:00Z', Field: 'StageName', OldValue: 'Prospecting', NewValue: 'Closed Won' }],
    });
    expect(first.body.anomalies).toEqual([]);
    const second = await request(stack.http).post('/opportunities/history').send({
      records: [
        { OpportunityId: 'S', CreatedDate: '2024-01-10T00:00:00Z', Field: 'StageName', OldValue: '', NewValue: 'Prospecting' },
        { OpportunityId: 'R', CreatedDate: '2024-01-20T00:00:00Z', Field: 'Amount', OldValue: '10', NewValue: '20' },
        { OpportunityId: 'R', CreatedDate: '2024-01-05T00:00:00Z', Field: 'Amount', OldValue: '', NewValue: '10' },
      ],
    });
    expect(second.body.anomalies.map((a: Record<string, unknown>) => [a.row, a.opportunity_id, a.kind, a.upload_id])).toEqual([[2, 'R', 'amount_edit_after_close', second.body.upload_id]]);
    const all = await request(stack.http).get('/opportunities/history/anomalies');
    expect(all.body.items.map((a: Record<string, unknown>) => [a.row, a.upload_id])).toEqual([[2, second.body.upload_id]]);
  });
});

/**
 * The same fixture as a CSV upload (issue 13): read by the project's CSV reader with detection, it
 * must give exactly what the JSON upload gives (rows, row numbers, anomalies, stored changes).
 */
describe('opportunity field history as a CSV upload (issue 13)', () => {
  let stack: TestStack;
  const csv = readFileSync(join(DIR, 'salesforce-opportunity-field-history.csv'));
  const count = async () => (await stack.dataSource.query(`SELECT count(*)::int AS n FROM opportunity_field_history`))[0].n as number;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a text/csv body gives the JSON upload\'s answer: rejected rows, anomalies with row numbers, stored changes', async () => {
    const res = await request(stack.http).post('/opportunities/history/csv').set('content-type', 'text/csv').send(csv);
    expect(res.status).toBe(200);
    expect(res.body.rows_received).toBe(records.length);
    expect(res.body.rejected_rows.map((r: { row_number: number }) => r.row_number)).toEqual(expected.rejected_rows);
    expect(res.body.anomalies.map(({ row, opportunity_id, kind }: Record<string, unknown>) => ({ row, opportunity_id, kind }))).toEqual(expected.anomalies);
    expect(res.body.detected).toMatchObject({ delimiter: ',', encoding: 'utf-8' });
    const stored = await count();
    expect(stored).toBe(res.body.changes_stored);
    // The JSON route on the same rows, into an empty table: the same counts.
    await resetDatabase(stack.dataSource);
    const json = await request(stack.http).post('/opportunities/history').send({ records });
    expect({ accepted: res.body.rows_accepted, stored: res.body.changes_stored }).toEqual({ accepted: json.body.rows_accepted, stored: json.body.changes_stored });
    const at = Object.keys(expected.states)[0];
    const k = await request(stack.http).get('/opportunities/history/kpis').query({ at });
    expect(k.body).toMatchObject({ won: expected.kpis[at].won, lost: expected.kpis[at].lost, revenue_won: expected.kpis[at].revenue_won });
  });

  it('detects a semicolon file (an Excel export in Europe) sent as multipart and keeps the row numbers', async () => {
    const rows = Papa.parse<string[]>(csv.toString('utf8'), { skipEmptyLines: true }).data;
    const semi = Buffer.from(Papa.unparse(rows, { delimiter: ';', newline: '\r\n' }), 'utf8');
    const res = await request(stack.http).post('/opportunities/history/csv').attach('file', semi, { filename: 'history.csv', contentType: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.body.detected.delimiter).toBe(';');
    expect(res.body.rejected_rows.map((r: { row_number: number }) => r.row_number)).toEqual(expected.rejected_rows);
    expect(res.body.anomalies.map(({ row, kind }: Record<string, unknown>) => ({ row, kind }))).toEqual(expected.anomalies.map(({ row, kind }: Record<string, unknown>) => ({ row, kind })));
    expect(await count()).toBe(res.body.changes_stored);
  });

  it('refuses a malformed file with a 400 in the error shape, naming the row and the format, and stores nothing', async () => {
    const broken = Buffer.concat([csv, Buffer.from('006A999,2024-05-01T00:00:00Z,StageName\n')]);
    const res = await request(stack.http).post('/opportunities/history/csv').set('content-type', 'text/csv').send(broken);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_CSV', details: { detected: { delimiter: ',' } } });
    expect(res.body.message).toMatch(new RegExp(`data row ${records.length + 1} has 3 cells`));
    expect(await count()).toBe(0);
    const json = await request(stack.http).post('/opportunities/history/csv').set('content-type', 'application/json').send({ records });
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
