/**
 * Exact allocation of territories to arms (never a coin flip per territory) and, for stratified
 * designs, of each arm's total across strata.
 */
import type { Prng } from './prng';

/** A design that cannot be realised (counts that do not add up, mixed count/ratio arms, ...). */
export class DesignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DesignError';
  }
}

/** An arm of a design: an exact `count` of territories, or an allocation `ratio` (weight). */
export interface ArmSpec {
  key: string;
  count?: number;
  ratio?: number;
}

function validateArms(arms: readonly ArmSpec[]): void {
  if (arms.length < 2) throw new DesignError(`a design needs at least 2 arms, got ${arms.length}`);
  const keys = new Set<string>();
  for (const arm of arms) {
    if (typeof arm.key !== 'string' || arm.key.length === 0) throw new DesignError('every arm needs a non-empty key');
    if (keys.has(arm.key)) throw new DesignError(`arm key '${arm.key}' appears twice`);
    keys.add(arm.key);
  }
}

/**
 * Exact integer number of territories per arm.
 *
 * - Counts given on every arm: they must be non-negative integers summing to `totalUnits`.
 * - Ratios given on every arm: quotas q_a = totalUnits·r_a/Σr are rounded by the largest-remainder
 *   (Hamilton) method: every arm gets ⌊q_a⌋, and the leftover units go one each to the arms with the
 *   largest fractional parts, ties broken by arm order (deterministic, no randomness). Fractional
 *   parts are compared with a 1e-9 tolerance so that 1/3-style quotas tie exactly.
 *
 * @param totalUnits number of eligible territories (non-negative integer)
 * @param arms arms in design order, each with `count` or `ratio` (all arms the same kind)
 * @returns count per arm key (in the arms' order when iterated)
 * @throws DesignError on fewer than 2 arms, duplicate keys, mixed or missing count/ratio, counts
 *   not summing to totalUnits, or a negative / non-finite value
 */
export function allocateCounts(totalUnits: number, arms: readonly ArmSpec[]): Record<string, number> {
  if (!Number.isInteger(totalUnits) || totalUnits < 0) {
    throw new DesignError(`the number of territories must be a non-negative integer, got ${totalUnits}`);
  }
  validateArms(arms);
  const withCount = arms.filter((a) => a.count !== undefined && a.count !== null).length;
  const withRatio = arms.filter((a) => a.ratio !== undefined && a.ratio !== null).length;
  const result: Record<string, number> = {};
  if (withCount === arms.length && withRatio === 0) {
    let sum = 0;
    for (const arm of arms) {
      const c = arm.count as number;
      if (!Number.isInteger(c) || c < 0) throw new DesignError(`arm '${arm.key}' count must be a non-negative integer, got ${c}`);
      result[arm.key] = c;
      sum += c;
    }
    if (sum !== totalUnits) {
      throw new DesignError(
        `the arm counts add up to ${sum} but there are ${totalUnits} territories; give counts that sum to ${totalUnits} or use ratios`,
      );
    }
    return result;
  }
  if (withRatio === arms.length && withCount === 0) {
    let ratioSum = 0;
    for (const arm of arms) {
      const r = arm.ratio as number;
      if (!(r > 0) || !Number.isFinite(r)) throw new DesignError(`arm '${arm.key}' ratio must be a finite positive number, got ${r}`);
      ratioSum += r;
    }
    const quotas = arms.map((arm) => (totalUnits * (arm.ratio as number)) / ratioSum);
    const floors = quotas.map((q) => Math.floor(q + 1e-9));
    let leftover = totalUnits - floors.reduce((s, f) => s + f, 0);
    const order = arms
      .map((_, i) => i)
      .sort((i, j) => {
        const fi = quotas[i] - floors[i];
        const fj = quotas[j] - floors[j];
        return Math.abs(fi - fj) > 1e-9 ? fj - fi : i - j;
      });
    for (const i of order) {
      if (leftover <= 0) break;
      floors[i] += 1;
      leftover -= 1;
    }
    arms.forEach((arm, i) => {
      result[arm.key] = floors[i];
    });
    return result;
  }
  throw new DesignError('give a count on every arm or a ratio on every arm (not both, not neither)');
}

/** A stratum (e.g. a region) with its number of territories. */
export interface StratumSize {
  key: string;
  size: number;
}

/** Per-stratum territory counts per arm (arms in design order). */
export interface StratumTarget {
  stratum: string;
  n: number;
  counts: Record<string, number>;
}

