/**
 * Every assignment design PilotLab offers, drawn from a seed and replayable from what is stored:
 *
 *  - `complete`: exact counts per arm (Imbens & Rubin 2015, ch. 4);
 *  - `stratified`: exact counts per stratum (region or team), ch. 9;
 *  - `matched_pairs`: territories sorted on a pre-period KPI or covariate and cut into blocks of one
 *    territory per arm (pairs for two arms) that minimise the total within-block range; each block's
 *    arms are randomly permuted; the n mod A territories left over are reported and left out
 *    (Imbens & Rubin 2015, ch. 10; Greevy et al. 2004 for optimal matching);
 *  - `rerandomization`: complete randomization re-drawn until the Mahalanobis distance M of the arm
 *    means of chosen covariates is ≤ a = χ²_{k(A−1)} quantile at the acceptance probability p_a
 *    (Morgan & Rubin 2012, Annals of Statistics 40); the threshold, draws tried and accepted are
 *    recorded;
 *  - constraints on any design: territories forced into an arm, territories excluded, and a cap on
 *    the treated arms' share of a covariate's total (pre-period revenue), enforced by the same
 *    acceptance (rejection) rule;
 *  - multi-arm pilots: a control and up to 4 treatments (any design).
 *
 * Plain `complete` and `stratified` designs without forced territories or a cap are drawn by
 * `drawAssignment` unchanged (DESIGN_ALGORITHM_VERSION), so stored seeds keep their meaning. All
 * other designs use DESIGN_ALGORITHM_VERSION_V2 (steps below). `designTemplate` and
 * `acceptanceRule` give randomization inference the same design to re-draw from.
 */
import { allocateCounts, DesignError, stratumTargets, StratumTarget } from './allocation';
import {
  byCodeUnits,
  DEFAULT_MAX_DRAWS,
  DESIGN_ALGORITHM_VERSION_V2,
  DESIGN_ALGORITHM_VERSION_V3,
  DESIGN_TYPES,
  DesignDraw,
  DesignSpec,
  DesignUnit,
  MatchedBlock,
  MAX_ARMS,
  MAX_MAX_DRAWS,
} from './design-types';
import { matchedBlocks } from './matched-blocks';
import { createPrng, Prng } from './prng';
import { COMPLETE_DESIGN_STRATUM, drawAssignment } from './randomization';
import { type Acceptance, buildAcceptance } from './rerandomization-acceptance';

export * from './design-types';
export { matchedBlocks } from './matched-blocks';
export { buildAcceptance } from './rerandomization-acceptance';
export * from './randomization-design';

/** True when `drawAssignment` (version 1) draws this design unchanged. */
export function isPlainDesign(spec: DesignSpec): boolean {
  const c = spec.constraints;
  return (
    (spec.type === 'complete' || spec.type === 'stratified') &&
    !spec.rerandomization &&
    !(c?.force && c.force.length > 0) &&
    !c?.max_treated_share
  );
}

/**
 * Draws an assignment under any design (see module doc). Same units, spec and seed ⇒ the identical
 * draw on every machine.
 *
 * Steps of DESIGN_ALGORITHM_VERSION_V2: (1) excluded codes removed, units sorted by code;
 * (2) strata: one stratum `all` (complete, rerandomization), or the strata sorted by key with
 * `stratumTargets` (stratified, ties by the PRNG), or the matched blocks (`matchedBlocks`, no
 * randomness); (3) forced territories take their arm's places in their stratum; (4) one draw = per
 * stratum in order, Fisher–Yates over the stratum's free codes (sorted) dealt to the remaining places
 * in arm order; (5) repeat (4) until the acceptance rule holds (M ≤ a and the treated share ≤ cap),
 * at most `max_draws` times. With `threshold_rule: 'empirical'` (version 3) a is first set as the
 * p_a quantile of M over RERANDOMIZATION_CALIBRATION_DRAWS draws of (4) from a PRNG seeded with
 * `calibrationSeed(seed)`; the draw's own stream is unchanged.
 *
 * @throws DesignError on duplicate codes, unknown forced/excluded codes or arms, a missing stratum or
 *   pairing value, too many arms, infeasible counts (incl. forced territories that overfill an arm),
 *   no usable rerandomization covariate, or no accepted draw within max_draws; RangeError on a bad seed
 */
