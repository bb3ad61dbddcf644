import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { useIngestionStack } from '../factories';
import { waitForBatch } from '../utils/test-stack';

/**
 * Import profiles (issue 13): Salesforce, HubSpot and warehouse-snapshot exports through the real
 * HTTP API, queue and worker, CSV and JSON alike. Expected outcomes are derived from the fixture
 * rows (test/fixtures/imports, written by generate.py there), not hard-coded.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'imports');
const fixtureText = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const fixtureRows = (name: string): Record<string, string>[] => parse(fixtureText(name), { columns: true, skip_empty_lines: true });

type Stored = { opportunity_id: string; status: string; amount: string | null; code: string; close_date: string | null; owner: string | null };

describe('import profiles', () => {
  const stack = useIngestionStack(['West', 'East']);

  const stored = (): Promise<Stored[]> =>
    stack.dataSource.query(
      `SELECT o.opportunity_id, o.status, o.amount::text AS amount, t.code, to_char(o.close_date, 'YYYY-MM-DD') AS close_date, o.owner
         FROM opportunities o JOIN territories t ON t.id = o.territory_id ORDER BY o.opportunity_id`,
    );
  const postCsv = async (profile: string, name: string) => {
    const res = await request(stack.http).post(`/opportunities/batches/csv?profile=${profile}`).set('Content-Type', 'text/csv').send(fixtureText(name));
    expect(res.status).toBe(202);
    return waitForBatch(stack.http, res.body.batch_id);
  };
  const postJson = async (profile: string, rows: unknown[]) => {
    const res = await request(stack.http).post(`/opportunities/batches?profile=${profile}`).send({ rows });
    expect(res.status).toBe(202);
    return waitForBatch(stack.http, res.body.batch_id);
  };

  it('JSON batches take the same field names as CSV uploads (sales_agent, deal_stage, close_value)', async () => {
    const row = { opportunity_id: 'M-1', sales_agent: 'West', deal_stage: 'Won', close_value: '1054', engage_date: '2024-01-02', close_date: '2024-02-03' };
    const json = await request(stack.http).post('/opportunities/batches').send({ rows: [row] });
    expect(json.status).toBe(202); // was 400 "property sales_agent should not exist"
    const status = await waitForBatch(stack.http, json.body.batch_id);
    expect(status.rejected_rows.items).toEqual([]);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 1, rows_rejected: 0 });
    expect(await stored()).toEqual([expect.objectContaining({ opportunity_id: 'M-1', code: 'West', status: 'won', amount: '1054.00' })]);
    // unknown fields are still a 400 for the whole request (pitfall P16)
    const bad = await request(stack.http).post('/opportunities/batches').send({ rows: [{ ...row, other: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ path: 'rows.0.other', errors: ['property other should not exist'] }]);
  });

  const salesforceExpected = (rows: Record<string, string>[]) =>
    rows
      .filter((r) => ['true', 'false'].includes(r.IsWon) && !(r.IsWon === 'true' && r.IsClosed === 'false'))
      .map((r) => {
        const status = r.IsClosed === 'true' ? (r.IsWon === 'true' ? 'won' : 'lost') : 'open';
        return { opportunity_id: r.Id, status, amount: Number(r.Amount).toFixed(2), code: r['Territory2.Name'], close_date: status === 'open' ? null : r.CloseDate, owner: r.OwnerId };
      })
      .sort((a, b) => a.opportunity_id.localeCompare(b.opportunity_id));

  it('salesforce: IsWon/IsClosed give the status, Territory2 the territory; bad flags are rejected per row (CSV)', async () => {
    const rows = fixtureRows('salesforce-opportunities.csv');
    const status = await postCsv('salesforce', 'salesforce-opportunities.csv');
    const expected = salesforceExpected(rows);
    expect(status).toMatchObject({ status: 'completed', rows_received: rows.length, rows_accepted: expected.length, rows_rejected: rows.length - expected.length });
    expect(status.column_mapping).toMatchObject({ opportunity_id: 'Id', territory: 'Territory2.Name', is_won: 'IsWon', is_closed: 'IsClosed' });
    expect(status.rejected_rows.items).toEqual([
      { row_number: rows.length - 1, opportunity_id: rows[rows.length - 2].Id, reasons: ["IsWon 'yes' is not true/false"] },
      { row_number: rows.length, opportunity_id: rows[rows.length - 1].Id, reasons: ['IsWon is true but IsClosed is false'] },
    ]);
    expect(await stored()).toEqual(expected);
  });

  it('salesforce: the same rows as a JSON batch come out the same (one field contract)', async () => {
    const rows = fixtureRows('salesforce-opportunities.csv');
    // JSON is strict (P16): a column the profile does not read is a 400, so the export's Name column is left out.
    const status = await postJson('salesforce', rows.map(({ Name: _name, ...r }) => r));
    const expected = salesforceExpected(rows);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: expected.length, rows_rejected: rows.length - expected.length });
    expect(await stored()).toEqual(expected);
  });

  it('hubspot: dealstage ids per pipeline; unknown stage, unmapped pipeline and a disagreeing hs_is_closed_won are rejected with the reason', async () => {
    const rows = fixtureRows('hubspot-deals.csv');
    const status = await postCsv('hubspot', 'hubspot-deals.csv');
    const statusOf: Record<string, string> = { closedwon: 'won', closedlost: 'lost' };
    const good = rows.slice(0, rows.length - 3);
    expect(status).toMatchObject({ status: 'completed', rows_accepted: good.length, rows_rejected: 3 });
    const n = rows.length;
    expect(status.rejected_rows.items).toEqual([
      { row_number: n - 2, opportunity_id: rows[n - 3].hs_object_id, reasons: ["unknown dealstage '1234567' in pipeline 'default'"] },
      { row_number: n - 1, opportunity_id: rows[n - 2].hs_object_id, reasons: ["pipeline '7654321' has no stage mapping (mapped: default)"] },
      { row_number: n, opportunity_id: rows[n - 1].hs_object_id, reasons: ["hs_is_closed_won is true but dealstage 'closedlost' is lost"] },
    ]);
    const expected = good
      .map((r) => {
        const s = statusOf[r.dealstage] ?? 'open';
        return { opportunity_id: r.hs_object_id, status: s, amount: Number(r.amount).toFixed(2), code: r.territory, close_date: s === 'open' ? null : r.closedate.slice(0, 10), owner: r.hubspot_owner_id };
      })
      .sort((a, b) => a.opportunity_id.localeCompare(b.opportunity_id));
    expect(await stored()).toEqual(expected);
    // KPI-level check: won count and won amount per territory
    const won = await stack.dataSource.query(`SELECT t.code, count(*)::int AS n, sum(amount)::text AS total FROM opportunities o JOIN territories t ON t.id = o.territory_id WHERE status = 'won' GROUP BY t.code ORDER BY t.code`);
    const byTerr = new Map<string, { n: number; total: number }>();
    for (const r of good.filter((x) => x.dealstage === 'closedwon')) {
      const e = byTerr.get(r.territory) ?? { n: 0, total: 0 };
      byTerr.set(r.territory, { n: e.n + 1, total: e.total + Number(r.amount) });
    }
    expect(won).toEqual([...byTerr.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, v]) => ({ code, n: v.n, total: v.total.toFixed(2) })));
  });

  it('snapshot: one row per opportunity per day; the latest snapshot of each opportunity is kept', async () => {
    const rows = fixtureRows('snapshot-daily.csv');
    const status = await postCsv('snapshot', 'snapshot-daily.csv');
    expect(status).toMatchObject({ status: 'completed', rows_received: rows.length, rows_rejected: 1 });
    expect(status.rejected_rows.items).toEqual([{ row_number: rows.length, opportunity_id: 'S-BAD', reasons: ["snapshot_date '06/03/2024' is not a date YYYY-MM-DD"] }]);
    const latest = new Map<string, Record<string, string>>();
    for (const r of rows.slice(0, -1)) if (!latest.has(r.opportunity_id) || latest.get(r.opportunity_id)!.snapshot_date < r.snapshot_date) latest.set(r.opportunity_id, r);
    const expected = [...latest.values()]
      .map((r) => ({ opportunity_id: r.opportunity_id, status: r.stage === 'Won' ? 'won' : r.stage === 'Lost' ? 'lost' : 'open', amount: Number(r.amount).toFixed(2), code: r.territory, close_date: r.close_date || null, owner: null }))
      .sort((a, b) => a.opportunity_id.localeCompare(b.opportunity_id));
    expect(await stored()).toEqual(expected);
  });

  it('an unknown profile is a 400 UNKNOWN_IMPORT_PROFILE on both endpoints, and nothing is stored', async () => {
    const json = await request(stack.http).post('/opportunities/batches?profile=pipedrive').send({ rows: [{ opportunity_id: 'X' }] });
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ statusCode: 400, code: 'UNKNOWN_IMPORT_PROFILE', details: { profile: 'pipedrive' } });
    const csv = await request(stack.http).post('/opportunities/batches/csv?profile=pipedrive').set('Content-Type', 'text/csv').send('opportunity_id\nX\n');
    expect(csv.status).toBe(400);
    expect(csv.body.code).toBe('UNKNOWN_IMPORT_PROFILE');
    expect(Number((await stack.dataSource.query(`SELECT count(*) AS n FROM opportunity_batches`))[0].n)).toBe(0);
  });

  it('a JSON batch with a column the profile does not read is a 400 naming it', async () => {
    const res = await request(stack.http).post('/opportunities/batches?profile=hubspot').send({ rows: [{ hs_object_id: '1', dealstage: 'closedwon', territory: 'West', colour: 'red' }] });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'rows.0.colour', errors: ['property colour should not exist (not a column of profile hubspot)'] }]);
  });

  it('a stored source: its column map and its stage mapping per pipeline are used by uploads naming it; an unknown source is a 404', async () => {
    const rows = fixtureRows('hubspot-deals.csv');
    const other = rows[rows.length - 2]; // pipeline 7654321, dealstage 99887766: rejected without a source
    const put = await request(stack.http)
      .put('/import-sources/hubspot-eu')
      .send({ profile: 'hubspot', column_map: { territory: 'Region' }, stage_mapping: { [other.pipeline]: { won: [other.dealstage], lost: [], open: [] } } });
    expect(put.status).toBe(200);
    expect((await request(stack.http).get('/import-sources/hubspot-eu')).body).toMatchObject({ name: 'hubspot-eu', profile: 'hubspot', column_map: { territory: 'Region' } });
    const { territory: region, dealname: _name, ...rest } = other;
    const row = { ...rest, Region: region, hs_is_closed_won: 'true' };
    const res = await request(stack.http).post('/opportunities/batches?source=hubspot-eu').send({ rows: [row] });
    expect(res.status).toBe(202);
    const status = await waitForBatch(stack.http, res.body.batch_id);
    expect(status.rejected_rows.items).toEqual([]);
    expect(await stored()).toEqual([expect.objectContaining({ opportunity_id: other.hs_object_id, status: 'won', code: region })]);
    // CSV through the same source
    const csv = `hs_object_id,pipeline,dealstage,amount,closedate,createdate,Region\n77,${other.pipeline},${other.dealstage},500,2024-05-01,2024-01-01T00:00:00Z,West\n`;
    const c = await request(stack.http).post('/opportunities/batches/csv?source=hubspot-eu').set('Content-Type', 'text/csv').send(csv);
    expect(c.status).toBe(202);
    const cs = await waitForBatch(stack.http, c.body.batch_id);
    expect(cs.rejected_rows.items).toEqual([]);
    expect(cs).toMatchObject({ rows_accepted: 1, rows_rejected: 0 });
    const missing = await request(stack.http).post('/opportunities/batches?source=nope').send({ rows: [row] });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('IMPORT_SOURCE_NOT_FOUND');
    expect((await request(stack.http).put('/import-sources/x').send({ profile: 'pipedrive' })).status).toBe(400);
  });

  it('import sources are listed by name and deleted (audited like PUT); uploads naming a deleted source get 404; unknown names 404', async () => {
    const before = Number((await stack.dataSource.query(`SELECT count(*) AS n FROM audit_events WHERE action LIKE '% /import-sources/:name'`))[0].n);
    expect((await request(stack.http).get('/import-sources')).body).toEqual({ total: 0, items: [] });
    for (const name of ['sf-emea', 'hs-us']) expect((await request(stack.http).put(`/import-sources/${name}`).send({ profile: name.startsWith('sf') ? 'salesforce' : 'hubspot', column_map: { territory: 'Region' } })).status).toBe(200);
    const list = await request(stack.http).get('/import-sources');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((s: { name: string; profile: string }) => [s.name, s.profile])).toEqual([
      ['hs-us', 'hubspot'],
      ['sf-emea', 'salesforce'],
    ]);
    const del = await request(stack.http).delete('/import-sources/sf-emea');
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ name: 'sf-emea', profile: 'salesforce', column_map: { territory: 'Region' }, deleted: true });
    expect((await request(stack.http).get('/import-sources')).body.items.map((s: { name: string }) => s.name)).toEqual(['hs-us']);
    expect((await request(stack.http).get('/import-sources/sf-emea')).status).toBe(404);
    const again = await request(stack.http).delete('/import-sources/sf-emea');
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ statusCode: 404, code: 'IMPORT_SOURCE_NOT_FOUND', details: { source: 'sf-emea' } });
    const upload = await request(stack.http).post('/opportunities/batches/csv?source=sf-emea').set('Content-Type', 'text/csv').send('Id,StageName,Region\n1,Closed Won,West\n');
    expect(upload.status).toBe(404);
    expect(upload.body.code).toBe('IMPORT_SOURCE_NOT_FOUND');
    // Audit: the two PUTs and the one successful DELETE (a 404 records nothing), with the source's name.
    const events: { action: string; entity_type: string; after: { name: string } }[] = await stack.dataSource.query(
      `SELECT action, entity_type, after FROM audit_events WHERE action LIKE '% /import-sources/:name' ORDER BY id`,
    );
    expect(events.length - before).toBe(3);
    expect(events.slice(before).map((e) => [e.action, e.entity_type, e.after.name])).toEqual([
      ['PUT /import-sources/:name', 'import-sources', 'sf-emea'],
      ['PUT /import-sources/:name', 'import-sources', 'hs-us'],
      ['DELETE /import-sources/:name', 'import-sources', 'sf-emea'],
    ]);
    // Role rule as for PUT: an analyst may list but not delete.
    const analyst = await stack.keyFor('analyst');
    expect((await request(stack.raw).get('/import-sources').set('x-api-key', analyst)).status).toBe(200);
    expect((await request(stack.raw).delete('/import-sources/hs-us').set('x-api-key', analyst)).status).toBe(403);
    expect((await request(stack.http).get('/import-sources/hs-us')).status).toBe(200);
  });
});