/** Check of the inputs of `stratumTargets`; returns the number of territories Σ size. */
function validateStratumTotals(strata: readonly StratumSize[], armCounts: Readonly<Record<string, number>>, armKeys: readonly string[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const s of strata) {
    if (seen.has(s.key)) throw new DesignError(`stratum '${s.key}' appears twice`);
    seen.add(s.key);
    if (!Number.isInteger(s.size) || s.size < 0) throw new DesignError(`stratum '${s.key}' size must be a non-negative integer`);
    total += s.size;
  }
  let armTotal = 0;
  for (const k of armKeys) {
    const c = armCounts[k];
    if (!Number.isInteger(c) || c < 0) throw new DesignError(`arm '${k}' count must be a non-negative integer`);
    armTotal += c;
  }
  if (armTotal !== total) {
    throw new DesignError(`the arm counts add up to ${armTotal} but the strata hold ${total} territories`);
  }
  return total;
}

/**
 * The strata × arms table of the controlled rounding, cells in row-major order (cell = s·A + a):
 * ⌊m_{s,a}⌋ and the remainders size_s·count_a mod N, the units each stratum (row) and arm (column)
 * still needs after the floors, and the 0/1 extra unit placed on each cell.
 */
interface RoundingTable {
  S: number;
  A: number;
  floors: number[];
  remainders: number[];
  /** units each stratum still needs (updated as extras are placed) */
  rowLeft: number[];
  /** units each arm still needs (updated as extras are placed) */
  colLeft: number[];
  /** 0/1 per cell: the cell's entry is ⌊m⌋ + extra */
  extra: number[];
  /** cells with a positive remainder (the only cells that may get an extra unit) */
  isCandidate: boolean[];
}

/**
 * The proportional shares m_{s,a} = size_s·count_a/N in exact integer arithmetic: floor and
 * remainder per cell, and what each row and column still needs once every cell has its floor.
 */
function proportionalFloors(strata: readonly StratumSize[], armCounts: Readonly<Record<string, number>>, armKeys: readonly string[], total: number): RoundingTable {
  const S = strata.length;
  const A = armKeys.length;
  const cell = (s: number, a: number) => s * A + a;
  const floors = new Array<number>(S * A).fill(0);
  const remainders = new Array<number>(S * A).fill(0);
  const rowNeed = new Array<number>(S).fill(0);
  const colNeed = new Array<number>(A).fill(0);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const numerator = strata[s].size * armCounts[armKeys[a]];
      const f = total === 0 ? 0 : Math.floor(numerator / total);
      floors[cell(s, a)] = f;
      remainders[cell(s, a)] = total === 0 ? 0 : numerator - f * total;
    }
  }
  for (let s = 0; s < S; s++) {
    let sum = 0;
    for (let a = 0; a < A; a++) sum += floors[cell(s, a)];
    rowNeed[s] = strata[s].size - sum;
  }
  for (let a = 0; a < A; a++) {
    let sum = 0;
    for (let s = 0; s < S; s++) sum += floors[cell(s, a)];
    colNeed[a] = armCounts[armKeys[a]] - sum;
  }
  const none = new Array<number>(S * A).fill(0);
  return { S, A, floors, remainders, rowLeft: rowNeed, colLeft: colNeed, extra: none, isCandidate: new Array<boolean>(S * A).fill(false) };
}

/**
 * Greedy step: candidate cells (positive remainder) in order of largest remainder, ties by the
 * seeded rng (one draw per candidate, in cell order), then stratum and arm; each gets an extra unit
 * while its row and column still need one. Marks the candidates in `table.isCandidate`.
 */
function placeLargestRemainders(table: RoundingTable, rng: Prng): void {
  const { S, A, remainders, extra, rowLeft, colLeft, isCandidate } = table;
  const cell = (s: number, a: number) => s * A + a;
  const candidates: { s: number; a: number; rem: number; tie: number }[] = [];
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      if (remainders[cell(s, a)] > 0) candidates.push({ s, a, rem: remainders[cell(s, a)], tie: 0 });
    }
  }
  for (const c of candidates) c.tie = rng.nextUint32();
  candidates.sort((x, y) => y.rem - x.rem || x.tie - y.tie || x.s - y.s || x.a - y.a);
  for (const c of candidates) {
    if (rowLeft[c.s] > 0 && colLeft[c.a] > 0) {
      extra[cell(c.s, c.a)] = 1;
      rowLeft[c.s]--;
      colLeft[c.a]--;
    }
  }
  for (const c of candidates) isCandidate[cell(c.s, c.a)] = true;
}

