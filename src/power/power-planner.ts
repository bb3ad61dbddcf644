/**
 * The power planner (issue 14, "a power planner a leader can act on"): power curves over the number
 * of territories, the test length (weeks) and the design, from placebo backtests on the territories'
 * own history, and the cheapest plan that reaches the target power for the stated MDE.
 *
 * One cell = (design, territories n, weeks L). Placebo pilot i of a cell: the past window i mod K of
 * length L (outcome KPI over L weeks, pre-period KPI over the window before it), a random subset of
 * n territories (seeded), the design drawn on that subset with seed `plannerSeed(seed, cell, i)`, the
 * lift planted multiplicatively on the treated territories' KPI, and the design's deciding test
 * (`DECIDING_TEST`) at level α. The detection rate at the MDE is the cell's power; the rate at lift 0
 * is its empirical false-positive rate. Common random numbers: the same subset and draw are used at
 * lift 0, at the MDE and in the MDE bisection, so power is monotone in the lift for one pilot set.
 *
 * A cell is *valid* unless its false-positive rate is shown to exceed α (Clopper–Pearson 95% lower
 * bound above α): a method that over-rejects on this history does not decide. The answer is the
 * cheapest valid cell with power ≥ target: fewest territories, then fewest weeks, then the highest
 * power; or `null` with the reason when none does.
 */
import { createHash } from 'node:crypto';
import { DesignError } from '../stats/design/allocation';
import { DESIGN_TYPE_LABELS, DesignSpec, DesignType, DesignUnit, drawDesign, randomizationDesignFromStored } from '../stats/design/designs';
import { createPrng } from '../stats/design/prng';
import { clopperPearson } from './binomial-ci';
import { decidingTest, DecidingTest, decidingTestLabel, PLANNER_RI_DRAWS } from './planner-deciding-test';
import { RateWithCi } from './power-plan';

/** Name of the covariate the planner's designs pair on / rerandomize on: the window's pre-period KPI. */
export const PLANNER_COVARIATE = 'pre_period_kpi';

/** Acceptance probability of the planner's rerandomization designs (Morgan & Rubin 2012 use 0.001–0.1). */
export const PLANNER_ACCEPTANCE_PROBABILITY = 0.1;

/**
 * The deciding test per design, as the planner simulates it (issue 14: the method that decides in
 * the report, planner-deciding-test.ts): `recommendedPrimaryMethod` for the design and size, i.e.
 * randomization inference re-drawing from the pilot's actual design (strata, pairs, rerandomization
 * acceptance rule) on Lin's interacted adjustment for the pre-period KPI (the unadjusted difference in
 * means when the window has no usable pre-period KPI, or when the calibration flags Lin's RI for the
 * design), with B = PLANNER_RI_DRAWS Monte Carlo re-draws; above 200 territories Lin's regression
 * adjustment with HC2 errors.
 */
export const DECIDING_TEST: Record<DesignType, string> = {
  complete: `randomization inference re-drawn from the complete design (the report's deciding statistic; B = ${PLANNER_RI_DRAWS})`,
  stratified: `randomization inference re-drawn within the strata (the report's deciding statistic; B = ${PLANNER_RI_DRAWS})`,
  matched_pairs: `randomization inference by sign flips within the pairs (the report's deciding statistic; B = ${PLANNER_RI_DRAWS})`,
  rerandomization: `randomization inference re-drawn under the acceptance rule (the report's deciding statistic; B = ${PLANNER_RI_DRAWS})`,
};

/** One past window of a given length: outcome and pre-period KPI per territory (same order as `units`). */
export interface PlannerWindow {
  outcome: { start: string; end: string };
  pre: { start: string; end: string };
  /** outcome KPI per territory; null = no value */
  y: (number | null)[];
  /** pre-period KPI per territory; null = missing (e.g. the pre-period starts before the data) */
  x: (number | null)[];
}

