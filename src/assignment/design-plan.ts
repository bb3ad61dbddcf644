import { allocateCounts, DesignError } from '../stats/design/allocation';
import {
  DesignDraw,
  DesignSpec,
  DesignUnit as DrawUnit,
  DESIGN_ALGORITHM_VERSION_V2,
  drawDesign,
  isPlainDesign,
  RandomizationDesign,
  randomizationDesignFromStored,
} from '../stats/design/designs';
import { PRNG_ALGORITHM } from '../stats/design/prng';
import { DESIGN_ALGORITHM_VERSION } from '../stats/design/randomization';
import { AppException } from '../common/errors/app.exception';
import { KPI_KEYS, KpiKey } from '../kpis/kpi-catalogue';
import { PilotEntity } from '../pilots/pilot.entity';
import { DesignUnit, hashAssignmentInputs } from './assignment-inputs';
import { AssignmentEntity, StoredDesign } from './assignment.entity';
import { replayChosen } from './chosen-design';
import { replaySelected } from './selected-design';

/** Prefix of covariates computed from the pre-period (`pre_period_revenue_won`). */
export const PRE_PERIOD_PREFIX = 'pre_period_';

/** The covariate names the pilot's design reads (pairing variable, rerandomization covariates, cap). */
export function designCovariateNames(pilot: Pick<PilotEntity, 'designOptions'>): string[] {
  const o = pilot.designOptions ?? {};
  const names = [o.pair_on, ...(o.rerandomization?.covariates ?? []), o.constraints?.max_treated_share?.covariate];
  return [...new Set(names.filter((x): x is string => typeof x === 'string'))];
}

/** The catalogue KPIs the design needs over the pre-period (from `pre_period_<kpi>` names). */
export function preperiodKpisNeeded(names: readonly string[]): KpiKey[] {
  return names
    .filter((n) => n.startsWith(PRE_PERIOD_PREFIX))
    .map((n) => n.slice(PRE_PERIOD_PREFIX.length))
    .filter((k): k is KpiKey => (KPI_KEYS as readonly string[]).includes(k));
}

/** The design options as they enter the inputs hash and the stored design ({} for none). */
function optionsOf(pilot: PilotEntity): Record<string, unknown> {
  const o = pilot.designOptions ?? {};
  const out: Record<string, unknown> = {};
  if (o.pair_on) out.pair_on = o.pair_on;
  if (o.rerandomization) out.rerandomization = o.rerandomization;
  if (o.constraints && Object.keys(o.constraints).length) out.constraints = o.constraints;
  if (o.max_draws !== undefined) out.max_draws = o.max_draws;
  // only when set: designs without it keep their stored hash input
  if (o.pre_period_as_of !== undefined) out.pre_period_as_of = o.pre_period_as_of;
  return out;
}

/** Exact arms with counts for `n` territories; matched pairs: one per block. @throws DESIGN_INFEASIBLE */
function armsFor(pilot: PilotEntity, n: number): { key: string; role: 'control' | 'treatment'; count: number }[] {
  let counts: Record<string, number>;
  if (pilot.designType === 'matched_pairs') {
    const blocks = Math.floor(n / pilot.arms.length);
    counts = Object.fromEntries(pilot.arms.map((a) => [a.key, blocks]));
  } else {
    try {
      counts = allocateCounts(n, pilot.arms);
    } catch (err) {
      throw new AppException('DESIGN_INFEASIBLE', (err as Error).message, { territories: n });
    }
  }
  const small = Object.entries(counts).filter(([, c]) => c < 2);
  if (small.length) {
    throw new AppException('DESIGN_INFEASIBLE', `Every arm needs at least 2 territories; ${n} territories give ${JSON.stringify(counts)}`, {
      territories: n,
      counts,
    });
  }
  return pilot.arms.map((a) => ({ key: a.key, role: a.role, count: counts[a.key] }));
}

/** The seed-and-units draw specification of a pilot's design. */
export function specOf(
  type: StoredDesign['type'],
  arms: StoredDesign['arms'],
  seed: number,
  options: Record<string, any>,
): DesignSpec {
  const c = options.constraints ?? {};
  if (type === 'chosen' || type === 'selected') throw new AppException('DESIGN_INFEASIBLE', `a ${type} design is not randomized (chosen-design.ts, selected-design.ts)`);
  return {
    type,
    // matched pairs: counts follow from the blocks, so every arm gets ratio 1
    arms: type === 'matched_pairs' ? arms.map((a) => ({ key: a.key, role: a.role, ratio: 1 })) : arms.map((a) => ({ key: a.key, role: a.role, count: a.count })),
    seed,
    pair_on: options.pair_on ?? null,
    rerandomization: options.rerandomization ?? null,
    constraints: {
      force: (c.force ?? []).map((f: { territory_code: string; arm: string }) => ({ code: f.territory_code, arm: f.arm })),
      exclude: c.exclude ?? [],
      max_treated_share: c.max_treated_share ?? undefined,
    },
    max_draws: options.max_draws ?? null,
  };
}

