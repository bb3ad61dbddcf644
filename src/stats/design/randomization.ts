/**
 * Randomization designs for territory pilots: drawing the assignment (complete or stratified
 * randomization with exact counts) and the design "templates" that randomization inference re-draws
 * or enumerates (same strata, same per-stratum arm counts). Imbens & Rubin (2015), ch. 4–5.
 */
import { allocateCounts, ArmSpec, DesignError, stratumTargets, StratumTarget } from './allocation';
import { createPrng, Prng, PRNG_ALGORITHM } from './prng';

/**
 * Version of the assignment algorithm (unit ordering, stratum targets, shuffle-and-deal). Stored with
 * every assignment next to the seed and PRNG_ALGORITHM; bump it whenever any step changes.
 */
export const DESIGN_ALGORITHM_VERSION = `pilotlab-design@1 (${PRNG_ALGORITHM})`;

/** A territory to assign: its code and, for stratified designs, its stratum (e.g. region). */
export interface DesignUnitInput {
  code: string;
  stratum?: string | null;
}

/** Design parameters: type, arms (exact counts or ratios) and the integer seed. */
export interface AssignmentDesign {
  type: 'complete' | 'stratified';
  arms: readonly ArmSpec[];
  seed: number;
}

/** A drawn assignment. */
export interface DrawnAssignment {
  /** arm key per territory code */
  arms: Record<string, string>;
  /** per stratum (sorted by key; one stratum 'all' for complete randomization): size and counts per arm */
  strata: StratumTarget[];
  algorithm_version: string;
}

/** Name of the single stratum of a complete (unstratified) design. */
export const COMPLETE_DESIGN_STRATUM = 'all';

/** Code-unit string order, independent of locale (never localeCompare). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Draws an assignment of territories to arms with exact counts.
 *
 * Steps (version DESIGN_ALGORITHM_VERSION): (1) counts per arm by `allocateCounts`; (2) units sorted
 * by code, so the input order never changes the result; (3) complete design: one stratum; stratified:
 * strata sorted by key and each arm's total spread over strata by `stratumTargets` (ties by the rng);
 * (4) per stratum in sorted order, the stratum's codes (sorted) are shuffled by Fisher–Yates with
 * the seeded PRNG and dealt to the arms in design order according to the stratum's counts.
 * Same units, design and seed ⇒ the identical assignment, on every machine and Node version.
 *
 * @param units territories with unique codes; `stratum` required for a stratified design
 * @param design type, arms (counts or ratios, see allocateCounts) and seed (integer 0..2^53 − 1)
 * @throws DesignError on duplicate or empty codes, a missing stratum in a stratified design, or an
 *   infeasible allocation; RangeError on an invalid seed
 */
export function drawAssignment(units: readonly DesignUnitInput[], design: AssignmentDesign): DrawnAssignment {
  if (design.type !== 'complete' && design.type !== 'stratified') {
    throw new DesignError(`unknown design type '${String(design.type)}'`);
  }
  const rng = createPrng(design.seed);
  const codes = new Set<string>();
  for (const u of units) {
    if (typeof u.code !== 'string' || u.code.length === 0) throw new DesignError('every territory needs a non-empty code');
    if (codes.has(u.code)) throw new DesignError(`territory code '${u.code}' appears twice`);
    codes.add(u.code);
  }
  const sorted = [...units].sort((x, y) => byCodeUnits(x.code, y.code));
  const armCounts = allocateCounts(sorted.length, design.arms);
  const armKeys = design.arms.map((a) => a.key);

  const byStratum = new Map<string, string[]>();
  for (const u of sorted) {
    let key = COMPLETE_DESIGN_STRATUM;
    if (design.type === 'stratified') {
      if (typeof u.stratum !== 'string' || u.stratum.length === 0) {
        throw new DesignError(`territory '${u.code}' has no stratum; a stratified design needs one for every territory`);
      }
      key = u.stratum;
    }
    const list = byStratum.get(key);
    if (list) list.push(u.code);
    else byStratum.set(key, [u.code]);
  }
  const strataKeys = [...byStratum.keys()].sort(byCodeUnits);
  let targets: StratumTarget[];
  if (design.type === 'complete') {
    const counts: Record<string, number> = {};
    for (const k of armKeys) counts[k] = armCounts[k];
    targets = [{ stratum: COMPLETE_DESIGN_STRATUM, n: sorted.length, counts }];
  } else {
    targets = stratumTargets(
      strataKeys.map((key) => ({ key, size: (byStratum.get(key) as string[]).length })),
      armCounts,
      rng,
    );
  }
  const arms: Record<string, string> = {};
  for (const target of targets) {
    const stratumCodes = (byStratum.get(target.stratum) ?? []).slice();
    rng.shuffle(stratumCodes);
    let next = 0;
    for (const k of armKeys) {
      for (let i = 0; i < target.counts[k]; i++) arms[stratumCodes[next++]] = k;
    }
  }
  return { arms, strata: targets, algorithm_version: DESIGN_ALGORITHM_VERSION };
}