/** Input of `planPower`. */
export interface PlannerInput {
  /** the eligible pool: territory code and stratum label (stratified designs) */
  units: readonly { code: string; stratum: string | null }[];
  /** past windows per test length in weeks (key = weeks) */
  windowsByWeeks: ReadonlyMap<number, readonly PlannerWindow[]>;
  /** candidate numbers of territories (both arms together, split 1:1; odd n rounds down to even) */
  territoryCounts: readonly number[];
  designs: readonly DesignType[];
  /** relative lift to detect (0.1 = +10%) */
  mde: number;
  /** target power (e.g. 0.8) */
  power: number;
  alpha: number;
  /** placebo pilots per cell */
  simulations: number;
  seed: number;
  /** step size between progress yields (cells) */
  chunk?: number;
}

/** One cell of the power curves. */
export interface PlannerCell {
  design: DesignType;
  territories: number;
  weeks: number;
  deciding_test: string;
  /** placebo pilots analysed (simulations − skipped) */
  analysed: number;
  skipped: number;
  skip_reasons: { reason: string; count: number }[];
  /** detection rate at the MDE with its Clopper–Pearson 95% CI; rate null when nothing was analysed */
  power: RateWithCi;
  false_positive_rate: RateWithCi;
  /** false when the false-positive rate is shown to exceed α, or nothing was analysed */
  valid: boolean;
  /** why the cell cannot decide (null when valid) */
  invalid_reason: string | null;
}

/** Result of `planPower`. */
export interface PlannerResult {
  mde: number;
  target_power: number;
  alpha: number;
  simulations_per_cell: number;
  lift_model: string;
  selection_rule: string;
  cells: PlannerCell[];
  /** the cheapest valid cell reaching the target, with the MDE it detects at the target power; null when none does */
  recommendation: (PlannerCell & { mde_at_target_power: number | null }) | null;
  /** the answer in words: the plan, or plainly that none reaches the target and what comes closest */
  text: string;
}

/** Seed of placebo pilot i of a cell (first 48 bits of SHA-256 of "<seed>:planner:<cell>:<i>"). */
export function plannerSeed(seed: number, cell: string, i: number): number {
  return parseInt(createHash('sha256').update(`${seed}:planner:${cell}:${i}`).digest('hex').slice(0, 12), 16);
}

function rateOf(count: number, n: number): RateWithCi {
  if (n === 0) return { count, n, rate: null, ci_low: null, ci_high: null };
  const ci = clopperPearson(count, n);
  return { count, n, rate: ci.rate, ci_low: ci.low, ci_high: ci.high };
}

/** One drawn placebo pilot of a cell: its deciding test (reference set drawn once), ready at any lift. */
interface DrawnPilot {
  test: DecidingTest;
}

function specFor(design: DesignType, n: number): Omit<DesignSpec, 'seed'> {
  const arms = [
    { key: 'control', role: 'control' as const, count: n / 2 },
    { key: 'treatment', role: 'treatment' as const, count: n / 2 },
  ];
  if (design === 'matched_pairs') return { type: design, arms, pair_on: PLANNER_COVARIATE };
  if (design === 'rerandomization') {
    return { type: design, arms, rerandomization: { covariates: [PLANNER_COVARIATE], acceptance_probability: PLANNER_ACCEPTANCE_PROBABILITY, threshold_rule: 'chi_square' } };
  }
  return { type: design, arms };
}

/**
 * Draws placebo pilot i of a cell: a seeded subset of n territories with an outcome value (and a
 * pre-period value for the covariate designs), then the design on it.
 * @returns the pilot, or the reason it could not be drawn
 */