/**
 * BFS for an augmenting path from row s0: row → col over a candidate cell with extra = 0,
 * col → row over a cell with extra = 1, ending at a column that still needs a unit.
 *
 * @returns the end column (−1 when none) and the predecessor links of the search tree
 */
function findAugmentingPath(table: RoundingTable, s0: number): { endCol: number; prevRowOfCol: number[]; prevColOfRow: number[] } {
  const { S, A, extra, colLeft, isCandidate } = table;
  const cell = (s: number, a: number) => s * A + a;
  const prevRowOfCol = new Array<number>(A).fill(-1);
  const prevColOfRow = new Array<number>(S).fill(-1);
  const visitedRow = new Array<boolean>(S).fill(false);
  visitedRow[s0] = true;
  const queue = [s0];
  let endCol = -1;
  while (queue.length > 0 && endCol < 0) {
    const r = queue.shift() as number;
    for (let a = 0; a < A && endCol < 0; a++) {
      if (!isCandidate[cell(r, a)] || extra[cell(r, a)] === 1 || prevRowOfCol[a] !== -1) continue;
      prevRowOfCol[a] = r;
      if (colLeft[a] > 0) {
        endCol = a;
        break;
      }
      for (let r2 = 0; r2 < S; r2++) {
        if (!visitedRow[r2] && extra[cell(r2, a)] === 1) {
          visitedRow[r2] = true;
          prevColOfRow[r2] = a;
          queue.push(r2);
        }
      }
    }
  }
  return { endCol, prevRowOfCol, prevColOfRow };
}

/**
 * Augmenting step (bipartite max-flow on the candidate cells): for every stratum still short after
 * the greedy step, find an augmenting path and flip it (one more unit for the row and the end column,
 * every other row and column unchanged).
 *
 * @throws DesignError when no path exists (cannot happen for valid inputs: the fractional remainders
 *   are a feasible fractional flow)
 */
function augmentShortRows(table: RoundingTable): void {
  const { S, A, extra, rowLeft, colLeft } = table;
  const cell = (s: number, a: number) => s * A + a;
  for (let s0 = 0; s0 < S; s0++) {
    while (rowLeft[s0] > 0) {
      const { endCol, prevRowOfCol, prevColOfRow } = findAugmentingPath(table, s0);
      if (endCol < 0) throw new DesignError('internal: no controlled rounding found for the stratum targets');
      // flip the path
      let a = endCol;
      colLeft[a]--;
      for (;;) {
        const r = prevRowOfCol[a];
        extra[cell(r, a)] = 1;
        if (r === s0) break;
        const aPrev = prevColOfRow[r];
        extra[cell(r, aPrev)] = 0;
        a = aPrev;
      }
      rowLeft[s0]--;
    }
  }
}

/**
 * Distributes each arm's exact total across strata proportionally to stratum size, so that every
 * stratum's targets sum to its size AND every arm's targets sum to its total (controlled rounding of
 * the table m_{s,a} = size_s·count_a/N, Cox 1987; each entry is ⌊m⌋ or ⌈m⌉).
 *
 * Rounding: every cell gets ⌊m_{s,a}⌋ (exact integer arithmetic); the leftover units of each
 * stratum and arm are then placed on cells in order of largest remainder (size_s·count_a mod N),
 * ties broken by the seeded rng, with augmenting paths (a bipartite max-flow on the cells with a
 * positive remainder) whenever the greedy order alone would leave a row or column short. A solution
 * always exists because the fractional remainders themselves are a feasible fractional flow.
 *
 * @param strata strata in processing order (PilotLab passes them sorted by key), sizes ≥ 0 integers
 * @param armCounts exact count per arm (e.g. from allocateCounts), in design order; must sum to Σ size
 * @param rng seeded generator used only to break ties between equal remainders
 * @throws DesignError when the totals differ, a size/count is not a non-negative integer, or a
 *   stratum key repeats
 */
export function stratumTargets(
  strata: readonly StratumSize[],
  armCounts: Readonly<Record<string, number>>,
  rng: Prng,
): StratumTarget[] {
  const armKeys = Object.keys(armCounts);
  const total = validateStratumTotals(strata, armCounts, armKeys);
  const table = proportionalFloors(strata, armCounts, armKeys, total);
  placeLargestRemainders(table, rng);
  augmentShortRows(table);
  const A = table.A;
  return strata.map((st, s) => {
    const counts: Record<string, number> = {};
    armKeys.forEach((k, a) => {
      counts[k] = table.floors[s * A + a] + table.extra[s * A + a];
    });
    return { stratum: st.key, n: st.size, counts };
  });
}
