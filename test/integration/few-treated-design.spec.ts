import request from 'supertest';
import { ingest, opportunityRow } from '../factories/opportunity.factory';
import { designAndLaunch, pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { analyseFewTreated, FewTreatedPanel } from '../../src/stats/synthetic/few-treated';
import { selectTreatedSet } from '../../src/stats/synthetic/treated-selection';
import { resetDatabase, startStack, TestStack, waitForPowerAnalysis, waitForReport } from '../utils/test-stack';

/** POST /pilots of a few-treated pilot: `codes` eligible, one control and one treatment arm (no allocation), the pre-period `pre`. */
function createFewTreatedPilot(stack: TestStack, codes: string[], pre: { start: string; end: string }, design: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return request(stack.http)
    .post('/pilots')
    .send(pilot(codes, { pre_period: pre, design, arms: [{ key: 'control', role: 'control' }, { key: 'treatment', role: 'treatment' }], ...extra }));
}

/** What a draw stores for a pilot: assignments, recorded draws, `assignment.drawn` audit events. */
async function storedDrawCounts(stack: TestStack, pilotId: string) {
  const [a] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM assignments WHERE pilot_id = $1`, [pilotId]);
  const [d] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM assignment_draws WHERE pilot_id = $1`, [pilotId]);
  const [e] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE pilot_id = $1 AND action = 'assignment.drawn'`, [pilotId]);
  return { assignments: a.n, draws: d.n, audit: e.n };
}

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

  const createPilot = (codes: string[], design: Record<string, unknown>, extra: Record<string, unknown> = {}) => createFewTreatedPilot(stack, codes, pre, design, extra);
  const storedCounts = (pilotId: string) => storedDrawCounts(stack, pilotId);

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

  it('power of a chosen pilot: the stored donor pool with its left-out territories; a history with no room before the pre-period fails with the reason; a bad pool is a 422, nothing stored', async () => {
    const other = await request(stack.http).post('/pilots').send(pilot(reserved, { name: 'Other pilot', pre_period: pre, design: { type: 'complete', seed: 1 } })).expect(201);
    await designAndLaunch(stack.http, other.body.id);
    const created = await createPilot([...full, 'L01', 'R01'], { type: 'chosen', treated: ['C01'], constraints: { exclude: ['C03'] } });
    const id = created.body.id as string;
    await request(stack.http).post(`/pilots/${id}/assignment`).expect(201);
    const res = await request(stack.http).post(`/pilots/${id}/power`).send({ weeks: [4, 8] }).expect(202);
    expect(res.body.request).toMatchObject({ mode: 'few_treated', kpi: 'revenue_won', weeks: [4, 8] });
    expect(res.body.treated).toEqual(['C01']);
    expect(res.body.donors).toEqual(['C02', ...full.slice(3)]);
    expect(res.body.donors_left_out.map((l: any) => [l.code, l.reason])).toEqual([
      ['C03', 'excluded'],
      ['L01', 'incomplete_pre_period'],
      ['R01', 'reserved'],
    ]);
    // the data start with the pre-period (2023-10-02): no past window fits before it, so the job fails and says why
    const done = await waitForPowerAnalysis(stack.http, id, res.body.power_analysis_id, 'few-treated power');
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/no candidate test length got an MDE: 4 weeks: history too short.*their data start in the week of 2023-10-02.*\| 8 weeks: history too short/);
    expect(done.decision).toMatchObject({ source: 'few_treated_backtest', text: expect.stringMatching(/^The placebo backtests failed: no candidate test length/) });

    const bad = await createPilot([...full, 'L01'], { type: 'chosen', treated: ['L01'] });
    const refused = await request(stack.http).post(`/pilots/${bad.body.id}/power`).send({});
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ statusCode: 422, code: 'TREATED_MISSING_WEEKS' });
    expect(refused.body.details.what_to_change).toMatch(/choose treated territories with data/);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM power_analyses WHERE pilot_id = $1`, [bad.body.id]);
    expect(n).toBe(0);
  });
});