/**
 * A design as randomization inference sees it: units 0..n_units − 1, arms in a fixed order, and per
 * stratum the member units and the number of units per arm. Every assignment with those per-stratum
 * counts is equally likely under the design (complete randomization = one stratum).
 */
export interface DesignTemplate {
  /** arm keys; labels in assignments are indices into this array */
  arms: string[];
  n_units: number;
  strata: { stratum: string; units: number[]; counts: number[] }[];
}

/**
 * Builds the design template of an observed assignment: arm per unit, optional stratum per unit.
 * Strata are listed in order of first appearance; arms in `armOrder` or sorted order.
 *
 * @param armOfUnit arm key of each unit (length n)
 * @param stratumOfUnit stratum of each unit (same length) or undefined for a complete design
 * @param armOrder optional arm key order (must contain every arm present)
 * @throws DesignError on mismatched lengths or an arm missing from armOrder
 */
export function designTemplateFromAssignment(
  armOfUnit: readonly string[],
  stratumOfUnit?: readonly string[],
  armOrder?: readonly string[],
): DesignTemplate {
  const n = armOfUnit.length;
  if (stratumOfUnit && stratumOfUnit.length !== n) {
    throw new DesignError(`got ${n} arms but ${stratumOfUnit.length} strata`);
  }
  const arms = armOrder ? [...armOrder] : [...new Set(armOfUnit)].sort(byCodeUnits);
  const armIndex = new Map(arms.map((k, i) => [k, i]));
  const strata: DesignTemplate['strata'] = [];
  const stratumIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = armIndex.get(armOfUnit[i]);
    if (a === undefined) throw new DesignError(`unit ${i} has arm '${armOfUnit[i]}', which is not in the arm list`);
    const key = stratumOfUnit ? String(stratumOfUnit[i]) : COMPLETE_DESIGN_STRATUM;
    let s = stratumIndex.get(key);
    if (s === undefined) {
      s = strata.length;
      stratumIndex.set(key, s);
      strata.push({ stratum: key, units: [], counts: new Array<number>(arms.length).fill(0) });
    }
    strata[s].units.push(i);
    strata[s].counts[a] += 1;
  }
  return { arms, n_units: n, strata };
}

/** Number of assignments a design allows: exact when ≤ Number.MAX_SAFE_INTEGER, else capped. */
export interface AssignmentCount {
  /** exact number of assignments, or Number.MAX_SAFE_INTEGER when `capped` */
  count: number;
  /** true when the exact number exceeds Number.MAX_SAFE_INTEGER (then `count` is that cap) */
  capped: boolean;
  /** exact value as a decimal string (BigInt arithmetic), for reports */
  exact: string;
}

/**
 * Number of possible assignments of a design: the product over strata of the multinomial
 * coefficients n_s! / Π_a m_{s,a}! (complete two-arm design: C(N, n_t)). Exact BigInt arithmetic,
 * returned as a safe number or capped at Number.MAX_SAFE_INTEGER with `capped = true` (never Infinity).
 *
 * @param design per stratum the number of units per arm (`counts`), e.g. a DesignTemplate
 * @throws DesignError on a negative or fractional count
 */
export function countAssignments(design: { strata: readonly { counts: readonly number[] }[] }): AssignmentCount {
  let total = 1n;
  for (const stratum of design.strata) {
    let placed = 0n;
    for (const c of stratum.counts) {
      if (!Number.isInteger(c) || c < 0) throw new DesignError(`arm counts must be non-negative integers, got ${c}`);
      // multiply by C(placed + c, c), built incrementally: Π_{i=1..c} (placed + i) / i stays integral
      let binom = 1n;
      for (let i = 1n; i <= BigInt(c); i++) binom = (binom * (placed + i)) / i;
      total *= binom;
      placed += BigInt(c);
    }
  }
  const capped = total > BigInt(Number.MAX_SAFE_INTEGER);
  return { count: capped ? Number.MAX_SAFE_INTEGER : Number(total), capped, exact: total.toString() };
}