function drawPilot(input: PlannerInput, design: DesignType, n: number, w: PlannerWindow, seed: number): DrawnPilot | string {
  const needsX = design === 'matched_pairs' || design === 'rerandomization';
  const pool = input.units.map((_, k) => k).filter((k) => w.y[k] !== null && (!needsX || w.x[k] !== null));
  if (needsX && pool.length < n && w.x.every((v) => v === null)) {
    return `the pre-period ${w.pre.start}..${w.pre.end} starts before the data: no pre-period KPI to ${design === 'matched_pairs' ? 'pair' : 'rerandomize'} on`;
  }
  if (pool.length < n) return `only ${pool.length} territories have ${needsX ? 'an outcome and a pre-period value' : 'an outcome value'} on the window ${w.outcome.start}..${w.outcome.end}; the plan needs ${n}`;
  const rng = createPrng(seed);
  const subset = rng.shuffle(pool.slice()).slice(0, n).sort((a, b) => a - b);
  const units: DesignUnit[] = subset.map((k) => ({
    code: input.units[k].code,
    stratum: input.units[k].stratum ?? 'all',
    covariates: { [PLANNER_COVARIATE]: w.x[k] },
  }));
  let draw;
  try {
    draw = drawDesign(units, { ...specFor(design, n), seed: rng.nextInt(2 ** 31) });
  } catch (err) {
    if (err instanceof DesignError) return `the ${DESIGN_TYPE_LABELS[design]} design could not be drawn on ${n} territories: ${err.message}`;
    throw err;
  }
  const compared: { k: number; unit: DesignUnit; arm: string; stratum: string }[] = [];
  subset.forEach((k, j) => {
    const arm = draw.arms[units[j].code];
    if (arm === 'treatment' || arm === 'control') compared.push({ k, unit: units[j], arm, stratum: draw.unit_strata[units[j].code] ?? 'all' });
  });
  const spec = specFor(design, n);
  const riDesign = randomizationDesignFromStored(
    { type: design, arms: spec.arms, rerandomization: spec.rerandomization ?? null, rerandomization_threshold: draw.rerandomization?.threshold ?? null },
    compared.map((c) => ({ code: c.unit.code, arm: c.arm, stratum: c.stratum, covariates: c.unit.covariates })),
  );
  const test = decidingTest(
    design,
    { y: compared.map((c) => w.y[c.k] as number), x: compared.map((c) => w.x[c.k]), treated: compared.map((c) => (c.arm === 'treatment' ? 1 : 0)), design: riDesign },
    rng.nextInt(2 ** 31),
    { alpha: input.alpha },
  );
  return { test };
}

/**
 * Two-sided p-value of the design's deciding test (DECIDING_TEST, planner-deciding-test.ts) with
 * `lift` planted on the treated territories (multiplicative); null when the test cannot be computed.
 */
export function decidingP(p: DrawnPilot, lift: number): number | null {
  return p.test.pAt(lift);
}

/** Smallest lift in [0, hi] whose detection rate over `pilots` reaches `power` (bisection, 1e-4), or null above `hi`. */
export function mdeAtPower(pilots: readonly DrawnPilot[], power: number, alpha: number, hi = 2): number | null {
  if (pilots.length === 0) return null;
  const rateAt = (lift: number) => pilots.filter((p) => {
    const pv = decidingP(p, lift);
    return pv !== null && pv < alpha;
  }).length / pilots.length;
  if (rateAt(hi) < power) return null;
  let lo = 0;
  let up = hi;
  while (up - lo > 1e-4) {
    const mid = (lo + up) / 2;
    if (rateAt(mid) >= power) up = mid;
    else lo = mid;
  }
  return up;
}

