import { FEW_TREATED_CLAIM } from '../comparison/few-treated-kpi';
import { isFewTreatedDesign } from '../../pilots/pilot.entity';
/**
 * The descriptive sections of a report, each a pure function of the {@link ReportInputs}: the
 * territory table, open deals and completeness per arm, the velocity decomposition, time to close
 * with censoring, and the report envelope around the KPI comparisons.
 */
import { KpiKey, KPI_KEYS, kpiMeasure, kpiValue } from '../../kpis/kpi-catalogue';
import { utcDateOf } from '../../common/utils/dates';
import { exactCompletenessCheck } from '../../stats/srm-exact';
import { kaplanMeier, logRankTest, SurvivalSample } from '../../stats/survival';
import { velocityDecomposition, VelocityTotals } from '../../stats/velocity-decomposition';
import { weeklyArmSeries } from '../../stats/weekly-series';
import { KpiResult, PilotReport, TerritoryRow } from '../report.types';
import type { TerritoryKpis } from '../../kpis/kpi.service';
import type { ReportInputs } from './report-inputs';

/** Every catalogue KPI of one territory's cohort, keyed by KPI. */
function allKpis(k: TerritoryKpis): Record<KpiKey, number | null> {
  return Object.fromEntries(KPI_KEYS.map((key) => [key, kpiValue(k, key)])) as Record<KpiKey, number | null>;
}

/** One row per assigned territory: arm, stratum, every KPI of the test period and of the pre-period, deals open now. */
export function territoryRows(inp: ReportInputs): TerritoryRow[] {
  return inp.assignment.units.map((u) => ({
    territory_code: u.territoryCode,
    arm: u.arm,
    stratum: u.stratum,
    kpis: allKpis(inp.test.get(u.territoryId)!),
    open_now: inp.openNow.get(u.territoryId) ?? 0,
    pre_period_kpis: allKpis(inp.pre.get(u.territoryId)!),
  }));
}

/** Territories, territories with a test-period deal, and open deals (at the test end, now) of one arm. */
function armCounts(inp: ReportInputs, arm: string) {
  const units = inp.assignment.units.filter((u) => u.arm === arm);
  const rows = units.map((u) => inp.test.get(u.territoryId)!);
  return {
    territories: rows.length,
    territories_with_opportunities: rows.filter((k) => k.n_opportunities > 0).length,
    open_at_test_end: rows.reduce((s, k) => s + k.n_open, 0),
    open_now: units.reduce((s, u) => s + (inp.openNow.get(u.territoryId) ?? 0), 0),
  };
}

/** Why pooled sales velocity moved, per treatment arm against the control (velocity-decomposition.ts). */
export function velocitySection(inp: ReportInputs): PilotReport['velocity_decomposition'] {
  const totalsOf = (arm: string): VelocityTotals[] =>
    inp.assignment.units
      .filter((u) => u.arm === arm)
      .map((u) => {
        const k = inp.test.get(u.territoryId)!;
        return {
          n_opportunities: k.n_opportunities,
          n_closed: k.n_closed,
          n_won: k.n_won,
          won_amount_total: k.won_amount_total,
          cycle_days_total: (k.avg_cycle_days ?? 0) * k.n_closed,
        };
      });
  return inp.treatmentArms.map((arm) => ({
    treatment_arm: arm,
    control_arm: inp.controlArm,
    ...velocityDecomposition(totalsOf(arm), totalsOf(inp.controlArm), { alpha: inp.pilot.alpha }),
  }));
}

