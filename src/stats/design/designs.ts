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
import { allocateCounts, ArmSpec, DesignError, stratumTargets, StratumTarget } from './allocation';
import { chiSquareQuantile, mahalanobisOfLabels, whitenCovariates } from './mahalanobis';
import { createPrng, PRNG_ALGORITHM } from './prng';
import { COMPLETE_DESIGN_STRATUM, DesignTemplate, drawAssignment } from './randomization';

/**
 * Version of the general design algorithm (pairing, forced units, acceptance loop). Stored with
 * every assignment drawn by `drawDesign` that is not a plain complete/stratified draw; bump it when
 * any step below changes.
 */
export const DESIGN_ALGORITHM_VERSION_V2 = `pilotlab-design@2 (${PRNG_ALGORITHM})`;

/** The design types. */
export type DesignType = 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization';
export const DESIGN_TYPES: readonly DesignType[] = ['complete', 'stratified', 'matched_pairs', 'rerandomization'];

/** Most arms a pilot may have: one control and up to 4 treatments. */
export const MAX_ARMS = 5;

/** Default and largest number of draws the acceptance loop may try. */
export const DEFAULT_MAX_DRAWS = 100_000;
export const MAX_MAX_DRAWS = 1_000_000;

/** A territory as the design sees it: code, stratum (stratified designs), covariates by name. */
export interface DesignUnit {
  code: string;
  stratum?: string | null;
  /** numeric covariates by name (attributes and pre-period KPIs such as `pre_period_revenue_won`); null = missing */
  covariates?: Record<string, number | null | undefined>;
}

/** An arm: key, role (control or treatment) and an exact count or a ratio (see allocateCounts). */
export interface DesignArm extends ArmSpec {
  role?: 'control' | 'treatment';
}

/** Restrictions on the assignment. */
export interface DesignConstraints {
  /** territories that must be in a given arm */
  force?: { code: string; arm: string }[];
  /** territories left out of the pilot */
  exclude?: string[];
  /** the treatment arms together may hold at most `max_share` (0..1) of the total of `covariate` */
  max_treated_share?: { covariate: string; max_share: number };
}

/** Everything that determines a draw (with the units). */
export interface DesignSpec {
  type: DesignType;
  arms: readonly DesignArm[];
  /** PRNG seed, integer 0..2^53 − 1 */
  seed: number;
  /** matched_pairs: the covariate to pair on (e.g. `pre_period_revenue_won`) */
  pair_on?: string | null;
  /** rerandomization: covariates of M, acceptance probability p_a in (0, 1], cap on draws */
  rerandomization?: { covariates: string[]; acceptance_probability: number } | null;
  constraints?: DesignConstraints | null;
  /** cap on draws of the acceptance loop (default 100,000) */
  max_draws?: number | null;
}

/** A block of a matched-pairs design: one territory per arm, sorted by the pairing value. */
export interface MatchedBlock {
  /** 'pair-001', 'pair-002', … in increasing order of the pairing value */
  pair: string;
  codes: string[];
  values: number[];
  /** max − min of the pairing value within the block (for two arms: |difference|) */
  spread: number;
}

/** Rerandomization record: enough to replay the acceptance rule and to report it. */
export interface RerandomizationRecord {
  covariates: string[];
  covariates_dropped: { covariate: string; reason: string }[];
  covariates_imputed: { covariate: string; n_imputed: number }[];
  missing_values: 'mean-imputed';
  acceptance_probability: number;
  df: number;
  /** a = χ²_df quantile at acceptance_probability; accept when M ≤ a */
  threshold: number;
  /** M of the accepted assignment */
  mahalanobis: number;
}

