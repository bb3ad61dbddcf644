import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import Papa from 'papaparse';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadTerritories, territory, useIngestionStack } from '../factories';
import { resetDatabase, startStack, TestStack, waitForBatch } from '../utils/test-stack';

/**
 * Issue 13: an .xlsx upload is read with exceljs's streaming reader on the CSV upload route and goes
 * through the same profile mapping, row parser, rejections and warnings. Workbooks are written here
 * with exceljs (typed cells: numbers, Date cells, booleans, blank rows); the expected outcome of each
 * is what the CSV path makes of the same rows (uploaded in the same test), never hard-coded, apart
 * from the row numbers: an xlsx rejection names its sheet row (as Excel shows it).
 */
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const FIXTURES = join(__dirname, '..', 'fixtures', 'imports');

/** A day written into the xlsx as an Excel serial day number (1900 system: 25569 = 1970-01-01), read as a date through its date format. */
class Serial {
  constructor(readonly day: string) {}
  get number(): number {
    return Date.parse(`${this.day}T00:00:00Z`) / 86_400_000 + 25569;
  }
}
type CellV = string | number | boolean | Date | Serial | null;

/** An .xlsx with the given sheets, rows written as typed cells; `dateCols` get a date number format. */
async function workbook(sheets: { name: string; rows: CellV[][]; dateCols?: number[] }[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name);
    s.rows.forEach((row, i) => {
      const r = ws.getRow(i + 1);
      row.forEach((v, j) => {
        if (v !== null) r.getCell(j + 1).value = v instanceof Serial ? v.number : v;
      });
      r.commit();
    });
    for (const c of s.dateCols ?? []) ws.getColumn(c).numFmt = 'yyyy-mm-dd';
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/**
 * A CSV of the same rows, as Excel saves one: a Date cell as its ISO day (or instant), a number as
 * Excel shows it (15 significant digits: 0.1 + 0.2 is 0.3); blank rows dropped.
 */
function csvOf(rows: CellV[][]): string {
  const text = (v: CellV) =>
    v === null ? '' : v instanceof Serial ? v.day : v instanceof Date ? (v.toISOString().endsWith('T00:00:00.000Z') ? v.toISOString().slice(0, 10) : v.toISOString().replace('.000Z', 'Z')) : typeof v === 'number' ? String(Number(v.toPrecision(15))) : String(v);
  return Papa.unparse(rows.filter((r) => r.some((v) => v !== null && v !== '')).map((r) => r.map(text)), { newline: '\n' });
}

const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe('xlsx uploads', () => {
  const stack = useIngestionStack(['West', 'East']);

  const stored = () =>
    stack.dataSource.query(
      `SELECT o.opportunity_id, o.status, o.stage, o.amount::text AS amount, t.code, to_char(o.engage_date, 'YYYY-MM-DD') AS engage_date,
              to_char(o.close_date, 'YYYY-MM-DD') AS close_date, o.created_at_source, o.owner, o.account
         FROM opportunities o JOIN territories t ON t.id = o.territory_id ORDER BY o.opportunity_id`,
    );
  const batches = async () => Number((await stack.dataSource.query(`SELECT count(*) AS n FROM opportunity_batches`))[0].n);
  const postXlsx = (body: Buffer, query = '', filename = 'export.xlsx', contentType = XLSX) =>
    request(stack.http).post(`/opportunities/batches/csv${query}`).attach('file', body, { filename, contentType });
  const postCsv = (text: string, query = '') => request(stack.http).post(`/opportunities/batches/csv${query}`).set('Content-Type', 'text/csv').send(text);

  /** Uploads the rows as xlsx, then (after a reset) as CSV: both outcomes. */
  async function bothWays(rows: CellV[][], query: string, sheet: { dateCols?: number[]; before?: { name: string; rows: CellV[][] }[] } = {}) {
    const book = await workbook([...(sheet.before ?? []), { name: 'Opportunities', rows, dateCols: sheet.dateCols }]);
    const x = await postXlsx(book, query);
    expect(x.status).toBe(202);
    const xs = await waitForBatch(stack.http, x.body.batch_id);
    const xStored = await stored();
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, [territory({ code: 'West' }), territory({ code: 'East' })]);
    const c = await postCsv(csvOf(rows), query);
    expect(c.status).toBe(202);
    const cs = await waitForBatch(stack.http, c.body.batch_id);
    return { xlsx: { res: x.body, status: xs, stored: xStored }, csv: { res: c.body, status: cs, stored: await stored() } };
  }

  /** Sheet row of each data row: rows[i] is sheet row i + 1; blank rows have no data row. */
  const sheetRowsOf = (rows: CellV[][]) => rows.map((r, i) => (r.some((v) => v !== null && v !== '') ? i + 1 : null)).filter((n): n is number => n !== null).slice(1);

  it('pilotlab profile: numbers, Date cells and empty cells are read as the CSV path reads their text; a bad row is rejected with its sheet row', async () => {
    const rows: CellV[][] = [
      ['opportunity_id', 'sales_agent', 'deal_stage', 'close_value', 'engage_date', 'close_date', 'created_at', 'account'],
      ['X-1', 'West', 'Won', 1054.5, day('2024-01-02'), day('2024-02-03'), new Date('2024-01-02T10:30:00Z'), 'Müller & Söhne'],
      ['X-2', 'East', 'Engaging', null, day('2024-01-05'), null, null, null],
      [null, null, null, null, null, null, null, null], // a blank sheet row: skipped, but it keeps the sheet's numbering
      ['X-3', 'Nowhere', 'Won', 12, day('2024-01-05'), day('2024-03-01'), null, 'Café'], // unknown territory: rejected
      ['X-4', 'West', 'Lost', 0.1 + 0.2, day('2024-02-10'), new Serial('2024-04-01'), null, null], // a serial day number with a date format
    ];
    const { xlsx, csv } = await bothWays(rows, '', { dateCols: [5, 6] });
    expect(xlsx.res).toMatchObject({ rows_received: 4, detected: { format: 'xlsx', worksheet: 'Opportunities', worksheet_source: 'first', header_row: 1 } });
    expect(csv.res.detected).toMatchObject({ format: 'csv', delimiter: ',' });
    expect(xlsx.status).toMatchObject({ status: 'completed', rows_accepted: csv.status.rows_accepted, rows_rejected: csv.status.rows_rejected });
    expect(xlsx.status.rows_rejected).toBe(1);
    expect(xlsx.stored).toEqual(csv.stored);
    expect(xlsx.stored.map((r: { opportunity_id: string }) => r.opportunity_id)).toEqual(['X-1', 'X-2', 'X-4']);
    expect(xlsx.stored.find((r: { opportunity_id: string }) => r.opportunity_id === 'X-4').amount).toBe('0.30'); // 0.30000000000000004 in binary
    expect(xlsx.stored.find((r: { opportunity_id: string }) => r.opportunity_id === 'X-1')).toMatchObject({ engage_date: '2024-01-02', close_date: '2024-02-03' });
    expect(xlsx.stored.find((r: { opportunity_id: string }) => r.opportunity_id === 'X-4')).toMatchObject({ close_date: '2024-04-01' });
    expect(xlsx.status.column_mapping).toEqual(csv.status.column_mapping);
    // The same reasons; the row number is the sheet row (5: after the header and a blank row), the CSV's its data row (3).
    const sheetRows = sheetRowsOf(rows);
    expect(xlsx.status.rejected_rows.items).toEqual(
      csv.status.rejected_rows.items.map((r: { row_number: number }) => ({ ...r, row_number: sheetRows[r.row_number - 1] })),
    );
    expect(xlsx.status.rejected_rows.items.map((r: { row_number: number; opportunity_id: string }) => [r.row_number, r.opportunity_id])).toEqual([[5, 'X-3']]);
  });

  it('salesforce profile: the Opportunity fixture as a workbook (typed Amount, CloseDate Date cells, IsWon booleans) plus a bad row and a repeated id: rows, rejections and warnings as for the CSV', async () => {
    const records: Record<string, string>[] = parse(readFileSync(join(FIXTURES, 'salesforce-opportunities.csv'), 'utf8'), { columns: true, skip_empty_lines: true });
    const header = Object.keys(records[0]);
    const typed = (k: string, v: string): CellV => {
      if (v === '') return null;
      if (k === 'Amount') return Number(v);
      if (k === 'CloseDate') return day(v);
      if (k === 'IsWon' || k === 'IsClosed') return v === 'true' ? true : v === 'false' ? false : v;
      return v;
    };
    const rows: CellV[][] = [header, ...records.map((r) => header.map((k) => typed(k, r[k])))];
    const won = records.find((r) => r.IsWon === 'true')!;
    // A bad row: IsWon is no boolean; and a repeated id with a negative won amount (warnings).
    rows.push(header.map((k) => (k === 'Id' ? '006BAD' : k === 'IsWon' ? 'maybe' : typed(k, won[k]))));
    rows.push(header.map((k) => (k === 'Amount' ? -500 : typed(k, won[k]))));
    const closeCol = header.indexOf('CloseDate') + 1;
    const { xlsx, csv } = await bothWays(rows, '?profile=salesforce', { dateCols: [closeCol] });
    expect(xlsx.status).toMatchObject({ status: 'completed', rows_received: records.length + 2 });
    expect(xlsx.status.rows_rejected).toBeGreaterThanOrEqual(1);
    expect(xlsx.stored).toEqual(csv.stored);
    expect(xlsx.stored.length).toBeGreaterThan(0);
    // No blank rows: sheet row = data row + 1.
    expect(xlsx.status.rejected_rows.items).toEqual(csv.status.rejected_rows.items.map((r: { row_number: number }) => ({ ...r, row_number: r.row_number + 1 })));
    expect(xlsx.status.rejected_rows.items.find((r: { opportunity_id: string }) => r.opportunity_id === '006BAD').reasons.join(' ')).toMatch(/IsWon 'maybe'/);
    const shift = (w: { row_number: number; message: string }) => ({ ...w, row_number: w.row_number + 1 });
    expect(xlsx.status.warnings.items.map((w: { row_number: number; kind: string }) => [w.row_number, w.kind])).toEqual(
      csv.status.warnings.items.map((w: { row_number: number; message: string; kind: string }) => [shift(w).row_number, w.kind]),
    );
    expect(xlsx.status.warnings.items.map((w: { kind: string }) => w.kind)).toEqual(expect.arrayContaining(['repeated_opportunity_id', 'negative_won_amount']));
  });

  it('?worksheet= reads a named sheet; the default is the first sheet; an unknown name is a 422 listing the sheets', async () => {
    const opps: CellV[][] = [
      ['opportunity_id', 'territory', 'stage', 'engage_date'],
      ['N-1', 'West', 'Engaging', day('2024-01-02')],
    ];
    const book = await workbook([
      { name: 'Read me', rows: [['notes'], ['this sheet has no opportunities']] },
      { name: 'Deals 2024', rows: opps, dateCols: [4] },
    ]);
    const first = await postXlsx(book); // the first sheet is read: its column is no opportunity field
    expect(first.status).toBe(400);
    expect(first.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const named = await postXlsx(book, `?worksheet=${encodeURIComponent('deals 2024')}`);
    expect(named.status).toBe(202);
    expect(named.body.detected).toMatchObject({ format: 'xlsx', worksheet: 'Deals 2024', worksheet_source: 'query', worksheets: ['Read me', 'Deals 2024'] });
    const status = await waitForBatch(stack.http, named.body.batch_id);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 1, rows_rejected: 0 });
    const missing = await postXlsx(book, '?worksheet=Nope');
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ statusCode: 422, code: 'WORKSHEET_NOT_FOUND', details: { worksheet: 'Nope', worksheets: ['Read me', 'Deals 2024'] } });
    expect(await batches()).toBe(1);
  });

  it('an xlsx is recognised by its content type, its file name or its ZIP signature; CSV options on it are a 400', async () => {
    const book = await workbook([{ name: 'S', rows: [['opportunity_id', 'territory', 'stage', 'engage_date'], ['K-1', 'West', 'Engaging', '2024-01-02']] }]);
    const body = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(book);
    expect(body.status).toBe(202);
    const byName = await postXlsx(book, '', 'deals.xlsx', 'application/octet-stream');
    expect(byName.status).toBe(202);
    const byMagic = await postXlsx(book, '', 'upload', 'application/octet-stream');
    expect(byMagic.status).toBe(202);
    expect(byMagic.body.detected.format).toBe('xlsx');
    const mislabelled = await postXlsx(book, '', 'deals.csv', 'text/csv'); // ZIP bytes are no CSV
    expect(mislabelled.status).toBe(202);
    expect(mislabelled.body.detected.format).toBe('xlsx');
    const delim = await postXlsx(book, '?delimiter=;');
    expect(delim.status).toBe(400);
    expect(delim.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'delimiter', errors: ['not for an .xlsx upload'] }] });
    const ws = await postCsv('opportunity_id,territory,stage\nK-2,West,Engaging\n', '?worksheet=S');
    expect(ws.status).toBe(400);
    expect(ws.body.details).toEqual([{ path: 'worksheet', errors: ['not for a CSV upload'] }]);
    expect(await batches()).toBe(4);
  });

  it('an Idempotency-Key replays the same workbook and refuses another', async () => {
    const book = await workbook([{ name: 'S', rows: [['opportunity_id', 'territory', 'stage', 'engage_date'], ['I-1', 'West', 'Engaging', '2024-01-02']] }]);
    const other = await workbook([{ name: 'S', rows: [['opportunity_id', 'territory', 'stage', 'engage_date'], ['I-2', 'West', 'Engaging', '2024-01-02']] }]);
    const a = await postXlsx(book).set('Idempotency-Key', 'xlsx-key-1');
    expect(a.status).toBe(202);
    const b = await postXlsx(book).set('Idempotency-Key', 'xlsx-key-1');
    expect(b.status).toBe(202);
    expect(b.body).toMatchObject({ batch_id: a.body.batch_id, idempotent_replay: true });
    const c = await postXlsx(other).set('Idempotency-Key', 'xlsx-key-1');
    expect(c.status).toBe(409);
    expect(c.body.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('bad workbooks are refused in the error shape and store nothing: corrupt ZIP, not a ZIP, encrypted, header only, empty sheet, a value right of the header, a repeated column', async () => {
    const good = await workbook([{ name: 'S', rows: [['opportunity_id', 'territory', 'stage'], ['B-1', 'West', 'Engaging']] }]);
    const cases: [string, Buffer, number, string][] = [
      ['truncated ZIP', good.subarray(0, Math.floor(good.length / 2)), 400, 'MALFORMED_XLSX'],
      ['ZIP signature then garbage', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]), 400, 'MALFORMED_XLSX'],
      ['said to be xlsx, but text', Buffer.from('opportunity_id,territory\nB-1,West\n'), 400, 'MALFORMED_XLSX'],
      ['encrypted (OLE2 container)', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(2 * 1024 * 1024)]), 422, 'UNSUPPORTED_XLSX'], // 2 MB: answered without reading it
      ['header only', await workbook([{ name: 'S', rows: [['opportunity_id', 'territory', 'stage']] }]), 400, 'MALFORMED_XLSX'],
      ['empty sheet', await workbook([{ name: 'S', rows: [] }]), 400, 'MALFORMED_XLSX'],
      ['value right of the header', await workbook([{ name: 'S', rows: [['opportunity_id', 'territory'], ['B-1', 'West', 'stray']] }]), 400, 'MALFORMED_XLSX'],
      ['repeated column', await workbook([{ name: 'S', rows: [['opportunity_id', 'Territory', 'territory'], ['B-1', 'West', 'East']] }]), 400, 'MALFORMED_XLSX'],
    ];
    const wrong: string[] = [];
    for (const [what, bytes, status, code] of cases) {
      const res = await postXlsx(bytes);
      const shapeOk = res.body && res.body.statusCode === status && res.body.code === code && typeof res.body.message === 'string' && 'details' in res.body;
      if (res.status !== status || !shapeOk) wrong.push(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await batches()).toBe(0);
    expect(Number((await stack.dataSource.query(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'opportunity_staging'`))[0].n)).toBe(0);
  });
});

describe('xlsx upload row limit', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false, overrides: { CSV_MAX_ROWS: 3 } });
    await resetDatabase(stack.dataSource);
  });
  afterAll(() => stack.close());

  it('a sheet with more data rows than CSV_MAX_ROWS is a 413 and stores nothing; at the limit it is taken', async () => {
    const rows = (n: number): CellV[][] => [['opportunity_id', 'territory', 'stage'], ...Array.from({ length: n }, (_, i) => [`R-${i}`, 'West', 'Engaging'])];
    const over = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(await workbook([{ name: 'S', rows: rows(4) }]));
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ statusCode: 413, code: 'BATCH_TOO_LARGE', details: { max_rows: 3 } });
    expect(Number((await stack.dataSource.query(`SELECT count(*) AS n FROM opportunity_batches`))[0].n)).toBe(0);
    const at = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(await workbook([{ name: 'S', rows: rows(3) }]));
    expect(at.status).toBe(202);
    expect(at.body.rows_received).toBe(3);
  });

  it('a workbook refused part-way leaves no temporary file behind (exceljs spools the sheet and removes it at the end of the read)', async () => {
    // The API runs in this process; exceljs's temp files (the `tmp` package) go to os.tmpdir(), pointed
    // here at a fresh directory (jest's process.env is the sandbox's copy, which core `os` does not read).
    const dir = mkdtempSync(join(os.tmpdir(), 'pilotlab-xlsx-spool-'));
    const spy = jest.spyOn(os, 'tmpdir').mockReturnValue(dir);
    try {
      const rows = (n: number, stray = false): CellV[][] => [['opportunity_id', 'territory', 'stage'], ...Array.from({ length: n }, (_, i) => [`R-${i}`, 'West', 'Engaging', ...(stray && i === 1 ? ['x'] : [])])];
      const tooMany = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(await workbook([{ name: 'S', rows: rows(6) }, { name: 'T', rows: rows(2) }]));
      expect(tooMany.status).toBe(413);
      const stray = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(await workbook([{ name: 'S', rows: rows(3, true) }]));
      expect(stray.body.code).toBe('MALFORMED_XLSX');
      const taken = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', XLSX).send(await workbook([{ name: 'S', rows: rows(3) }]));
      expect(taken.status).toBe(202);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
