/**
 * A small made-up report for the HTML/CSV unit tests (names and numbers invented; not from the CRM
 * data). `sampleReport()` returns a fresh copy that a test may change.
 */
import type { KpiResult } from '../report.types';
import type { ReportData } from './chart-data';
import { weeklyArmSeries } from '../../stats/weekly-series';
import { kpiMeasure } from '../../kpis/kpi-catalogue';
import { designAnalyses } from '../comparison/design-analyses';

// Loosely typed on purpose: the report type grows (methods per number, non-inferiority, several arms),
// and the renderer must cope with older and newer shapes alike.
function kpi(over: Record<string, unknown> & Pick<KpiResult, 'kpi' | 'label' | 'unit' | 'role'>): KpiResult {
  return {
    treatment_arm: 'treatment',
    control_arm: 'control',
    higher_is_better: true,
    status: 'ok',
    status_reason: null,
    control: { arm: 'control', n_territories: 4, n_missing: 0, mean: 100, sd: 10 },
    treatment: { arm: 'treatment', n_territories: 4, n_missing: 0, mean: 110, sd: 12 },
    difference: { method: 'welch_t', estimate: 10, ci_low: -5, ci_high: 25, conf_level: 0.95, se: 7, t: 1.43, df: 5.8, p_value: 0.2 },
    relative_lift: { method: 'fieller', status: 'ok', estimate: 0.1, ci_low: -0.05, ci_high: 0.25, fieller: { bounded: true, ci_low: -0.04, ci_high: 0.27 } },
    randomization: { method: 'exact', statistic: 'difference_in_means', p_value: 0.23, n_assignments: 36, draws: null, min_attainable_p: 0.028 },
    primary: { method: "randomization inference on Lin's interacted adjustment for the pre-period KPI (arm-specific slopes), re-estimated for every assignment re-drawn from the actual design; CI by test inversion", status: 'ok', estimate: 9, ci_low: -4, ci_high: 22, se: null, df: null, p_value: 0.23, note: null },
    adjusted: null,
    decision_p: 0.23,
    significant: false,
    verdict: 'No significant difference.',
    ...over,
  } as unknown as KpiResult;
}

const TERRITORIES = [
  { code: 'Ada Park', region: 'North', arm: 'control' },
  { code: 'Ben Ortiz', region: 'North', arm: 'treatment' },
  { code: 'Cy Lund', region: 'North', arm: 'control' },
  { code: 'Dee Moss', region: 'North', arm: 'treatment' },
  { code: 'Eli Nash', region: 'South', arm: 'control' },
  { code: 'Fay Quinn', region: 'South', arm: 'treatment' },
  { code: 'Gus Roe', region: 'South', arm: 'control' },
  { code: 'Hal Stone', region: 'South', arm: 'treatment' },
];

/**
 * The design's own analyses of the primary KPI, computed (not typed in) from the sample territories,
 * with a small made-up weekly panel so that the few-cluster panel methods run.
 */
function primaryDesignAnalyses(territories: { territory_code: string; arm: string; stratum: string; kpis: { sales_velocity: number } }[]) {
  return designAnalyses({
    designType: 'stratified',
    values: territories.map((t) => t.kpis.sales_velocity + (t.arm === 'treatment' ? 6 : 0)),
    arms: territories.map((t) => t.arm),
    strata: territories.map((t) => t.stratum),
    treatmentArm: 'treatment',
    controlArm: 'control',
    pre: territories.map((t, i) => t.kpis.sales_velocity - 3 + (i % 3)),
    weekly: territories.map((t, i) => ({
      pre: [0, 1, 2].map((w) => 40 + 4 * i + ((w * (i + 1)) % 5)),
      test: [0, 1, 2].map((w) => 42 + 4 * i + ((w * (i + 2)) % 5) + (t.arm === 'treatment' ? 3 : 0)),
    })),
    weeklyUnit: 'currency per territory-week',
    codes: territories.map((t) => t.territory_code),
    alpha: 0.05,
    seed: 7,
    draws: 199,
    maxExact: 1000,
  });
}