/** Runs one cell. @returns the cell and its analysed pilots (for the MDE of the recommendation) */
function runCell(input: PlannerInput, design: DesignType, n: number, weeks: number): { cell: PlannerCell; pilots: DrawnPilot[] } {
  const windows = input.windowsByWeeks.get(weeks) ?? [];
  const reasons = new Map<string, number>();
  const pilots: DrawnPilot[] = [];
  let fp = 0;
  let det = 0;
  let skipped = 0;
  const skip = (r: string) => {
    skipped++;
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  };
  const key = `${design}:${n}:${weeks}`;
  for (let i = 0; i < input.simulations; i++) {
    if (windows.length === 0) {
      skip(`the history holds no past window of ${weeks} weeks`);
      continue;
    }
    const w = windows[i % windows.length];
    const drawn = drawPilot(input, design, n, w, plannerSeed(input.seed, key, i));
    if (typeof drawn === 'string') {
      skip(drawn);
      continue;
    }
    const p0 = decidingP(drawn, 0);
    const p1 = decidingP(drawn, input.mde);
    if (p0 === null || p1 === null) {
      skip(`the ${DECIDING_TEST[design]} test could not be computed on the window ${w.outcome.start}..${w.outcome.end}`);
      continue;
    }
    pilots.push(drawn);
    if (p0 < input.alpha) fp++;
    if (p1 < input.alpha) det++;
  }
  const fpr = rateOf(fp, pilots.length);
  const overRejects = fpr.ci_low !== null && fpr.ci_low > input.alpha;
  const valid = pilots.length > 0 && !overRejects;
  return {
    pilots,
    cell: {
      design,
      territories: n,
      weeks,
      // the method actually run (calibration flags or a missing pre-period can change it per pilot)
      deciding_test: pilots.length ? [...new Set(pilots.map((p) => decidingTestLabel(design, p.test)))].join(' / ') : DECIDING_TEST[design],
      analysed: pilots.length,
      skipped,
      skip_reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      power: rateOf(det, pilots.length),
      false_positive_rate: fpr,
      valid,
      invalid_reason: valid
        ? null
        : pilots.length === 0
          ? `no placebo pilot could be analysed: ${[...reasons.keys()][0] ?? 'no simulations'}`
          : `its false-positive rate ${pct(fpr.rate as number)} (95% CI ${pct(fpr.ci_low as number)}–${pct(fpr.ci_high as number)}) exceeds α = ${input.alpha} on this history`,
    },
  };
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}

/**
 * The power planner (see module doc). A generator: yields the number of cells done every `chunk`
 * cells (default 1) so the caller can report progress; the return value is the result.
 *
 * @throws RangeError on an empty grid, mde ≤ 0, power or alpha outside (0, 1), or simulations < 1
 */
export function* planPower(input: PlannerInput): Generator<number, PlannerResult, undefined> {
  if (!input.territoryCounts.length || !input.designs.length || !input.windowsByWeeks.size) throw new RangeError('the planner needs at least one territory count, one design and one test length');
  if (!(input.mde > 0)) throw new RangeError(`mde must be > 0, got ${input.mde}`);
  if (!(input.power > 0 && input.power < 1) || !(input.alpha > 0 && input.alpha < 1)) throw new RangeError('power and alpha must lie in (0, 1)');
  if (!(input.simulations >= 1)) throw new RangeError('simulations must be ≥ 1');
  const counts = [...new Set(input.territoryCounts.map((n) => 2 * Math.floor(n / 2)).filter((n) => n >= 4))].sort((a, b) => a - b);
  const weeks = [...input.windowsByWeeks.keys()].sort((a, b) => a - b);
  const cells: PlannerCell[] = [];
  const pilotsOf = new Map<PlannerCell, DrawnPilot[]>();
  const chunk = input.chunk ?? 1;
  let done = 0;
  for (const n of counts) {
    for (const L of weeks) {
      for (const design of input.designs) {
        const { cell, pilots } = runCell(input, design, n, L);
        cells.push(cell);
        pilotsOf.set(cell, pilots);
        done++;
        if (done % chunk === 0) yield done;
      }
    }
  }
  const reaching = cells.filter((c) => c.valid && c.power.rate !== null && c.power.rate >= input.power);
  reaching.sort((a, b) => a.territories - b.territories || a.weeks - b.weeks || (b.power.rate as number) - (a.power.rate as number));
  const best = reaching[0] ?? null;
  const recommendation = best ? { ...best, mde_at_target_power: mdeAtPower(pilotsOf.get(best) as DrawnPilot[], input.power, input.alpha) } : null;
  return {
    mde: input.mde,
    target_power: input.power,
    alpha: input.alpha,
    simulations_per_cell: input.simulations,
    lift_model: 'multiplicative: the treated territories’ KPI × (1 + mde)',
    selection_rule: 'the valid cell with power ≥ target with the fewest territories, then the fewest weeks, then the highest power; a cell whose false-positive rate is shown to exceed α (Clopper–Pearson lower bound > α) does not decide',
    cells,
    recommendation,
    text: planText(input, cells, recommendation),
  };
}

