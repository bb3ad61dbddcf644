import { createHash } from 'node:crypto';
import type { RandomizationDesign } from '../../stats/design/designs';
import type { FewClusterMethod } from '../../stats/few-cluster-inference';
import { PrimaryMethodKey } from '../../stats/primary-method';
import { NonInferiorityMargin } from '../../stats/non-inferiority';
import { RandomizationTestInput, RandomizationTestResult } from '../../stats/randomization-inference';
import { KpiKey } from '../../kpis/kpi-catalogue';

/** The territories of one pilot as the analysis sees them: one entry per assigned territory. */
export interface AnalysisUnits {
  arms: string[];
  /** stratum per territory as stored: region/team, the pair id of a matched-pairs design, or 'all' */
  strata: string[];
  treatmentArm: string;
  controlArm: string;
  /** the actual design to re-draw from (design-aware randomization inference); optional */
  design?: RandomizationDesign;
  /** complete | stratified | matched_pairs | rerandomization (matched pairs add paired analyses) */
  designType?: string;
}

/** Significance level and randomization-inference budget of a comparison. */
export interface ComparisonOptions {
  alpha: number;
  /** enumerate all assignments up to this count, else Monte Carlo */
  maxExact: number;
  /** Monte Carlo draws */
  draws: number;
  /** the pilot's seed; the Monte Carlo stream of each KPI is derived from it */
  seed: number;
  /** the method whose numbers decide (default: randomization inference on the unadjusted KPI) */
  primaryMethod?: PrimaryMethodKey;
  /** the few-cluster method that decides the weekly-panel DiD (the locked plan's; default the wild cluster bootstrap) */
  fewClusterMethod?: FewClusterMethod;
  /** why that method decides (calibration at this design and size), shown in the report */
  fewClusterReason?: string;
  /**
   * secondary/guardrail KPIs: also compute the primary method's CI at these levels α' (the candidates
   * α/j, j = 1..family size, of the Holm-consistent intervals set by adjustSecondary)
   */
  intervalAlphas?: readonly number[];
}

/** Optional inputs beyond the test-period values, aligned with the units. */
export interface KpiExtras {
  /** the KPI over the pre-period per territory (null = undefined there): covariate and change score */
  pre?: readonly (number | null)[] | null;
  /**
   * lengths in days (both ends included) of the pre-period and the test period: the change score of a
   * window total (kpi-catalogue.ts `windowTotal`) compares per-day rates; without them it is not computed
   */
  windowDays?: { pre: number; test: number } | null;
  /** complete weekly calendars per territory (zeros for empty weeks) of an additive KPI, for DiD */
  weekly?: readonly ({ pre: readonly number[]; test: readonly number[] } | null)[] | null;
  /** what one panel value is, e.g. 'opportunities per territory-week' */
  weeklyUnit?: string;
  /** a guardrail's non-inferiority margin */
  margin?: NonInferiorityMargin | null;
  /** territory codes aligned with the units (diagnostics rows name them) */
  codes?: readonly string[];
  /** the rerandomization's balancing covariates per territory (rows aligned with the units), mean-imputed */
  covariates?: readonly (readonly number[])[] | null;
  /** the names of those covariates, in column order (for the labels of the analyses that use them) */
  covariateNames?: readonly string[] | null;
}

/**
 * A comparison step that needs randomization tests: it yields each test's input and receives the
 * result (`randomizationTest` or `randomizationTestAsync`, chosen by the caller), and returns T.
 */
export type RandomizationRuns<T> = Generator<RandomizationTestInput, T, RandomizationTestResult>;

/** A reproducible Monte Carlo seed per pilot seed and KPI (first 48 bits of SHA-256). */
export function randomizationSeed(pilotSeed: number, kpi: string): number {
  return parseInt(createHash('sha256').update(`${pilotSeed}:${kpi}:randomization`).digest('hex').slice(0, 12), 16);
}

/** The two compared arms of one KPI, split out of the values aligned with the units. */
export interface ComparedArms {
  /** whether unit i is in the treatment arm / the control arm */
  inT: (i: number) => boolean;
  inC: (i: number) => boolean;
  /** the arm's values in unit order, null = undefined for that territory */
  tValues: (number | null)[];
  cValues: (number | null)[];
  /** the arm's defined values */
  t: number[];
  c: number[];
  /** per unit: in one of the two compared arms and with a defined value */
  compared: boolean[];
  /** the indices of the compared units, ascending */
  idx: number[];
}

/**
 * Splits the values (one per unit, aligned with `units.arms`; null = undefined) into the treatment
 * and control arm of the comparison; units of other arms belong to neither. Never throws.
 */
export function splitArms(values: readonly (number | null)[], units: AnalysisUnits): ComparedArms {
  const inT = (i: number) => units.arms[i] === units.treatmentArm;
  const inC = (i: number) => units.arms[i] === units.controlArm;
  const tValues = values.filter((_, i) => inT(i));
  const cValues = values.filter((_, i) => inC(i));
  const compared = values.map((_, i) => (inT(i) || inC(i)) && values[i] !== null);
  return {
    inT,
    inC,
    tValues,
    cValues,
    t: tValues.filter((v): v is number => v !== null),
    c: cValues.filter((v): v is number => v !== null),
    compared,
    idx: compared.map((ok, i) => (ok ? i : -1)).filter((i) => i >= 0),
  };
}

/** What every randomization test of one KPI's comparison shares: the design, the budget, the seed stream. */
export interface RandomizationSetup {
  /** the test input without values, seed and CI */
  base: Omit<RandomizationTestInput, 'values' | 'seed' | 'ci'>;
  /** the pilot's seed */
  pilotSeed: number;
  /** the KPI's key in the seed stream: the KPI, or `kpi:arm` for the further arms of a multi-arm design */
  seedKey: string;
}

/**
 * The randomization set-up of one KPI's comparison (Imbens & Rubin 2015, ch. 5): re-draws from
 * `units.design` when given, else from the stored strata; enumeration up to `opts.maxExact`
 * assignments, else `opts.draws` Monte Carlo draws. With more than two arms in the design, the seed
 * stream is keyed by KPI and treatment arm (the first treatment arm keeps the historical stream).
 */
export function randomizationSetup(kpi: KpiKey, units: AnalysisUnits, opts: ComparisonOptions): RandomizationSetup {
  const armsInDesign = new Set(units.arms);
  // The first treatment arm keeps the historical stream; other arms get their own.
  const seedKey = armsInDesign.size > 2 ? `${kpi}:${units.treatmentArm}` : kpi;
  const base = {
    arms: units.arms,
    strata: units.strata,
    treatmentArm: units.treatmentArm,
    controlArm: units.controlArm,
    maxExact: opts.maxExact,
    draws: opts.draws,
    ...(units.design ? { design: units.design } : {}),
  };
  return { base, pilotSeed: opts.seed, seedKey };
}

/**
 * One randomization test of the comparison: `values` (one per unit, null = undefined) with the seed
 * of `seedKey` plus `suffix` (e.g. ':cuped'), and the CI by test inversion at 1 − `ciAlpha` when given.
 */
export function randomizationInput(
  setup: RandomizationSetup,
  values: readonly (number | null)[],
  suffix = '',
  ciAlpha?: number,
): RandomizationTestInput {
  return {
    ...setup.base,
    values,
    seed: randomizationSeed(setup.pilotSeed, `${setup.seedKey}${suffix}`),
    ...(ciAlpha !== undefined ? { ci: { alpha: ciAlpha } } : {}),
  };
}
