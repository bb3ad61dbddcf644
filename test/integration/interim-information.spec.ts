import request from 'supertest';
import { ReportBuilderService } from '../../src/reports/building/report-builder.service';
import { InterimLookService } from '../../src/governance/interim-look.service';
import { opportunityRow, ingest } from '../factories/opportunity.factory';
import { designAndLaunch, pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { loadReference } from '../fixtures/reference/compare';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

const CODES = Array.from({ length: 8 }, (_, i) => `T-I${String(i + 1).padStart(2, '0')}`);

/** α spent by O'Brien–Fleming looks at 0.5 then 1 (sequential.json, case [0.5, 1], alpha 0.05): the first look's cumulative spend. */
const ALPHA_AT_HALF = (() => {
  const c = loadReference<{ information_fractions: number[]; alpha: number }>('sequential').cases.find(
    (x) => JSON.stringify(x.input.information_fractions) === '[0.5,1]' && x.input.alpha === 0.05,
  )!;
  return (c.expected as { cumulative_alpha_spent: number[] }).cumulative_alpha_spent[0];
})();

/**
 * An amendment that extends the test period after a look was taken makes the next look's
 * information fraction fall below the completed one's. The completed look keeps its fraction and
 * its alpha; the new look spends none, and the report flags "information decreased".
 */
describe('interim looks after an amendment that lowers the information fraction', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // No governance consumer: the looks are taken by hand with their own "today".
    stack = await startStack({ overrides: { WORKER_QUEUES: 'ingestion,analysis,rollups' } });
  });
  beforeEach(() => resetDatabase(stack.dataSource));
  afterAll(() => stack.close());

  it('alpha already spent stays spent; the later look spends none and the report says information decreased', async () => {
    await loadTerritories(stack.http, CODES.map((code) => territory({ code, region: 'Central' })));
    await ingest(
      stack.http,
      CODES.flatMap((code, i) => [
        opportunityRow({ territory: code, amount: String(1000 + 100 * i), engage_date: '2029-11-01', close_date: '2029-11-20' }),
        opportunityRow({ territory: code, amount: String(900 + 137 * ((i * 7) % 11)), engage_date: '2030-01-05', close_date: '2030-01-20' }),
        opportunityRow({ territory: code, amount: String(800 + 91 * ((i * 5) % 7)), engage_date: '2030-02-01', close_date: '2030-02-25' }),
      ]),
    );
    // 100 days of test period; the look on day 50 is at information fraction 0.5.
    const p = await request(stack.http)
      .post('/pilots')
      .send(pilot(CODES, { pre_period: { start: '2029-10-01', end: '2029-12-31' }, test_period: { start: '2030-01-01', end: '2030-04-10' }, interim_looks: ['2030-02-19'] }))
      .expect(201);
    const id = p.body.id;
    await designAndLaunch(stack.http, id);
    const worker = await stack.startWorker();
    const looks = worker.get(InterimLookService);
    const analysis = worker.get(ReportBuilderService);
    const compute = (reportId: string) => analysis.computeReport(reportId);
    expect(await looks.sweep(compute, '2030-02-20')).toBe(1);
    const first = (await request(stack.http).get(`/pilots/${id}/interim-looks`).expect(200)).body.taken[0];
    expect(first).toMatchObject({ look_number: 1, information_fraction: 0.5, status: 'completed' });
    expect(first.result.cumulative_alpha_spent).toBeCloseTo(ALPHA_AT_HALF, 10);

    // The test period is doubled and a look added on day 60: 60/200 = 0.3 < 0.5.
    const proposer = request(stack.raw);
    const proposerKey = await stack.keyFor('experimenter', true);
    const approverKey = await stack.keyFor('experimenter', true);
    await proposer
      .post(`/pilots/${id}/plan/amendments`)
      .set('x-api-key', proposerKey)
      .send({ changes: { test_period: { start: '2030-01-01', end: '2030-07-19' }, interim_looks: ['2030-02-19', '2030-03-01'] }, reason: 'the pilot runs longer' })
      .expect(201);
    await request(stack.raw).post(`/pilots/${id}/plan/amendments/2/approve`).set('x-api-key', approverKey).expect(200);
    expect(await looks.sweep(compute, '2030-03-02')).toBe(1);

    const taken = (await request(stack.http).get(`/pilots/${id}/interim-looks`).expect(200)).body.taken;
    expect(taken.map((l: { look_number: number; date: string; information_fraction: number }) => `${l.look_number}:${l.date}:${l.information_fraction}`)).toEqual([
      '1:2030-02-19:0.5',
      '2:2030-03-01:0.3',
    ]);
    const second = taken[1].result;
    // Not α(0.3) (about 8.5e-5): the 0.00305 that look 1 spent stays spent, and look 2 spends nothing.
    expect(second.cumulative_alpha_spent).toBeCloseTo(ALPHA_AT_HALF, 10);
    expect(second).toMatchObject({ information_fraction: 0.3, information_decreased: true, incremental_alpha: 0, z_boundary: null, recommendation: 'continue' });
    expect(second.crosses === null || second.crosses === false).toBe(true);
    expect(second.reason).toMatch(/information decreased/);

    const report = (await request(stack.http).get(`/pilots/${id}/reports/${taken[1].report_id}`).expect(200)).body.result.sequential;
    expect(report.looks_taken).toEqual([expect.objectContaining({ look_number: 1, information_fraction: 0.5, cumulative_alpha_spent: first.result.cumulative_alpha_spent })]);
    expect(report.information_decreased).toMatchObject({ information_fraction: 0.3, completed_look_number: 1, completed_information_fraction: 0.5 });
    expect(report.information_decreased.cumulative_alpha_spent).toBeCloseTo(ALPHA_AT_HALF, 10);
    expect(report.note).toMatch(/information decreased/);
    expect(JSON.stringify(report)).not.toMatch(/NaN|Infinity/);
    const html = await request(stack.http).get(`/pilots/${id}/reports/${taken[1].report_id}.html`).expect(200);
    expect(html.text).toContain('information decreased');
  }, 300_000);
});