function designName(d: DesignType): string {
  return DESIGN_TYPE_LABELS[d];
}

function planText(input: PlannerInput, cells: PlannerCell[], rec: PlannerResult['recommendation']): string {
  const target = `${Math.round(100 * input.power)}% power to detect a ${pct(input.mde)} lift at α = ${input.alpha}`;
  if (rec) {
    const mde = rec.mde_at_target_power !== null ? `; with this plan the smallest lift detected at ${Math.round(100 * input.power)}% power is ${pct(rec.mde_at_target_power)}` : '';
    return (
      `Cheapest plan for ${target}: ${rec.territories} territories (${rec.territories / 2} treated) for ${rec.weeks} weeks, ${designName(rec.design)} design, ` +
      `decided by ${rec.deciding_test}: power ${pct(rec.power.rate as number)} (95% CI ${pct(rec.power.ci_low as number)}–${pct(rec.power.ci_high as number)}), ` +
      `false-positive rate ${pct(rec.false_positive_rate.rate as number)}, from ${rec.analysed} placebo pilots on this history${mde}.`
    );
  }
  const valid = cells.filter((c) => c.valid && c.power.rate !== null);
  const closest = valid.sort((a, b) => (b.power.rate as number) - (a.power.rate as number))[0];
  const largestN = Math.max(...cells.map((c) => c.territories));
  const longest = Math.max(...cells.map((c) => c.weeks));
  return (
    `No plan reaches ${target}: not with up to ${largestN} territories and ${longest} weeks under any design tried. ` +
    (closest
      ? `The closest is ${closest.territories} territories for ${closest.weeks} weeks, ${designName(closest.design)} design, with power ${pct(closest.power.rate as number)}. A pilot of this size is likely to miss a lift of this size; plan for a larger lift, more territories or a longer test.`
      : 'No cell could be analysed (see each cell’s skip reasons).')
  );
}

/**
 * Past windows of a weekly panel for the planner: for a test of L weeks and a pre-period of P weeks,
 * every window whose outcome weeks lie in [fromWeek, toWeek) (step `step` weeks), the KPI being the
 * sum over the window's weeks (an additive KPI such as revenue won); the pre-period is the P weeks
 * before the outcome, null where they start before week 0.
 *
 * @param weekly KPI per territory per week, weekly[territory][week]
 * @param weekLabel label of week w (for the window bounds in the answer)
 */
export function windowsFromWeeklyPanel(weekly: readonly (readonly number[])[], opts: { weeks: number; preWeeks: number; fromWeek: number; toWeek: number; step?: number; weekLabel?: (w: number) => string }): PlannerWindow[] {
  const label = opts.weekLabel ?? ((w: number) => `week-${w}`);
  const out: PlannerWindow[] = [];
  const sum = (row: readonly number[], a: number, b: number) => {
    let s = 0;
    for (let w = a; w < b; w++) s += row[w];
    return s;
  };
  for (let start = opts.fromWeek; start + opts.weeks <= opts.toWeek; start += opts.step ?? 1) {
    const preStart = start - opts.preWeeks;
    out.push({
      outcome: { start: label(start), end: label(start + opts.weeks - 1) },
      pre: { start: label(preStart), end: label(start - 1) },
      y: weekly.map((row) => sum(row, start, start + opts.weeks)),
      x: weekly.map((row) => (preStart >= 0 ? sum(row, preStart, start) : null)),
    });
  }
  return out;
}

/** Realised detection rate of a fixed plan on given windows (held-back history): same procedure as a planner cell. */
export function realisedPower(input: Omit<PlannerInput, 'territoryCounts' | 'designs' | 'windowsByWeeks' | 'power'> & { design: DesignType; territories: number; windows: readonly PlannerWindow[] }): RateWithCi {
  const { cell } = runCell({ ...input, territoryCounts: [input.territories], designs: [input.design], windowsByWeeks: new Map([[0, input.windows]]), power: 0.5 }, input.design, input.territories, 0);
  return cell.power;
}