export function drawDesign(units: readonly DesignUnit[], spec: DesignSpec): DesignDraw {
  validateSpec(spec);
  const eligible = eligibleUnits(units, spec);
  if (isPlainDesign(spec)) return plainDraw(eligible, spec);

  const rng = createPrng(spec.seed);
  const armKeys = spec.arms.map((a) => a.key);
  const layout = spec.type === 'matched_pairs' ? pairedStrata(eligible, spec, armKeys.length) : randomizedStrata(eligible, spec, armKeys, rng);
  const index = new Map(layout.assigned.map((u, i) => [u.code, i]));
  const forced = forcedTerritories(spec, armKeys, eligible, index);
  const plan = placesPerStratum(layout.strata, forced.arms, index, armKeys);
  // Step (5)'s empirical threshold: complete randomizations of the same plan, on their own stream.
  const sample = (r: Prng, labels: Uint8Array) => {
    for (const [code, a] of forced.arms) labels[index.get(code) as number] = a;
    dealOnce(plan, armKeys.length, labels, r);
  };
  const acceptance = buildAcceptance(layout.assigned, spec, armKeys, { sample, seed: spec.seed });
  const { labels, tries } = drawUntilAccepted(plan, forced.arms, index, layout.assigned.length, armKeys.length, spec, acceptance, rng);
  return designResult({ spec, armKeys, eligible, layout, forced: forced.list, plan, acceptance, labels, tries });
}

/** Step (1): the eligible units, checked, without the excluded ones, sorted by code. */
interface EligibleUnits {
  codes: Set<string>;
  excludeSet: Set<string>;
  excluded: string[];
  included: DesignUnit[];
  leftOut: DesignDraw['left_out'];
}

/** A stratum of the draw: its key, its codes (sorted) and its places per arm (in arm order). */
interface StratumUnits {
  key: string;
  codes: string[];
  counts: number[];
}

/** Step (2): the strata, the matched blocks (matched pairs) and the units that are assigned. */
interface StrataLayout {
  strata: StratumUnits[];
  pairs: MatchedBlock[] | null;
  assigned: DesignUnit[];
}

/** Step (3): a stratum's free units (indices) and the places per arm left after the forced ones. */
interface StratumPlan extends StratumUnits {
  free: number[];
  remaining: number[];
}

function eligibleUnits(units: readonly DesignUnit[], spec: DesignSpec): EligibleUnits {
  const excludeSet = new Set(spec.constraints?.exclude ?? []);
  const codes = new Set<string>();
  for (const u of units) {
    if (typeof u.code !== 'string' || u.code.length === 0) throw new DesignError('every territory needs a non-empty code');
    if (codes.has(u.code)) throw new DesignError(`territory code '${u.code}' appears twice`);
    codes.add(u.code);
  }
  const unknownExcluded = [...excludeSet].filter((c) => !codes.has(c));
  if (unknownExcluded.length) throw new DesignError(`excluded territories are not eligible: ${unknownExcluded.join(', ')}`);
  const excluded = [...excludeSet].sort(byCodeUnits);
  const included = units.filter((u) => !excludeSet.has(u.code)).sort((x, y) => byCodeUnits(x.code, y.code));
  const leftOut: DesignDraw['left_out'] = excluded.map((code) => ({ code, reason: 'excluded' as const }));
  return { codes, excludeSet, excluded, included, leftOut };
}

/** A plain complete or stratified design: version 1 (`drawAssignment`), so stored seeds keep their meaning. */
function plainDraw({ included, excluded, leftOut }: EligibleUnits, spec: DesignSpec): DesignDraw {
  const drawn = drawAssignment(
    included.map((u) => ({ code: u.code, stratum: u.stratum })),
    { type: spec.type as 'complete' | 'stratified', arms: spec.arms, seed: spec.seed },
  );
  const unitStrata: Record<string, string> = {};
  for (const u of included) unitStrata[u.code] = spec.type === 'stratified' ? (u.stratum as string) : COMPLETE_DESIGN_STRATUM;
  return {
    arms: drawn.arms,
    unit_strata: unitStrata,
    strata: drawn.strata,
    left_out: leftOut,
    pairs: null,
    rerandomization: null,
    constraints: excluded.length ? { forced: [], excluded, max_treated_share: null } : null,
    draws_tried: 1,
    draws_accepted: 1,
    algorithm_version: drawn.algorithm_version,
  };
}

/** Step (2) of a matched-pairs design: one stratum per block; the odd ones out join `left_out`. */
function pairedStrata(eligible: EligibleUnits, spec: DesignSpec, A: number): StrataLayout {
  const { included, leftOut } = eligible;
  const blocks = matchedBlocks(
    included.map((u) => ({ code: u.code, value: u.covariates?.[spec.pair_on as string] })),
    A,
    spec.pair_on as string,
  );
  for (const code of blocks.leftOver) leftOut.push({ code, reason: 'odd_one_out' });
  const inBlocks = new Set(blocks.blocks.flatMap((b) => b.codes));
  const assigned = included.filter((u) => inBlocks.has(u.code));
  const strata = blocks.blocks.map((b) => ({ key: b.pair, codes: [...b.codes].sort(byCodeUnits), counts: new Array<number>(A).fill(1) }));
  if (blocks.blocks.length < 2) throw new DesignError(`matched pairs need at least 2 blocks of ${A} territories, got ${blocks.blocks.length}`);
  return { strata, pairs: blocks.blocks, assigned };
}

