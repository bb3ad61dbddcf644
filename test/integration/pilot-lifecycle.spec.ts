import request from 'supertest';
import { designAndLaunch } from '../factories/pilot.factory';
import { resetDatabase, startStack, TestStack, waitForReport } from '../utils/test-stack';

/** Territory CSV loads, pilot edits, assignment staleness and the launch/stop part of the lifecycle, through HTTP. */
describe('territories CSV and the pilot lifecycle', () => {
  let stack: TestStack;
  const codes = ['T01', 'T02', 'T03', 'T04', 'T05', 'T06'];
  const pilotBody = {
    name: 'Lifecycle',
    hypothesis: 'h',
    treatment_description: 't',
    eligibility: { regions: ['North', 'South'] },
    arms: [
      { key: 'control', role: 'control', ratio: 1 },
      { key: 'treatment', role: 'treatment', ratio: 1 },
    ],
    primary_kpi: 'win_rate',
    pre_period: { start: '2024-01-01', end: '2024-03-31' },
    test_period: { start: '2024-04-01', end: '2024-06-30' },
    design: { type: 'complete', seed: 3 },
  };

  beforeAll(async () => {
    stack = await startStack();
  });
  beforeEach(() => resetDatabase(stack.dataSource));
  afterAll(() => stack.close());

  function loadCsv(csv: string) {
    return request(stack.http).post('/territories/csv').attach('file', Buffer.from(csv), { filename: 't.csv', contentType: 'text/csv' });
  }

  it('loads territories from CSV with numeric covariates; a bad cell rejects the whole file with its row and column', async () => {
    const csv = '\ufeffcode,name,region,team,manager,quota,headcount\r\n' + codes.map((c, i) => `${c},Name ${c},${i < 3 ? 'North' : 'South'},,,${1000 * (i + 1)},${i + 2}`).join('\r\n') + '\r\n';
    const ok = await loadCsv(csv).expect(200);
    expect(ok.body).toEqual({ received: 6, created: 6, updated: 0 });
    const t = await request(stack.http).get('/territories/T02').expect(200);
    expect(t.body).toMatchObject({ code: 'T02', region: 'North', team: null, attributes: { quota: 2000, headcount: 3 } });

    const bad = await loadCsv('code,name,region,quota\r\nT07,N,North,12k\r\nT08,N,,5\r\n').expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.details).toEqual(
      expect.arrayContaining([
        { row: 1, path: 'quota', errors: ["'12k' is not a number"] },
        expect.objectContaining({ row: 2, path: 'region' }),
      ]),
    );
    const list = await request(stack.http).get('/territories?limit=100').expect(200);
    expect(list.body.total).toBe(6);
  });

  it('design edits discard the assignment (others keep it); a covariate change makes it stale; launch freezes; stop ends', async () => {
    await request(stack.http)
      .post('/territories')
      .send(codes.map((c, i) => ({ code: c, name: c, region: i < 3 ? 'North' : 'South', attributes: { quota: i } })))
      .expect(200);
    const pilot = await request(stack.http).post('/pilots').send(pilotBody).expect(201);
    const id = pilot.body.id;
    const experimenter = await stack.keyFor('experimenter');
    const asExperimenter = (path: string) => request(stack.raw).post(path).set('x-api-key', experimenter);

    await request(stack.http).post(`/pilots/${id}/reports`).expect(409);
    expect((await request(stack.http).post(`/pilots/${id}/launch`).expect(409)).body.code).toBe('INVALID_STATE'); // a draft is not approved
    await request(stack.http).post(`/pilots/${id}/assignment`).expect(201);
    const edited = await request(stack.http).patch(`/pilots/${id}`).send({ alpha: 0.1 }).expect(200);
    expect(edited.body).toMatchObject({ alpha: 0.1, assignment_discarded: false }); // alpha does not change the draw
    await request(stack.http).get(`/pilots/${id}/assignment`).expect(200);
    // The seed is stated before the first draw: after it, a new seed is refused (seed shopping).
    expect((await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'complete', seed: 4 } }).expect(409)).body.code).toBe('SEED_LOCKED');
    const redesigned = await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'stratified', stratify_by: 'region', seed: pilotBody.design.seed } }).expect(200);
    expect(redesigned.body).toMatchObject({ design: { type: 'stratified', seed: pilotBody.design.seed }, assignment_discarded: true });
    await request(stack.http).get(`/pilots/${id}/assignment`).expect(404);
    // A design edit with no stored assignment discards nothing, and says so.
    const redesignedAgain = await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'complete', seed: pilotBody.design.seed } }).expect(200);
    expect(redesignedAgain.body).toMatchObject({ design: { type: 'complete', seed: pilotBody.design.seed }, assignment_discarded: false });

    // Without a stored assignment the pilot cannot go to review (nor so be approved): 409, nothing changed.
    const unassigned = await request(stack.http).post(`/pilots/${id}/submit`).send({ reason: 'ready?' }).expect(409);
    expect(unassigned.body).toMatchObject({ code: 'ASSIGNMENT_REQUIRED', details: { pilot_id: id, status: 'draft' } });
    expect(unassigned.body.message).toContain(`POST /pilots/${id}/assignment`);
    expect((await request(stack.http).get(`/pilots/${id}`).expect(200)).body.status).toBe('draft');
    expect((await request(stack.http).get(`/pilots/${id}/transitions`).expect(200)).body.items).toEqual([]);
    const events = await request(stack.http).get(`/audit?pilot_id=${id}&entity_type=pilot&limit=500`).expect(200);
    expect(events.body.items.map((e: { action: string }) => e.action)).not.toContain('pilot.submit');
    expect((await asExperimenter(`/pilots/${id}/approve`).expect(409)).body.code).toBe('INVALID_STATE'); // still a draft

    // Every draw after the first is a redraw: it needs a reason.
    await request(stack.http).post(`/pilots/${id}/assignment`).expect(400);
    const a = await request(stack.http).post(`/pilots/${id}/assignment`).send({ reason: 'design back to complete' }).expect(201);
    expect(a.body.units).toHaveLength(6);
    expect(a.body.units.filter((u: { arm: string }) => u.arm === 'treatment')).toHaveLength(3);
    await request(stack.http).post(`/pilots/${id}/submit`).expect(200);
    await asExperimenter(`/pilots/${id}/approve`).expect(200);
    await request(stack.http).post('/territories').send([{ code: 'T01', name: 'T01', region: 'North', attributes: { quota: 99 } }]).expect(200);
    const stale = await request(stack.http).post(`/pilots/${id}/launch`).expect(409);
    expect(stale.body.code).toBe('ASSIGNMENT_STALE');
    await asExperimenter(`/pilots/${id}/return`).expect(200);

    await designAndLaunch(stack.http, id);
    const pilotRunning = await request(stack.http).get(`/pilots/${id}`).expect(200);
    expect(pilotRunning.body).toMatchObject({ status: 'running', plan_version: 2 }); // approved twice
    expect((await request(stack.http).post(`/pilots/${id}/launch`).expect(409)).body.code).toBe('INVALID_STATE');
    expect((await request(stack.http).patch(`/pilots/${id}`).send({ name: 'renamed' }).expect(409)).body.code).toBe('PILOT_FROZEN');
    const stopped = await request(stack.http).post(`/pilots/${id}/stop`).expect(200);
    expect(stopped.body.status).toBe('stopped');
    await request(stack.http).post(`/pilots/${id}/stop`).expect(409);
    const pilotNow = await request(stack.http).get(`/pilots/${id}`).expect(200);
    expect(pilotNow.body).toMatchObject({ status: 'stopped', name: 'Lifecycle' });
  });

  it('a report on territories without any opportunity says insufficient_data / zero_variance, with no NaN', async () => {
    await request(stack.http)
      .post('/territories')
      .send(codes.map((c, i) => ({ code: c, name: c, region: i < 3 ? 'North' : 'South' })))
      .expect(200);
    const pilot = await request(stack.http).post('/pilots').send({ ...pilotBody, secondary_kpis: ['opportunities'] }).expect(201);
    await designAndLaunch(stack.http, pilot.body.id);
    const r = await request(stack.http).post(`/pilots/${pilot.body.id}/reports`).expect(202);
    const done = await waitForReport(stack.http, pilot.body.id, r.body.report_id);
    const [winRate, opportunities] = done.result.kpis;
    expect(winRate).toMatchObject({ kpi: 'win_rate', status: 'insufficient_data', significant: null });
    expect(opportunities).toMatchObject({ kpi: 'opportunities', status: 'zero_variance', significant: null });
    expect(JSON.stringify(done.result)).not.toMatch(/NaN|Infinity/);
    expect(done.result.readout).toEqual({ test_period_complete: true, note: null }); // the test period ended 2024-06-30
  });

  it('a report that cannot be computed fails at once with its reason (permanent failure, no retries)', async () => {
    await request(stack.http)
      .post('/territories')
      .send(codes.map((c, i) => ({ code: c, name: c, region: i < 3 ? 'North' : 'South' })))
      .expect(200);
    const pilot = await request(stack.http).post('/pilots').send(pilotBody).expect(201);
    await designAndLaunch(stack.http, pilot.body.id);
    // Only a damaged database gets here (launch requires an assignment): remove it behind the API's back.
    await stack.dataSource.query('DELETE FROM assignments WHERE pilot_id = $1', [pilot.body.id]);
    const r = await request(stack.http).post(`/pilots/${pilot.body.id}/reports`).expect(202);
    const done = await waitForReport(stack.http, pilot.body.id, r.body.report_id, 10_000);
    expect(done).toMatchObject({ status: 'failed', result: null, error: expect.stringMatching(/has no assignment/) });
  });
});
