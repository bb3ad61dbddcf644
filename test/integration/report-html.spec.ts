import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import request from 'supertest';
import type { PilotReport } from '../../src/reports/report.types';
import { parseCsvBuffer } from '../../src/common/utils/csv';
import { PipelineRow, SalesTeamRow } from '../../src/demo/crm-dataset';
import { KPI_KEYS } from '../../src/kpis/kpi-catalogue';
import { CHARTS, SECTIONS } from '../../src/reports/rendering/report-html.renderer';
import { ReportExportService } from '../../src/reports/rendering/report-export.service';
import { ReportsService } from '../../src/reports/reports.service';
import { designAndLaunch, pilot as pilotBody } from '../factories/pilot.factory';
import { resetDatabase, startStack, TestStack, waitForBatch, waitForReport } from '../utils/test-stack';

/**
 * The HTML page and the CSV exports of a report through the HTTP API (real PostgreSQL, Redis,
 * worker), on the small hand-made CRM fixture.
 */
const FIXTURE = join(__dirname, '..', 'fixtures', 'crm-small');
const PRE = { start: '2024-01-01', end: '2024-03-31' };
const TEST = { start: '2024-04-01', end: '2024-06-30' };
const pipeline = parseCsvBuffer(readFileSync(join(FIXTURE, 'sales_pipeline.csv'))) as unknown as PipelineRow[];
const teams = parseCsvBuffer(readFileSync(join(FIXTURE, 'sales_teams.csv'))) as unknown as SalesTeamRow[];
const active = [...new Set(pipeline.map((r) => r.sales_agent))].sort();