/** A pilot's design ready to draw: spec, units (eligible minus excluded), base stored design, hash. */
export interface PlannedDesign {
  spec: DesignSpec;
  units: DesignUnit[];
  design: Omit<StoredDesign, 'strata'>;
  inputsHash: string;
  algorithmVersion: string;
}

/**
 * Plans the draw of a pilot: units = eligible territories minus excluded ones (with their stratum and
 * covariates, including the `pre_period_<kpi>` values the design needs), exact arm counts, the draw
 * spec and the inputs hash. For a plain complete/stratified design without options the hash input
 * is exactly the one of version 1 (type, stratify_by, arms), so stored hashes keep matching.
 *
 * @param units every eligible territory (DesignUnit, sorted by code)
 * @param seed the draw's seed (the plan-stated or server-drawn seed of the draw; default the pilot's
 *   stated seed, else 0 — what power simulations of a pilot without a stated seed use)
 * @throws DESIGN_INFEASIBLE when counts cannot be met or an excluded/forced code is not eligible
 */
export function planDesign(pilot: PilotEntity, units: DesignUnit[], seed: number = pilot.seed ?? 0): PlannedDesign {
  const options = optionsOf(pilot);
  const excluded = new Set(pilot.designOptions?.constraints?.exclude ?? []);
  const eligibleCodes = new Set(units.map((u) => u.code));
  const notEligible = [...excluded, ...(pilot.designOptions?.constraints?.force ?? []).map((f) => f.territory_code)].filter((c) => !eligibleCodes.has(c));
  if (notEligible.length) {
    throw new AppException('DESIGN_INFEASIBLE', `Forced or excluded territories that are not eligible: ${notEligible.join(', ')}`, { not_eligible: notEligible });
  }
  const included = units.filter((u) => !excluded.has(u.code));
  const arms = armsFor(pilot, included.length);
  const design = {
    type: pilot.designType,
    stratify_by: pilot.designType === 'stratified' ? (pilot.stratifyBy ?? 'region') : null,
    arms,
    ...options,
  } as Omit<StoredDesign, 'strata'>;
  const spec = specOf(design.type, arms, seed, options);
  const algorithmVersion = isPlainDesign(spec) ? DESIGN_ALGORITHM_VERSION : DESIGN_ALGORITHM_VERSION_V2;
  const inputsHash = hashAssignmentInputs({ algorithm_version: algorithmVersion, prng: PRNG_ALGORITHM, seed, design, units: included });
  return { spec, units: included, design, inputsHash, algorithmVersion };
}

/**
 * Draws a planned design. `excluded` units are passed as well so that the design reports them.
 * @throws DESIGN_INFEASIBLE with the design algorithm's message
 */
export function drawPlanned(plan: PlannedDesign, excludedCodes: readonly string[]): DesignDraw {
  const units: DrawUnit[] = [
    ...plan.units.map((u) => ({ code: u.code, stratum: u.stratum, covariates: u.covariates })),
    ...excludedCodes.map((code) => ({ code, stratum: '(excluded)' })),
  ];
  try {
    return drawDesign(units, plan.spec);
  } catch (err) {
    if (err instanceof DesignError || err instanceof RangeError) throw new AppException('DESIGN_INFEASIBLE', err.message);
    throw err;
  }
}

/** Builds the stored design from the plan and the draw (everything needed to replay and to analyse). */
export function storedDesignOf(plan: PlannedDesign, drawn: DesignDraw): StoredDesign {
  const stored: StoredDesign = { ...plan.design, strata: drawn.strata };
  if (drawn.algorithm_version !== DESIGN_ALGORITHM_VERSION) {
    stored.draws_tried = drawn.draws_tried;
    stored.draws_accepted = drawn.draws_accepted;
  }
  if (drawn.left_out.length) {
    const byCode = new Map(plan.units.map((u) => [u.code, u]));
    stored.left_out = drawn.left_out.map((l) => ({
      ...l,
      ...(l.reason === 'odd_one_out' ? { covariates: byCode.get(l.code)?.covariates ?? {} } : {}),
    }));
  }
  if (drawn.pairs) stored.pairs = drawn.pairs;
  if (drawn.rerandomization) stored.rerandomization_record = drawn.rerandomization;
  if (drawn.constraints) stored.constraints_realised = drawn.constraints;
  return stored;
}