/** Time to close with censoring: Kaplan–Meier per arm and a log-rank test per treatment arm (survival.ts). */
export function survivalSection(inp: ReportInputs): PilotReport['sales_cycle_survival'] {
  const armOfTerritory = new Map(inp.assignment.units.map((u) => [u.territoryId, u.arm]));
  const sampleOf = (arm: string): SurvivalSample => {
    const rows = inp.cycles.filter((r) => armOfTerritory.get(r.territory_id) === arm);
    return { time: rows.map((r) => r.days), event: rows.map((r) => r.closed) };
  };
  return {
    method: 'Kaplan–Meier (Greenwood variance, log-log CI; median CI by Brookmeyer–Crowley) and log-rank test',
    cutoff: inp.survivalCutoff,
    arms: [inp.controlArm, ...inp.treatmentArms].map((arm) => {
      const km = kaplanMeier(sampleOf(arm), { alpha: inp.pilot.alpha });
      return {
        arm,
        n: km.n,
        events: km.events,
        censored: km.censored,
        median_days: km.median,
        median_ci_low: km.median_ci_low,
        median_ci_high: km.median_ci_high,
      };
    }),
    log_rank: inp.treatmentArms.map((arm) => {
      const lr = logRankTest(sampleOf(arm), sampleOf(inp.controlArm));
      return { treatment_arm: arm, control_arm: inp.controlArm, chi2: lr.chi2, p_value: lr.p_value, status: lr.status };
    }),
  };
}

/** Data completeness against the design and the pre-period: exact tests per arm (srm-exact.ts). */
export function completenessSection(inp: ReportInputs): PilotReport['data_completeness'] {
  const arms = [inp.controlArm, ...inp.treatmentArms].map((arm) => {
    const us = inp.assignment.units.filter((u) => u.arm === arm);
    return {
      arm,
      designed_territories: us.length,
      territories_reporting: us.filter((u) => inp.test.get(u.territoryId)!.n_opportunities > 0).length,
      opportunities_test: us.reduce((s, u) => s + inp.test.get(u.territoryId)!.n_opportunities, 0),
      opportunities_pre: us.reduce((s, u) => s + inp.pre.get(u.territoryId)!.n_opportunities, 0),
    };
  });
  const checks = [
    exactCompletenessCheck(
      'territories reporting (at least one opportunity in the test period) vs the designed territories per arm',
      arms.map((x) => x.territories_reporting),
      arms.map((x) => x.designed_territories),
    ),
    exactCompletenessCheck(
      'test-period opportunities vs each arm’s share of the pre-period opportunities',
      arms.map((x) => x.opportunities_test),
      arms.map((x) => x.opportunities_pre),
    ),
  ];
  const state = checks.some((x) => x.state === 'mismatch') ? 'mismatch' : checks.every((x) => x.state === 'ok') ? 'ok' : 'too_little_data';
  return { state, arms, checks };
}

/** Whether the test period is over (UTC calendar day), with a warning when it is not. */
export function readoutOf(testPeriodEnd: string): PilotReport['readout'] {
  const complete = utcDateOf(new Date()) > testPeriodEnd;
  return {
    test_period_complete: complete,
    note: complete
      ? null
      : `Interim look: the test period runs until ${testPeriodEnd}. Deals engaged later are missing and p-values are not corrected for repeated looks.`,
  };
}

/** How the primary KPI decides and how secondary and guardrail KPIs are adjusted, in words. */
function methodText(inp: ReportInputs, ri: { maxExact: number; draws: number }): Pick<PilotReport, 'decision_method' | 'multiplicity'> {
  const adjName = (inp.pilot.multipleTesting ?? 'holm') === 'bh' ? 'Benjamini–Hochberg' : 'Holm';
  const k = inp.treatmentArms.length;
  if (isFewTreatedDesign(inp.assignment.design.type)) {
    return {
      decision_method:
        `${inp.primaryMethod.name} (${inp.primaryMethod.reason}); DiD and synthetic control are shown beside it and do not decide. ` +
        FEW_TREATED_CLAIM,
      multiplicity: `primary KPI unadjusted; secondary and guardrail KPIs ${adjName}-adjusted as one family on SDID's placebo-randomization p-values`,
    };
  }
  return {
    decision_method:
      `${inp.primaryMethod.name} (${inp.primaryMethod.reason}); randomization inference is exact when there are at most ` +
      `${ri.maxExact} assignments, else ${ri.draws} Monte Carlo draws`,
    multiplicity:
      `primary KPI unadjusted${k > 1 ? ` per comparison, ${adjName}-adjusted across the ${k} treatment arms` : ''}; ` +
      `secondary and guardrail KPIs ${adjName}-adjusted as one family${k > 1 ? ' over every treatment arm' : ''}; ` +
      `guardrail non-inferiority p-values ${adjName}-adjusted among themselves`,
  };
}

