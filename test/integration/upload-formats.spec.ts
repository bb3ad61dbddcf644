import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { loadTerritories, territory } from '../factories';
import { resetDatabase, startStack, TestStack, waitForBatch } from '../utils/test-stack';

/**
 * Issue 13: CSV uploads in the delimiters and encodings Excel and CRM exports write, through the
 * real HTTP API, the ingestion queue and PostgreSQL. Fixtures: test/fixtures/imports/ (written by
 * make-fixtures.py beside them: 12 rows each, accounts with ü, é, Ñ and €).
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'imports');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const ACCOUNTS = ['Müller & Söhne', 'Café Ñandú', 'Zoë €uro, Ltd'];

describe('CSV upload formats (delimiter and encoding detection)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, [territory({ code: 'West' })]);
  });

  const upload = (body: Buffer, query = '') =>
    request(stack.http).post(`/opportunities/batches/csv${query}`).attach('file', body, { filename: 'export.csv', contentType: 'text/csv' });

  it.each([
    ['semicolon-utf8.csv', 'SEMI', { delimiter: ';', encoding: 'utf-8', bom: false, source: { delimiter: 'header', encoding: 'utf8' } }],
    ['tab-utf8.tsv', 'TAB', { delimiter: '\t', encoding: 'utf-8', bom: false, source: { delimiter: 'header', encoding: 'utf8' } }],
    ['comma-utf8-bom.csv', 'BOM', { delimiter: ',', encoding: 'utf-8', bom: true, source: { delimiter: 'header', encoding: 'bom' } }],
    ['tab-utf16le-bom.txt', 'U16LE', { delimiter: '\t', encoding: 'utf-16le', bom: true, source: { delimiter: 'header', encoding: 'bom' } }],
    ['comma-utf16be-bom.csv', 'U16BE', { delimiter: ',', encoding: 'utf-16be', bom: true, source: { delimiter: 'header', encoding: 'bom' } }],
    ['semicolon-windows1252.csv', 'CP1252', { delimiter: ';', encoding: 'windows-1252', bom: false }],
  ])('%s is read correctly and the choice is reported', async (name, prefix, detected) => {
    const res = await upload(fixture(name));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ rows_received: 12, detected });
    const status = await waitForBatch(stack.http, res.body.batch_id);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 12, rows_rejected: 0 });
    for (const i of [1, 2, 3, 12]) {
      const id = `${prefix}-${String(i).padStart(2, '0')}`;
      const opp = (await request(stack.http).get(`/opportunities/${id}`)).body;
      expect(opp).toMatchObject({ opportunity_id: id, account: ACCOUNTS[i % 3], amount: `${1000 + i * 10}.50` });
    }
  });

  it('an ambiguous delimiter is a 400 that names the candidates; ?delimiter= overrides it', async () => {
    const res = await upload(fixture('ambiguous.csv'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_CSV', details: { candidates: [',', ';'] } });
    expect(res.body.message).toMatch(/delimiter is ambiguous.*\?delimiter=/);
    expect(Number((await stack.dataSource.query(`SELECT count(*) AS n FROM opportunity_batches`))[0].n)).toBe(0);

    const forced = await upload(fixture('ambiguous.csv'), '?delimiter=%3B');
    expect(forced.status).toBe(202);
    expect(forced.body.detected).toMatchObject({ delimiter: ';', source: { delimiter: 'override' } });
  });

  it('?encoding= overrides detection (a Windows-1252 file forced to UTF-8 shows replacement characters)', async () => {
    const res = await upload(fixture('semicolon-windows1252.csv'), '?encoding=utf-8');
    expect(res.status).toBe(202);
    expect(res.body.detected).toMatchObject({ encoding: 'utf-8', source: { encoding: 'override' } });
    await waitForBatch(stack.http, res.body.batch_id);
    const opp = (await request(stack.http).get('/opportunities/CP1252-01')).body;
    expect(opp.account).toContain('\uFFFD');
  });

  it('bad overrides are a 400 VALIDATION_FAILED naming the parameter', async () => {
    const res = await upload(fixture('semicolon-utf8.csv'), '?delimiter=%7C&encoding=ebcdic');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['delimiter', 'encoding']);
  });

  it('a malformed file says how it was read', async () => {
    const res = await upload(Buffer.from('opportunity_id;territory\r\nA-1;West\r\nA-2;West;extra\r\n'));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_CSV');
    expect(res.body.message).toMatch(/data row 2 has 3 cells; the header has 2.*delimiter ';'/);
    expect(res.body.details.detected).toMatchObject({ delimiter: ';', encoding: 'utf-8' });
  });
});
