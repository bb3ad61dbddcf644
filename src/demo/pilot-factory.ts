import type { CreatePilotDto, DesignDto, WindowDto } from '../pilots/dto/create-pilot.dto';
import { covariateLabel, type KpiKey } from '../kpis/kpi-catalogue';
import type { ApiClient } from './api-client';
import type { PipelineRow, SalesTeamRow } from './crm-dataset';

/**
 * The one place the demo (src/demo/demo.ts) and the benches (bench/report.ts through the API,
 * bench/calibration.ts in-process) build their "technical specialist" pilot: its arms, KPIs,
 * definition body, the CRM territories it runs on, and the lifecycle that takes it to `running`
 * (draw the assignment, submit, approve, launch; docs/api.md). Callers pass only what differs
 * (name, territories, periods, design, cost).
 */

/** A response body of the PilotLab API (JSON object; see docs/api.md for each route's fields). */
export type ApiBody = Record<string, any>;

/** One arm of a pilot (CreatePilotDto.arms): key, role and relative allocation weight. */
export interface PilotArm {
  key: string;
  role: 'control' | 'treatment';
  ratio: number;
}

/**
 * The arms every pilot here uses: `control` and one `treatment`, allocated 1:1 (ratio weights).
 * A new array on every call, so a caller may change it without touching the others.
 */
export function controlTreatmentArms(): PilotArm[] {
  return [
    { key: 'control', role: 'control', ratio: 1 },
    { key: 'treatment', role: 'treatment', ratio: 1 },
  ];
}

/**
 * The KPI roles of the technical-specialist pilot (KPI keys of src/kpis/kpi-catalogue.ts): sales
 * velocity decides; every other sales KPI is secondary (Holm-adjusted), open deals a guardrail.
 */
export const SALES_MODEL_KPIS: { primary_kpi: KpiKey; secondary_kpis: KpiKey[]; guardrail_kpis: KpiKey[] } = {
  primary_kpi: 'sales_velocity',
  secondary_kpis: ['opportunities', 'win_rate', 'average_deal_size', 'sales_cycle_length', 'revenue_won'],
  guardrail_kpis: ['open_deals'],
};

/** What differs between the pilots the demo and the benches define. */
export interface PilotDefinitionInput {
  /** pilot name (≤ 200 characters); the demo also finds its earlier runs by it */
  name: string;
  /** codes of the eligible territories (eligibility.territory_codes) */
  territoryCodes: string[];
  /** pre-period and test period: UTC calendar days `YYYY-MM-DD`, both ends inclusive */
  prePeriod: WindowDto;
  testPeriod: WindowDto;
  /** randomization design and seed (DesignDto: type, stratify_by, seed, ...) */
  design: DesignDto;
  /** declared cost of the treatment per month, in the currency of the opportunity amounts; omitted when undefined */
  monthlyCost?: number;
}

/**
 * The JSON body of POST /pilots (CreatePilotDto) for the technical-specialist pilot: the
 * hypothesis and treatment of the demo, {@link controlTreatmentArms}, {@link SALES_MODEL_KPIS},
 * α = 0.05 (the API default, stated explicitly), and the caller's name, territories, periods,
 * design and monthly cost. Validation happens in the API (400 on a bad field), not here.
 */
export function technicalSpecialistPilot(input: PilotDefinitionInput): CreatePilotDto {
  return {
    name: input.name,
    hypothesis: 'A technical sales specialist joining the team raises sales velocity',
    treatment_description: 'technical sales specialist joins the team',
    eligibility: { territory_codes: input.territoryCodes },
    arms: controlTreatmentArms(),
    primary_kpi: SALES_MODEL_KPIS.primary_kpi,
    secondary_kpis: [...SALES_MODEL_KPIS.secondary_kpis],
    guardrail_kpis: [...SALES_MODEL_KPIS.guardrail_kpis],
    pre_period: input.prePeriod,
    test_period: input.testPeriod,
    alpha: 0.05,
    design: input.design,
    ...(input.monthlyCost === undefined ? {} : { monthly_cost: input.monthlyCost }),
  };
}

/** A territory as POST /territories takes it (one per sales agent of the CRM sample). */
export interface CrmTerritory {
  code: string;
  name: string;
  region: string;
  team: string;
  manager: string;
  /** pre-period covariates: pre_won_revenue (currency), pre_opportunities (count) */
  attributes: { pre_won_revenue: number; pre_opportunities: number };
}

/**
 * The eligible set of the CRM sample: the sales agents of sales_teams.csv with at least one
 * opportunity in sales_pipeline.csv (`eligible`, rows of sales_teams.csv in file order), and the
 * names of those left out because they have none (`idle`). Pure; never throws.
 */
export function crmEligibleAgents(dataset: { pipeline: readonly PipelineRow[]; teams: readonly SalesTeamRow[] }): { eligible: SalesTeamRow[]; idle: string[] } {
  const active = new Set(dataset.pipeline.map((r) => r.sales_agent));
  return {
    eligible: dataset.teams.filter((t) => active.has(t.sales_agent)),
    idle: dataset.teams.filter((t) => !active.has(t.sales_agent)).map((t) => t.sales_agent),
  };
}

/**
 * The territories of the CRM sample: one per sales agent of sales_teams.csv (code and name = the
 * agent, region = regional office, team and manager = the manager), in file order, each with its
 * pre-period covariates ({@link crmPreCovariates} over `prePeriod`), plus the eligible set and
 * the agents left out ({@link crmEligibleAgents}). Pure; never throws.
 */
