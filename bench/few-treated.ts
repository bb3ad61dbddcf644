/**
 * bench:few-treated (issue 12): 50 territories × 104 weeks (52 pre, 52 test), 2 treated.
 *  1. SDID with 200 placebo replications (placebo SE);
 *  2. treated-set selection (src/stats/synthetic/treated-selection.ts): k = 2 of the 50 territories,
 *     C(50, 2) = 1,225 > the exhaustive limit, so the seeded search scores 1,000 candidate sets, each
 *     with 4 placebo backtests (SDID fits on rolling-origin windows of the 52 pre-period weeks);
 * baseline: one least-squares fit (normal equations, 52 × 48 design) repeated as many times, same run.
 */
import { createPrng } from '../src/stats/design/prng';
import { fitSynth, PanelMatrix, placeboSe } from '../src/stats/synthetic/synthdid';
import { selectTreatedSet, TreatedSelectionResult } from '../src/stats/synthetic/treated-selection';

const N = 50, T = 104, T0 = 52;
const rng = createPrng(12);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
const base = Array.from({ length: N }, () => 100 + 20 * gauss());
const trend = Array.from({ length: T }, (_, t) => 5 * Math.sin(t / 8));
const y = new Float64Array(N * T);
for (let i = 0; i < N; i++) for (let t = 0; t < T; t++) y[i * T + t] = base[i] + (0.5 + rng.nextDouble()) * trend[t] + 3 * gauss();
const panel: PanelMatrix = { y, n: N, t: T, n0: N - 2, t0: T0 };

function lsFit(): number {
  // normal equations XᵀX b = Xᵀy for the donors' pre-period (52 × 48), solved by Gaussian elimination
  const k = N - 2;
  const a = new Float64Array(k * (k + 1));
  for (let r = 0; r < T0; r++) for (let j = 0; j < k; j++) {
    const xj = y[j * T + r];
    for (let l = 0; l < k; l++) a[j * (k + 1) + l] += xj * y[l * T + r];
    a[j * (k + 1) + k] += xj * y[(N - 1) * T + r];
  }
  for (let j = 0; j < k; j++) a[j * (k + 1) + j] += 1e-6;
  for (let c = 0; c < k; c++) for (let r = c + 1; r < k; r++) {
    const f = a[r * (k + 1) + c] / a[c * (k + 1) + c];
    for (let l = c; l <= k; l++) a[r * (k + 1) + l] -= f * a[c * (k + 1) + l];
  }
  return a[(k - 1) * (k + 1) + k];
}
const cpu: number[] = [];
/** wall seconds of fn; its CPU seconds (user + system) are pushed to `cpu` (the machine is shared) */
function time(fn: () => void): number {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  fn();
  const d = process.cpuUsage(c);
  cpu.push((d.user + d.system) / 1e6);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const baseline = time(() => { for (let i = 0; i < 201; i++) lsFit(); });
const sdid = time(() => { const f = fitSynth(panel, 'sdid'); placeboSe(panel, f, 200, createPrng(1)); });
const baseline1000 = time(() => { for (let i = 0; i < 1000; i++) lsFit(); });
const out: { selection?: TreatedSelectionResult } = {};
const sel = time(() => {
  // the pre-period (52 weeks) of every territory; the test period's 52 weeks cap the window length
  const units = Array.from({ length: N }, (_, i) => `T${String(i).padStart(2, '0')}`);
  const values = units.map((_, i) => Array.from(y.subarray(i * T, i * T + T0)));
  out.selection = selectTreatedSet({ units, values, k: 2 }, { seed: 2, testWeeks: T - T0, candidates: 1000, exhaustiveLimit: 1000 });
});
console.log(`load average ${require('os').loadavg()[0].toFixed(1)} on ${require('os').cpus().length} cores; cpu s [baseline201, sdid, baseline1000, selection] = ${cpu.map((x) => x.toFixed(3)).join(', ')}`);
console.log(`baseline: 201 LS fits ${baseline.toFixed(3)} s; 1000 LS fits ${baseline1000.toFixed(3)} s`);
console.log(`sdid+placebo(200) ${sdid.toFixed(3)} s (target < 2 s) ratio=${(sdid / baseline).toFixed(1)}x baseline`);
const r = out.selection as TreatedSelectionResult;
console.log(
  `selection (${r.search}, ${r.candidates_scored} candidates × ${r.windows.length} backtests of ${r.window_weeks} weeks = ${r.candidates_scored * r.windows.length} SDID fits) ` +
    `${sel.toFixed(3)} s (target < 60 s) ratio=${(sel / baseline1000).toFixed(1)}x baseline; best ${r.ranked[0].treated.join('+')} MDE ${r.ranked[0].mde.toFixed(2)} bias ${r.ranked[0].placebo_bias.toFixed(2)}`,
);