describe('report as HTML and CSV', () => {
  let stack: TestStack;
  let pilotId: string;
  let reportId: string;
  let result: PilotReport;

  beforeAll(async () => {
    stack = await startStack();
    await resetDatabase(stack.dataSource);
    const http = stack.http;
    await request(http)
      .post('/territories')
      .send(teams.map((t) => ({ code: t.sales_agent, name: t.sales_agent, region: t.regional_office, team: t.manager })))
      .expect(200);
    const created = await request(http)
      .post('/pilots')
      .send(
        pilotBody(active, {
          primary_kpi: 'sales_velocity',
          secondary_kpis: ['opportunities', 'win_rate', 'revenue_won'],
          guardrail_kpis: ['open_deals'],
          pre_period: PRE,
          test_period: TEST,
          design: { type: 'stratified', stratify_by: 'region', seed: 7 },
          monthly_cost: 2500,
        }),
      )
      .expect(201);
    pilotId = created.body.id;
    expect(created.body.monthly_cost).toBe(2500);
    await designAndLaunch(http, pilotId);
    const csv = stringify(pipeline, { header: true, columns: Object.keys(pipeline[0]) });
    const batch = await request(http).post('/opportunities/batches/csv').attach('file', Buffer.from(csv), { filename: 'p.csv', contentType: 'text/csv' }).expect(202);
    await waitForBatch(http, batch.body.batch_id);
    const requested = await request(http).post(`/pilots/${pilotId}/reports`).expect(202);
    reportId = requested.body.report_id;
    const done = await waitForReport(http, pilotId, reportId);
    expect(done.status).toBe('completed');
    result = done.result;
  });
  afterAll(() => stack.close());

  it('stores the weekly series, the pre-period values and the cost in the report', () => {
    expect(result.pilot.monthly_cost).toBe(2500);
    expect(result.weekly_primary_kpi!.kpi).toBe('sales_velocity');
    expect(result.weekly_primary_kpi!.weeks.some((w) => w.period === 'pre')).toBe(true);
    expect(result.weekly_primary_kpi!.weeks.some((w) => w.period === 'test')).toBe(true);
    expect(result.territories.every((t) => t.pre_period_kpis && 'opportunities' in t.pre_period_kpis)).toBe(true);
  });

  it('the weekly series covers each period from its first to its last day without gaps', () => {
    for (const [period, window] of [['pre', PRE], ['test', TEST]] as const) {
      const weeks = result.weekly_primary_kpi!.weeks.filter((w) => w.period === period);
      expect(weeks[0].week_start).toBe(window.start);
      expect(weeks[weeks.length - 1].week_end).toBe(window.end);
      const days = weeks.reduce((s, w) => s + w.days, 0);
      expect(days).toBe((Date.parse(window.end) - Date.parse(window.start)) / 86_400_000 + 1);
      for (const w of weeks) expect(w.arms.map((a) => a.arm)).toEqual(['control', 'treatment']);
    }
  });

  it('GET with Accept: text/html and with the .html suffix returns the same self-contained page', async () => {
    const byAccept = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8').expect(200);
    expect(byAccept.headers['content-type']).toMatch(/^text\/html/);
    const bySuffix = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}.html`).expect(200);
    expect(bySuffix.headers['content-type']).toMatch(/^text\/html/);
    // both serve the page stored when the report completed: the same bytes
    expect(bySuffix.text).toBe(byAccept.text);
    const html = bySuffix.text;
    // served with the security headers: the page's inline CSS must be allowed (it has no script to allow)
    const csp = String(bySuffix.headers['content-security-policy'] ?? '');
    expect(csp).toMatch(/style-src[^;]*'unsafe-inline'/);
    for (const s of SECTIONS) expect(html).toContain(`<section id="${s.id}"`);
    for (const c of CHARTS) expect(html).toContain(`data-chart="${c}"`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    // the return on the pilot is shown because the pilot declares its cost
    expect(html).toMatch(/<section id="return"[\s\S]*Cost: 2,500 per month/);
    // the balance table and the regions come from the assignment
    expect(html).toMatch(/<section id="balance"[\s\S]*pre_period_sales_velocity/);
    for (const region of new Set(teams.map((t) => t.regional_office))) expect(html).toContain(`data-region="${region}"`);
  });

  it('the worker stores the page when it completes the report; the served page is that page, byte for byte a fresh render', async () => {
    const [row] = await stack.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [reportId]);
    expect(typeof row.html).toBe('string');
    expect(row.html).toMatch(/^<!DOCTYPE html>/);
    const served = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}.html`).expect(200);
    expect(served.text).toBe(row.html);
    // what every read rendered before pages were stored: the same renderer on the row read back now
    const fresh = await stack.app.get(ReportExportService).freshHtml(pilotId, reportId);
    expect(fresh).toBe(row.html);
  });

  it('serves the stored page without rendering it again', async () => {
    const [{ html }] = await stack.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [reportId]);
    const marker = '<!DOCTYPE html>\n<p>the stored page</p>\n';
    await stack.dataSource.query(`UPDATE reports SET html = $2 WHERE id = $1`, [reportId, marker]);
    try {
      const byAccept = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).set('accept', 'text/html').expect(200);
      expect(byAccept.text).toBe(marker);
      const bySuffix = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}.html`).expect(200);
      expect(bySuffix.text).toBe(marker);
    } finally {
      await stack.dataSource.query(`UPDATE reports SET html = $2 WHERE id = $1`, [reportId, html]);
    }
  });

  it('a completed report stored without a page (completed before pages were stored) is rendered once, stored and served', async () => {
    const [{ html: before }] = await stack.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [reportId]);
    await stack.dataSource.query(`UPDATE reports SET html = NULL WHERE id = $1`, [reportId]);
    const served = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}.html`).expect(200);
    expect(served.headers['content-type']).toMatch(/^text\/html/);
    const [{ html: after }] = await stack.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [reportId]);
    expect(after).toBe(served.text);
    expect(after).toBe(before);
  });

  it('a report that is not completed gets the status page, which is not stored', async () => {
    const [{ id }] = await stack.dataSource.query(`INSERT INTO reports (pilot_id, status, error, completed_at) VALUES ($1, 'failed', 'no data', now()) RETURNING id`, [pilotId]);
    const page = await request(stack.http).get(`/pilots/${pilotId}/reports/${id}.html`).expect(200);
    expect(page.text).toContain('data-status="failed"');
    expect(page.text).toContain('The report failed: no data.');
    const [{ html }] = await stack.dataSource.query(`SELECT html FROM reports WHERE id = $1`, [id]);
    expect(html).toBeNull();
  });

  it('JSON answers do not carry the page', async () => {
    const one = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).expect(200);
    expect(one.body.result.report_id).toBe(reportId);
    expect(JSON.stringify(one.body)).not.toContain('<!DOCTYPE');
    expect(Object.keys(one.body)).not.toContain('html');
    const list = await request(stack.http).get(`/pilots/${pilotId}/reports`).expect(200);
    expect(list.body.length).toBeGreaterThan(0);
    expect(JSON.stringify(list.body)).not.toContain('<!DOCTYPE');
  });

  it('POST /reports does not wait for a worker that holds the report row (it computes for seconds)', async () => {
    // A worker locks the row (SELECT ... FOR UPDATE) as soon as it takes the job, for the whole computation.
    const qr = stack.dataSource.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    await qr.query(`SELECT id FROM reports WHERE id = $1 FOR UPDATE`, [reportId]);
    // the "worker" finishes after 2 s; waiting for it would take that long
    const released = new Promise<void>((resolve) => setTimeout(() => void qr.rollbackTransaction().then(() => qr.release()).then(resolve), 2_000));
    const started = Date.now();
    const marked = await stack.app.get(ReportsService).markEnqueued(reportId);
    const waitedMs = Date.now() - started;
    await released;
    expect(waitedMs).toBeLessThan(1_000);
    expect(marked).toBe(false);
    // with nobody holding the row, the enqueue is recorded
    expect(await stack.app.get(ReportsService).markEnqueued(reportId)).toBe(true);
  });

  it('the JSON answer is the stored result text as stored, byte for byte the old parse-and-stringify answer', async () => {
    const service = stack.app.get(ReportsService);
    const plain = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).expect(200);
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    expect(plain.text).toBe(JSON.stringify(await service.get(pilotId, reportId, true)));
    // Stored with other whitespace, the result must come back verbatim: the API did not re-serialize it.
    const [{ text }]: { text: string }[] = await stack.dataSource.query(`SELECT result::text AS text FROM reports WHERE id = $1`, [reportId]);
    const spaced = JSON.stringify(JSON.parse(text), null, 1);
    await stack.dataSource.query(`UPDATE reports SET result = $2::json WHERE id = $1`, [reportId, spaced]);
    try {
      const res = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).expect(200);
      expect(res.text.endsWith(`,"result":${spaced}}`)).toBe(true);
      expect(res.body).toEqual(plain.body);
      const slim = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}?include_territories=false`).expect(200);
      expect(slim.body.result.territories).toBeUndefined();
      expect(slim.body.result.pilot).toEqual(plain.body.result.pilot);
    } finally {
      await stack.dataSource.query(`UPDATE reports SET result = $2::json WHERE id = $1`, [reportId, text]);
    }
  });

  it('JSON stays the default (no Accept, or */*)', async () => {
    const res = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).set('accept', '*/*').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.result.report_id).toBe(reportId);
  });

  it('exports the KPI result table as CSV with the stored numbers', async () => {
    const res = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}/kpis.csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsvBuffer(res.text);
    expect(rows.map((r) => r.kpi)).toEqual(result.kpis.map((k) => k.kpi));
    rows.forEach((r, i) => {
      const k = result.kpis[i];
      expect(r.treatment_mean).toBe(k.treatment.mean === null ? '' : String(k.treatment.mean));
      expect(r.decision_p).toBe(k.decision_p === null ? '' : String(k.decision_p));
    });
  });

  it('exports territory KPI values per arm and period as CSV (pre-period and test period)', async () => {
    const res = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}/territories.csv`).expect(200);
    const rows = parseCsvBuffer(res.text);
    expect(rows).toHaveLength(2 * result.territories.length);
    for (const t of result.territories) {
      const test = rows.find((r) => r.territory_code === t.territory_code && r.period === 'test')!;
      const pre = rows.find((r) => r.territory_code === t.territory_code && r.period === 'pre')!;
      expect(test.arm).toBe(t.arm);
      expect(test.region).toBe(teams.find((x) => x.sales_agent === t.territory_code)!.regional_office);
      for (const k of KPI_KEYS) {
        expect(test[k]).toBe(t.kpis[k] === null ? '' : String(t.kpis[k]));
        expect(pre[k]).toBe(t.pre_period_kpis![k] === null ? '' : String(t.pre_period_kpis![k]));
      }
    }
  });

  it('unknown report: 404 in the error shape; a bad id: 400', async () => {
    const missing = await request(stack.http).get(`/pilots/${pilotId}/reports/00000000-0000-4000-8000-000000000000.html`).expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'REPORT_NOT_FOUND' });
    const bad = await request(stack.http).get(`/pilots/${pilotId}/reports/nope/kpis.csv`).expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });
});
