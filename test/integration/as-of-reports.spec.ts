import request from 'supertest';
import { designAndLaunch, ingest, loadTerritories, opportunityRow, OpportunityRowInput, pilot, territory } from '../factories';
import { resetDatabase, startStack, TestStack, waitForBatch, waitForReport } from '../utils/test-stack';

/**
 * Reports "as known at" a date (issue 13) through the HTTP API on real PostgreSQL and Redis: the
 * KPIs use each opportunity's stage, amount and close date rebuilt from the field history as of
 * that instant (falling back to the row versions known then), while a report without `as_of`
 * reads the current rows. Expected values are worked out by hand in the comments.
 */
describe('as-of reports from field histories', () => {
  let stack: TestStack;
  let pilotId: string;
  let c1: string;
  let t1: string;
  const codes = ['AS-1', 'AS-2', 'AS-3', 'AS-4'];
  // The CRM export arrives long after the as-of date, as a real user's would.
  const exported = '2024-04-20T00:00:00Z';
  const row = (o: OpportunityRowInput) => opportunityRow({ product: null, account: null, created_at: null, source_updated_at: exported, ...o });
  const report = async (body: Record<string, unknown> = {}) => {
    const res = await request(stack.http).post(`/pilots/${pilotId}/reports`).send(body).expect(202);
    const done = await waitForReport(stack.http, pilotId, res.body.report_id);
    expect(done).toMatchObject({ status: 'completed' });
    return done;
  };
  const kpisOf = (r: { result: { territories: { territory_code: string; period?: string; kpis: Record<string, number | null> }[] } }, code: string) =>
    r.result.territories.find((t) => t.territory_code === code)!.kpis;

  beforeAll(async () => {
    stack = await startStack();
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, codes.map((code) => territory({ code })));
    const created = await request(stack.http).post('/pilots').send(pilot(codes)).expect(201);
    pilotId = created.body.id;
    await designAndLaunch(stack.http, pilotId);
    const units: { territory_code: string; arm: string }[] = await stack.dataSource.query(
      `SELECT u.territory_code, u.arm FROM assignment_units u JOIN assignments a ON a.id = u.assignment_id WHERE a.pilot_id = $1 ORDER BY u.territory_code`,
      [pilotId],
    );
    c1 = units.find((u) => u.arm === 'control')!.territory_code;
    t1 = units.find((u) => u.arm === 'treatment')!.territory_code;

    // Current rows (test period 2024-01-01..03-31):
    // W-1 (c1) won on 2024-03-20 for 5000, i.e. AFTER the as-of date 2024-02-29;
    // E-1 (t1) won on 2024-02-01 for 1000, its amount edited to 1500 on 2024-03-10 (after close);
    // R-1 (c1) won 2024-01-30 for 700, no field history, its row known since 2024-01-30;
    // N-1 (c1) no history and no row version before the export: not known on 2024-02-29.
    await ingest(stack.http, [
      row({ opportunity_id: 'W-1', territory: c1, stage: 'Won', amount: '5000.00', engage_date: '2024-01-10', close_date: '2024-03-20' }),
      row({ opportunity_id: 'E-1', territory: t1, stage: 'Won', amount: '1500.00', engage_date: '2024-01-05', close_date: '2024-02-01' }),
      row({ opportunity_id: 'R-1', territory: c1, stage: 'Won', amount: '700.00', engage_date: '2024-01-15', close_date: '2024-01-30', source_updated_at: '2024-01-30T12:00:00Z' }),
      row({ opportunity_id: 'N-1', territory: c1, stage: 'Won', amount: '300.00', engage_date: '2024-02-05', close_date: '2024-03-01' }),
    ]);
    const history = await request(stack.http)
      .post('/opportunities/history')
      .send({
        records: [
          { OpportunityId: 'W-1', CreatedDate: '2024-01-10T09:00:00Z', StageName: 'Prospecting', Amount: '4000', CloseDate: '2024-03-31' },
          { OpportunityId: 'W-1', CreatedDate: '2024-03-20T16:00:00Z', Field: 'Amount', OldValue: '4000', NewValue: '5000' },
          { OpportunityId: 'W-1', CreatedDate: '2024-03-20T16:00:00Z', Field: 'CloseDate', OldValue: '2024-03-31', NewValue: '2024-03-20' },
          { OpportunityId: 'W-1', CreatedDate: '2024-03-20T16:00:00Z', Field: 'StageName', OldValue: 'Prospecting', NewValue: 'Closed Won' },
          { OpportunityId: 'E-1', CreatedDate: '2024-01-05T09:00:00Z', StageName: 'Qualification', Amount: '1000', CloseDate: '2024-02-15' },
          { OpportunityId: 'E-1', CreatedDate: '2024-02-01T11:00:00Z', Field: 'StageName', OldValue: 'Qualification', NewValue: 'Closed Won' },
          { OpportunityId: 'E-1', CreatedDate: '2024-02-01T11:00:00Z', Field: 'CloseDate', OldValue: '2024-02-15', NewValue: '2024-02-01' },
          { OpportunityId: 'E-1', CreatedDate: '2024-03-10T08:00:00Z', Field: 'Amount', OldValue: '1000', NewValue: '1500' },
        ],
      })
      .expect(200);
    expect(history.body.rejected_rows).toEqual([]);
    expect(history.body.anomalies.map((a: { opportunity_id: string; kind: string }) => [a.opportunity_id, a.kind])).toEqual([['E-1', 'amount_edit_after_close']]);
  });
  afterAll(() => stack?.close());

  it('shows the state known at the as-of date (deal still open, amount before the edit); the current report the new one', async () => {
    const current = await report();
    expect(current.result.data.as_of_state).toBeNull();
    // c1: W-1 5000 + R-1 700 + N-1 300 won; t1: E-1 with its edited amount.
    expect(kpisOf(current, c1)).toMatchObject({ revenue_won: 6000, opportunities: 3, open_deals: 0 });
    expect(kpisOf(current, t1)).toMatchObject({ revenue_won: 1500 });

    const asOf = await report({ as_of: '2024-02-29' });
    // A day means the end of that UTC day.
    expect(asOf.as_of).toBe('2024-02-29T23:59:59.999Z');
    expect(asOf.result.data.as_of).toBe('2024-02-29T23:59:59.999Z');
    // c1: W-1 was a 4000 Prospecting deal then (open), R-1 won 700, N-1 unknown; t1: E-1 won at 1000.
    expect(kpisOf(asOf, c1)).toMatchObject({ revenue_won: 700, opportunities: 2, open_deals: 1 });
    expect(kpisOf(asOf, t1)).toMatchObject({ revenue_won: 1000, average_deal_size: 1000 });
    expect(asOf.result.data.as_of_state).toMatchObject({
      as_of: '2024-02-29T23:59:59.999Z',
      from_field_history: 2, // W-1, E-1
      from_row_versions: 1,
      history_without_opportunity: 0,
    });
    expect(asOf.result.data.as_of_state.note).toContain('field history');
    const page = await request(stack.http).get(`/pilots/${pilotId}/reports/${asOf.report_id}.html`).expect(200);
    expect(page.text).toContain('As-of instant');
    expect(page.text).toContain('rebuilt from the field history for 2 deal(s)');

    // After both changes the as-of report agrees with the current one.
    const later = await report({ as_of: '2024-04-25T00:00:00Z' });
    expect(kpisOf(later, c1)).toEqual(kpisOf(current, c1));
    expect(kpisOf(later, t1)).toEqual(kpisOf(current, t1));
  });

  it('reads the same state as GET /opportunities/:id/as-of', async () => {
    const at = '2024-02-29T23:59:59.999Z';
    const w = await request(stack.http).get('/opportunities/W-1/as-of').query({ at }).expect(200);
    expect(w.body).toMatchObject({ stage: 'Prospecting', status: 'open', amount: '4000.00', close_date: '2024-03-31' });
    const e = await request(stack.http).get('/opportunities/E-1/as-of').query({ at }).expect(200);
    expect(e.body).toMatchObject({ status: 'won', amount: '1000.00', close_date: '2024-02-01' });
  });

  it('refuses an impossible day or a zone-less timestamp with a 400 and stores no report', async () => {
    const [{ n: before }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM reports`);
    for (const as_of of ['2024-02-30', '2024-02-29T10:00:00', '29/02/2024']) {
      const res = await request(stack.http).post(`/pilots/${pilotId}/reports`).send({ as_of }).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.details[0].path).toBe('as_of');
    }
    const [{ n: after }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM reports`);
    expect(after).toBe(before);
  });

  it('a snapshot-profile import feeds the as-of through its daily row versions', async () => {
    // S-1 (t1): open on the 2024-02-20 snapshot, won for 800 on the 2024-03-25 one.
    const res = await request(stack.http)
      .post('/opportunities/batches?profile=snapshot')
      .send({
        rows: [
          { snapshot_date: '2024-02-20', opportunity_id: 'S-1', territory: t1, stage: 'Engaging', amount: '800', engage_date: '2024-02-10', close_date: '' },
          { snapshot_date: '2024-03-25', opportunity_id: 'S-1', territory: t1, stage: 'Won', amount: '800', engage_date: '2024-02-10', close_date: '2024-03-25' },
        ],
      })
      .expect(202);
    expect((await waitForBatch(stack.http, res.body.batch_id)).status).toBe('completed');
    const current = await report();
    expect(kpisOf(current, t1)).toMatchObject({ revenue_won: 2300, opportunities: 2 });
    const asOf = await report({ as_of: '2024-02-29T12:00:00Z' });
    // E-1 at 1000 (field history); S-1 open (its 2024-02-20 snapshot, a row version).
    expect(kpisOf(asOf, t1)).toMatchObject({ revenue_won: 1000, opportunities: 2, open_deals: 1 });
    expect(asOf.result.data.as_of_state).toMatchObject({ from_field_history: 2, from_row_versions: 2 });
  });

  it('pins the field histories it read: a later upload changes a new as-of report, not a recomputation with the pin', async () => {
    const first = await report({ as_of: '2024-02-29' });
    const pin = first.result.data.as_of_state.history_received_by;
    // A late upload of an old change: E-1's amount was corrected from 1000 to 1100 on 2024-02-15.
    await request(stack.http)
      .post('/opportunities/history')
      .send({ records: [{ OpportunityId: 'E-1', CreatedDate: '2024-02-15T09:00:00Z', Field: 'Amount', OldValue: '1000', NewValue: '1100' }] })
      .expect(200);
    const fresh = await report({ as_of: '2024-02-29' });
    expect(kpisOf(fresh, t1).revenue_won! - kpisOf(first, t1).revenue_won!).toBeCloseTo(100, 6);
    expect(fresh.result.data.as_of_state.history_received_by > pin).toBe(true);
    const pinned = await report({ as_of: '2024-02-29', history_received_by: pin });
    expect(pinned.result.data.as_of_state.history_received_by).toBe(pin);
    expect(pinned.result.territories).toEqual(first.result.territories);
    expect(pinned.result.kpis).toEqual(first.result.kpis);
    const bad = await request(stack.http).post(`/pilots/${pilotId}/reports`).send({ history_received_by: pin }).expect(400);
    expect(bad.body.details[0].path).toBe('history_received_by');
  });

  it("a design's pre_period_as_of reads its covariates as known then, stored in the design and its hash: a redraw replays exactly", async () => {
    // Pre-period 2024-01-01..02-29. As known at its end: c1 R-1 won 700; t1 E-1 won at 1100 (the
    // 2024-02-15 correction of the test above). Now: t1 E-1 at 1500 (edited after close on 03-10).
    const body = (design: Record<string, unknown>) =>
      pilot(codes, { name: 'as-of design', pre_period: { start: '2024-01-01', end: '2024-02-29' }, test_period: { start: '2024-03-01', end: '2024-05-31' }, design });
    const covariates = async (id: string) =>
      new Map(
        (
          await stack.dataSource.query(
            `SELECT u.territory_code, (u.covariates->>'pre_period_revenue_won')::float AS v FROM assignment_units u JOIN assignments a ON a.id = u.assignment_id WHERE a.pilot_id = $1`,
            [id],
          )
        ).map((r: { territory_code: string; v: number }) => [r.territory_code, r.v]),
      );
    const bad = await request(stack.http).post('/pilots').send(body({ type: 'matched_pairs', seed: 7, pair_on: 'pre_period_revenue_won', pre_period_as_of: '2024-02-30' })).expect(400);
    expect(bad.body.details[0].path).toBe('design.pre_period_as_of');

    const asOfPilot = (await request(stack.http).post('/pilots').send(body({ type: 'matched_pairs', seed: 7, pair_on: 'pre_period_revenue_won', pre_period_as_of: '2024-02-29' })).expect(201)).body.id;
    const nowPilot = (await request(stack.http).post('/pilots').send(body({ type: 'matched_pairs', seed: 7, pair_on: 'pre_period_revenue_won' })).expect(201)).body.id;
    const drawn = (await request(stack.http).post(`/pilots/${asOfPilot}/assignment`).send({ reason: 'first draw' }).expect(201)).body;
    const drawnNow = (await request(stack.http).post(`/pilots/${nowPilot}/assignment`).send({ reason: 'first draw' }).expect(201)).body;
    expect(drawn.design.pre_period_as_of).toBe('2024-02-29T23:59:59.999Z');
    expect(drawn.balance.primary_kpi_pre_period.as_of).toBe('2024-02-29T23:59:59.999Z');
    expect(drawnNow.design.pre_period_as_of).toBeUndefined();
    const [asOfCov, nowCov] = [await covariates(asOfPilot), await covariates(nowPilot)];
    expect([asOfCov.get(c1), asOfCov.get(t1)]).toEqual([700, 1100]);
    expect([nowCov.get(c1), nowCov.get(t1)]).toEqual([700, 1500]);
    expect(drawn.inputs_hash).not.toBe(drawnNow.inputs_hash);

    // A later change (after the as-of instant) moves the current covariates, not the as-of design's:
    // a redraw with the plan's seed gives the same inputs hash and assignment.
    await request(stack.http)
      .post('/opportunities/history')
      .send({ records: [{ OpportunityId: 'E-1', CreatedDate: '2024-04-01T09:00:00Z', Field: 'Amount', OldValue: '1500', NewValue: '1600' }] })
      .expect(200);
    const redrawn = (await request(stack.http).post(`/pilots/${asOfPilot}/assignment`).send({ reason: 'replay after a later history upload' }).expect(201)).body;
    expect(redrawn.inputs_hash).toBe(drawn.inputs_hash);
    expect(redrawn.units).toEqual(drawn.units);
    expect((await covariates(asOfPilot)).get(t1)).toBe(1100);

    // Its reports read the pre-period as known at the design's instant too (the covariate it
    // balanced on); the test period as the report asks (here: the current rows).
    // (the first pilot holds the territories while running: stop it)
    const stop = await request(stack.http).post(`/pilots/${pilotId}/stop`).send({ reason: 'territories reused by the as-of design pilot' });
    expect(stop.status).toBe(200);
    const again = await designAndLaunch(stack.http, asOfPilot);
    expect(again.inputs_hash).toBe(drawn.inputs_hash);
    const res = await request(stack.http).post(`/pilots/${asOfPilot}/reports`).send({}).expect(202);
    const done = await waitForReport(stack.http, asOfPilot, res.body.report_id);
    expect(done).toMatchObject({ status: 'completed' });
    expect(done.result.data.pre_period_as_of).toBe('2024-02-29T23:59:59.999Z');
    const terr = (code: string) => done.result.territories.find((t: { territory_code: string }) => t.territory_code === code);
    expect(terr(t1).pre_period_kpis.revenue_won).toBe(1100);
    expect(terr(c1).pre_period_kpis.revenue_won).toBe(700);
    // test period 2024-03-01..05-31: W-1 (engaged in January) is not in it; nothing engaged then
    expect(terr(c1).kpis.opportunities).toBe(0);
  });
});
