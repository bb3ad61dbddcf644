/**
 * Treated-set selection for few-treated pilots (`design: "selected"`, issue 12): PilotLab picks the k
 * treated territories among the eligible ones by scoring candidate treated sets with placebo
 * backtests on the pre-period history, GeoLift's market-selection idea (Meta's GeoLift,
 * `GeoLiftMarketSelection`: every candidate is put through simulated tests on historical data with no
 * effect, and candidates are ranked by the smallest detectable effect and the bias of the no-effect
 * estimate). PilotLab's recipe, stated in docs/statistics.md ("Treated-set selection"):
 *
 * - windows: W rolling-origin pseudo-test windows of L weeks at the end of the pre-period
 *   (window w = 0..W−1 is weeks [T0 − (w+1)L, T0 − wL); its history is every week before it), so
 *   each window is an out-of-sample test on data the pilot has not touched. GeoLift steps its
 *   windows by one period; PilotLab steps by L so that the windows' test weeks do not overlap.
 * - per window, the candidate set is the treated block and every other pool territory a donor; the
 *   estimator that decides for few-treated designs (SDID, synthdid.ts) estimates τ̂_w. No effect was
 *   applied, so τ̂_w is pure error.
 * - placebo bias b = mean_w τ̂_w; spread s = sd_w τ̂_w (n − 1); MDE = (z_{1−α/2} + z_{power}) · s (the
 *   normal-approximation MDE of a two-sided level-α test with that power, Bloom 1995);
 *   score = MDE + |b| (the smallest true effect the test detects with that power once the bias is
 *   paid). Ranked by score, then |b|, then the codes (so ties are deterministic).
 * - search: every set of size k (forced territories always in, `excluded` never) when there are at
 *   most `exhaustiveLimit` of them; otherwise `candidates` distinct sets drawn with the seeded PRNG
 *   (same seed, same sets, same ranking).
 * - cap: a set whose share of the pool's total of `cap.values` (e.g. pre-period revenue) exceeds
 *   `cap.maxShare` is not a candidate.
 */
import { normalInv } from '../distributions';
import { createPrng } from '../design/prng';
import { assertKFitsPool, FewTreatedInputError } from './few-treated';
import { fitSynth, SynthEstimator } from './synthdid';

/** Version of the selection rule (stored with every selected design; replays check it). */
export const SELECTION_ALGORITHM_VERSION = 'pilotlab-selected@1 (placebo backtests, rolling-origin windows, SDID score MDE+|bias|)';

/** Defaults of `selectTreatedSet` (documented in docs/statistics.md). */
export const SELECTION_DEFAULTS = {
  windows: 4,
  minPreWeeks: 4,
  exhaustiveLimit: 1000,
  candidates: 1000,
  top: 10,
  alpha: 0.05,
  power: 0.8,
  estimator: 'sdid' as SynthEstimator,
};

/** The pool to choose from: every usable territory (candidates and donors) with its pre-period series. */
export interface TreatedSelectionInput {
  /** pool territory codes (distinct) */
  units: readonly string[];
  /** per unit (same order), its pre-period weekly KPI, T0 values each (KPI units per territory-week) */
  values: readonly (readonly number[])[];
  /** treated-set size, 1 ≤ k; the pool must hold at least 2k + 1 territories (assertKFitsPool) */
  k: number;
  /** codes that must be treated (at most k) */
  forced?: readonly string[];
  /** codes that are never treated (they stay donors; GeoLift's `exclude_markets`) */
  excluded?: readonly string[];
  /** cap on the treated set's share of the pool total of `values` (one value ≥ 0 per unit), 0 < maxShare ≤ 1 */
  cap?: { values: readonly number[]; maxShare: number; name?: string } | null;
}

/** Settings of the search and the backtests (defaults: SELECTION_DEFAULTS). */
export interface TreatedSelectionOptions {
  /** PRNG seed of the sampled search (unused when exhaustive, still recorded) */
  seed: number;
  /** number of pseudo-test windows W (≥ 2, the spread needs two) */
  windows?: number;
  /** weeks per window L; default min(testWeeks, floor((T0 − minPreWeeks) / W)) */
  windowWeeks?: number;
  /** the planned test length in weeks (caps the default window length) */
  testWeeks?: number;
  /** weeks of history every window keeps before it */
  minPreWeeks?: number;
  /** enumerate every set when there are at most this many */
  exhaustiveLimit?: number;
  /** sets drawn by the seeded search otherwise */
  candidates?: number;
  /** ranked candidates returned */
  top?: number;
  alpha?: number;
  power?: number;
  estimator?: SynthEstimator;
}

