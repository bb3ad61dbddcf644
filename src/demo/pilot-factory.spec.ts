import type { ApiClient } from './api-client';
import type { PipelineRow, SalesTeamRow } from './crm-dataset';
import { controlTreatmentArms, createRunningPilot, crmCovariateLabel, crmEligibleAgents, crmPreCovariates, crmTerritories, roleClients, technicalSpecialistPilot } from './pilot-factory';

const PRE = { start: '2017-03-01', end: '2017-06-30' };
const TEST = { start: '2017-07-01', end: '2017-12-31' };

function row(agent: string, stage: string, engage: string, close: string, value: string): PipelineRow {
  return { opportunity_id: `${agent}-${engage}-${stage}`, sales_agent: agent, product: 'GTX', account: 'Acme', deal_stage: stage, engage_date: engage, close_date: close, close_value: value };
}

const teams: SalesTeamRow[] = [
  { sales_agent: 'Ada', manager: 'Mia', regional_office: 'East' },
  { sales_agent: 'Idle', manager: 'Mia', regional_office: 'East' },
  { sales_agent: 'Ben', manager: 'Max', regional_office: 'West' },
];
const pipeline: PipelineRow[] = [
  row('Ada', 'Won', '2017-03-05', '2017-04-01', '1000'),
  row('Ada', 'Won', '2017-06-20', '2017-07-10', '500'), // won after the pre-period: not counted
  row('Ada', 'Lost', '2017-05-01', '2017-05-20', ''),
  row('Ada', 'Won', '2017-02-01', '2017-03-10', '700'), // engaged before the pre-period
  row('Ben', 'Engaging', '2017-08-01', '', ''),
];

describe('pilot factory', () => {
  it('builds the technical-specialist body with the caller’s fields and the shared arms and KPIs', () => {
    const body = technicalSpecialistPilot({ name: 'P', territoryCodes: ['Ada', 'Ben'], prePeriod: PRE, testPeriod: TEST, design: { type: 'complete', seed: 7 }, monthlyCost: 100 });
    expect(body).toEqual({
      name: 'P',
      hypothesis: 'A technical sales specialist joining the team raises sales velocity',
      treatment_description: 'technical sales specialist joins the team',
      eligibility: { territory_codes: ['Ada', 'Ben'] },
      arms: controlTreatmentArms(),
      primary_kpi: 'sales_velocity',
      secondary_kpis: ['opportunities', 'win_rate', 'average_deal_size', 'sales_cycle_length', 'revenue_won'],
      guardrail_kpis: ['open_deals'],
      pre_period: PRE,
      test_period: TEST,
      alpha: 0.05,
      design: { type: 'complete', seed: 7 },
      monthly_cost: 100,
    });
    const noCost = technicalSpecialistPilot({ name: 'P', territoryCodes: ['Ada'], prePeriod: PRE, testPeriod: TEST, design: { type: 'complete', seed: 7 } });
    expect('monthly_cost' in noCost).toBe(false);
    // arms and KPI lists are fresh arrays: changing one body does not change the next
    noCost.arms[0].ratio = 3;
    noCost.secondary_kpis!.pop();
    expect(controlTreatmentArms()[0].ratio).toBe(1);
    expect(technicalSpecialistPilot({ name: 'Q', territoryCodes: [], prePeriod: PRE, testPeriod: TEST, design: { type: 'complete', seed: 1 } }).secondary_kpis).toHaveLength(5);
  });

  it('takes the agents with opportunities as the eligible set, in file order', () => {
    const { eligible, idle } = crmEligibleAgents({ pipeline, teams });
    expect(eligible.map((t) => t.sales_agent)).toEqual(['Ada', 'Ben']);
    expect(idle).toEqual(['Idle']);
  });

  it('computes pre-period covariates by the cohort convention and one territory per agent', () => {
    expect(crmPreCovariates(pipeline, 'Ada', PRE)).toEqual({ pre_won_revenue: 1000, pre_opportunities: 3 });
    expect(crmPreCovariates(pipeline, 'Ben', PRE)).toEqual({ pre_won_revenue: 0, pre_opportunities: 0 });
    const { territories, eligible } = crmTerritories({ pipeline, teams }, PRE);
    expect(territories.map((t) => t.code)).toEqual(['Ada', 'Idle', 'Ben']);
    expect(territories[0]).toEqual({ code: 'Ada', name: 'Ada', region: 'East', team: 'Mia', manager: 'Mia', attributes: { pre_won_revenue: 1000, pre_opportunities: 3 } });
    expect(eligible).toHaveLength(2);
  });

  /** A fake ApiClient recording every call as `who METHOD path`. */
  function fakeClient(who: string, calls: string[], answers: Record<string, unknown> = {}): ApiClient {
    const client = {
      post: async (path: string, body?: unknown) => {
        calls.push(`${who} POST ${path}`);
        if (path === '/api-keys') return { key: `key-of-${(body as { role: string }).role}` };
        return answers[path] ?? { id: 'p1', name: 'P' };
      },
      get: async (path: string) => {
        calls.push(`${who} GET ${path}`);
        return {};
      },
      withKey: (key: string) => fakeClient(key, calls, answers),
    };
    return client as unknown as ApiClient;
  }

  it('takes a pilot to running in the product’s order, with the hook before launch', async () => {
    const calls: string[] = [];
    const answers = { '/pilots/p1/approve': { plan_hash: 'h' }, '/pilots/p1/launch': { launched_at: 't' } };
    const author = fakeClient('author', calls, answers);
    const experimenter = fakeClient('experimenter', calls, answers);
    const approver = fakeClient('approver', calls, answers);
    const body = technicalSpecialistPilot({ name: 'P', territoryCodes: ['Ada'], prePeriod: PRE, testPeriod: TEST, design: { type: 'complete', seed: 1 } });
    const running = await createRunningPilot({ author, experimenter, approver }, body, async (sofar) => {
      calls.push(`hook ${sofar.approved.plan_hash}`);
    });
    expect(calls).toEqual([
      'author POST /pilots',
      'experimenter POST /pilots/p1/assignment',
      'author POST /pilots/p1/submit',
      'approver POST /pilots/p1/approve',
      'hook h',
      'experimenter POST /pilots/p1/launch',
    ]);
    expect(running.launched).toEqual({ launched_at: 't' });
  });

  it('creates one client per role with a new key', async () => {
    const calls: string[] = [];
    const clients = await roleClients(fakeClient('admin', calls), 'demo', ['sales_ops', 'analyst'] as const);
    expect(Object.keys(clients)).toEqual(['sales_ops', 'analyst']);
    await clients.analyst.get('/pilots');
    expect(calls).toEqual(['admin POST /api-keys', 'admin POST /api-keys', 'key-of-analyst GET /pilots']);
  });
});

describe('crmCovariateLabel', () => {
  it('puts the covariates the demo prints in words: CRM attributes, pre_period_<kpi>, anything else unchanged', () => {
    expect(crmCovariateLabel('pre_won_revenue')).toBe('pre-period revenue won');
    expect(crmCovariateLabel('pre_opportunities')).toBe('pre-period opportunities');
    expect(crmCovariateLabel('pre_period_sales_velocity')).toBe('pre-period sales velocity');
    expect(crmCovariateLabel('headcount')).toBe('headcount');
  });
});
