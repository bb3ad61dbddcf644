import request from 'supertest';
import { ingest, opportunityRow } from '../factories/opportunity.factory';
import { designAndLaunch, pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { analyseFewTreated } from '../../src/stats/synthetic/few-treated';
import { resetDatabase, startStack, TestStack, waitForReport } from '../utils/test-stack';

/**
 * Few-treated pilots in the governed flow (issue 12): `design: "chosen"` names the treated
 * territories; the donor pool leaves out excluded, reserved (running pilot) and incomplete
 * territories and says why; the assignment is stored, audited and replayable; bad input is a 422
 * with the reason and what to change, and nothing is stored.
 */
describe('few-treated pilots: design "chosen"', () => {
  let stack: TestStack;
  // C01..C10 have deals every week of the pre-period; L01..L03 start in December (incomplete); R01..R04 are in another running pilot
  const full = Array.from({ length: 10 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`);
  const late = ['L01', 'L02', 'L03'];
  const reserved = ['R01', 'R02', 'R03', 'R04'];
  const pre = { start: '2023-10-02', end: '2023-12-31' };

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, [...full, ...late, ...reserved].map((code) => territory({ code, region: 'North' })));
    const rows = [];
    for (const [i, code] of [...full, ...reserved, ...late].entries()) {
      const first = late.includes(code) ? new Date('2023-12-04T00:00:00Z') : new Date('2023-10-02T00:00:00Z');
      for (let d = new Date(first); d <= new Date('2024-03-25T00:00:00Z'); d.setUTCDate(d.getUTCDate() + 7)) {
        const day = d.toISOString().slice(0, 10);
        rows.push(opportunityRow({ territory: code, amount: String(1000 + 100 * i), engage_date: day, close_date: day }));
      }
    }
    await ingest(stack.http, rows);
  });

  async function createPilot(codes: string[], design: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return request(stack.http)
      .post('/pilots')
      .send(pilot(codes, { pre_period: pre, design, arms: [{ key: 'control', role: 'control' }, { key: 'treatment', role: 'treatment' }], ...extra }));
  }

  async function storedCounts(pilotId: string) {
    const [a] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM assignments WHERE pilot_id = $1`, [pilotId]);
    const [d] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM assignment_draws WHERE pilot_id = $1`, [pilotId]);
    const [e] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE pilot_id = $1 AND action = 'assignment.drawn'`, [pilotId]);
    return { assignments: a.n, draws: d.n, audit: e.n };
  }

  it('the named treated territories are treated; excluded, reserved and incomplete territories leave the donor pool with why; audited and replayable', async () => {
    // another pilot runs on R01..R04: they are reserved
    const other = await request(stack.http).post('/pilots').send(pilot(reserved, { name: 'Other pilot', pre_period: pre, design: { type: 'complete', seed: 1 } })).expect(201);
    await designAndLaunch(stack.http, other.body.id);

    const created = await createPilot([...full, 'L01', 'R01'], { type: 'chosen', treated: ['C02', 'C01'], constraints: { exclude: ['C03'] } });
    expect(created.status).toBe(201);
    expect(created.body.design).toMatchObject({ type: 'chosen', treated: ['C02', 'C01'] });
    const id = created.body.id as string;

    const drawn = await request(stack.http).post(`/pilots/${id}/assignment`).expect(201);
    const arms = Object.fromEntries(drawn.body.units.map((u: any) => [u.territory_code, u.arm]));
    expect(arms).toEqual({
      C01: 'treatment',
      C02: 'treatment',
      ...Object.fromEntries(full.slice(3).map((c) => [c, 'control'])),
    });
    const d = drawn.body.design;
    expect(d.type).toBe('chosen');
    expect(d.treated).toEqual(['C01', 'C02']);
    expect(d.arms).toEqual([
      { key: 'control', role: 'control', count: 7 },
      { key: 'treatment', role: 'treatment', count: 2 },
    ]);
    expect(d.donor_pool.donors).toEqual(full.slice(3));
    expect(d.donor_pool.pre_weeks).toBe(13);
    expect(d.donor_pool.left_out.map((l: any) => [l.code, l.reason])).toEqual([
      ['C03', 'excluded'],
      ['L01', 'incomplete_pre_period'],
      ['R01', 'reserved'],
    ]);
    const lateRow = d.donor_pool.left_out.find((l: any) => l.code === 'L01');
    expect(lateRow.missing_weeks).toHaveLength(9); // Oct 2 … Nov 27: before its first deal (Dec 4)
    expect(lateRow.detail).toMatch(/before its first recorded opportunity/);
    const reservedRow = d.donor_pool.left_out.find((l: any) => l.code === 'R01');
    expect(reservedRow.pilots).toEqual([{ pilot_id: other.body.id, name: 'Other pilot' }]);
    expect(drawn.body.algorithm_version).toMatch(/^pilotlab-chosen@1/);

    expect(await storedCounts(id)).toEqual({ assignments: 1, draws: 1, audit: 1 });
    const [event] = await stack.dataSource.query(`SELECT after FROM audit_events WHERE pilot_id = $1 AND action = 'assignment.drawn'`, [id]);
    expect(event.after).toMatchObject({ design_type: 'chosen', treated: ['C01', 'C02'], inputs_hash: drawn.body.inputs_hash });

    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body).toMatchObject({ identical: true, design_type: 'chosen', mismatches: [], stored_inputs_intact: true, units_compared: 9 });
    expect(verify.body.current_inputs.matches).toBe(true);

    // a tampered arm is caught
    await stack.dataSource.query(
      `UPDATE assignment_units SET arm = 'treatment' WHERE territory_code = 'C05' AND assignment_id = (SELECT id FROM assignments WHERE pilot_id = $1)`,
      [id],
    );
    const tampered = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(tampered.body.identical).toBe(false);
    expect(tampered.body.mismatches).toEqual([{ territory_code: 'C05', stored_arm: 'treatment', replayed_arm: 'control' }]);
  });

  it('structural mistakes are a 400 with paths, and no pilot is stored', async () => {
    for (const design of [{ type: 'chosen' }, { type: 'chosen', treated: ['C01', 'C02', 'C03', 'C04', 'C05', 'C06'] }, { type: 'complete', seed: 1, treated: ['C01'] }]) {
      const res = await createPilot(full, design);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(res.body.details)).toMatch(/design\.treated/);
    }
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM pilots`);
    expect(n).toBe(0);
  });

  it('k larger than the eligible pool, or a treated territory that is not eligible: 422 at creation with what to change; nothing stored', async () => {
    const k = await createPilot(full.slice(0, 4), { type: 'chosen', treated: ['C01', 'C02'] });
    expect(k.status).toBe(422);
    expect(k.body).toMatchObject({ statusCode: 422, code: 'K_EXCEEDS_POOL', details: { k: 2, pool: 4 } });
    expect(k.body.details.what_to_change).toMatch(/fewer treated/);
    const notEligible = await createPilot(full.slice(0, 5), { type: 'chosen', treated: ['C09'] });
    expect(notEligible.status).toBe(422);
    expect(notEligible.body).toMatchObject({ code: 'DESIGN_INFEASIBLE', details: { not_eligible: ['C09'] } });
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM pilots`);
    expect(n).toBe(0);
  });

  it.each([
    ['a too short pre-period', full, ['C01'], { pre_period: { start: '2023-12-15', end: '2023-12-31' } }, 'PRE_PERIOD_TOO_SHORT', /start the pre-period earlier/],
    ['a treated territory with missing weeks', [...full, 'L01'], ['L01'], {}, 'TREATED_MISSING_WEEKS', /choose treated territories with data/],
    ['an empty donor pool', ['C01', ...late], ['C01'], {}, 'EMPTY_DONOR_POOL', /make more territories eligible/],
    ['k larger than the usable pool', ['C01', 'C02', 'C03', 'L01', 'L02'], ['C01', 'C02'], {}, 'K_EXCEEDS_POOL', /name fewer treated/],
  ])('%s: 422 at the draw with the reason and what to change; no assignment, draw or audit event stored', async (_what, codes, treated, extra, code, hint) => {
    const created = await createPilot(codes, { type: 'chosen', treated }, extra);
    expect(created.status).toBe(201);
    const res = await request(stack.http).post(`/pilots/${created.body.id}/assignment`);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ statusCode: 422, code });
    expect(res.body.message).toMatch(hint);
    expect(res.body.details.what_to_change).toMatch(hint);
    expect(await storedCounts(created.body.id)).toEqual({ assignments: 0, draws: 0, audit: 0 });
    await request(stack.http).get(`/pilots/${created.body.id}/assignment`).expect(404);
  });
});

