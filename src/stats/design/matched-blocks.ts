import { DesignError } from './allocation';
import { byCodeUnits, MatchedBlock } from './design-types';

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