/** Result of replaying a stored assignment. */
export interface ReplayResult {
  identical: boolean;
  units_compared: number;
  mismatches: { territory_code: string; stored_arm: string | null; replayed_arm: string | null }[];
  left_out_identical: boolean;
  draws_tried: { stored: number | null; replayed: number };
  /** hash of the stored inputs, recomputed from the stored units (equals inputs_hash unless edited) */
  replayed_inputs_hash: string;
  /** selected designs: the rerun selection ranks the same candidates with the same figures, and its rank 1 is the stored treated set */
  selection_identical?: boolean;
}

/**
 * Replays a stored assignment from what was stored only (seed, algorithm, design parameters, the
 * units' strata and covariates, left-out units) and compares it territory by territory.
 */
export function replayAssignment(a: AssignmentEntity): ReplayResult {
  const d = a.design;
  if (d.type === 'chosen') return replayChosen(a);
  if (d.type === 'selected') return replaySelected(a);
  const options: Record<string, unknown> = {};
  for (const key of ['pair_on', 'rerandomization', 'constraints', 'max_draws'] as const) {
    if (d[key] !== undefined) options[key] = d[key];
  }
  const spec = specOf(d.type, d.arms, a.seed, options);
  const planStratum = (s: string) => (d.type === 'stratified' ? s : 'all');
  const units: DesignUnit[] = [
    ...a.units.map((u) => ({ territory_id: u.territoryId, code: u.territoryCode, stratum: planStratum(u.stratum), covariates: u.covariates })),
    ...(d.left_out ?? [])
      .filter((l) => l.reason === 'odd_one_out')
      .map((l) => ({ territory_id: '', code: l.code, stratum: 'all', covariates: l.covariates ?? {} })),
  ].sort((x, y) => (x.code < y.code ? -1 : x.code > y.code ? 1 : 0));
  const excluded = (d.left_out ?? []).filter((l) => l.reason === 'excluded').map((l) => l.code);
  const design: Omit<StoredDesign, 'strata'> = { type: d.type, stratify_by: d.stratify_by, arms: d.arms, ...options } as Omit<StoredDesign, 'strata'>;
  const replayedHash = hashAssignmentInputs({ algorithm_version: a.algorithmVersion, prng: a.prngAlgorithm, seed: a.seed, design, units });
  const drawn = drawDesign(
    [...units.map((u) => ({ code: u.code, stratum: u.stratum, covariates: u.covariates })), ...excluded.map((code) => ({ code, stratum: '(excluded)' }))],
    spec,
  );
  const stored = new Map(a.units.map((u) => [u.territoryCode, u.arm]));
  const codes = [...new Set([...stored.keys(), ...Object.keys(drawn.arms)])].sort();
  const mismatches = codes
    .filter((c) => stored.get(c) !== drawn.arms[c])
    .map((c) => ({ territory_code: c, stored_arm: stored.get(c) ?? null, replayed_arm: drawn.arms[c] ?? null }));
  const leftOutKey = (xs: { code: string; reason: string }[]) => JSON.stringify(xs.map((x) => [x.code, x.reason]).sort());
  const leftOutIdentical = leftOutKey(d.left_out ?? []) === leftOutKey(drawn.left_out);
  const algorithmMatches = drawn.algorithm_version === a.algorithmVersion;
  return {
    identical: mismatches.length === 0 && leftOutIdentical && algorithmMatches,
    units_compared: codes.length,
    mismatches,
    left_out_identical: leftOutIdentical,
    draws_tried: { stored: d.draws_tried ?? null, replayed: drawn.draws_tried },
    replayed_inputs_hash: replayedHash,
  };
}

/**
 * The randomization-inference design of a stored assignment, over `a.units` in their stored order
 * (by territory code): strata (stratum, pair, 'all') with exact per-arm counts, forced territories
 * fixed, and the acceptance rule (rerandomization threshold, treated-share cap) rebuilt from the
 * stored covariates. Pass it as `design` to randomizationTest / randomizationTestAsync, with the KPI
 * values in the same order as `a.units`.
 */
export function randomizationDesignForAssignment(a: Pick<AssignmentEntity, 'design' | 'units'>): RandomizationDesign {
  const d = a.design;
  // a chosen design was not randomized: randomization inference has no reference set (report: few-treated section)
  if (d.type === 'chosen' || d.type === 'selected') throw new RangeError(`a ${d.type} (few-treated) design has no randomization distribution`);
  return randomizationDesignFromStored(
    {
      type: d.type,
      arms: d.arms,
      rerandomization: d.rerandomization ?? null,
      rerandomization_threshold: d.rerandomization_record?.threshold ?? null,
      constraints: {
        forced: (d.constraints?.force ?? []).map((f) => ({ code: f.territory_code, arm: f.arm })),
        max_treated_share: d.constraints?.max_treated_share ?? null,
      },
    },
    a.units.map((u) => ({ code: u.territoryCode, arm: u.arm, stratum: u.stratum, covariates: u.covariates })),
  );
}