describe('few-treated pilots: the report of a chosen pilot', () => {
  let stack: TestStack;
  const codes = Array.from({ length: 12 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`);
  const treated = ['S01', 'S02'];
  const effect = 800;
  let generated: { unit: string[]; week: number[]; value: number[] };

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, codes.map((code) => territory({ code, region: 'North' })));
    generated = { unit: [], week: [], value: [] };
    // one won deal per territory and week: level by territory + a common seasonal path + small noise; treated +800 from 2024-01-01
    let s = 777;
    const noise = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 200;
    const rows = [];
    let w = 0;
    for (let d = new Date('2023-10-02T00:00:00Z'); d <= new Date('2024-03-25T00:00:00Z'); d.setUTCDate(d.getUTCDate() + 7), w++) {
      const day = d.toISOString().slice(0, 10);
      for (const [i, code] of codes.entries()) {
        const lift = treated.includes(code) && day >= '2024-01-01' ? effect : 0;
        const amount = Math.round(2000 + 150 * i + 400 * Math.sin(w / 2) + noise() + lift);
        rows.push(opportunityRow({ territory: code, amount: String(amount), engage_date: day, close_date: day }));
        generated.unit.push(code);
        generated.week.push(w);
        generated.value.push(amount);
      }
    }
    await ingest(stack.http, rows);
  });

  it('SDID decides with the CI and p of its placebo randomization test; DiD, SC and SDID side by side with permutation p, weights, RMSPE, poor fit and leave-one-out; the text says what the design can claim', async () => {
    const created = await request(stack.http)
      .post('/pilots')
      .send(
        pilot(codes, {
          pre_period: { start: '2023-10-02', end: '2023-12-31' },
          arms: [{ key: 'control', role: 'control' }, { key: 'treatment', role: 'treatment' }],
          design: { type: 'chosen', treated },
          primary_kpi: 'revenue_won',
          secondary_kpis: ['win_rate'],
        }),
      )
      .expect(201);
    await designAndLaunch(stack.http, created.body.id);
    const res = await request(stack.http).post(`/pilots/${created.body.id}/reports`).expect(202);
    const done = await waitForReport(stack.http, created.body.id, res.body.report_id, 120_000);
    expect(done.status).toBe('completed');
    const r = done.result;
    expect(r.primary_method.key).toBe('synthetic_did_placebo');
    expect(r.decision_method).toMatch(/No randomization/);
    const primary = r.kpis.find((k: any) => k.role === 'primary');
    const ft = primary.few_treated;
    expect(ft).toMatchObject({ deciding_estimator: 'sdid', status: 'ok' });
    expect(ft.result.treated).toEqual(treated);
    expect(ft.result.donors).toHaveLength(10);
    expect(ft.result.estimates.map((e: any) => e.estimator)).toEqual(['did', 'sc', 'sdid']);
    for (const e of ft.result.estimates) {
      expect(e.inference_method).toBe('placebo_randomization');
      expect(e.ci[0]).toBeLessThan(e.estimate);
      expect(e.ci[1]).toBeGreaterThan(e.estimate);
      expect(e.permutation_min_p).toBeCloseTo(1 / 11, 12);
      expect(e.permutation_p).toBeGreaterThanOrEqual(e.permutation_min_p);
      expect(e.unit_weights.length).toBeGreaterThan(0);
      expect(e.pre_rmspe).toBeGreaterThan(0);
      const loo = e.leave_one_out.map((x: any) => x.estimate);
      expect(loo.length).toBeGreaterThan(0);
      expect(e.leave_one_out_range).toEqual([Math.min(...loo), Math.max(...loo)]);
    }
    const sdid = ft.result.estimates.find((e: any) => e.estimator === 'sdid');
    // the report's numbers are the core's on the panel this test ingested (the wiring: rollups → weekly panel → analyseFewTreated)
    const direct = analyseFewTreated(generated, treated, { preWeeks: 13, replications: 200, seed: done.result.design.seed, level: 0.95 });
    for (const e of direct.estimates) {
      const got = ft.result.estimates.find((x: any) => x.estimator === e.estimator);
      expect(got.estimate).toBeCloseTo(e.estimate, 6);
      expect(got.placebo_se).toBeCloseTo(e.placebo_se!, 6);
      expect(got.permutation_p).toBeCloseTo(e.permutation_p!, 12);
    }
    // a planted +800 per treated territory-week is found: positive, and 0 is outside SDID's CI
    expect(sdid.estimate).toBeGreaterThan(effect / 2);
    expect(sdid.ci[0]).toBeGreaterThan(0);
    expect(sdid.placebo_gaps).toHaveLength(10);
    expect(sdid.series).toHaveLength(26);
    expect(typeof ft.result.poor_fit).toBe('boolean');
    // the decision is SDID's: same numbers in the primary block, not Welch's or randomization inference's
    expect(primary.primary.method).toMatch(/^sdid_placebo_randomization/);
    expect(primary.primary.estimate).toBeCloseTo(sdid.estimate, 9);
    expect(primary.primary.ci_low).toBeCloseTo(sdid.ci[0], 9);
    expect(primary.decision_p).toBeCloseTo(sdid.p_value, 12);
    expect(primary.significant).toBe(true);
    expect(primary.verdict).toMatch(/synthetic difference-in-differences/);
    expect(primary.verdict).toMatch(/not a randomized estimate/);
    // a ratio KPI has no weekly panel: it cannot be judged, and no randomization-based method stands in
    const winRate = r.kpis.find((k: any) => k.kpi === 'win_rate');
    expect(winRate.few_treated).toBeNull();
    expect(winRate.decision_p).toBeNull();
    expect(winRate.primary.status).toBe('not_applicable');
    // the HTML page renders
    const html = await request(stack.http).get(`/pilots/${created.body.id}/reports/${res.body.report_id}.html`);
    expect(html.status).toBe(200);
    const page = html.text;
    expect(page).toContain('data-chart="few_treated"');
    expect(page).toMatch(/<svg[^>]*aria-label="Weekly [^"]*synthetic counterfactual \(SDID\)[^"]*placebo gaps in grey/);
    expect(page).toContain('#bbbbbb'); // the placebo gaps, grey, behind the gap line
    expect(page).toContain('data-table="few-treated"');
    expect(page).toContain('SDID (decides)');
    expect(page).toContain('data-table="donor-weights"');
    expect(page).toContain('not a randomized estimate');
  });
});
