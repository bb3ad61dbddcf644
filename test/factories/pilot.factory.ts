import request from 'supertest';
import type { TestStack } from '../utils/test-stack';

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


/**
 * Takes a draft pilot to `running` through the API the way the product requires (draw the
 * assignment, then launch) and returns the assignment body. Tests that only need a running pilot
 * use this, so a change to the lifecycle (review, approval, keys) is made here once.
 */
export async function designAndLaunch(http: TestStack['http'], pilotId: string): Promise<Record<string, any>> {
  const assignment = await request(http).post(`/pilots/${pilotId}/assignment`).expect(201);
  await request(http).post(`/pilots/${pilotId}/launch`).expect(200);
  return assignment.body;
}