export function crmTerritories(
  dataset: { pipeline: readonly PipelineRow[]; teams: readonly SalesTeamRow[] },
  prePeriod: WindowDto,
): { territories: CrmTerritory[]; eligible: SalesTeamRow[]; idle: string[] } {
  const territories = dataset.teams.map((t) => ({
    code: t.sales_agent,
    name: t.sales_agent,
    region: t.regional_office,
    team: t.manager,
    manager: t.manager,
    attributes: crmPreCovariates(dataset.pipeline, t.sales_agent, prePeriod),
  }));
  return { territories, ...crmEligibleAgents(dataset) };
}

/** The pre-period covariates of {@link crmPreCovariates} in words (the attribute keys stay as they are in API bodies). */
export const CRM_COVARIATE_LABELS: Readonly<Record<keyof CrmTerritory['attributes'], string>> = {
  pre_won_revenue: 'pre-period revenue won',
  pre_opportunities: 'pre-period opportunities',
};

/**
 * A covariate of the demo's pilots in words: a CRM attribute by {@link CRM_COVARIATE_LABELS}, a
 * `pre_period_<kpi>` covariate by the KPI catalogue (covariateLabel), any other name unchanged.
 */
export function crmCovariateLabel(name: string): string {
  return (CRM_COVARIATE_LABELS as Record<string, string>)[name] ?? covariateLabel(name);
}

/**
 * A sales agent's pre-period covariates from the file, by the cohort convention of docs/kpis.md:
 * the opportunities engaged inside `prePeriod` (count), and the revenue won of those closed Won by
 * its end (sum of close_value, currency). Pure.
 */
export function crmPreCovariates(rows: readonly PipelineRow[], agent: string, prePeriod: WindowDto): { pre_won_revenue: number; pre_opportunities: number } {
  const cohort = rows.filter((r) => r.sales_agent === agent && r.engage_date >= prePeriod.start && r.engage_date <= prePeriod.end);
  const wonRevenue = cohort
    .filter((r) => r.deal_stage === 'Won' && r.close_date !== '' && r.close_date <= prePeriod.end)
    .reduce((s, r) => s + Number(r.close_value), 0);
  return { pre_won_revenue: wonRevenue, pre_opportunities: cohort.length };
}

/**
 * One API client per role, each with a new key created through POST /api-keys with `admin`'s
 * key (named `${label} ${role}`; keys are shown once and not printed). Roles are created in the
 * order given. @throws Error with the API's answer when a key cannot be created (e.g. 403).
 */
export async function roleClients<R extends string>(admin: ApiClient, label: string, roles: readonly R[]): Promise<Record<R, ApiClient>> {
  const clients = {} as Record<R, ApiClient>;
  for (const role of roles) clients[role] = admin.withKey((await admin.post('/api-keys', { name: `${label} ${role}`, role })).key);
  return clients;
}

/**
 * Who takes a pilot through its lifecycle. Separation of duties: the approver neither created,
 * edited nor drew the pilot, and was not created by a key that did.
 */
export interface PilotLifecycleKeys {
  /** defines and submits the pilot (sales_ops or admin) */
  author: ApiClient;
  /** draws the assignment and launches (experimenter) */
  experimenter: ApiClient;
  /** approves (locks the analysis plan): an experimenter key other than the author's and the drawer's */
  approver: ApiClient;
}

/** The API's answers along the way, as returned by each route. */
export interface RunningPilot {
  /** POST /pilots (the draft: id, name, status, ...) */
  pilot: ApiBody;
  /** POST /pilots/:id/assignment (units, design.strata, balance.rows, inputs_hash, algorithm_version) */
  assignment: ApiBody;
  /** POST /pilots/:id/approve (plan_hash, ...) */
  approved: ApiBody;
  /** POST /pilots/:id/launch (launched_at, ...) */
  launched: ApiBody;
}

/**
 * Defines `definition` through the API and takes it to `running` the way the product requires:
 * POST /pilots (author), draw the assignment (experimenter), submit (author, draft → in_review),
 * approve (approver: the analysis plan is locked), then `beforeLaunch` (if given, e.g. to stop
 * other running pilots holding the same territories: a territory is in one running pilot at a
 * time), then launch (experimenter: design and assignment are frozen).
 * @returns every answer of the API ({@link RunningPilot})
 * @throws Error with the API's status and body on the first non-2xx answer (the pilot is then
 * left in the state it reached)
 */
export async function createRunningPilot(
  keys: PilotLifecycleKeys,
  definition: CreatePilotDto,
  beforeLaunch?: (sofar: Omit<RunningPilot, 'launched'>) => Promise<void>,
): Promise<RunningPilot> {
  const pilot = await keys.author.post('/pilots', definition);
  const assignment = await keys.experimenter.post(`/pilots/${pilot.id}/assignment`);
  await keys.author.post(`/pilots/${pilot.id}/submit`, { reason: 'definition and assignment ready for review' });
  const approved = await keys.approver.post(`/pilots/${pilot.id}/approve`, { reason: 'balance checked' });
  await beforeLaunch?.({ pilot, assignment, approved });
  const launched = await keys.experimenter.post(`/pilots/${pilot.id}/launch`);
  return { pilot, assignment, approved, launched };
}
