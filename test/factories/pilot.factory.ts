import request from 'supertest';
import type { TestStack } from '../utils/test-stack';
import { TEST_ADMIN_KEY } from '../utils/test-env';

/** The JSON body of POST /pilots (CreatePilotDto) with full defaults; `overrides` replace fields. */
export function pilot(territoryCodes: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Technical specialist pilot',
    hypothesis: 'A technical sales specialist raises sales velocity',
    treatment_description: 'a technical sales specialist joins the team',
    eligibility: { territory_codes: territoryCodes },
    arms: [
      { key: 'control', role: 'control', ratio: 1 },
      { key: 'treatment', role: 'treatment', ratio: 1 },
    ],
    primary_kpi: 'revenue_won',
    secondary_kpis: ['win_rate'],
    pre_period: { start: '2023-10-01', end: '2023-12-31' },
    test_period: { start: '2024-01-01', end: '2024-03-31' },
    design: { type: 'complete', seed: 42 },
    ...overrides,
  };
}


/** An experimenter key per API handler (created once with the bootstrap key). */
const approvers = new WeakMap<object, Promise<string>>();

/** A key of `role` created through the API of `http` with the bootstrap admin key (TEST_ADMIN_KEY). */
export async function createKey(http: TestStack['http'], role: 'admin' | 'sales_ops' | 'experimenter' | 'analyst'): Promise<string> {
  // Created by the bootstrap key, so the new key is not in the creator chain of the default key
  // (which authors the factory's pilots) and may approve them.
  const res = await request(http).post('/api-keys').set('x-api-key', TEST_ADMIN_KEY).send({ name: `factory ${role}`, role });
  if (res.status !== 201) throw new Error(`POST /api-keys answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.key;
}

/**
 * Takes a draft pilot to `running` through the API the way the product requires and returns the
 * assignment body: draw the assignment, submit (draft → in_review), approve with an experimenter
 * key other than the author (the plan is locked), launch. Tests that only need a running pilot use
 * this, so a change to the lifecycle is made here once. `approverKey` overrides the approving key.
 */
export async function designAndLaunch(
  http: TestStack['http'],
  pilotId: string,
  opts: { approverKey?: string } = {},
): Promise<Record<string, any>> {
  // A reason is sent always: a redraw (the pilot was drawn before) needs one, a first draw records it.
  const assignment = await request(http).post(`/pilots/${pilotId}/assignment`).send({ reason: 'drawn by the test factory' }).expect(201);
  await request(http).post(`/pilots/${pilotId}/submit`).expect(200);
  let approver = opts.approverKey;
  if (!approver) {
    if (!approvers.has(http)) approvers.set(http, createKey(http, 'experimenter'));
    approver = await approvers.get(http)!;
  }
  const approved = await request(http).post(`/pilots/${pilotId}/approve`).set('x-api-key', approver);
  if (approved.status !== 200) throw new Error(`approve answered ${approved.status}: ${JSON.stringify(approved.body)}`);
  await request(http).post(`/pilots/${pilotId}/launch`).expect(200);
  return assignment.body;
}