/** Step (2) of the other designs: one stratum `all`, or the strata by key with `stratumTargets` (stratified). */
function randomizedStrata({ included }: EligibleUnits, spec: DesignSpec, armKeys: readonly string[], rng: Prng): StrataLayout {
  const armCounts = allocateCounts(included.length, spec.arms);
  if (spec.type !== 'stratified') {
    return { strata: [{ key: COMPLETE_DESIGN_STRATUM, codes: included.map((u) => u.code), counts: armKeys.map((k) => armCounts[k]) }], pairs: null, assigned: included };
  }
  const byStratum = new Map<string, string[]>();
  for (const u of included) {
    if (typeof u.stratum !== 'string' || u.stratum.length === 0) {
      throw new DesignError(`territory '${u.code}' has no stratum; a stratified design needs one for every territory`);
    }
    const list = byStratum.get(u.stratum);
    if (list) list.push(u.code);
    else byStratum.set(u.stratum, [u.code]);
  }
  const keys = [...byStratum.keys()].sort(byCodeUnits);
  const targets = stratumTargets(keys.map((key) => ({ key, size: (byStratum.get(key) as string[]).length })), armCounts, rng);
  const strata = targets.map((t) => ({ key: t.stratum, codes: byStratum.get(t.stratum) as string[], counts: armKeys.map((k) => t.counts[k]) }));
  return { strata, pairs: null, assigned: included };
}

/** Step (3): the forced territories (sorted by code), checked, with their arm index. */
function forcedTerritories(
  spec: DesignSpec,
  armKeys: readonly string[],
  { codes, excludeSet }: EligibleUnits,
  index: ReadonlyMap<string, number>,
): { list: { code: string; arm: string }[]; arms: Map<string, number> } {
  const list = [...(spec.constraints?.force ?? [])].sort((x, y) => byCodeUnits(x.code, y.code));
  const arms = new Map<string, number>();
  for (const f of list) {
    const a = armKeys.indexOf(f.arm);
    if (a < 0) throw new DesignError(`territory '${f.code}' is forced into arm '${f.arm}', which the pilot does not have`);
    if (excludeSet.has(f.code)) throw new DesignError(`territory '${f.code}' is both forced and excluded`);
    if (!codes.has(f.code)) throw new DesignError(`forced territory '${f.code}' is not eligible`);
    if (!index.has(f.code)) throw new DesignError(`forced territory '${f.code}' was left out as the odd one of the matched pairs; exclude it or another territory`);
    if (arms.has(f.code)) throw new DesignError(`territory '${f.code}' is forced twice`);
    arms.set(f.code, a);
  }
  return { list, arms };
}

/** Step (3): per stratum, the free units and the places left per arm once the forced units hold theirs. */
function placesPerStratum(strata: readonly StratumUnits[], forcedArm: ReadonlyMap<string, number>, index: ReadonlyMap<string, number>, armKeys: readonly string[]): StratumPlan[] {
  return strata.map((s) => {
    const remaining = s.counts.slice();
    const free: number[] = [];
    for (const code of s.codes) {
      const a = forcedArm.get(code);
      if (a === undefined) free.push(index.get(code) as number);
      else remaining[a] -= 1;
    }
    remaining.forEach((c, a) => {
      if (c < 0) {
        throw new DesignError(
          `too many territories forced into arm '${armKeys[a]}' in stratum '${s.key}' (it has ${s.counts[a]} place(s))`,
        );
      }
    });
    return { key: s.key, free, remaining, codes: s.codes, counts: s.counts };
  });
}

/** Step (4), one draw: per stratum in order, Fisher–Yates over its free units dealt to the remaining places in arm order. */
function dealOnce(plan: readonly StratumPlan[], A: number, labels: Uint8Array, rng: Prng): void {
  for (const s of plan) {
    const free = s.free.slice();
    rng.shuffle(free);
    let next = 0;
    for (let a = 0; a < A; a++) for (let i = 0; i < s.remaining[a]; i++) labels[free[next++]] = a;
  }
}