/** One scored candidate treated set. */
export interface SelectionCandidate {
  rank: number;
  /** treated codes, sorted */
  treated: string[];
  /** (z_{1−α/2} + z_power) · sd of the backtest estimates; KPI units per treated territory-week */
  mde: number;
  /** mde over the treated block's mean pre-period level (null when that level is ≤ 0) */
  mde_relative: number | null;
  /** mean backtest estimate (no effect was applied: this is the estimator's bias on this set) */
  placebo_bias: number;
  /** mde + |placebo_bias|: the ranking key */
  score: number;
  /** one estimate per window, in window order */
  backtest_estimates: number[];
  /** treated share of the capped quantity (null without a cap) */
  treated_share: number | null;
}

/** The selection: what was searched, how, and the ranked candidates (the first one wins). */
export interface TreatedSelectionResult {
  algorithm_version: string;
  estimator: SynthEstimator;
  k: number;
  seed: number;
  search: 'exhaustive' | 'seeded_sample';
  /** sets of size k honouring forced/excluded (before the cap) */
  candidate_sets_total: number;
  /** sets put through the backtests */
  candidates_scored: number;
  /** sets skipped because the cap was exceeded */
  candidates_over_cap: number;
  exhaustive_limit: number;
  sample_size: number;
  alpha: number;
  power: number;
  pre_weeks: number;
  window_weeks: number;
  /** each window: history weeks before it and its [start, end) week indices in the pre-period */
  windows: { history_weeks: number; start: number; end: number }[];
  forced: string[];
  excluded: string[];
  cap: { name: string | null; max_share: number; smallest_attainable_share: number } | null;
  /** the best `top` candidates, best first */
  ranked: SelectionCandidate[];
}

/** C(n, k) as a double (exact below 2^53). */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** The search plan: validated inputs, windows, candidate index sets. */
interface Plan {
  n: number;
  t0: number;
  y: Float64Array;
  k: number;
  units: string[];
  windows: { history_weeks: number; start: number; end: number }[];
  L: number;
  sets: number[][];
  search: 'exhaustive' | 'seeded_sample';
  total: number;
  overCap: number;
  share: (set: readonly number[]) => number | null;
  o: Required<Omit<TreatedSelectionOptions, 'windowWeeks' | 'testWeeks'>>;
  forced: string[];
  excluded: string[];
  cap: TreatedSelectionResult['cap'];
}