/**
 * Territories `codes` in region North with one won deal per territory and week from 2023-10-02 to
 * 2024-03-25: level by territory + a common seasonal path + small noise; `lifted` territories get
 * +`effect` from 2024-01-01. Returns the panel it ingested (week 0 = 2023-10-02).
 */
async function ingestSeasonalPanel(stack: TestStack, codes: string[], lifted: string[], effect: number): Promise<{ unit: string[]; week: number[]; value: number[] }> {
  await loadTerritories(stack.http, codes.map((code) => territory({ code, region: 'North' })));
  const generated: { unit: string[]; week: number[]; value: number[] } = { unit: [], week: [], value: [] };
  let s = 777;
  const noise = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 200;
  const rows = [];
  let w = 0;
  for (let d = new Date('2023-10-02T00:00:00Z'); d <= new Date('2024-03-25T00:00:00Z'); d.setUTCDate(d.getUTCDate() + 7), w++) {
    const day = d.toISOString().slice(0, 10);
    for (const [i, code] of codes.entries()) {
      const lift = lifted.includes(code) && day >= '2024-01-01' ? effect : 0;
      const amount = Math.round(2000 + 150 * i + 400 * Math.sin(w / 2) + noise() + lift);
      rows.push(opportunityRow({ territory: code, amount: String(amount), engage_date: day, close_date: day }));
      generated.unit.push(code);
      generated.week.push(w);
      generated.value.push(amount);
    }
  }
  await ingest(stack.http, rows);
  return generated;
}

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
    generated = await ingestSeasonalPanel(stack, codes, treated, effect);
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
    // the assignment section accounts for the donor pool (nothing left out here) and the report keeps its copy
    expect(r.design.donor_pool).toMatchObject({ donors: codes.slice(2), left_out: [] });
    expect(page).toContain('No eligible territory was left out of the donor pool (10 donor territories remain).');
  });
});