/** Steps (4) and (5): draws until the acceptance rule holds, at most `max_draws` times. */
function drawUntilAccepted(
  plan: readonly StratumPlan[],
  forcedArm: ReadonlyMap<string, number>,
  index: ReadonlyMap<string, number>,
  n: number,
  A: number,
  spec: DesignSpec,
  acceptance: Acceptance | null,
  rng: Prng,
): { labels: Uint8Array; tries: number } {
  const labels = new Uint8Array(n);
  for (const [code, a] of forcedArm) labels[index.get(code) as number] = a;
  const maxDraws = spec.max_draws ?? DEFAULT_MAX_DRAWS;
  let tries = 0;
  while (tries < maxDraws) {
    tries++;
    dealOnce(plan, A, labels, rng);
    if (!acceptance || acceptance.accept(labels)) return { labels, tries };
  }
  throw new DesignError(
    `no assignment met the acceptance rule in ${maxDraws} draws (${acceptance?.describe ?? ''}); loosen it or raise max_draws`,
  );
}

/** The draw record of a version-2 design. */
function designResult(d: {
  spec: DesignSpec;
  armKeys: readonly string[];
  eligible: EligibleUnits;
  layout: StrataLayout;
  forced: { code: string; arm: string }[];
  plan: readonly StratumPlan[];
  acceptance: Acceptance | null;
  labels: Uint8Array;
  tries: number;
}): DesignDraw {
  const { spec, armKeys, eligible, layout, forced, plan, acceptance, labels, tries } = d;
  const arms: Record<string, string> = {};
  const unitStrata: Record<string, string> = {};
  layout.assigned.forEach((u, i) => {
    arms[u.code] = armKeys[labels[i]];
  });
  for (const s of plan) for (const code of s.codes) unitStrata[code] = s.key;
  const strata: StratumTarget[] = plan.map((s) => ({
    stratum: s.key,
    n: s.codes.length,
    counts: Object.fromEntries(armKeys.map((k, a) => [k, s.counts[a]])),
  }));
  const cap = spec.constraints?.max_treated_share;
  const { excluded } = eligible;
  return {
    arms,
    unit_strata: unitStrata,
    strata,
    left_out: eligible.leftOut.sort((x, y) => byCodeUnits(x.code, y.code)),
    pairs: layout.pairs,
    rerandomization: acceptance?.rerandomization ? { ...acceptance.rerandomization, mahalanobis: acceptance.mahalanobis(labels) } : null,
    constraints:
      forced.length || excluded.length || cap
        ? {
            forced: forced.map((f) => ({ code: f.code, arm: f.arm })),
            excluded,
            max_treated_share: cap ? { ...cap, realised_share: (acceptance as Acceptance).treatedShare(labels) } : null,
          }
        : null,
    draws_tried: tries,
    draws_accepted: 1,
    algorithm_version: spec.rerandomization?.threshold_rule === 'empirical' ? DESIGN_ALGORITHM_VERSION_V3 : DESIGN_ALGORITHM_VERSION_V2,
  };
}

function validateSpec(spec: DesignSpec): void {
  if (!DESIGN_TYPES.includes(spec.type)) throw new DesignError(`unknown design type '${String(spec.type)}'`);
  if (spec.arms.length > MAX_ARMS) throw new DesignError(`a pilot has at most ${MAX_ARMS} arms (a control and up to 4 treatments), got ${spec.arms.length}`);
  if (spec.arms.length < 2) throw new DesignError(`a design needs at least 2 arms, got ${spec.arms.length}`);
  if (spec.type === 'matched_pairs' && !spec.pair_on) throw new DesignError('a matched-pairs design needs pair_on (the covariate to pair on)');
  if (spec.type === 'rerandomization') {
    const r = spec.rerandomization;
    if (!r || !Array.isArray(r.covariates) || r.covariates.length === 0) {
      throw new DesignError('a rerandomization design needs at least one covariate');
    }
    if (!(r.acceptance_probability > 0 && r.acceptance_probability <= 1)) {
      throw new DesignError(`acceptance_probability must be in (0, 1], got ${r.acceptance_probability}`);
    }
  } else if (spec.rerandomization) {
    throw new DesignError(`only a rerandomization design takes rerandomization covariates (this one is ${spec.type})`);
  }
  const md = spec.max_draws ?? DEFAULT_MAX_DRAWS;
  if (!Number.isInteger(md) || md < 1 || md > MAX_MAX_DRAWS) throw new DesignError(`max_draws must be an integer in 1..${MAX_MAX_DRAWS}, got ${md}`);
  const cap = spec.constraints?.max_treated_share;
  if (cap && !(cap.max_share > 0 && cap.max_share <= 1)) throw new DesignError(`max_share must be in (0, 1], got ${cap.max_share}`);
}