/**
 * The report: the pilot and design it describes, what data it read, the KPI comparisons
 * (already multiplicity-adjusted) and every descriptive section.
 * @param kpis the comparisons of every KPI and treatment arm (kpi-comparison.ts `adjustSecondary`)
 * @param ri the randomization-inference limits in force (exact up to `maxExact` assignments, else `draws` draws)
 */
export function assembleReport(inp: ReportInputs, kpis: KpiResult[], ri: { maxExact: number; draws: number }): PilotReport {
  const { pilot, assignment: a, window, preWindow, cutoff, controlArm, treatmentArms } = inp;
  const c = armCounts(inp, controlArm);
  const t = armCounts(inp, treatmentArms[0]);
  return {
    report_id: inp.reportId,
    pilot: {
      id: pilot.id,
      name: pilot.name,
      hypothesis: pilot.hypothesis,
      treatment_description: pilot.treatmentDescription,
      status: pilot.status,
      primary_kpi: pilot.primaryKpi,
      alpha: pilot.alpha,
      monthly_cost: pilot.monthlyCost ?? null,
      pre_period: preWindow,
      test_period: window,
    },
    design: {
      type: a.design.type,
      stratify_by: a.design.stratify_by,
      seed: a.seed,
      draws: inp.draws,
      algorithm_version: a.algorithmVersion,
      inputs_hash: a.inputsHash,
      strata: a.design.strata,
      ...(a.design.type === 'chosen' && a.design.donor_pool
        ? { donor_pool: { donors: a.design.donor_pool.donors, left_out: a.design.donor_pool.left_out, rules: a.design.donor_pool.rules } }
        : {}),
    },
    generated_at: new Date().toISOString(),
    readout: readoutOf(window.end),
    data_cutoff: {
      ingested_at: cutoff.ingested_at ? new Date(cutoff.ingested_at).toISOString() : null,
      latest_activity_date: cutoff.latest_activity_date,
      opportunities: cutoff.opportunities,
    },
    data: inp.dataContext,
    ...methodText(inp, ri),
    arms: { control: controlArm, treatment: treatmentArms[0], treatments: treatmentArms },
    primary_method: inp.primaryMethod,
    multiple_testing: pilot.multipleTesting ?? 'holm',
    completeness: {
      control: { territories: c.territories, territories_with_opportunities: c.territories_with_opportunities },
      treatment: { territories: t.territories, territories_with_opportunities: t.territories_with_opportunities },
    },
    data_completeness: completenessSection(inp),
    open_opportunities: {
      control: { open_at_test_end: c.open_at_test_end, open_now: c.open_now },
      treatment: { open_at_test_end: t.open_at_test_end, open_now: t.open_now },
    },
    velocity_decomposition: velocitySection(inp),
    sales_cycle_survival: survivalSection(inp),
    kpis,
    territories: territoryRows(inp),
    // The primary KPI week by week, per arm, for the HTML report's time-series chart.
    weekly_primary_kpi: weeklyArmSeries(
      inp.panel,
      a.units.map((u) => ({ territory_id: u.territoryId, arm: u.arm })),
      [controlArm, ...treatmentArms],
      kpiMeasure(pilot.primaryKpi),
      [{ period: 'pre', ...preWindow }, { period: 'test', ...window }],
    ),
  };
}
