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