describe('few-treated pilots: design "selected" (PilotLab picks k treated territories by placebo backtests)', () => {
  let stack: TestStack;
  const codes = Array.from({ length: 12 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`);
  const pre = { start: '2023-10-02', end: '2023-12-31' }; // 13 weeks
  let generated: FewTreatedPanel;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    generated = await ingestSeasonalPanel(stack, codes, [], 0);
  });

  const createPilot = (design: Record<string, unknown>, extra: Record<string, unknown> = {}) => createFewTreatedPilot(stack, codes, pre, design, extra);

  /** The pre-period series (weeks 0..12) of every code, as the core reads them. */
  function prePanel(units: string[]): number[][] {
    return units.map((u) => generated.value.filter((_, r) => generated.unit[r] === u && generated.week[r] < 13));
  }


  it('the draw returns the ranked candidates with their backtest figures, stores rank 1 as the treated set (forced, never-treated and the revenue cap honoured), audits it, replays it, and launches', async () => {
    const design = {
      type: 'selected',
      k: 2,
      seed: 11,
      selection: { top: 5 },
      constraints: { force: [{ territory_code: 'S03', arm: 'treatment' }, { territory_code: 'S04', arm: 'control' }], exclude: ['S12'], max_treated_share: { max_share: 0.185 } },
    };
    const created = await createPilot(design);
    expect(created.status).toBe(201);
    expect(created.body.design).toMatchObject({ type: 'selected', k: 2, selection: { top: 5 } });
    const id = created.body.id as string;

    const drawn = await designAndLaunch(stack.http, id);
    const d = drawn.design;
    const sel = d.selection.result;
    expect(d.type).toBe('selected');
    expect(drawn.algorithm_version).toMatch(/^pilotlab-selected@1/);
    expect(sel).toMatchObject({ search: 'exhaustive', k: 2, seed: 11, estimator: 'sdid', pre_weeks: 13, window_weeks: 2, forced: ['S03'], excluded: ['S04'] });
    expect(sel.ranked).toHaveLength(5);
    for (const c of sel.ranked) {
      expect(c.treated).toContain('S03');
      expect(c.treated).not.toContain('S04');
      expect(c.treated).not.toContain('S12');
      expect(c.treated_share).toBeLessThanOrEqual(0.185);
      expect(c.backtest_estimates).toHaveLength(4);
    }
    expect(sel.candidates_over_cap).toBeGreaterThan(0);
    expect(sel.candidates_scored + sel.candidates_over_cap).toBe(9); // S03 + one of the 9 others that may be treated (not S04, S12)
    // the winner is the treated set; every other pool territory is a donor; S12 is left out as excluded
    const winners = sel.ranked[0].treated;
    expect(d.treated).toEqual(winners);
    const arms = Object.fromEntries(drawn.units.map((u: any) => [u.territory_code, u.arm]));
    expect(arms).toEqual(Object.fromEntries(codes.filter((c) => c !== 'S12').map((c) => [c, winners.includes(c) ? 'treatment' : 'control'])));
    expect(d.donor_pool.left_out.map((l: any) => [l.code, l.reason])).toEqual([['S12', 'excluded']]);

    // the API's ranking is the core's on the panel this test ingested (rollups → weekly panel → selectTreatedSet)
    const pool = codes.filter((c) => c !== 'S12');
    const values = prePanel(pool);
    const direct = selectTreatedSet(
      { units: pool, values, k: 2, forced: ['S03'], excluded: ['S04'], cap: { values: values.map((v) => v.reduce((a, b) => a + b, 0)), maxShare: 0.185 } },
      { seed: 11, testWeeks: 13, top: 5 },
    );
    expect(sel.ranked.map((c: any) => c.treated)).toEqual(direct.ranked.map((c) => c.treated));
    sel.ranked.forEach((c: any, i: number) => {
      expect(c.score).toBeCloseTo(direct.ranked[i].score, 6);
      expect(c.placebo_bias).toBeCloseTo(direct.ranked[i].placebo_bias, 6);
    });

    const [event] = await stack.dataSource.query(`SELECT after FROM audit_events WHERE pilot_id = $1 AND action = 'assignment.drawn'`, [id]);
    expect(event.after).toMatchObject({ design_type: 'selected', treated: winners, selection: { search: 'exhaustive', candidates_scored: sel.candidates_scored } });
    expect(event.after.selection.ranked[0]).toMatchObject({ rank: 1, treated: winners });

    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body).toMatchObject({ identical: true, selection_identical: true, design_type: 'selected', mismatches: [], stored_inputs_intact: true, units_compared: 11 });
    expect(verify.body.current_inputs.matches).toBe(true);

    // the report analyses it as a few-treated pilot: SDID against the donor pool decides
    const rep = await request(stack.http).post(`/pilots/${id}/reports`).expect(202);
    const done = await waitForReport(stack.http, id, rep.body.report_id, 120_000);
    expect(done.status).toBe('completed');
    expect(done.result.primary_method.key).toBe('synthetic_did_placebo');
    expect(done.result.primary_method.reason).toMatch(/selected design/);
    const primary = done.result.kpis.find((k: any) => k.role === 'primary');
    expect(primary.few_treated).toMatchObject({ deciding_estimator: 'sdid', status: 'ok' });
    expect(primary.few_treated.result.treated).toEqual(winners);
    expect(primary.few_treated.result.donors).toHaveLength(9);

    // a stored treated set that is not the selection's rank 1 is caught, as is an edited backtest panel
    const loser = sel.ranked[1].treated;
    await stack.dataSource.query(`UPDATE assignments SET design = jsonb_set(design, '{treated}', $2::jsonb) WHERE pilot_id = $1`, [id, JSON.stringify(loser)]);
    const swapped = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(swapped.body).toMatchObject({ identical: false, selection_identical: false });
    await stack.dataSource.query(`UPDATE assignments SET design = jsonb_set(jsonb_set(design, '{treated}', $2::jsonb), '{selection,panel,values,S05,0}', '0') WHERE pilot_id = $1`, [id, JSON.stringify(winners)]);
    const edited = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(edited.body).toMatchObject({ identical: false, stored_inputs_intact: false });
  });

  it('same inputs and seed: the same choice and ranking on a second pilot', async () => {
    const a = await createPilot({ type: 'selected', k: 1, seed: 5 }).expect(201);
    const b = await createPilot({ type: 'selected', k: 1, seed: 5 }).expect(201);
    const da = await request(stack.http).post(`/pilots/${a.body.id}/assignment`).expect(201);
    const db = await request(stack.http).post(`/pilots/${b.body.id}/assignment`).expect(201);
    expect(da.body.design.selection.result.ranked).toEqual(db.body.design.selection.result.ranked);
    expect(da.body.design.treated).toEqual(db.body.design.treated);
    expect(da.body.inputs_hash).toBe(db.body.inputs_hash);
  });

  it('structural mistakes are a 400 with paths; k larger than the pool is a 422 at creation; nothing stored', async () => {
    for (const [design, path] of [
      [{ type: 'selected' }, 'design.k'],
      [{ type: 'selected', k: 2, treated: ['S01'] }, 'design.treated'],
      [{ type: 'complete', seed: 1, k: 2 }, 'design.k'],
    ] as const) {
      const res = await createPilot(design);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.details)).toContain(path);
    }
    const ratio = await createPilot({ type: 'selected', k: 1 }, { primary_kpi: 'win_rate', secondary_kpis: [] });
    expect(ratio.status).toBe(400);
    expect(JSON.stringify(ratio.body.details)).toContain('primary_kpi');
    const k = await createFewTreatedPilot(stack, codes.slice(0, 8), pre, { type: 'selected', k: 4 });
    expect(k.status).toBe(422);
    expect(k.body).toMatchObject({ statusCode: 422, code: 'K_EXCEEDS_POOL', details: { k: 4, pool: 8 } });
    expect(k.body.details.what_to_change).toMatch(/design\.k/);
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM pilots`);
    expect(n).toBe(0);
  });

  it.each([
    ['a cap that excludes every candidate', { constraints: { max_treated_share: { max_share: 0.05 } } }, {}, 'CAP_EXCLUDES_ALL', /raise design\.constraints\.max_treated_share/],
    ['a pre-period too short for the backtests', {}, { pre_period: { start: '2023-11-20', end: '2023-12-31' } }, 'PRE_PERIOD_TOO_SHORT', /start the pre-period earlier/],
    ['forced territories beyond k', { k: 1, constraints: { force: [{ territory_code: 'S01', arm: 'treatment' }, { territory_code: 'S02', arm: 'treatment' }] } }, {}, 'VALIDATION_FAILED', /exceed k/],
  ])('%s: 4xx (at creation for structure, else at the draw) with the reason and what to change; no assignment or audit event stored', async (_what, designExtra, extra, code, hint) => {
    const created = await createPilot({ type: 'selected', k: 2, seed: 3, ...designExtra }, extra);
    if (code === 'VALIDATION_FAILED') {
      expect(created.status).toBe(400);
      expect(JSON.stringify(created.body.details)).toMatch(hint);
      return;
    }
    expect(created.status).toBe(201);
    const res = await request(stack.http).post(`/pilots/${created.body.id}/assignment`);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ statusCode: 422, code });
    expect(res.body.message).toMatch(hint);
    expect(res.body.details.what_to_change).toMatch(hint);
    expect(await storedDrawCounts(stack, created.body.id)).toEqual({ assignments: 0, draws: 0, audit: 0 });
  });
});
