import request from 'supertest';
import { ingest, opportunityRow } from '../factories/opportunity.factory';
import { pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { resetDatabase, startStack, TestStack } from '../utils/test-stack';

/**
 * Designs through the real API, PostgreSQL and worker: matched pairs on a pre-period KPI,
 * rerandomization with constraints, multi-arm pilots, the balance table's Mahalanobis distance, and
 * GET /pilots/:id/assignment/verify replaying every stored design.
 */
describe('designs and assignment replay', () => {
  let stack: TestStack;
  const codes = Array.from({ length: 13 }, (_, i) => `D${String(i + 1).padStart(2, '0')}`);

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    await loadTerritories(
      stack.http,
      codes.map((code, i) => territory({ code, region: i % 2 ? 'North' : 'South', attributes: { headcount: 2 + (i % 5), quota: 1000 * (1 + ((i * 7) % 13)) } })),
    );
    // pre-period won deals: territory i has i + 1 deals of 1000 × (1 + i mod 4)
    const rows = codes.flatMap((code, i) =>
      Array.from({ length: i + 1 }, (_, k) =>
        opportunityRow({ territory: code, amount: String(1000 * (1 + (i % 4))), engage_date: '2023-11-01', close_date: `2023-11-${String(10 + k).padStart(2, '0')}` }),
      ),
    );
    await ingest(stack.http, rows);
  });

  async function createAndAssign(overrides: Record<string, unknown>) {
    const created = await request(stack.http).post('/pilots').send(pilot(codes, overrides));
    if (created.status !== 201) throw new Error(`POST /pilots answered ${created.status}: ${JSON.stringify(created.body)}`);
    const assigned = await request(stack.http).post(`/pilots/${created.body.id}/assignment`);
    if (assigned.status !== 201) throw new Error(`assignment answered ${assigned.status}: ${JSON.stringify(assigned.body)}`);
    return { id: created.body.id as string, assignment: assigned.body };
  }

  it('matched pairs on pre-period revenue: one of each pair treated, the odd territory reported, replay identical', async () => {
    const { id, assignment } = await createAndAssign({ design: { type: 'matched_pairs', seed: 7, pair_on: 'pre_period_revenue_won' } });
    expect(assignment.design.type).toBe('matched_pairs');
    expect(assignment.design.pairs).toHaveLength(6);
    expect(assignment.design.left_out).toEqual([expect.objectContaining({ reason: 'odd_one_out' })]);
    expect(assignment.units).toHaveLength(12);
    for (const p of assignment.design.pairs) {
      const arms = assignment.units.filter((u: any) => p.codes.includes(u.territory_code)).map((u: any) => u.arm).sort();
      expect(arms).toEqual(['control', 'treatment']);
      for (const c of p.codes) expect(assignment.units.find((u: any) => u.territory_code === c).stratum).toBe(p.pair);
    }
    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body).toMatchObject({ identical: true, mismatches: [], left_out_identical: true, stored_inputs_intact: true, units_compared: 12 });
    expect(verify.body.current_inputs.matches).toBe(true);
  });

  it('rerandomization with forced, excluded and a revenue cap: rule recorded and honoured; balance has M and its p-value; replay identical', async () => {
    const { id, assignment } = await createAndAssign({
      design: {
        type: 'rerandomization',
        seed: 11,
        rerandomization: { covariates: ['pre_period_revenue_won', 'headcount'], acceptance_probability: 0.2 },
        constraints: { force: [{ territory_code: 'D01', arm: 'treatment' }], exclude: ['D13'], max_treated_share: { max_share: 0.6 } },
      },
    });
    const d = assignment.design;
    expect(d.rerandomization_record.df).toBe(2);
    // New pilots set the threshold empirically (the p_a quantile of M over 10,000 complete
    // randomizations); the χ² value (exact for df = 2: −2 ln(1 − p_a)) is recorded beside it.
    expect(d.rerandomization).toMatchObject({ acceptance_probability: 0.2, threshold_rule: 'empirical' });
    expect(d.rerandomization_record).toMatchObject({ threshold_rule: 'empirical', calibration_draws: 10_000 });
    expect(d.rerandomization_record.chi_square_threshold).toBeCloseTo(-2 * Math.log(1 - 0.2), 10);
    expect(d.rerandomization_record.threshold).toBeGreaterThan(0);
    expect(d.rerandomization_record.mahalanobis).toBeLessThanOrEqual(d.rerandomization_record.threshold);
    expect(d.draws_tried).toBeGreaterThanOrEqual(1);
    expect(d.draws_accepted).toBe(1);
    expect(d.constraints_realised.max_treated_share.realised_share).toBeLessThanOrEqual(0.6);
    expect(d.left_out).toEqual([{ code: 'D13', reason: 'excluded' }]);
    expect(assignment.units.find((u: any) => u.territory_code === 'D01').arm).toBe('treatment');
    expect(assignment.units.map((u: any) => u.territory_code)).not.toContain('D13');
    const m = assignment.balance.mahalanobis;
    expect(m.covariates).toEqual(['pre_period_revenue_won', 'headcount']);
    expect(m.distance).toBeCloseTo(d.rerandomization_record.mahalanobis, 9);
    expect(m.p_value).toBeGreaterThan(0);
    expect(m.p_value).toBeLessThanOrEqual(1);

    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body).toMatchObject({ identical: true, mismatches: [], draws_tried: { stored: d.draws_tried, replayed: d.draws_tried } });
  });

  it('a tampered stored arm is caught by verify, naming the territory', async () => {
    const { id, assignment } = await createAndAssign({ design: { type: 'stratified', stratify_by: 'region', seed: 5 } });
    const victim = assignment.units[0];
    const other = victim.arm === 'control' ? 'treatment' : 'control';
    await stack.dataSource.query(`UPDATE assignment_units SET arm = $1 WHERE territory_code = $2`, [other, victim.territory_code]);
    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body.identical).toBe(false);
    expect(verify.body.mismatches).toEqual([{ territory_code: victim.territory_code, stored_arm: other, replayed_arm: victim.arm }]);
  });

  it('multi-arm: control and 3 treatments with exact counts; Mahalanobis over all arms', async () => {
    const arms = [
      { key: 'control', role: 'control', ratio: 1 },
      { key: 'specialist', role: 'treatment', ratio: 1 },
      { key: 'new_split', role: 'treatment', ratio: 1 },
      { key: 'team_bonus', role: 'treatment', ratio: 1 },
    ];
    const { id, assignment } = await createAndAssign({ arms, design: { type: 'complete', seed: 3 } });
    const counts = assignment.units.reduce((m: Record<string, number>, u: any) => ({ ...m, [u.arm]: (m[u.arm] ?? 0) + 1 }), {});
    expect(counts).toEqual({ control: 4, specialist: 3, new_split: 3, team_bonus: 3 });
    expect(assignment.balance.mahalanobis.arms).toEqual(['control', 'specialist', 'new_split', 'team_bonus']);
    expect(assignment.balance.other_treatments.map((x: any) => x.treatment_arm)).toEqual(['new_split', 'team_bonus']);
    const verify = await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200);
    expect(verify.body.identical).toBe(true);
  });

  it('bad design input is a 400 with paths and writes nothing', async () => {
    const cases: Record<string, unknown>[] = [
      { design: { type: 'matched_pairs', seed: 1 } },
      { design: { type: 'rerandomization', seed: 1 } },
      { design: { type: 'complete', seed: 1, constraints: { force: [{ territory_code: 'D01', arm: 'nope' }] } } },
      { design: { type: 'complete', seed: 1, pair_on: 'pre_period_not_a_kpi' } },
      { arms: Array.from({ length: 6 }, (_, i) => ({ key: `a${i}`, role: i ? 'treatment' : 'control', ratio: 1 })) },
      { design: { type: 'rerandomization', seed: 1, rerandomization: { covariates: ['headcount'], acceptance_probability: 0 } } },
    ];
    for (const overrides of cases) {
      const res = await request(stack.http).post('/pilots').send(pilot(codes, overrides));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details).not.toBeNull();
    }
    const list = await request(stack.http).get('/pilots').expect(200);
    expect(list.body.total).toBe(0);
  });

  it('exact counts add up to the eligible territories minus the excluded ones', async () => {
    const arms = [
      { key: 'control', role: 'control', count: 6 },
      { key: 'treatment', role: 'treatment', count: 6 },
    ];
    const { assignment } = await createAndAssign({ arms, design: { type: 'complete', seed: 2, constraints: { exclude: ['D07'] } } });
    expect(assignment.units).toHaveLength(12);
    expect(assignment.design.left_out).toEqual([{ code: 'D07', reason: 'excluded' }]);
  });

  it('an infeasible constraint is a 422 DESIGN_INFEASIBLE at assignment and stores nothing', async () => {
    const created = await request(stack.http)
      .post('/pilots')
      .send(pilot(codes, { design: { type: 'complete', seed: 1, constraints: { force: codes.slice(0, 8).map((c) => ({ territory_code: c, arm: 'treatment' })) } } }))
      .expect(201);
    const res = await request(stack.http).post(`/pilots/${created.body.id}/assignment`).expect(422);
    expect(res.body.code).toBe('DESIGN_INFEASIBLE');
    await request(stack.http).get(`/pilots/${created.body.id}/assignment`).expect(404);
  });
});