/** A drawn design. */
export interface DesignDraw {
  /** arm key per assigned territory code */
  arms: Record<string, string>;
  /** stratum label per assigned code, as analyses should use it: stratum, pair id, or 'all' */
  unit_strata: Record<string, string>;
  /** per stratum (or pair) the number of units per arm */
  strata: StratumTarget[];
  /** eligible territories not in the assignment, with why */
  left_out: { code: string; reason: 'excluded' | 'odd_one_out' }[];
  pairs: MatchedBlock[] | null;
  rerandomization: RerandomizationRecord | null;
  constraints: {
    forced: { code: string; arm: string }[];
    excluded: string[];
    max_treated_share: { covariate: string; max_share: number; realised_share: number } | null;
  } | null;
  /** draws of the acceptance loop until the first accepted one (1 without an acceptance rule) */
  draws_tried: number;
  draws_accepted: number;
  algorithm_version: string;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

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
 * at most `max_draws` times.
 *
 * @throws DesignError on duplicate codes, unknown forced/excluded codes or arms, a missing stratum or
 *   pairing value, too many arms, infeasible counts (incl. forced territories that overfill an arm),
 *   no usable rerandomization covariate, or no accepted draw within max_draws; RangeError on a bad seed
 */
export function drawDesign(units: readonly DesignUnit[], spec: DesignSpec): DesignDraw {
  validateSpec(spec);
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

  if (isPlainDesign(spec)) {
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

  const rng = createPrng(spec.seed);
  const armKeys = spec.arms.map((a) => a.key);
  const A = armKeys.length;

  // (2) strata
  let strataUnits: { key: string; codes: string[]; counts: number[] }[];
  let pairs: MatchedBlock[] | null = null;
  let assigned = included;
  if (spec.type === 'matched_pairs') {
    const blocks = matchedBlocks(
      included.map((u) => ({ code: u.code, value: u.covariates?.[spec.pair_on as string] })),
      A,
      spec.pair_on as string,
    );
    pairs = blocks.blocks;
    for (const code of blocks.leftOver) leftOut.push({ code, reason: 'odd_one_out' });
    const inBlocks = new Set(blocks.blocks.flatMap((b) => b.codes));
    assigned = included.filter((u) => inBlocks.has(u.code));
    strataUnits = blocks.blocks.map((b) => ({ key: b.pair, codes: [...b.codes].sort(byCodeUnits), counts: new Array<number>(A).fill(1) }));
    if (blocks.blocks.length < 2) throw new DesignError(`matched pairs need at least 2 blocks of ${A} territories, got ${blocks.blocks.length}`);
  } else {
    const armCounts = allocateCounts(included.length, spec.arms);
    if (spec.type === 'stratified') {
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
      strataUnits = targets.map((t) => ({ key: t.stratum, codes: byStratum.get(t.stratum) as string[], counts: armKeys.map((k) => t.counts[k]) }));
    } else {
      strataUnits = [{ key: COMPLETE_DESIGN_STRATUM, codes: included.map((u) => u.code), counts: armKeys.map((k) => armCounts[k]) }];
    }
  }

  // unit indices (sorted by code) and label buffer
  const index = new Map(assigned.map((u, i) => [u.code, i]));
  const n = assigned.length;

  // (3) forced territories
  const forced = [...(spec.constraints?.force ?? [])].sort((x, y) => byCodeUnits(x.code, y.code));
  const forcedArm = new Map<string, number>();
  for (const f of forced) {
    const a = armKeys.indexOf(f.arm);
    if (a < 0) throw new DesignError(`territory '${f.code}' is forced into arm '${f.arm}', which the pilot does not have`);
    if (excludeSet.has(f.code)) throw new DesignError(`territory '${f.code}' is both forced and excluded`);
    if (!codes.has(f.code)) throw new DesignError(`forced territory '${f.code}' is not eligible`);
    if (!index.has(f.code)) throw new DesignError(`forced territory '${f.code}' was left out as the odd one of the matched pairs; exclude it or another territory`);
    if (forcedArm.has(f.code)) throw new DesignError(`territory '${f.code}' is forced twice`);
    forcedArm.set(f.code, a);
  }
  const plan = strataUnits.map((s) => {
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

  // (5) acceptance rule
  const acceptance = buildAcceptance(assigned, spec, armKeys);
  const labels = new Uint8Array(n);
  for (const [code, a] of forcedArm) labels[index.get(code) as number] = a;
  const maxDraws = spec.max_draws ?? DEFAULT_MAX_DRAWS;
  let tries = 0;
  let accepted = false;
  while (tries < maxDraws) {
    tries++;
    for (const s of plan) {
      const free = s.free.slice();
      rng.shuffle(free);
      let next = 0;
      for (let a = 0; a < A; a++) for (let i = 0; i < s.remaining[a]; i++) labels[free[next++]] = a;
    }
    if (!acceptance || acceptance.accept(labels)) {
      accepted = true;
      break;
    }
  }
  if (!accepted) {
    throw new DesignError(
      `no assignment met the acceptance rule in ${maxDraws} draws (${acceptance?.describe ?? ''}); loosen it or raise max_draws`,
    );
  }

  const arms: Record<string, string> = {};
  const unitStrata: Record<string, string> = {};
  assigned.forEach((u, i) => {
    arms[u.code] = armKeys[labels[i]];
  });
  for (const s of plan) for (const code of s.codes) unitStrata[code] = s.key;
  const strata: StratumTarget[] = plan.map((s) => ({
    stratum: s.key,
    n: s.codes.length,
    counts: Object.fromEntries(armKeys.map((k, a) => [k, s.counts[a]])),
  }));
  const cap = spec.constraints?.max_treated_share;
  return {
    arms,
    unit_strata: unitStrata,
    strata,
    left_out: leftOut.sort((x, y) => byCodeUnits(x.code, y.code)),
    pairs,
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
    algorithm_version: DESIGN_ALGORITHM_VERSION_V2,
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

/** The acceptance rule of a design over label vectors of the assigned units (sorted by code). */
interface Acceptance {
  accept(labels: Uint8Array): boolean;
  mahalanobis(labels: Uint8Array): number;
  treatedShare(labels: Uint8Array): number;
  rerandomization: Omit<RerandomizationRecord, 'mahalanobis'> | null;
  describe: string;
}

/**
 * Builds the acceptance rule of a design (rerandomization threshold and/or treated-share cap) over
 * units in a fixed order; null when the design has none. Shared by drawing and by randomization
 * inference, so both apply the identical rule.
 *
 * @param units the assigned territories, in the order of the label vectors
 * @param spec the design (uses rerandomization and constraints.max_treated_share)
 * @param armKeys arm keys; label a means armKeys[a]
 * @throws DesignError when no covariate is usable or a cap covariate is missing for a territory
 */
export function buildAcceptance(units: readonly DesignUnit[], spec: Pick<DesignSpec, 'rerandomization' | 'constraints' | 'arms'>, armKeys: readonly string[]): Acceptance | null {
  const r = spec.rerandomization;
  const cap = spec.constraints?.max_treated_share;
  if (!r && !cap) return null;
  let mahalanobis: (labels: Uint8Array) => number = () => 0;
  let record: Acceptance['rerandomization'] = null;
  let threshold = Infinity;
  if (r) {
    const w = whitenCovariates(
      r.covariates,
      units.map((u) => u.covariates ?? {}),
    );
    if (w.k === 0) throw new DesignError(`none of the rerandomization covariates (${r.covariates.join(', ')}) varies across the territories`);
    const df = w.k * (armKeys.length - 1);
    threshold = r.acceptance_probability >= 1 ? Infinity : chiSquareQuantile(r.acceptance_probability, df);
    mahalanobis = mahalanobisOfLabels(w, armKeys.length);
    record = {
      covariates: w.covariates,
      covariates_dropped: w.dropped,
      covariates_imputed: w.imputed,
      missing_values: 'mean-imputed',
      acceptance_probability: r.acceptance_probability,
      df,
      threshold: Number.isFinite(threshold) ? threshold : Number.MAX_VALUE,
    };
  }
  let treatedShare: (labels: Uint8Array) => number = () => 0;
  if (cap) {
    const values = Float64Array.from(
      units.map((u) => {
        const v = u.covariates?.[cap.covariate];
        if (v === null || v === undefined || !Number.isFinite(v)) {
          throw new DesignError(`territory '${u.code}' has no value for '${cap.covariate}', which the treated-share cap needs`);
        }
        return v;
      }),
    );
    const total = values.reduce((s, v) => s + v, 0);
    const roles = spec.arms.map((a) => a.role);
    const treated = new Uint8Array(armKeys.length);
    armKeys.forEach((_, a) => {
      treated[a] = roles.some((x) => x !== undefined) ? (roles[a] === 'treatment' ? 1 : 0) : a === 0 ? 0 : 1;
    });
    treatedShare = (labels) => {
      if (!(total > 0)) return 0;
      let s = 0;
      for (let i = 0; i < values.length; i++) if (treated[labels[i]]) s += values[i];
      return s / total;
    };
  }
  const maxShare = cap?.max_share ?? Infinity;
  return {
    accept: (labels) => (!r || mahalanobis(labels) <= threshold) && (!cap || treatedShare(labels) <= maxShare + 1e-12),
    mahalanobis,
    treatedShare,
    rerandomization: record,
    describe: [r ? `M ≤ ${threshold.toPrecision(6)}` : null, cap ? `treated share of ${cap.covariate} ≤ ${cap.max_share}` : null]
      .filter(Boolean)
      .join(' and '),
  };
}

/**
 * Optimal 1-D matched blocks: units sorted by value (ties by code) are cut into consecutive blocks of
 * `size`, skipping r = n mod size units, so that the total within-block range Σ (max − min) is
 * minimal (dynamic programming over (position, skipped); among equal totals the block is preferred
 * to the skip, so left-over units are the earliest that attain the optimum). For size 2 this is
 * optimal non-bipartite matching on |difference| with one unit left out when n is odd.
 *
 * @param units codes and pairing values (every value must be a finite number)
 * @param size block size = number of arms (≥ 2)
 * @param variable name of the pairing variable, for messages
 * @throws DesignError when a value is missing or non-finite
 */
export function matchedBlocks(
  units: readonly { code: string; value: number | null | undefined }[],
  size: number,
  variable = 'pair_on',
): { blocks: MatchedBlock[]; leftOver: string[] } {
  const missing = units.filter((u) => u.value === null || u.value === undefined || !Number.isFinite(u.value)).map((u) => u.code);
  if (missing.length) {
    throw new DesignError(`matched pairs on '${variable}': ${missing.length} territory(ies) have no value (${missing.slice(0, 10).join(', ')}); choose another variable or exclude them`);
  }
  const sorted = [...units].sort((x, y) => (x.value as number) - (y.value as number) || byCodeUnits(x.code, y.code));
  const n = sorted.length;
  const r = n % size;
  const v = sorted.map((u) => u.value as number);
  // dp[i][s]: min cost for the first i units with s skipped; choice 1 = block ending at i, 2 = skip
  const INF = Number.POSITIVE_INFINITY;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(r + 1).fill(INF));
  const choice: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(r + 1).fill(0));
  dp[0][0] = 0;
  for (let i = 1; i <= n; i++) {
    for (let s = 0; s <= r; s++) {
      let best = INF;
      let how = 0;
      if (i - size >= s && i >= size && dp[i - size][s] < INF) {
        best = dp[i - size][s] + (v[i - 1] - v[i - size]);
        how = 1;
      }
      if (s > 0 && dp[i - 1][s - 1] < INF) {
        const c = dp[i - 1][s - 1];
        if (c < best - 1e-12 * Math.max(1, Math.abs(c))) {
          best = c;
          how = 2;
        }
      }
      dp[i][s] = best;
      choice[i][s] = how;
    }
  }
  const blocksRev: { start: number; end: number }[] = [];
  const leftOver: string[] = [];
  let i = n;
  let s = r;
  while (i > 0) {
    if (choice[i][s] === 1) {
      blocksRev.push({ start: i - size, end: i });
      i -= size;
    } else {
      leftOver.push(sorted[i - 1].code);
      i -= 1;
      s -= 1;
    }
  }
  const width = String(Math.max(1, blocksRev.length)).length;
  const blocks = blocksRev.reverse().map((b, k) => ({
    pair: `pair-${String(k + 1).padStart(Math.max(3, width), '0')}`,
    codes: sorted.slice(b.start, b.end).map((u) => u.code),
    values: v.slice(b.start, b.end),
    spread: v[b.end - 1] - v[b.start],
  }));
  return { blocks, leftOver: leftOver.sort(byCodeUnits) };
}

/** What randomization inference needs to re-draw from a stored design. */
export interface RandomizationDesign {
  /** template over the units in the caller's order; forced units are singleton strata */
  template: DesignTemplate;
  /** acceptance rule over label vectors (indices into template.arms), or null */
  accept: ((labels: Uint8Array) => boolean) | null;
  /** human-readable summary for reports */
  description: {
    type: DesignType;
    strata: number;
    forced: number;
    acceptance: string | null;
  };
}

/** A stored assignment as `randomizationDesignFromStored` reads it. */
export interface StoredDesignLike {
  type: DesignType;
  arms: readonly DesignArm[];
  rerandomization?: { covariates: string[]; acceptance_probability: number } | null;
  constraints?: { forced?: { code: string; arm: string }[]; max_treated_share?: { covariate: string; max_share: number } | null } | null;
}

/**
 * Builds the randomization-inference design of a stored assignment: strata (stratum, pair or 'all')
 * with their exact per-arm counts, forced territories held fixed (singleton strata), and the
 * acceptance rule (rerandomization threshold, treated-share cap) rebuilt from the stored covariates.
 *
 * @param design the stored design (assignment.design)
 * @param units the assigned territories in the order the caller will pass KPI values: code, arm,
 *   stratum as stored (pair id for matched pairs), covariates snapshot
 * @throws DesignError on an arm not in the design
 */
export function randomizationDesignFromStored(
  design: StoredDesignLike,
  units: readonly { code: string; arm: string; stratum: string; covariates?: Record<string, number | null | undefined> }[],
): RandomizationDesign {
  const arms = design.arms.map((a) => a.key);
  const armIndex = new Map(arms.map((k, i) => [k, i]));
  const forced = new Set((design.constraints?.forced ?? []).map((f) => f.code));
  const strata: DesignTemplate['strata'] = [];
  const byKey = new Map<string, number>();
  units.forEach((u, i) => {
    const a = armIndex.get(u.arm);
    if (a === undefined) throw new DesignError(`territory '${u.code}' has arm '${u.arm}', which is not in the design`);
    const key = forced.has(u.code) ? `forced:${u.code}` : u.stratum;
    let s = byKey.get(key);
    if (s === undefined) {
      s = strata.length;
      byKey.set(key, s);
      strata.push({ stratum: key, units: [], counts: new Array<number>(arms.length).fill(0) });
    }
    strata[s].units.push(i);
    strata[s].counts[a] += 1;
  });
  const acceptance = buildAcceptance(
    units.map((u) => ({ code: u.code, covariates: u.covariates })),
    { rerandomization: design.rerandomization ?? null, constraints: design.constraints ? { max_treated_share: design.constraints.max_treated_share ?? undefined } : null, arms: design.arms },
    arms,
  );
  return {
    template: { arms, n_units: units.length, strata },
    accept: acceptance ? acceptance.accept : null,
    description: {
      type: design.type,
      strata: new Set(units.map((u) => u.stratum)).size,
      forced: forced.size,
      acceptance: acceptance ? acceptance.describe : null,
    },
  };
}
