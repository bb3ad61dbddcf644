import { createHash } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import request from 'supertest';
import { QUEUES } from '../../src/queues/queue.constants';
import { ReportBuilderService } from '../../src/reports/building/report-builder.service';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { createApi } from '../../src/bootstrap';
import { loadEnvironment } from '../../src/config/env.validation';
import { canonicalJson } from '../../src/common/utils/canonical-json';
import { InterimLookService } from '../../src/governance/interim-look.service';
import { opportunityRow, ingest } from '../factories/opportunity.factory';
import { designAndLaunch, pilot } from '../factories/pilot.factory';
import { loadTerritories, territory } from '../factories/territory.factory';
import { compareToReference, loadReference } from '../fixtures/reference/compare';
import { testOverrides } from '../utils/test-env';
import { resetDatabase, startStack, TestStack, waitFor, waitForReport } from '../utils/test-stack';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Territories T-Gnn (Central) with won deals in the pre-period and in `test` (engage/close dates). */
async function seed(stack: TestStack, codes: string[], test: { engage: string; close: string }[] = []) {
  await loadTerritories(stack.http, codes.map((code) => territory({ code, region: 'Central' })));
  const rows = codes.flatMap((code, i) => [
    opportunityRow({ territory: code, amount: String(1000 + 100 * i), engage_date: '2023-11-01', close_date: '2023-11-20' }),
    ...test.map((d, j) => opportunityRow({ territory: code, amount: String(900 + 137 * ((i * 7 + j * 3) % 11)), engage_date: d.engage, close_date: d.close })),
  ]);
  await ingest(stack.http, rows);
}

/** Removes opportunity rows behind the API's back (a duplicate clean-up), from every table KPIs may read. */
/**
 * Deletes opportunities behind the product's back (raw SQL, no data version), so first waits until
 * no rollup refresh is queued or running: one that read the rows before the delete would otherwise
 * write their rollups back after it (seen under load).
 */
