import request from 'supertest';
import { ingest, opportunityRow } from '../factories/opportunity.factory';
import { pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { resetDatabase, startStack, TestStack, waitForReport } from '../utils/test-stack';

/**
 * Integrity of the experiment (issue 15), through the real API, PostgreSQL and worker:
 * - seed shopping: every draw of an assignment is recorded and audited, the seed is the server's
 *   unless the plan stated it before the first draw, a redraw needs a reason, and the assignment,
 *   the locked plan and the report show how many draws were made with which seeds;
 * - separation of duties: whoever created, edited or drew a pilot cannot approve it, nor through a
 *   key of its own making (the approving key's creator chain).
 */
const CODES = Array.from({ length: 8 }, (_, i) => `T-I${String(i + 1).padStart(2, '0')}`);
const MAX_SEED = Number.MAX_SAFE_INTEGER;

describe('design integrity: seed shopping and separation of duties', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  beforeEach(async () => {
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, CODES.map((code) => territory({ code, region: 'Central' })));
    const rows = CODES.flatMap((code, i) => [
      opportunityRow({ territory: code, amount: String(1000 + 100 * i), engage_date: '2023-11-01', close_date: '2023-11-20' }),
      opportunityRow({ territory: code, amount: String(900 + 137 * ((i * 7) % 11)), engage_date: '2024-01-10', close_date: '2024-02-01' }),
    ]);
    await ingest(stack.http, rows);
  });

  function as(key: string) {
    return {
      get: (path: string) => request(stack.raw).get(path).set('x-api-key', key),
      post: (path: string, body: object = {}) => request(stack.raw).post(path).set('x-api-key', key).send(body),
      patch: (path: string, body: object) => request(stack.raw).patch(path).set('x-api-key', key).send(body),
    };
  }

  async function createPilot(design: Record<string, unknown>, key?: string): Promise<string> {
    const req = key ? as(key).post('/pilots', pilot(CODES, { design })) : request(stack.http).post('/pilots').send(pilot(CODES, { design }));
    const res = await req;
    if (res.status !== 201) throw new Error(`POST /pilots answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  const drawRows = (id: string) =>
    stack.dataSource.query(`SELECT draw_number, seed::text AS seed, seed_source, reason, actor_key_id FROM assignment_draws WHERE pilot_id = $1 ORDER BY draw_number`, [id]);
  const drawAudits = (id: string) =>
    stack.dataSource.query(`SELECT actor_key_id, after FROM audit_events WHERE pilot_id = $1 AND action = 'assignment.drawn' ORDER BY id`, [id]);

  describe('seed shopping', () => {
    it('without a stated seed the server draws it; a redraw needs a reason; no draw may choose its seed; every draw is recorded and audited', async () => {
      const experimenter = as(await stack.keyFor('experimenter'));
      const me = (await experimenter.get('/api-keys/me').expect(200)).body.id;
      const id = await createPilot({ type: 'complete' });
      expect((await request(stack.http).get(`/pilots/${id}`).expect(200)).body.design.seed).toBeNull();

      const first = (await experimenter.post(`/pilots/${id}/assignment`).expect(201)).body;
      expect(Number.isSafeInteger(first.seed) && first.seed >= 0 && first.seed <= MAX_SEED).toBe(true);
      expect(first.draws).toEqual([{ number: 1, seed: first.seed, seed_source: 'server', reason: null, drawn_at: expect.any(String) }]);

      // A second draw without a reason: 400 naming the field, and nothing changes.
      for (const body of [{}, { reason: '   ' }]) {
        const refused = await experimenter.post(`/pilots/${id}/assignment`, body).expect(400);
        expect(refused.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(refused.body.details).toEqual([expect.objectContaining({ path: 'reason' })]);
      }
      // The client cannot pick the seed, with or without a reason.
      const chosen = await experimenter.post(`/pilots/${id}/assignment`, { seed: 42, reason: 'try a better seed' }).expect(409);
      expect(chosen.body).toMatchObject({ code: 'SEED_LOCKED', details: expect.objectContaining({ requested_seed: 42, plan_seed: null }) });
      expect((await request(stack.http).get(`/pilots/${id}/assignment`).expect(200)).body.seed).toBe(first.seed);
      expect(await drawRows(id)).toHaveLength(1);

      const second = (await experimenter.post(`/pilots/${id}/assignment`, { reason: 'a territory was re-mapped' }).expect(201)).body;
      expect(second.seed).not.toBe(first.seed); // 53 random bits: equal with probability 2^-53
      expect(second.draws.map((d: any) => [d.number, d.seed, d.seed_source, d.reason])).toEqual([
        [1, first.seed, 'server', null],
        [2, second.seed, 'server', 'a territory was re-mapped'],
      ]);
      const rows = await drawRows(id);
      expect(rows.map((r: any) => [r.draw_number, Number(r.seed), r.seed_source, r.actor_key_id])).toEqual([
        [1, first.seed, 'server', me],
        [2, second.seed, 'server', me],
      ]);
      const audits = await drawAudits(id);
      expect(audits.map((a: any) => [a.actor_key_id, a.after.draw_number, a.after.seed, a.after.seed_source])).toEqual([
        [me, 1, first.seed, 'server'],
        [me, 2, second.seed, 'server'],
      ]);
      // The stored assignment still replays from its (server-drawn) seed, and is fresh.
      const verify = (await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200)).body;
      expect(verify).toMatchObject({ identical: true, seed: second.seed, stored_inputs_intact: true, current_inputs: { matches: true } });
    });

    it('a plan-stated seed is used by every draw; it may change before the first draw only (409 SEED_LOCKED after, nothing changed)', async () => {
      const id = await createPilot({ type: 'complete', seed: 42 });
      await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'complete', seed: 43 } }).expect(200);
      const first = (await request(stack.http).post(`/pilots/${id}/assignment`).send({ seed: 43 }).expect(201)).body;
      expect(first).toMatchObject({ seed: 43, draws: [{ number: 1, seed: 43, seed_source: 'plan', reason: null }] });

      const other = await request(stack.http).post(`/pilots/${id}/assignment`).send({ seed: 7, reason: 'another seed' }).expect(409);
      expect(other.body).toMatchObject({ code: 'SEED_LOCKED', details: expect.objectContaining({ requested_seed: 7, plan_seed: 43 }) });

      const patched = await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'complete', seed: 44 } }).expect(409);
      expect(patched.body).toMatchObject({ statusCode: 409, code: 'SEED_LOCKED', details: expect.objectContaining({ path: 'design.seed', current_seed: 43, requested_seed: 44, draws: 1 }) });
      expect((await request(stack.http).get(`/pilots/${id}`).expect(200)).body.design.seed).toBe(43);
      expect((await request(stack.http).get(`/pilots/${id}/assignment`).expect(200)).body.seed).toBe(43);

      // Changing the design (same seed) discards the assignment; the next draw is a redraw: it needs a reason.
      const changed = await request(stack.http).patch(`/pilots/${id}`).send({ design: { type: 'stratified', stratify_by: 'region', seed: 43 } }).expect(200);
      expect(changed.body.assignment_discarded).toBe(true);
      await request(stack.http).post(`/pilots/${id}/assignment`).expect(400);
      const redrawn = (await request(stack.http).post(`/pilots/${id}/assignment`).send({ reason: 'stratified by region after review' }).expect(201)).body;
      expect(redrawn.draws.map((d: any) => [d.number, d.seed, d.seed_source])).toEqual([
        [1, 43, 'plan'],
        [2, 43, 'plan'],
      ]);
      expect((await request(stack.http).get(`/pilots/${id}/assignment/verify`).expect(200)).body.identical).toBe(true);
    });

    it('the locked plan and the report (JSON and HTML) carry the number of draws and their seeds', async () => {
      const id = await createPilot({ type: 'complete' });
      const first = (await request(stack.http).post(`/pilots/${id}/assignment`).expect(201)).body;
      const second = (await request(stack.http).post(`/pilots/${id}/assignment`).send({ reason: 'eligibility list corrected' }).expect(201)).body;
      const expected = [
        { number: 1, seed: first.seed, seed_source: 'server', reason: null, drawn_at: expect.any(String) },
        { number: 2, seed: second.seed, seed_source: 'server', reason: 'eligibility list corrected', drawn_at: expect.any(String) },
      ];
      await request(stack.http).post(`/pilots/${id}/submit`).expect(200);
      const approver = as(await stack.keyFor('experimenter', true));
      await approver.post(`/pilots/${id}/approve`).expect(200);
      const plan = (await request(stack.http).get(`/pilots/${id}/plan`).expect(200)).body;
      expect(plan.versions[0].plan.draws).toEqual(expected);
      await approver.post(`/pilots/${id}/launch`).expect(200);

      const requested = await request(stack.http).post(`/pilots/${id}/reports`).expect(202);
      const done = await waitForReport(stack.http, id, requested.body.report_id);
      expect(done.status).toBe('completed');
      expect(done.result.design.seed).toBe(second.seed);
      expect(done.result.design.draws).toEqual(expected);
      const html = await request(stack.http).get(`/pilots/${id}/reports/${requested.body.report_id}.html`).expect(200);
      expect(html.text).toContain(`2 draws; #1 seed ${first.seed} (server); #2 seed ${second.seed} (server): eligibility list corrected`);
    });
  });

  describe('separation of duties', () => {
    it('separation of duties: whoever edited the draft or drew its assignment cannot approve it, nor can a key an author created (directly or through another key)', async () => {
      const authorKey = await stack.keyFor('admin', true);
      const author = as(authorKey);
      const editor = as(await stack.keyFor('sales_ops', true));
      const drawerKey = await stack.keyFor('experimenter', true);
      const drawer = as(drawerKey);
      const p = await editor.post('/pilots', pilot(CODES, { name: 'SoD pilot', design: { type: 'complete' } })).expect(201);
      const id = p.body.id;
      // The author (admin) edits; the sales_ops creator is an author too; the experimenter draws.
      await author.patch(`/pilots/${id}`, { hypothesis: 'A specialist raises win rate in the treated territories' }).expect(200);
      await drawer.post(`/pilots/${id}/assignment`, { reason: 'first draw' }).expect(201);
      await editor.post(`/pilots/${id}/submit`).expect(200);

      const byDrawer = await drawer.post(`/pilots/${id}/approve`).expect(403);
      expect(byDrawer.body).toMatchObject({ code: 'SEPARATION_OF_DUTIES', details: { conflict: { depth: 0, did: ['drew_assignment'] } } });
      const byEditor = await author.post(`/pilots/${id}/approve`).expect(403);
      expect(byEditor.body.details.conflict).toMatchObject({ depth: 0, did: ['edited'] });
      expect(byEditor.body.details.authors.map((a: { did: string[] }) => a.did.join('+')).sort()).toEqual(['created', 'drew_assignment', 'edited']);

      // A second key of the author's own making (and a third made by that one) cannot approve either.
      const child = await author.post('/api-keys', { name: 'my other key', role: 'experimenter' }).expect(201);
      const byChild = await as(child.body.key).post(`/pilots/${id}/approve`).expect(403);
      expect(byChild.body.details.conflict).toMatchObject({ depth: 1, did: ['edited'] });
      expect(byChild.body.message).toMatch(/created \(directly\) by an author/);
      const childAdmin = await author.post('/api-keys', { name: 'my admin key', role: 'admin' }).expect(201);
      const grandchild = await as(childAdmin.body.key).post('/api-keys', { name: 'its key', role: 'experimenter' }).expect(201);
      const byGrandchild = await as(grandchild.body.key).post(`/pilots/${id}/approve`).expect(403);
      expect(byGrandchild.body.details.conflict).toMatchObject({ key_id: (await author.get('/api-keys/me')).body.id, depth: 2 });

      // Nothing changed on refusal; a key outside every author's chain approves.
      expect((await author.get(`/pilots/${id}`).expect(200)).body.status).toBe('in_review');
      const fresh = as(await stack.keyFor('experimenter', true));
      await fresh.post(`/pilots/${id}/approve`).expect(200);
    });

    it('an amendment is refused to the pilot\'s authors, its proposer and any key they created; another key approves it', async () => {
      const id = await createPilot({ type: 'complete' });
      const drawerKey = await stack.keyFor('experimenter', true);
      await as(drawerKey).post(`/pilots/${id}/assignment`).expect(201);
      await request(stack.http).post(`/pilots/${id}/submit`).expect(200);
      await as(await stack.keyFor('experimenter', true)).post(`/pilots/${id}/approve`).expect(200);
      const proposer = as(await stack.keyFor('admin', true));
      await proposer.post(`/pilots/${id}/plan/amendments`, { changes: { secondary_kpis: ['win_rate', 'opportunities'] }, reason: 'finance asked for deal counts' }).expect(201);

      const byProposer = await proposer.post(`/pilots/${id}/plan/amendments/2/approve`).expect(403);
      expect(byProposer.body.details.conflict).toMatchObject({ depth: 0, did: ['proposed_amendment'] });
      // The experimenter who drew the assignment is an author of the pilot.
      const byDrawer = await as(drawerKey).post(`/pilots/${id}/plan/amendments/2/approve`).expect(403);
      expect(byDrawer.body.details.conflict).toMatchObject({ depth: 0, did: ['drew_assignment'] });
      // A key the proposer made for the purpose.
      const child = await proposer.post('/api-keys', { name: 'second key', role: 'experimenter' }).expect(201);
      const byChild = await as(child.body.key).post(`/pilots/${id}/plan/amendments/2/approve`).expect(403);
      expect(byChild.body.details.conflict).toMatchObject({ depth: 1, did: ['proposed_amendment'] });
      expect((await request(stack.http).get(`/pilots/${id}`).expect(200)).body.plan_version).toBe(1);

      const decided = await as(await stack.keyFor('experimenter', true)).post(`/pilots/${id}/plan/amendments/2/approve`).expect(200);
      expect(decided.body).toMatchObject({ version: 2, status: 'approved' });
    });
  });
});