function plan(input: TreatedSelectionInput, options: TreatedSelectionOptions): Plan {
  const o = { ...SELECTION_DEFAULTS, ...stripUndefined(options) } as Plan['o'] & { windowWeeks?: number; testWeeks?: number };
  const units = [...input.units];
  const n = units.length;
  const idx = new Map(units.map((u, i) => [u, i]));
  if (idx.size !== n) throw new FewTreatedInputError('INVALID_PANEL', 'pool territory codes must be distinct');
  if (input.values.length !== n) throw new FewTreatedInputError('INVALID_PANEL', `values has ${input.values.length} rows for ${n} territories`);
  const t0 = n ? input.values[0].length : 0;
  const y = new Float64Array(n * t0);
  input.values.forEach((row, i) => {
    if (row.length !== t0 || !row.every((v) => Number.isFinite(v))) {
      throw new FewTreatedInputError('INVALID_PANEL', `territory ${units[i]} needs ${t0} finite pre-period values`, { unit: units[i] });
    }
    y.set(row, i * t0);
  });
  const k = input.k;
  assertKFitsPool(k, n);
  const forced = [...new Set(input.forced ?? [])].sort();
  const excluded = [...new Set(input.excluded ?? [])].sort();
  const unknown = [...forced, ...excluded].filter((c) => !idx.has(c));
  const both = forced.filter((c) => excluded.includes(c));
  if (unknown.length || both.length || forced.length > k) {
    throw new FewTreatedInputError(
      'SELECTION_INFEASIBLE',
      unknown.length
        ? `forced or never-treated territories outside the pool: ${unknown.join(', ')}`
        : both.length
          ? `territories both forced and never treated: ${both.join(', ')}`
          : `${forced.length} forced treated territories exceed k = ${k}`,
      { unknown, both, forced: forced.length, k },
    );
  }
  const free = units.map((_, i) => i).filter((i) => !forced.includes(units[i]) && !excluded.includes(units[i]));
  const m = k - forced.length;
  if (free.length < m) {
    throw new FewTreatedInputError('SELECTION_INFEASIBLE', `k = ${k} needs ${m} territories besides the forced ones; only ${free.length} may be treated`, {
      k,
      forced: forced.length,
      treatable: free.length,
    });
  }
  // windows
  const W = o.windows;
  if (!Number.isInteger(W) || W < 2) throw new FewTreatedInputError('INVALID_PANEL', `windows must be an integer ≥ 2, got ${W}`);
  const room = Math.floor((t0 - o.minPreWeeks) / W);
  const L = o.windowWeeks ?? Math.min(o.testWeeks ?? Infinity, room);
  if (!Number.isInteger(L) || L < 1 || t0 - W * L < o.minPreWeeks) {
    throw new FewTreatedInputError(
      'PRE_PERIOD_TOO_SHORT',
      `the selection backtests need at least ${o.minPreWeeks + W * Math.max(1, L || 1)} pre-period weeks (${W} windows of ${Math.max(1, L || 1)} week(s) after ${o.minPreWeeks} weeks of history), got ${t0}`,
      { pre_weeks: t0, min_pre_weeks: o.minPreWeeks + W * Math.max(1, L || 1), windows: W, window_weeks: Math.max(1, L || 1) },
    );
  }
  const windows = Array.from({ length: W }, (_, w) => ({ history_weeks: t0 - (w + 1) * L, start: t0 - (w + 1) * L, end: t0 - w * L }));
  // cap
  let share: Plan['share'] = () => null;
  let capRecord: Plan['cap'] = null;
  const forcedIdx = forced.map((c) => idx.get(c) as number);
  if (input.cap) {
    const cv = input.cap.values;
    if (cv.length !== n || !cv.every((v) => Number.isFinite(v) && v >= 0)) {
      throw new FewTreatedInputError('INVALID_PANEL', 'the capped quantity needs one finite value ≥ 0 per pool territory');
    }
    const total = cv.reduce((a, b) => a + b, 0);
    share = (set) => (total > 0 ? set.reduce((a, i) => a + cv[i], 0) / total : 0);
    const cheapest = [...free].sort((a, b) => cv[a] - cv[b] || a - b).slice(0, m);
    const smallest = share([...forcedIdx, ...cheapest]) as number;
    capRecord = { name: input.cap.name ?? null, max_share: input.cap.maxShare, smallest_attainable_share: smallest };
    if (smallest > input.cap.maxShare) {
      throw new FewTreatedInputError(
        'CAP_EXCLUDES_ALL',
        `every treated set of ${k} exceeds the cap: the smallest attainable share is ${(100 * smallest).toFixed(1)}%, the cap ${(100 * input.cap.maxShare).toFixed(1)}%`,
        { k, max_share: input.cap.maxShare, smallest_attainable_share: smallest },
      );
    }
  }
  const maxShare = input.cap?.maxShare ?? Infinity;
  const { sets, overCap, search, total } = candidateSets(free, m, forcedIdx, (set) => (share(set) ?? 0) > maxShare, o);
  if (sets.length === 0) {
    throw new FewTreatedInputError('CAP_EXCLUDES_ALL', `no ${search === 'exhaustive' ? '' : 'sampled '}treated set of ${k} is within the cap of ${(100 * maxShare).toFixed(1)}%`, {
      k,
      max_share: maxShare,
      smallest_attainable_share: capRecord?.smallest_attainable_share ?? null,
    });
  }
  return { n, t0, y, k, units, windows, L, sets, search, total, overCap, share, o, forced, excluded, cap: capRecord };
}

/**
 * The candidate index sets: forced + every m-subset of `free` (exhaustive, lexicographic) when
 * C(|free|, m) ≤ exhaustiveLimit, else `candidates` distinct m-subsets from the seeded PRNG (partial
 * Fisher–Yates; at most 50× as many attempts); sets `overCap` returns true for are counted, not kept.
 */