/** A completed two-arm report: primary sales velocity, three secondary KPIs, one guardrail. */
export function sampleReport(): ReportData {
  const territories = TERRITORIES.map((t, i) => ({
    territory_code: t.code,
    arm: t.arm,
    stratum: t.region,
    kpis: {
      sales_velocity: 50 + 5 * i,
      opportunities: 20 + i,
      win_rate: 0.5 + 0.01 * i,
      average_deal_size: 1000 + 50 * i,
      sales_cycle_length: 40 - i,
      revenue_won: 10000 + 1000 * i + (t.arm === 'treatment' ? 2000 : 0),
      open_deals: 2 + (i % 3),
    },
    open_now: 3 + (i % 2),
  }));
  const weekly = weeklyArmSeries(
    [
      { territory_id: 'Ada Park', period: 'pre', week_start: '2024-01-01', aggregates: { n_opportunities: 4, n_closed: 2, n_won: 1, n_lost: 1, won_amount_total: 1000, cycle_days_total: 20 } },
      { territory_id: 'Ben Ortiz', period: 'pre', week_start: '2024-01-01', aggregates: { n_opportunities: 6, n_closed: 3, n_won: 2, n_lost: 1, won_amount_total: 3000, cycle_days_total: 30 } },
      { territory_id: 'Ben Ortiz', period: 'test', week_start: '2024-02-05', aggregates: { n_opportunities: 5, n_closed: 5, n_won: 5, n_lost: 0, won_amount_total: 5000, cycle_days_total: 50 } },
      { territory_id: 'Eli Nash', period: 'test', week_start: '2024-02-12', aggregates: { n_opportunities: 2, n_closed: 2, n_won: 1, n_lost: 1, won_amount_total: 700, cycle_days_total: 14 } },
    ],
    TERRITORIES.map((t) => ({ territory_id: t.code, arm: t.arm })),
    ['control', 'treatment'],
    kpiMeasure('sales_velocity'),
    [
      { period: 'pre', start: '2024-01-01', end: '2024-01-31' },
      { period: 'test', start: '2024-02-05', end: '2024-03-03' },
    ],
  );
  const designAnalysesOfPrimary = primaryDesignAnalyses(territories);
  return {
    report_id: '00000000-0000-4000-8000-000000000001',
    pilot: {
      id: '00000000-0000-4000-8000-000000000002',
      name: 'Specialist <pilot> & test',
      hypothesis: 'A specialist raises sales velocity',
      treatment_description: 'a technical specialist joins the team',
      status: 'running',
      primary_kpi: 'sales_velocity',
      alpha: 0.05,
      pre_period: { start: '2024-01-01', end: '2024-01-31' },
      test_period: { start: '2024-02-05', end: '2024-03-03' },
    },
    design: { type: 'stratified', stratify_by: 'region', seed: 7, algorithm_version: 'v1', inputs_hash: 'ab'.repeat(32), strata: [] },
    generated_at: '2024-03-10T00:00:00.000Z',
    readout: { test_period_complete: true, note: null },
    data_cutoff: { ingested_at: '2024-03-09T12:00:00.000Z', latest_activity_date: '2024-03-03', opportunities: 180 },
    decision_method: 'randomization inference',
    multiplicity: 'primary KPI unadjusted; secondary and guardrail KPIs Holm-adjusted as one family',
    arms: { control: 'control', treatment: 'treatment' },
    completeness: { control: { territories: 4, territories_with_opportunities: 4 }, treatment: { territories: 4, territories_with_opportunities: 4 } },
    open_opportunities: { control: { open_at_test_end: 9, open_now: 14 }, treatment: { open_at_test_end: 10, open_now: 14 } },
    kpis: [
      kpi({ kpi: 'sales_velocity', label: 'Sales velocity', unit: 'currency per day', role: 'primary', design_analyses: designAnalysesOfPrimary }),
      kpi({
        kpi: 'win_rate',
        label: 'Win rate',
        unit: 'fraction 0..1',
        role: 'secondary',
        relative_lift: { method: 'fieller', status: 'ok', estimate: -0.02, ci_low: -0.1, ci_high: 0.06, fieller: { bounded: true, ci_low: null, ci_high: null } },
        adjusted: { method: 'holm', welch_p: 0.6, randomization_p: 0.7, primary_p: 0.7 },
        decision_p: 0.7,
      }),
      kpi({
        kpi: 'revenue_won',
        label: 'Revenue won',
        unit: 'currency',
        role: 'secondary',
        control: { arm: 'control', n_territories: 4, n_missing: 0, mean: 13000, sd: 2582 },
        treatment: { arm: 'treatment', n_territories: 4, n_missing: 0, mean: 16000, sd: 2582 },
        difference: { method: 'welch_t', estimate: 3000, ci_low: -1500, ci_high: 7500, conf_level: 0.95, se: 1826, t: 1.64, df: 6, p_value: 0.15 },
        primary: { method: "randomization inference on Lin's interacted adjustment for the pre-period KPI (arm-specific slopes), re-estimated for every assignment re-drawn from the actual design; CI by test inversion", status: 'ok', estimate: 2800, ci_low: -1000, ci_high: 6600, se: null, df: null, p_value: 0.12, note: null },
        adjusted: { method: 'holm', welch_p: 0.3, randomization_p: 0.4, primary_p: 0.36 },
        decision_p: 0.36,
      }),
      kpi({
        kpi: 'average_deal_size',
        label: 'Average deal size',
        unit: 'currency',
        role: 'secondary',
        status: 'insufficient_data',
        status_reason: 'an arm has fewer than 2 values',
        relative_lift: { method: 'fieller', status: 'insufficient_data', estimate: null, ci_low: null, ci_high: null, fieller: { bounded: null, ci_low: null, ci_high: null } },
        significant: null,
        decision_p: null,
      }),
      kpi({
        kpi: 'open_deals',
        label: 'Open deals',
        unit: 'count',
        role: 'guardrail',
        higher_is_better: false,
        adjusted: { method: 'holm', welch_p: 0.5, randomization_p: 0.5, primary_p: 0.5 },
        decision_p: 0.5,
      }),
    ],
    territories: territories as ReportData['territories'],
    weekly_primary_kpi: weekly,
  } as unknown as ReportData;
}