async function deleteOpportunities(stack: TestStack, where: string) {
  const rollups = stack.app.get<Queue>(getQueueToken(QUEUES.rollups));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = await rollups.getJobCounts('active', 'waiting', 'prioritized');
    // delayed: a debounced refresh due soon counts; the repeatable refresh (ROLLUP_REFRESH_MS ahead) does not
    const soon = (await rollups.getDelayed()).filter((j) => j.timestamp + (j.opts.delay ?? 0) < Date.now() + 60_000).length;
    if (soon === 0 && Object.values(c).every((n) => n === 0)) break;
    if (Date.now() > deadline) throw new Error(`rollup jobs still pending: ${JSON.stringify({ ...c, delayed_soon: soon })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const table of ['opportunities', 'opportunity_versions']) {
    const [{ exists }] = await stack.dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [table]);
    if (exists) await stack.dataSource.query(`DELETE FROM ${table} WHERE ${where}`);
  }
  for (const table of ['kpi_rollups', 'kpi_rollup_state']) {
    const [{ exists }] = await stack.dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [table]);
    if (exists) await stack.dataSource.query(`DELETE FROM ${table}`);
  }
}

function as(stack: TestStack, key: string) {
  return {
    get: (path: string) => request(stack.raw).get(path).set('x-api-key', key),
    post: (path: string, body: object = {}) => request(stack.raw).post(path).set('x-api-key', key).send(body),
    patch: (path: string, body: object) => request(stack.raw).patch(path).set('x-api-key', key).send(body),
  };
}

const CODES = Array.from({ length: 8 }, (_, i) => `T-G${String(i + 1).padStart(2, '0')}`);

describe('governance: keys, lifecycle, separation of duties, plan, audit, reservations', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // No governance consumer here: interim looks are driven by hand below (the repeatable job has its own suite).
    stack = await startStack({ overrides: { WORKER_QUEUES: 'ingestion,analysis,rollups' } });
  });
  beforeEach(() => resetDatabase(stack.dataSource));
  afterAll(() => stack.close());

  it('rotating BOOTSTRAP_ADMIN_KEY revokes the previous bootstrap key; a revoked bootstrap key stays revoked', async () => {
    const keys = stack.app.get(ApiKeyService);
    const oldKey = 'rotation-test-old-bootstrap-key-000000';
    const newKey = 'rotation-test-new-bootstrap-key-000000';
    await keys.registerBootstrapKey(oldKey);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', oldKey).expect(200);
    await keys.registerBootstrapKey(newKey);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', oldKey).expect(401);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', newKey).expect(200);
    // One audit event per key actually revoked, naming that key (never an event without an entity).
    const revoked = await stack.dataSource.query(`SELECT entity_id FROM audit_events WHERE action = 'api_key.revoked'`);
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every((e: { entity_id: string | null }) => e.entity_id !== null)).toBe(true);
    await keys.registerBootstrapKey(oldKey);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', oldKey).expect(401);
    // The stack's own bootstrap key was retired by the rotation and stays revoked when registered again...
    const stackKey = String(stack.overrides.BOOTSTRAP_ADMIN_KEY);
    await keys.registerBootstrapKey(stackKey);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', stackKey).expect(401);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', newKey).expect(401);
    // ...so the test puts it back behind the API's back for the other tests (shared test database).
    await stack.dataSource.query(`UPDATE api_keys SET revoked_at = NULL, revoked_by = NULL WHERE key_hash = $1`, [sha256(stackKey)]);
    await request(stack.raw).get('/api-keys/me').set('x-api-key', stackKey).expect(200);
  });

  it('in production the API does not start without BOOTSTRAP_ADMIN_KEY', async () => {
    const overrides = { ...testOverrides({ NODE_ENV: 'production' }), BOOTSTRAP_ADMIN_KEY: undefined } as unknown as Record<string, string>;
    const app = await createApi(overrides);
    await expect(app.init()).rejects.toThrow(/BOOTSTRAP_ADMIN_KEY is required when NODE_ENV=production/);
    await app.close().catch(() => undefined);
  });

  it('API keys: shown once, stored as a SHA-256 hash, one role, revocable; the bootstrap admin key exists', async () => {
    const created = await request(stack.http).post('/api-keys').send({ name: 'analyst laptop', role: 'analyst' }).expect(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^plk_[0-9a-f]{8}_/);
    expect(created.body).toMatchObject({ role: 'analyst', name: 'analyst laptop', prefix: key.slice(0, 12), revoked_at: null });

    const [row] = await stack.dataSource.query(`SELECT * FROM api_keys WHERE id = $1`, [created.body.id]);
    expect(row.key_hash).toBe(sha256(key));
    expect(JSON.stringify(row)).not.toContain(key.slice(13)); // the secret part is nowhere in the row

    const list = await request(stack.http).get('/api-keys?limit=500').expect(200);
    expect(JSON.stringify(list.body)).not.toContain(key.slice(13));
    expect(list.body.items.some((k: { is_bootstrap: boolean; role: string }) => k.is_bootstrap && k.role === 'admin')).toBe(true);

    expect((await as(stack, key).get('/api-keys/me').expect(200)).body).toMatchObject({ id: created.body.id, role: 'analyst' });
    expect((await as(stack, key).post('/api-keys', { name: 'x', role: 'admin' }).expect(403)).body.code).toBe('FORBIDDEN');
    await request(stack.http).post(`/api-keys/${created.body.id}/revoke`).expect(200);
    const after = await as(stack, key).get('/pilots').expect(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');
    await request(stack.http).post(`/api-keys/${created.body.id}/revoke`).expect(200); // idempotent
    await request(stack.http).post('/api-keys').send({ name: 'x', role: 'owner' }).expect(400);

    const events = await request(stack.http).get(`/audit?entity_type=api_key&entity_id=${created.body.id}`).expect(200);
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(JSON.stringify(events.body)).not.toContain(key.slice(13));
  });

  it('lifecycle draft → in_review → approved → running → stopped → concluded → archived; other moves are 409; each transition recorded', async () => {
    await seed(stack, CODES);
    const salesOps = as(stack, await stack.keyFor('sales_ops'));
    const experimenter = as(stack, await stack.keyFor('experimenter'));
    const p = await salesOps.post('/pilots', pilot(CODES)).expect(201);
    const id = p.body.id;
    expect(p.body).toMatchObject({ status: 'draft', author_key_id: expect.any(String), plan_hash: null });

    for (const verb of ['approve', 'launch', 'stop', 'conclude']) {
      const res = await experimenter.post(`/pilots/${id}/${verb}`).expect(409);
      expect(res.body).toMatchObject({ code: 'INVALID_STATE', details: { status: 'draft', action: verb } });
    }
    // Another experimenter draws: whoever drew the assignment may not approve it (separation of duties).
    const drawer = as(stack, await stack.keyFor('experimenter', true));
    await drawer.post(`/pilots/${id}/assignment`).expect(201);
    await salesOps.post(`/pilots/${id}/submit`, { reason: 'ready' }).expect(200);
    expect((await salesOps.patch(`/pilots/${id}`, { name: 'late edit' }).expect(409)).body.code).toBe('PILOT_FROZEN');
    expect((await experimenter.post(`/pilots/${id}/assignment`).expect(409)).body.code).toBe('PILOT_FROZEN');
    await experimenter.post(`/pilots/${id}/submit`).expect(409);
    await experimenter.post(`/pilots/${id}/approve`).expect(200);
    await experimenter.post(`/pilots/${id}/launch`).expect(200);
    await experimenter.post(`/pilots/${id}/archive`).expect(409);
    await experimenter.post(`/pilots/${id}/stop`).expect(200);
    await experimenter.post(`/pilots/${id}/launch`).expect(409);
    await experimenter.post(`/pilots/${id}/conclude`).expect(200);
    const archived = await experimenter.post(`/pilots/${id}/archive`, { reason: 'done' }).expect(200);
    expect(archived.body).toMatchObject({ status: 'archived', previous_status: 'concluded' });

    const t = await salesOps.get(`/pilots/${id}/transitions`).expect(200);
    expect(t.body.items.map((x: { from_status: string; to_status: string }) => `${x.from_status}>${x.to_status}`)).toEqual([
      'draft>in_review',
      'in_review>approved',
      'approved>running',
      'running>stopped',
      'stopped>concluded',
      'concluded>archived',
    ]);
    expect(t.body.items[0].reason).toBe('ready');
    const audit = await salesOps.get(`/audit?pilot_id=${id}&entity_type=pilot&limit=500`);
    expect(audit.status).toBe(403); // sales_ops do not read the audit trail
    const events = await experimenter.get(`/audit?pilot_id=${id}&limit=500`).expect(200);
    const launch = events.body.items.find((e: { action: string }) => e.action === 'pilot.launch');
    expect(launch).toMatchObject({ before: { status: 'approved' }, after: { status: 'running' }, actor_role: 'experimenter', request_id: expect.any(String) });
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['pilot.created', 'assignment.drawn', 'pilot.submit', 'pilot.approve', 'pilot.stop', 'pilot.conclude', 'pilot.archive']),
    );
  });

  it('separation of duties: nobody approves a pilot they authored, admins included; sales_ops act only on their own pilots', async () => {
    await seed(stack, CODES);
    const admin1 = as(stack, await stack.keyFor('admin', true));
    const admin2 = as(stack, await stack.keyFor('admin', true));
    const ownerKey = await stack.keyFor('sales_ops', true);
    const owner = as(stack, ownerKey);
    const otherSalesOps = as(stack, await stack.keyFor('sales_ops', true));

    const byAdmin = await admin1.post('/pilots', pilot(CODES)).expect(201);
    await admin1.post(`/pilots/${byAdmin.body.id}/assignment`).expect(201);
    await admin1.post(`/pilots/${byAdmin.body.id}/submit`).expect(200);
    const sod = await admin1.post(`/pilots/${byAdmin.body.id}/approve`).expect(403);
    expect(sod.body).toMatchObject({ code: 'SEPARATION_OF_DUTIES', request_id: expect.any(String) });
    await admin2.post(`/pilots/${byAdmin.body.id}/approve`).expect(200);

    const mine = await owner.post('/pilots', pilot(CODES, { name: 'Owner pilot' })).expect(201);
    expect((await otherSalesOps.patch(`/pilots/${mine.body.id}`, { name: 'hijack' }).expect(403)).body.code).toBe('FORBIDDEN');
    expect((await otherSalesOps.post(`/pilots/${mine.body.id}/submit`).expect(403)).body.code).toBe('FORBIDDEN');
    await owner.patch(`/pilots/${mine.body.id}`, { name: 'Owner pilot, renamed' }).expect(200);
    expect((await owner.post(`/pilots/${mine.body.id}/submit`).expect(409)).body.code).toBe('ASSIGNMENT_REQUIRED'); // nothing to review yet
    await admin2.post(`/pilots/${mine.body.id}/assignment`).expect(201);
    await owner.post(`/pilots/${mine.body.id}/submit`).expect(200);
    expect((await owner.post(`/pilots/${mine.body.id}/approve`).expect(403)).body.code).toBe('FORBIDDEN'); // not their role either
    const state = await owner.get(`/pilots/${mine.body.id}`).expect(200);
    expect(state.body.status).toBe('in_review');
  });

  it('the plan is frozen and hashed at approval, every report shows the hash; an amendment needs a second key and appears in later reports with its reason', async () => {
    await seed(stack, CODES, [{ engage: '2024-01-10', close: '2024-02-01' }]);
    const proposerKey = await stack.keyFor('experimenter', true);
    const proposer = as(stack, proposerKey);
    const approver = as(stack, await stack.keyFor('experimenter', true));
    const p = await request(stack.http).post('/pilots').send(pilot(CODES)).expect(201);
    const id = p.body.id;
    await designAndLaunch(stack.http, id);

    const planRes = await approver.get(`/pilots/${id}/plan`).expect(200);
    const v1 = planRes.body.versions[0];
    expect(v1).toMatchObject({ version: 1, status: 'approved', reason: null });
    expect(v1.plan).toMatchObject({ primary_kpi: 'revenue_won', secondary_kpis: ['win_rate'], alpha: 0.05, test_period: { start: '2024-01-01', end: '2024-03-31' } });
    expect(v1.plan_hash).toBe(sha256(canonicalJson(v1.plan))); // the hash is recomputable from the plan
    expect(planRes.body.current_hash).toBe(v1.plan_hash);

    const r1 = await request(stack.http).post(`/pilots/${id}/reports`).expect(202);
    const report1 = await waitForReport(stack.http, id, r1.body.report_id, 120_000);
    expect(report1.status).toBe('completed');
    expect(report1.result.plan).toEqual({ version: 1, hash: v1.plan_hash, locked_at: expect.any(String), amendments: [] });
    expect(report1.result.primary_method.key).toBe(v1.plan.primary_method); // the plan names the method the report uses

    // A change after approval: proposed with a reason, approved by another key.
    await proposer.post(`/pilots/${id}/plan/amendments`, { changes: { alpha: 0.05 }, reason: 'no change' }).expect(400);
    const proposed = await proposer.post(`/pilots/${id}/plan/amendments`, { changes: { secondary_kpis: ['win_rate', 'opportunities'] }, reason: 'finance asked for deal counts' }).expect(201);
    expect(proposed.body).toMatchObject({ version: 2, status: 'pending', changes: [{ field: 'secondary_kpis', before: ['win_rate'], after: ['win_rate', 'opportunities'] }] });
    expect((await proposer.post(`/pilots/${id}/plan/amendments`, { changes: { alpha: 0.1 }, reason: 'x' }).expect(409)).body.code).toBe('AMENDMENT_PENDING');
    expect((await proposer.post(`/pilots/${id}/plan/amendments/2/approve`).expect(403)).body.code).toBe('SEPARATION_OF_DUTIES');
    // The pilot's author (the default admin key) may not approve it either.
    expect((await request(stack.http).post(`/pilots/${id}/plan/amendments/2/approve`).expect(403)).body.code).toBe('SEPARATION_OF_DUTIES');
    const stillV1 = await approver.get(`/pilots/${id}`).expect(200);
    expect(stillV1.body).toMatchObject({ plan_version: 1, plan_hash: v1.plan_hash, secondary_kpis: ['win_rate'] });
    const decided = await approver.post(`/pilots/${id}/plan/amendments/2/approve`).expect(200);
    expect(decided.body).toMatchObject({ pilot_id: id, version: 2, status: 'approved' });
    await approver.post(`/pilots/${id}/plan/amendments/2/approve`).expect(409);

    const now = await approver.get(`/pilots/${id}`).expect(200);
    expect(now.body.secondary_kpis).toEqual(['win_rate', 'opportunities']);
    expect(now.body.plan_version).toBe(2);
    expect(now.body.plan_hash).not.toBe(v1.plan_hash);

    const r2 = await request(stack.http).post(`/pilots/${id}/reports`).expect(202);
    const report2 = await waitForReport(stack.http, id, r2.body.report_id, 120_000);
    expect(report2.result.plan).toMatchObject({
      version: 2,
      hash: now.body.plan_hash,
      amendments: [{ version: 2, reason: 'finance asked for deal counts', changes: [{ field: 'secondary_kpis', before: ['win_rate'], after: ['win_rate', 'opportunities'] }] }],
    });
    expect(report2.result.kpis.map((k: { kpi: string }) => k.kpi)).toEqual(expect.arrayContaining(['revenue_won', 'win_rate', 'opportunities']));
    // The earlier report keeps the plan it was computed under.
    const again1 = await request(stack.http).get(`/pilots/${id}/reports/${r1.body.report_id}`).expect(200);
    expect(again1.body.result.plan.hash).toBe(v1.plan_hash);

    const audit = await approver.get(`/audit?pilot_id=${id}&action=plan.amendment_approved`).expect(200);
    expect(audit.body.items).toEqual([
      expect.objectContaining({ before: { plan_version: 1, plan_hash: v1.plan_hash }, after: expect.objectContaining({ plan_version: 2, reason: 'finance asked for deal counts' }) }),
    ]);
  }, 300_000);

  it('the audit trail is append-only: no API route changes it, and PostgreSQL rejects UPDATE, DELETE and TRUNCATE', async () => {
    await request(stack.http).post('/api-keys').send({ name: 'for audit', role: 'analyst' }).expect(201);
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const res = await request(stack.http)[method]('/audit').send({});
      expect(res.status).toBe(404);
    }
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`);
    expect(n).toBeGreaterThan(0);
    await expect(stack.dataSource.query(`UPDATE audit_events SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(stack.dataSource.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(stack.dataSource.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    const [{ m }] = await stack.dataSource.query(`SELECT count(*)::int AS m FROM audit_events WHERE action = 'tampered'`);
    expect(m).toBe(0);

    // Filters and paging.
    const page1 = await request(stack.http).get('/audit?entity_type=api_key&limit=1&offset=0').expect(200);
    const page2 = await request(stack.http).get('/audit?entity_type=api_key&limit=1&offset=1').expect(200);
    expect(page1.body.total).toBeGreaterThanOrEqual(2);
    expect(page1.body.items).toHaveLength(1);
    expect(page1.body.items[0].id).not.toBe(page2.body.items[0].id);
    expect(Number(page1.body.items[0].id)).toBeLessThan(Number(page2.body.items[0].id));
    await request(stack.http).get('/audit?pilot_id=not-a-uuid').expect(400);
    // Oldest first by the numeric id (not as text: 99999999 before 100000000).
    const action = `order-check-${Date.now()}`;
    await stack.dataSource.query(
      `INSERT INTO audit_events (id, action, entity_type) VALUES (100000000, $1, 'test'), (99999999, $1, 'test')`, // fresh test database per run
      [action],
    );
    const ordered = await request(stack.http).get(`/audit?action=${action}`).expect(200);
    const ids = ordered.body.items.map((e: { id: string }) => Number(e.id));
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBeLessThan(ids[1]);
    expect(String(ids[0]).length).toBeLessThan(String(ids[1]).length);
    const future = await request(stack.http).get(`/audit?from=${encodeURIComponent('2999-01-01T00:00:00Z')}`).expect(200);
    expect(future.body.total).toBe(0);
  });

  it('territory reservations: a conflicting launch gets 409 naming the other pilot, unless both pilots declared each other compatible', async () => {
    await seed(stack, CODES);
    const experimenter = as(stack, await stack.keyFor('experimenter'));
    const a = await request(stack.http).post('/pilots').send(pilot(CODES.slice(0, 6), { name: 'Pilot A' })).expect(201);
    const b = await request(stack.http).post('/pilots').send(pilot(CODES.slice(2, 8), { name: 'Pilot B' })).expect(201);
    const c = await request(stack.http).post('/pilots').send(pilot(CODES.slice(2, 8), { name: 'Pilot C' })).expect(201);
    await designAndLaunch(stack.http, a.body.id);

    await expect(designAndLaunch(stack.http, b.body.id)).rejects.toThrow(/409/);
    const conflict = await experimenter.post(`/pilots/${b.body.id}/launch`).expect(409);
    expect(conflict.body.code).toBe('TERRITORY_RESERVED');
    expect(conflict.body.message).toContain('Pilot A');
    expect(conflict.body.details.conflicts).toEqual([{ pilot_id: a.body.id, name: 'Pilot A', territories: CODES.slice(2, 6) }]);

    // One direction is not enough.
    const oneWay = await experimenter.post(`/pilots/${b.body.id}/compatible-pilots`, { pilot_id: a.body.id, reason: 'different sales stages' }).expect(200);
    expect(oneWay.body.items).toEqual([expect.objectContaining({ pilot_id: a.body.id, mutual: false })]);
    await experimenter.post(`/pilots/${b.body.id}/launch`).expect(409);
    await experimenter.post(`/pilots/${a.body.id}/compatible-pilots`, { pilot_id: b.body.id, reason: 'different sales stages' }).expect(200);
    await experimenter.post(`/pilots/${b.body.id}/compatible-pilots`, { pilot_id: b.body.id, reason: 'self' }).expect(400);
    const launched = await experimenter.post(`/pilots/${b.body.id}/launch`).expect(200);
    expect(launched.body.status).toBe('running');

    // C is compatible with nobody: blocked by A and B (named), free once both stop.
    await request(stack.http).post(`/pilots/${c.body.id}/assignment`).expect(201);
    await request(stack.http).post(`/pilots/${c.body.id}/submit`).expect(200);
    await experimenter.post(`/pilots/${c.body.id}/approve`).expect(200);
    const blocked = await experimenter.post(`/pilots/${c.body.id}/launch`).expect(409);
    expect(blocked.body.details.conflicts.map((x: { name: string }) => x.name).sort()).toEqual(['Pilot A', 'Pilot B']);
    await experimenter.post(`/pilots/${a.body.id}/stop`).expect(200);
    await experimenter.post(`/pilots/${b.body.id}/stop`).expect(200);
    await experimenter.post(`/pilots/${c.body.id}/launch`).expect(200);
    await experimenter.post(`/pilots/${c.body.id}/stop`).expect(200);

    // Two approved pilots on the same territories launched at the same moment: exactly one wins.
    const d = await request(stack.http).post('/pilots').send(pilot(CODES.slice(0, 4), { name: 'Pilot D' })).expect(201);
    const e = await request(stack.http).post('/pilots').send(pilot(CODES.slice(0, 4), { name: 'Pilot E' })).expect(201);
    for (const x of [d, e]) {
      await request(stack.http).post(`/pilots/${x.body.id}/assignment`).expect(201);
      await request(stack.http).post(`/pilots/${x.body.id}/submit`).expect(200);
      await experimenter.post(`/pilots/${x.body.id}/approve`).expect(200);
    }
    const both = await Promise.all([experimenter.post(`/pilots/${d.body.id}/launch`), experimenter.post(`/pilots/${e.body.id}/launch`)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.body.code).toBe('TERRITORY_RESERVED');
  });

  it('interim looks taken one by one: fewer data at a later look (deleted rows) and no data at all never crash it', async () => {
    // Future dates, so only the sweeps below (with their own "today") take these looks.
    const test = [
      { engage: '2030-01-05', close: '2030-01-20' },
      { engage: '2030-02-01', close: '2030-02-10' },
      { engage: '2030-03-01', close: '2030-03-10' },
    ];
    await seed(stack, CODES, test);
    const p = await request(stack.http)
      .post('/pilots')
      .send(
        pilot(CODES, {
          pre_period: { start: '2029-10-01', end: '2029-12-31' },
          test_period: { start: '2030-01-01', end: '2030-04-10' },
          interim_looks: ['2030-03-16', '2030-01-25', '2030-02-19'],
        }),
      )
      .expect(201);
    expect(p.body.interim_looks).toEqual(['2030-01-25', '2030-02-19', '2030-03-16']);
    const id = p.body.id;
    await designAndLaunch(stack.http, id);
    const worker = await stack.startWorker();
    const looks = worker.get(InterimLookService);
    const analysis = worker.get(ReportBuilderService);
    const compute = (reportId: string) => analysis.computeReport(reportId);

    expect(await looks.sweep(compute, '2030-01-24')).toBe(0);
    expect(await looks.sweep(compute, '2030-01-25')).toBe(1);
    expect(await looks.sweep(compute, '2030-01-25')).toBe(0); // taken once
    await deleteOpportunities(stack, `close_date >= '2030-02-01'`);
    expect(await looks.sweep(compute, '2030-02-20')).toBe(1);
    await deleteOpportunities(stack, 'true');
    expect(await looks.sweep(compute, '2030-12-31')).toBe(1);

    const res = await request(stack.http).get(`/pilots/${id}/interim-looks`).expect(200);
    expect(res.body.planned.map((l: { information_fraction: number }) => l.information_fraction)).toEqual([0.25, 0.5, 0.75]);
    expect(res.body.taken.map((l: { status: string }) => l.status)).toEqual(['completed', 'completed', 'completed']);
    for (const look of res.body.taken) {
      expect(['continue', 'stop_for_efficacy', 'stop_for_futility']).toContain(look.result.recommendation);
      const report = await request(stack.http).get(`/pilots/${id}/reports/${look.report_id}`).expect(200);
      expect(report.body.status).toBe('completed');
      expect(report.body.result.sequential).toMatchObject({ kind: 'interim', look_number: look.look_number });
      expect(JSON.stringify(report.body.result.sequential)).not.toMatch(/NaN|Infinity/);
    }
    const last = res.body.taken[2].result;
    const lastReport = await request(stack.http).get(`/pilots/${id}/reports/${res.body.taken[2].report_id}`).expect(200);
    expect(lastReport.body.result.kpis[0].status).not.toBe('ok'); // nothing left to estimate
    expect(last).toMatchObject({ z: null, crosses: null, recommendation: 'continue' });
    expect(last.reason).toMatch(/no estimate/);
    const events = await request(stack.http).get(`/audit?pilot_id=${id}&action=pilot.interim_look_taken`).expect(200);
    expect(events.body.items.map((e: { after: { look_number: number } }) => e.after.look_number)).toEqual([1, 2, 3]);

    // An amended schedule adds an earlier date: only that date is taken (as look 4), none is retaken.
    const proposer = as(stack, await stack.keyFor('experimenter', true));
    const approver = as(stack, await stack.keyFor('experimenter', true));
    await proposer
      .post(`/pilots/${id}/plan/amendments`, { changes: { interim_looks: ['2030-01-10', '2030-01-25', '2030-02-19', '2030-03-16'] }, reason: 'an early safety look' })
      .expect(201);
    await approver.post(`/pilots/${id}/plan/amendments/2/approve`).expect(200);
    expect(await looks.sweep(compute, '2030-12-31')).toBe(1);
    const after = await request(stack.http).get(`/pilots/${id}/interim-looks`).expect(200);
    expect(after.body.taken.map((l: { look_number: number; date: string }) => `${l.look_number}:${l.date}`)).toEqual([
      '1:2030-01-25',
      '2:2030-02-19',
      '3:2030-03-16',
      '4:2030-01-10',
    ]);
    expect(await looks.sweep(compute, '2030-12-31')).toBe(0);
  }, 300_000);
  it('an interim look whose report can never be computed is marked failed with its reason, and not retried', async () => {
    await seed(stack, CODES, [{ engage: '2031-01-05', close: '2031-01-15' }]);
    const p = await request(stack.http)
      .post('/pilots')
      .send(pilot(CODES, { pre_period: { start: '2030-10-01', end: '2030-12-31' }, test_period: { start: '2031-01-01', end: '2031-04-10' }, interim_looks: ['2031-01-25'] }))
      .expect(201);
    await designAndLaunch(stack.http, p.body.id);
    // Only a damaged database gets here (launch requires an assignment): remove it behind the API's back.
    await stack.dataSource.query('DELETE FROM assignments WHERE pilot_id = $1', [p.body.id]);
    const worker = await stack.startWorker();
    const looks = worker.get(InterimLookService);
    const analysis = worker.get(ReportBuilderService);
    expect(await looks.sweep((id) => analysis.computeReport(id), '2031-02-01')).toBe(0);
    const res = await request(stack.http).get(`/pilots/${p.body.id}/interim-looks`).expect(200);
    expect(res.body.taken).toEqual([expect.objectContaining({ look_number: 1, status: 'failed', error: expect.stringMatching(/has no assignment/) })]);
    const report = await request(stack.http).get(`/pilots/${p.body.id}/reports/${res.body.taken[0].report_id}`).expect(200);
    expect(report.body).toMatchObject({ status: 'failed', error: expect.stringMatching(/has no assignment/) });
    expect(await looks.sweep((id) => analysis.computeReport(id), '2031-03-01')).toBe(0);
    const again = await request(stack.http).get(`/pilots/${p.body.id}/interim-looks`).expect(200);
    expect(again.body.taken).toHaveLength(1);
  });
});

describe('interim looks on the repeatable BullMQ job, with the reference O\'Brien–Fleming boundaries', () => {
  let stack: TestStack;
  const reference = loadReference('sequential').cases.find((c) => c.name === 'obf_ld_two_sided_alpha0.05_t0.25_0.5_0.75_1')!;

  beforeAll(async () => {
    stack = await startStack({ overrides: { INTERIM_LOOK_SWEEP_MS: 300 } });
    await resetDatabase(stack.dataSource);
  });
  afterAll(() => stack.close());

  it('the job scheduler takes each due look once, at the boundaries of sequential.json; the final report uses the final boundary given the looks taken', async () => {
    // Test period of 100 days (2024-01-01..2024-04-09): looks on days 25, 50 and 75 are t = 0.25, 0.5, 0.75.
    await seed(stack, CODES, [
      { engage: '2024-01-05', close: '2024-01-20' },
      { engage: '2024-02-01', close: '2024-02-12' },
      { engage: '2024-03-01', close: '2024-03-20' },
    ]);
    const p = await request(stack.http)
      .post('/pilots')
      .send(pilot(CODES, { test_period: { start: '2024-01-01', end: '2024-04-09' }, interim_looks: ['2024-01-25', '2024-02-19', '2024-03-15'] }))
      .expect(201);
    const id = p.body.id;
    await designAndLaunch(stack.http, id);

    const { Queue } = await import('bullmq');
    // The configured Redis (REDIS_HOST/REDIS_PORT), as every other connection of the suite.
    const env = loadEnvironment();
    const queue = new Queue('governance', { connection: { host: env.REDIS_HOST, port: env.REDIS_PORT }, prefix: String(stack.overrides.QUEUE_PREFIX) });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ key: 'interim-look-sweep', every: 300 })]);
    } finally {
      await queue.close();
    }

    const taken = await waitFor(
      async () => {
        const res = await request(stack.http).get(`/pilots/${id}/interim-looks`);
        return res.body.taken?.length === 3 && res.body.taken.every((l: { status: string }) => l.status === 'completed') ? res.body : undefined;
      },
      'three interim looks',
      300_000, // each look computes a full report (about 35 s each on a busy 2-core machine)
    );
    const expected = reference.expected as { z_boundaries: number[]; nominal_p_two_sided: number[]; cumulative_alpha_spent: number[] };
    const got = {
      z_boundaries: taken.taken.map((l: { result: { z_boundary: number } }) => l.result.z_boundary),
      nominal_p_two_sided: taken.taken.map((l: { result: { nominal_p_two_sided: number } }) => l.result.nominal_p_two_sided),
      cumulative_alpha_spent: taken.taken.map((l: { result: { cumulative_alpha_spent: number } }) => l.result.cumulative_alpha_spent),
    };
    const first3 = {
      z_boundaries: expected.z_boundaries.slice(0, 3),
      nominal_p_two_sided: expected.nominal_p_two_sided.slice(0, 3),
      cumulative_alpha_spent: expected.cumulative_alpha_spent.slice(0, 3),
    };
    expect(compareToReference(got, first3, reference.tolerance)).toEqual([]);
    expect(taken.planned_final_z_boundary).toBeCloseTo(expected.z_boundaries[3], 6);
    // Each look's report is one report, taken once (the sweep runs every 300 ms).
    const reports = await request(stack.http).get(`/pilots/${id}/reports`).expect(200);
    expect(reports.body).toHaveLength(3);

    // The final report (the test period is over) tests at the final boundary given the three looks.
    const r = await request(stack.http).post(`/pilots/${id}/reports`).expect(202);
    const final = await waitForReport(stack.http, id, r.body.report_id, 120_000);
    expect(final.result.sequential).toMatchObject({ kind: 'final', looks_taken: [{ look_number: 1 }, { look_number: 2 }, { look_number: 3 }] });
    expect(final.result.sequential.current.information_fraction).toBe(1);
    expect(compareToReference({ z: final.result.sequential.current.z_boundary }, { z: expected.z_boundaries[3] }, reference.tolerance)).toEqual([]);
    expect(final.result.sequential.current.cumulative_alpha_spent).toBeCloseTo(0.05, 12);
    expect(['stop_for_efficacy', 'stop_for_futility']).toContain(final.result.sequential.current.recommendation);
  }, 480_000);
});

describe('hardening: request ids, security headers, rate limit per key', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false, overrides: { RATE_LIMIT_LIMIT: 5, RATE_LIMIT_TTL_MS: 60_000 } });
  });
  afterAll(() => stack.close());

  it('error bodies carry the request id of the x-request-id header, body-parser failures included; helmet headers are set', async () => {
    const bad = await request(stack.raw).post('/pilots').set('x-api-key', 'nope').set('content-type', 'application/json').send('{"name":');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'MALFORMED_JSON', request_id: bad.headers['x-request-id'] });
    const mine = await request(stack.raw).get('/pilots').set('x-request-id', 'trace-abc-123');
    expect(mine.status).toBe(401);
    expect(mine.headers['x-request-id']).toBe('trace-abc-123');
    expect(mine.body.request_id).toBe('trace-abc-123');
    const docs = await request(stack.raw).get('/docs-json').expect(200); // the OpenAPI document needs no key
    expect(docs.body.components.securitySchemes['api-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    const health = await request(stack.raw).get('/health');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['content-security-policy']).toContain("default-src 'self'");
    expect(health.headers['content-security-policy']).not.toContain('upgrade-insecure-requests'); // /docs works over http
    const ui = await request(stack.raw).get('/docs/').expect(200); // the Swagger UI needs no key, and no inline script
    expect(ui.text).not.toMatch(/<script>[^<]/);
    expect(health.headers['x-powered-by']).toBeUndefined();
  });

  it('a key over its limit gets 429 RATE_LIMITED with Retry-After; another key and health are not affected', async () => {
    const key = await stack.keyFor('analyst');
    const other = await stack.keyFor('experimenter');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await request(stack.raw).get('/pilots').set('x-api-key', key)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await request(stack.raw).get('/api-keys/me').set('x-api-key', key);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 5 } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await request(stack.raw).get('/pilots').set('x-api-key', other)).status).toBe(200);
    expect((await request(stack.raw).get('/health')).status).not.toBe(429);
  });
});