function candidateSets(
  free: readonly number[],
  m: number,
  forcedIdx: readonly number[],
  overCapOf: (set: readonly number[]) => boolean,
  o: { exhaustiveLimit: number; candidates: number; seed: number },
): { sets: number[][]; overCap: number; search: Plan['search']; total: number } {
  const total = choose(free.length, m);
  const sets: number[][] = [];
  let overCap = 0;
  const accept = (pick: number[]): void => {
    const set = [...forcedIdx, ...pick].sort((a, b) => a - b);
    if (overCapOf(set)) overCap++;
    else sets.push(set);
  };
  if (total <= o.exhaustiveLimit) {
    const c = Array.from({ length: m }, (_, i) => i);
    for (;;) {
      accept(c.map((i) => free[i]));
      let i = m - 1;
      while (i >= 0 && c[i] === free.length - m + i) i--;
      if (i < 0) break;
      c[i]++;
      for (let j = i + 1; j < m; j++) c[j] = c[j - 1] + 1;
    }
    return { sets, overCap, search: 'exhaustive', total };
  }
  const rng = createPrng(o.seed);
  const seen = new Set<string>();
  const pool = [...free];
  for (let attempt = 0; sets.length < o.candidates && attempt < 50 * o.candidates; attempt++) {
    for (let i = 0; i < m; i++) {
      const j = i + rng.nextInt(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const pick = pool.slice(0, m).sort((a, b) => a - b);
    const key = pick.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    accept(pick);
  }
  return { sets, overCap, search: 'seeded_sample', total };
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Scores one candidate (indices into the pool): one estimate per window. */
function scoreSet(p: Plan, set: readonly number[], buf: Float64Array): SelectionCandidate {
  const inSet = new Uint8Array(p.n);
  for (const i of set) inSet[i] = 1;
  const order: number[] = [];
  for (let i = 0; i < p.n; i++) if (!inSet[i]) order.push(i);
  for (const i of set) order.push(i);
  const n0 = p.n - set.length;
  const est: number[] = [];
  for (const w of p.windows) {
    const t = w.end;
    const y = buf.subarray(0, p.n * t);
    order.forEach((u, r) => y.set(p.y.subarray(u * p.t0, u * p.t0 + t), r * t));
    est.push(fitSynth({ y, n: p.n, t, n0, t0: w.start }, p.o.estimator).estimate);
  }
  const mean = est.reduce((a, b) => a + b, 0) / est.length;
  const sd = Math.sqrt(est.reduce((a, b) => a + (b - mean) ** 2, 0) / (est.length - 1));
  const mde = (normalInv(1 - p.o.alpha / 2) + normalInv(p.o.power)) * sd;
  let level = 0;
  for (const i of set) for (let c = 0; c < p.t0; c++) level += p.y[i * p.t0 + c];
  level /= set.length * p.t0;
  return {
    rank: 0,
    treated: set.map((i) => p.units[i]).sort(),
    mde,
    mde_relative: level > 0 ? mde / level : null,
    placebo_bias: mean,
    score: mde + Math.abs(mean),
    backtest_estimates: est,
    treated_share: p.share(set),
  };
}

function finish(p: Plan, scored: SelectionCandidate[]): TreatedSelectionResult {
  const key = (c: SelectionCandidate) => c.treated.join('\u0000');
  scored.sort((a, b) => a.score - b.score || Math.abs(a.placebo_bias) - Math.abs(b.placebo_bias) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const ranked = scored.slice(0, p.o.top).map((c, i) => ({ ...c, rank: i + 1 }));
  return {
    algorithm_version: SELECTION_ALGORITHM_VERSION,
    estimator: p.o.estimator,
    k: p.k,
    seed: p.o.seed,
    search: p.search,
    candidate_sets_total: p.total,
    candidates_scored: scored.length,
    candidates_over_cap: p.overCap,
    exhaustive_limit: p.o.exhaustiveLimit,
    sample_size: p.o.candidates,
    alpha: p.o.alpha,
    power: p.o.power,
    pre_weeks: p.t0,
    window_weeks: p.L,
    windows: p.windows,
    forced: p.forced,
    excluded: p.excluded,
    cap: p.cap,
    ranked,
  };
}

/**
 * Ranks candidate treated sets of size k by placebo backtests on the pre-period (see the file
 * header for the recipe and docs/statistics.md for the defaults).
 *
 * @param input pool codes with their pre-period weekly series (T0 weeks each, KPI units), k, forced
 *   and never-treated codes, an optional cap on the treated share of a per-territory quantity
 * @param options seed (required), windows W (4), windowWeeks L, testWeeks, minPreWeeks (4),
 *   exhaustiveLimit (1000), candidates (1000), top (10), alpha (0.05), power (0.8), estimator ('sdid')
 * @returns the search record and the `top` best candidates (ranked[0] is the choice)
 * @throws FewTreatedInputError K_EXCEEDS_POOL (pool < 2k + 1), PRE_PERIOD_TOO_SHORT (T0 < minPreWeeks
 *   + W·L), CAP_EXCLUDES_ALL (no set within the cap), SELECTION_INFEASIBLE (forced > k, forced and
 *   never treated, unknown codes, too few treatable territories), INVALID_PANEL (ragged or non-finite series)
 */
export function selectTreatedSet(input: TreatedSelectionInput, options: TreatedSelectionOptions): TreatedSelectionResult {
  const p = plan(input, options);
  const buf = new Float64Array(p.n * p.t0);
  return finish(
    p,
    p.sets.map((s) => scoreSet(p, s, buf)),
  );
}

/**
 * `selectTreatedSet`, yielding to the event loop (setImmediate) at least every ~20 ms of scoring so
 * that a large search inside a request does not stall the server. Same result as the sync version.
 */
export async function selectTreatedSetAsync(input: TreatedSelectionInput, options: TreatedSelectionOptions): Promise<TreatedSelectionResult> {
  const p = plan(input, options);
  const buf = new Float64Array(p.n * p.t0);
  const scored: SelectionCandidate[] = [];
  let last = Date.now();
  for (const s of p.sets) {
    scored.push(scoreSet(p, s, buf));
    if (Date.now() - last > 20) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = Date.now();
    }
  }
  return finish(p, scored);
}