/** Rearranges `labels` into the next lexicographic permutation; false (and sorted) after the last. */
function nextPermutation(labels: Uint8Array): boolean {
  let i = labels.length - 2;
  while (i >= 0 && labels[i] >= labels[i + 1]) i--;
  if (i < 0) {
    labels.reverse();
    return false;
  }
  let j = labels.length - 1;
  while (labels[j] <= labels[i]) j--;
  const t = labels[i];
  labels[i] = labels[j];
  labels[j] = t;
  labels.subarray(i + 1).reverse();
  return true;
}

function sortedStratumLabels(counts: readonly number[]): Uint8Array {
  const size = counts.reduce((s, c) => s + c, 0);
  const labels = new Uint8Array(size);
  let k = 0;
  counts.forEach((c, a) => {
    for (let i = 0; i < c; i++) labels[k++] = a;
  });
  return labels;
}

function validateTemplate(template: DesignTemplate): void {
  if (template.arms.length > 255) throw new DesignError('at most 255 arms are supported');
  for (const s of template.strata) {
    const size = s.counts.reduce((x, c) => x + c, 0);
    if (size !== s.units.length) {
      throw new DesignError(`stratum '${s.stratum}' has ${s.units.length} units but its arm counts sum to ${size}`);
    }
  }
}

/**
 * Enumerates every assignment of a design exactly once (for exact randomization inference): within
 * each stratum all distinct arrangements of its arm labels (multiset permutations, lexicographic
 * order), combined across strata like an odometer. Works for complete and stratified designs with two
 * or more arms. Yields the arm index (into `template.arms`) of every unit.
 *
 * The yielded Uint8Array is REUSED between iterations (no allocation per assignment): copy it if you
 * keep it. Check `countAssignments(template)` first: the number can be astronomically large.
 *
 * @param template design template (e.g. from designTemplateFromAssignment)
 * @throws DesignError when a stratum's counts do not match its units
 */
export function* enumerateAssignments(template: DesignTemplate): Generator<Uint8Array, void, undefined> {
  validateTemplate(template);
  const out = new Uint8Array(template.n_units);
  const perms = template.strata.map((s) => sortedStratumLabels(s.counts));
  const write = (s: number): void => {
    const units = template.strata[s].units;
    const perm = perms[s];
    for (let k = 0; k < units.length; k++) out[units[k]] = perm[k];
  };
  for (let s = 0; s < perms.length; s++) write(s);
  for (;;) {
    yield out;
    let s = 0;
    for (; s < perms.length; s++) {
      const advanced = nextPermutation(perms[s]);
      write(s);
      if (advanced) break;
    }
    if (s === perms.length) return;
  }
}

/**
 * Re-draws an assignment from the same design: within every stratum a uniformly random arrangement of
 * the stratum's arm labels (Fisher–Yates with the given PRNG), i.e. complete randomization with the
 * design's exact per-stratum counts. Used by Monte Carlo randomization inference.
 *
 * @param template design template (per-stratum units and counts)
 * @param rng seeded generator (createPrng)
 * @param out optional buffer of length n_units to fill (avoids allocating per draw)
 * @returns the arm index of every unit (the `out` buffer when given)
 * @throws DesignError when a stratum's counts do not match its units or `out` has the wrong length
 */
export function drawFromDesign(template: DesignTemplate, rng: Prng, out?: Uint8Array): Uint8Array {
  validateTemplate(template);
  const labels = out ?? new Uint8Array(template.n_units);
  if (labels.length !== template.n_units) throw new DesignError(`out buffer has length ${labels.length}, expected ${template.n_units}`);
  for (const s of template.strata) {
    const units = s.units;
    // lay the stratum's labels on its units in sorted order, then Fisher–Yates over those positions
    let k = 0;
    for (let a = 0; a < s.counts.length; a++) {
      for (let i = 0; i < s.counts[a]; i++) labels[units[k++]] = a;
    }
    for (let i = units.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const ui = units[i];
      const uj = units[j];
      const t = labels[ui];
      labels[ui] = labels[uj];
      labels[uj] = t;
    }
  }
  return labels;
}
