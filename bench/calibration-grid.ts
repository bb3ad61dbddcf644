/**
 * The calibration grid (issue 14, "Proof"): `npm run bench:calibration` (the default; the former
 * single-size table is `--classic`). Every cell is (panel, G, design, method), with 2,000 A/A placebo
 * pilots per cell by default (`--pilots N`), each analysed without and with a planted +10% lift:
 *  - G = 10, 20, 30 and 50 territories;
 *  - panels: the CRM panel (30 territories, read as bench/calibration.ts reads it: 8+8-week live
 *    windows) and a simulated panel of 50 territories with heavy-tailed revenue and unequal sizes
 *    (size log-normal σ = 1.2, fixed for the run: CV of size 1.24, checked ≥ 1; weekly sales = size ×
 *    territory level log-normal(0, 0.25) × week noise log-normal(0, 0.35), fresh per pilot);
 *  - territories: pilot i of a cell draws G territories uniformly without replacement from the panel
 *    (seeded), and a CRM window uniformly; G = 50 exceeds the CRM panel (30), so G = 50 runs on the
 *    simulated panel only, and G = 30 on the CRM panel is its whole panel (only the window varies) (no resampling with replacement: duplicated territories would be
 *    artificial pairs);
 *  - designs: complete, stratified (region), matched pairs (pre-period revenue), rerandomization
 *    (pre-period revenue and opportunities, p_a = 0.1, empirical threshold), as bench/calibration.ts;
 *  - methods (the short names of the printed lines → the product's keys):
 *      ri_lin → randomization_lin (RI on Lin's adjustment, the deciding candidate), ri → randomization,
 *      lin_hc2 → regression_adjustment (the three primary-method candidates, primary-method.ts);
 *      the report's design-consistent rows (design-analyses.ts): welch (complete, stratified),
 *      stratified_difference and randomization_stratified (stratified), paired_t (pairs),
 *      lin_balancing_covariates (rerandomization), randomization_t (all);
 *      the panel DiD with the design's fixed effects (few-cluster-inference.ts): wcr →
 *      wild_cluster_bootstrap (the panel's default deciding method), cr3 → cr3_jackknife, cr2_ik →
 *      cr2_imbens_kolesar, cr2_bm → cr2_bell_mccaffrey, cr1 → cr1_t.
 *  - cheap variants, stated: every Monte Carlo test (RI, randomization-t, WCR) uses B = 399 draws
 *    (`--draws`; the product uses 10,000 / 9,999); the null pilots compute p only (no CI); coverage is
 *    the product's CI (test inversion over the same stored draws). CR2 (both df) needs the
 *    Imbens–Kolesár df's N × N algebra, ~0.05 s per fit at G = 30 and ~0.5 s at G = 50 with the pair
 *    dummies: it is run for matched pairs only up to `--cr2-pairs-max` (default 20) territories;
 *    above that its cells are "not run" and count as not offered.
 * Targets (issue 14): FPR within [4.0%, 6.0%] and coverage within [93.5%, 96.5%]; with 2,000 pilots
 * the Monte Carlo SE of an FPR of 5% is ±0.49% (printed per cell). A (design, G, method) that fails on
 * either panel, or was not run, is written to calibration-results.json → grid.flagged; the product
 * reads it per size (calibration-flags.ts: the nearest grid size at or below the pilot's territory
 * count) and does not offer the method there, with the reason in the report.
 * Runs the cells on worker_threads (one per core, `--workers`), and prints a same-run baseline: the
 * time of one pilot's Welch t (the cheapest method) × the number of analyses, beside the grid's time.
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { drawDesign, DesignSpec, DesignType, DesignUnit, randomizationDesignFromStored } from '../src/stats/design/designs';
import { createPrng } from '../src/stats/design/prng';
import { linRegressionAdjustment, welchTTest } from '../src/stats';
import { randomizationTest } from '../src/stats/randomization-inference';
import { didPanelDesign } from '../src/stats/design-consistent';
import { fewClusterRows, FewClusterMethod } from '../src/stats/few-cluster-inference';
import { designAnalyses } from '../src/reports/comparison/design-analyses';
import { randomizationTTest } from '../src/stats/randomization-t';
import { DATASET_HELP, DEFAULT_DATA_DIR, readCrmDataset } from '../src/demo/crm-dataset';
import { controlTreatmentArms } from '../src/demo/pilot-factory';
import { clopperPearson } from '../src/power/binomial-ci';
import type { CalibrationFlags, CalibrationGrid, GridCell } from '../src/stats/calibration-flags';
import { crmPanelWindows, gauss, simulatedWeeklyWindow, Window } from './calibration';

const ALPHA = 0.05;
const LIFT = 0.1;
const WEEKS = 8;
export const GRID_SIZES = [10, 20, 30, 50] as const;
const FPR_BAND: [number, number] = [0.04, 0.06];
const COVERAGE_BAND: [number, number] = [0.935, 0.965];
const DESIGNS: DesignType[] = ['complete', 'stratified', 'matched_pairs', 'rerandomization'];
const SHORT_DESIGN: Record<DesignType, string> = { complete: 'complete', stratified: 'stratified', matched_pairs: 'pairs', rerandomization: 'rerandomization', chosen: 'chosen' } as Record<DesignType, string>;
const SIM_TERRITORIES = 50;

/** Short name in the printed lines → the product's key (calibration-flags.ts). */
const METHOD_KEYS = {
  ri_lin: 'randomization_lin',
  ri: 'randomization',
  lin_hc2: 'regression_adjustment',
  welch: 'welch',
  stratified_difference: 'stratified_difference',
  randomization_stratified: 'randomization_stratified',
  paired_t: 'paired_t',
  lin_balancing: 'lin_balancing_covariates',
  randomization_t: 'randomization_t',
  wcr: 'wild_cluster_bootstrap',
  cr3: 'cr3_jackknife',
  cr2_ik: 'cr2_imbens_kolesar',
  cr2_bm: 'cr2_bell_mccaffrey',
  cr1: 'cr1_t',
} as const;
type Short = keyof typeof METHOD_KEYS;
const PANEL_SHORT: Record<FewClusterMethod, Short> = {
  wild_cluster_bootstrap: 'wcr',
  cr3_jackknife: 'cr3',
  cr2_imbens_kolesar: 'cr2_ik',
  cr2_bell_mccaffrey: 'cr2_bm',
  cr1_t: 'cr1',
};
const ROW_SHORT: Record<string, Short> = {
  welch: 'welch',
  stratified_difference: 'stratified_difference',
  randomization_stratified: 'randomization_stratified',
  paired_t: 'paired_t',
  lin_balancing_covariates: 'lin_balancing',
  randomization_t: 'randomization_t',
};

/** Methods of a design in the grid (a naive Welch on pairs / rerandomization is not offered, so not run). */
let ONLY: Short[] | null = null;

function methodsOf(design: DesignType, G: number, cr2PairsMax: number): Short[] {
  const rows: Short[] =
    design === 'complete'
      ? ['welch']
      : design === 'stratified'
        ? ['welch', 'stratified_difference', 'randomization_stratified']
        : design === 'matched_pairs'
          ? ['paired_t']
          : ['lin_balancing'];
  const cr2: Short[] = design === 'matched_pairs' && G > cr2PairsMax ? [] : ['cr2_ik', 'cr2_bm'];
  const all: Short[] = ['ri_lin', 'ri', 'lin_hc2', ...rows, 'randomization_t', 'wcr', 'cr3', ...cr2, 'cr1'];
  return ONLY ? all.filter((m) => (ONLY as Short[]).includes(m)) : all;
}

type PanelName = 'crm' | 'simulated_heavy_tail';

/** What a worker needs to rebuild a panel: the CRM windows (arrays) or the simulated sizes. */
interface PanelData {
  name: PanelName;
  codes: string[];
  regions: string[];
  /** CRM only: the live windows */
  windows?: Window[];
  /** simulated only: the fixed sizes */
  sizes?: number[];
}

interface Task {
  panel: PanelName;
  G: number;
  design: DesignType;
  from: number;
  to: number;
}

interface Tally {
  n: number;
  fp: number;
  nPlanted: number;
  covered: number;
  /** planted pilots whose method gave a CI (0 for a method without one, e.g. randomization-t on Lin's statistic) */
  withCi: number;
  detected: number;
}

/**
 * The simulated heavy-tailed panel's sizes: 50 territories, log-normal(0, σ = 1.2) × 10,000 (seed
 * 20261416; CV of size 1.24, largest 15.8× the median).
 * @throws Error if the CV of size is below 1 (the issue's requirement for this panel)
 */
export function simulatedSizes(): number[] {
  const rng = createPrng(20261416);
  const sizes = Array.from({ length: SIM_TERRITORIES }, () => 10_000 * Math.exp(1.2 * gauss(rng)));
  if (cv(sizes) < 1) throw new Error(`the simulated panel's CV of size is ${cv(sizes).toFixed(2)} < 1`);
  return sizes;
}

function cv(x: readonly number[]): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)) / m;
}

/** Window of simulated pilot i over all 50 territories (seed 14_000_000 + i). */
function simulatedWindow(sizes: readonly number[], i: number): Window {
  return simulatedWeeklyWindow(sizes, 14_000_000 + i, `simulated-${i}`);
}

/** Seed of pilot i of a cell (distinct per panel, G, design and pilot). */
function pilotSeed(panel: PanelName, G: number, design: DesignType, i: number): number {
  return 14_000_000_000 + (panel === 'crm' ? 0 : 1_000_000_000) + G * 10_000_000 + DESIGNS.indexOf(design) * 1_000_000 + i;
}

type Outcome = { p: number | null; low: number | null; high: number | null; truth: number };

/**
 * One placebo pilot of a cell: the sampled territories, its design, and every method's outcome
 * without (p only) and with the planted lift (p and CI). Returns null outcomes for a method that
 * gave no result.
 */
function runPilot(panel: PanelData, task: Task, i: number, draws: number, cr2PairsMax: number): Record<'null' | 'planted', Partial<Record<Short, Outcome>>> {
  const seed = pilotSeed(task.panel, task.G, task.design, i);
  const rng = createPrng(seed);
  const N = panel.codes.length;
  const w = panel.windows ? panel.windows[rng.nextInt(panel.windows.length)] : simulatedWindow(panel.sizes as number[], i);
  // G of the N territories, uniformly without replacement (partial Fisher–Yates), in panel order
  const order = Array.from({ length: N }, (_, k) => k);
  for (let k = 0; k < task.G; k++) {
    const j = k + rng.nextInt(N - k);
    [order[k], order[j]] = [order[j], order[k]];
  }
  const chosen = order.slice(0, task.G).sort((a, b) => a - b);
  const design = task.design;
  const units: DesignUnit[] = chosen.map((k) => ({
    code: panel.codes[k],
    stratum: panel.regions[k],
    covariates: { pre_period_revenue_won: w.x[k], pre_period_opportunities: w.preOpportunities[k] },
  }));
  const arms = controlTreatmentArms();
  const spec: DesignSpec = {
    type: design,
    arms,
    seed,
    pair_on: design === 'matched_pairs' ? 'pre_period_revenue_won' : null,
    rerandomization:
      design === 'rerandomization' ? { covariates: ['pre_period_revenue_won', 'pre_period_opportunities'], acceptance_probability: 0.1, threshold_rule: 'empirical' } : null,
  };
  const drawn = drawDesign(units, spec);
  const pos = units.map((_, j) => j).filter((j) => drawn.arms[units[j].code] !== undefined);
  const armsOf = pos.map((j) => drawn.arms[units[j].code]);
  const treated = armsOf.map((a) => (a === 'treatment' ? 1 : 0) as 0 | 1);
  const strata = pos.map((j) => drawn.unit_strata[units[j].code]);
  const riDesign = randomizationDesignFromStored(
    { type: design, arms, rerandomization: spec.rerandomization, rerandomization_threshold: drawn.rerandomization?.threshold ?? null },
    pos.map((j) => ({ code: units[j].code, arm: drawn.arms[units[j].code], stratum: drawn.unit_strata[units[j].code], covariates: units[j].covariates })),
  );
  const kOf = pos.map((j) => chosen[j]);
  const x = kOf.map((k) => w.x[k]);
  const covariates = kOf.map((k) => [w.x[k], w.preOpportunities[k]]);
  const methods = methodsOf(design, task.G, cr2PairsMax);
  const panelMethods = methods.filter((m) => Object.values(PANEL_SHORT).includes(m)).map((m) => METHOD_KEYS[m] as FewClusterMethod);
  const out = { null: {}, planted: {} } as Record<'null' | 'planted', Partial<Record<Short, Outcome>>>;
  for (const planted of [false, true]) {
    const res = out[planted ? 'planted' : 'null'];
    const y = kOf.map((k, j) => w.y[k] * (planted && treated[j] ? 1 + LIFT : 1));
    const tau = planted ? (LIFT * kOf.reduce((s, k) => s + w.y[k], 0)) / kOf.length : 0;
    const ci = planted ? { alpha: ALPHA } : undefined;
    const riBase = { arms: armsOf, treatmentArm: 'treatment', controlArm: 'control', design: riDesign, maxExact: 1, draws, seed, ci };
    const ri = randomizationTest({ ...riBase, values: y });
    res.ri = { p: ri.p_two_sided, low: ri.ci?.low ?? null, high: ri.ci?.high ?? null, truth: tau };
    const riLin = randomizationTest({ ...riBase, values: y, statistic: 'lin_adjusted', covariate: x });
    res.ri_lin = { p: riLin.p_two_sided, low: riLin.ci?.low ?? null, high: riLin.ci?.high ?? null, truth: tau };
    const lin = linRegressionAdjustment(y, x, treated, { alpha: ALPHA });
    res.lin_hc2 = { p: lin.p_value, low: lin.ci_low, high: lin.ci_high, truth: tau };
    // the report's design-consistent territory rows (design-analyses.ts; its RI rows are run below,
    // with the CI only on the planted pilots; no weekly panel here: the panel is run below)
    const want = (m: Short) => methods.includes(m);
    if (want('welch') || want('stratified_difference') || want('paired_t') || want('lin_balancing')) {
      const da = designAnalyses({
        designType: design,
        values: y,
        arms: armsOf,
        strata,
        treatmentArm: 'treatment',
        controlArm: 'control',
        covariates: design === 'rerandomization' ? covariates : null,
        weekly: null,
        alpha: ALPHA,
        seed,
        draws,
        maxExact: 1,
      });
      for (const r of da.rows) {
        const s = ROW_SHORT[r.key];
        if (s && want(s)) res[s] = { p: r.p_value, low: r.ci_low, high: r.ci_high, truth: tau };
      }
    }
    if (want('randomization_stratified')) {
      const rs = randomizationTest({ ...riBase, values: y, statistic: 'stratified_weighted' });
      res.randomization_stratified = { p: rs.p_two_sided, low: rs.ci?.low ?? null, high: rs.ci?.high ?? null, truth: tau };
    }
    if (want('randomization_t')) {
      const rt = randomizationTTest({ ...riBase, values: y, covariates: design === 'rerandomization' ? covariates : undefined, alpha: ALPHA, ci: planted });
      res.randomization_t = { p: rt.p_value, low: rt.ci_low, high: rt.ci_high, truth: tau };
    }
    // the panel DiD with the design's fixed effects (pairs: pair; stratified: stratum), as design-analyses.ts
    const territory: string[] = [];
    const tr: (0 | 1)[] = [];
    const post: (0 | 1)[] = [];
    const block: string[] = [];
    const py: number[] = [];
    kOf.forEach((k, j) => {
      w.weekly[k].forEach((v, p) => {
        territory.push(panel.codes[k]);
        tr.push(treated[j]);
        post.push(p >= WEEKS ? 1 : 0);
        block.push(strata[j]);
        py.push(v * (planted && treated[j] && p >= WEEKS ? 1 + LIFT : 1));
      });
    });
    const fixed = design === 'matched_pairs' || design === 'stratified';
    try {
      const { x: X, coefficient } = didPanelDesign(tr, post, fixed ? block : undefined);
      const fc = fewClusterRows({ x: X, y: py, clusters: territory, coefficient }, { alpha: ALPHA, seed, draws, ci: planted, methods: panelMethods });
      for (const m of fc.methods) {
        if (panelMethods.includes(m.method)) res[PANEL_SHORT[m.method]] = { p: m.p_value, low: m.ci_low, high: m.ci_high, truth: tau / WEEKS };
      }
    } catch {
      // collinear panel (a block entirely in one arm): no panel result for this pilot
    }
  }
  return out;
}

function emptyTally(): Tally {
  return { n: 0, fp: 0, nPlanted: 0, covered: 0, withCi: 0, detected: 0 };
}

/** Runs pilots [from, to) of a cell and returns each method's tally. */
export function runTask(panel: PanelData, task: Task, draws: number, cr2PairsMax: number): Record<string, Tally> {
  const tallies: Record<string, Tally> = {};
  for (const m of methodsOf(task.design, task.G, cr2PairsMax)) tallies[m] = emptyTally();
  for (let i = task.from; i < task.to; i++) {
    const r = runPilot(panel, task, i, draws, cr2PairsMax);
    for (const m of Object.keys(tallies) as Short[]) {
      const t = tallies[m];
      const a = r.null[m];
      if (a && a.p !== null) {
        t.n++;
        if (a.p < ALPHA) t.fp++;
      }
      const b = r.planted[m];
      if (b && b.p !== null) {
        t.nPlanted++;
        if (b.p < ALPHA) t.detected++;
        if (b.low !== null || b.high !== null) t.withCi++;
        if (b.low !== null && b.high !== null && b.low <= b.truth && b.truth <= b.high) t.covered++;
      }
    }
  }
  return tallies;
}

if (!isMainThread && workerData?.calibrationGrid) {
  const { panels, draws, cr2PairsMax, only } = workerData as { panels: PanelData[]; draws: number; cr2PairsMax: number; only: Short[] | null };
  ONLY = only;
  parentPort!.on('message', (task: Task | null) => {
    if (task === null) {
      parentPort!.close();
      return;
    }
    const panel = panels.find((p) => p.name === task.panel) as PanelData;
    parentPort!.postMessage({ task, tallies: runTask(panel, task, draws, cr2PairsMax) });
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Runs the grid and (unless --no-write) writes calibration-results.json → grid, keeping the classic record. */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      pilots: { type: 'string' },
      draws: { type: 'string' },
      workers: { type: 'string' },
      sizes: { type: 'string' },
      'cr2-pairs-max': { type: 'string' },
      'chunk': { type: 'string' },
      methods: { type: 'string' },
      'max-seconds': { type: 'string' },
      'no-write': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const pilots = Number(values.pilots ?? 2000);
  const draws = Number(values.draws ?? 399);
  const workers = Math.max(1, Number(values.workers ?? cpus().length));
  const cr2PairsMax = Number(values['cr2-pairs-max'] ?? 20);
  const chunk = Number(values.chunk ?? 100);
  // stop handing out tasks after this many seconds (the cells then have fewer pilots; n is printed)
  const maxSeconds = Number(values['max-seconds'] ?? Infinity);
  ONLY = values.methods ? (values.methods.split(',') as Short[]) : null;
  const sizes = values.sizes ? values.sizes.split(',').map(Number) : [...GRID_SIZES];
  const dataDir = resolve(values.data ?? process.env.DATA_DIR ?? DEFAULT_DATA_DIR);
  let data: ReturnType<typeof readCrmDataset>;
  try {
    data = readCrmDataset(dataDir);
  } catch (err) {
    console.error(`Data set not found at ${dataDir}: ${(err as Error).message}`);
    DATASET_HELP.forEach((l) => console.error(l));
    process.exit(2);
  }
  const { territories, windows } = crmPanelWindows(data);
  const simSizes = simulatedSizes();
  const panels: PanelData[] = [
    { name: 'crm', codes: territories.map((t) => t.code), regions: territories.map((t) => t.region), windows },
    { name: 'simulated_heavy_tail', codes: simSizes.map((_, k) => `SIM-${String(k + 1).padStart(2, '0')}`), regions: simSizes.map((_, k) => `R${(k % 4) + 1}`), sizes: simSizes },
  ];
  const cells: { panel: PanelName; G: number; design: DesignType }[] = [];
  for (const G of sizes) for (const p of panels) if (G <= p.codes.length) for (const design of DESIGNS) cells.push({ panel: p.name, G, design });
  console.log(`Calibration grid: G = ${sizes.join(', ')}; CRM panel ${territories.length} territories (${windows.length} live ${WEEKS}+${WEEKS}-week windows; G = 50 > ${territories.length}: simulated panel only),`);
  console.log(`simulated heavy-tailed panel ${SIM_TERRITORIES} territories (CV of size ${cv(simSizes).toFixed(2)}, max/median ${(Math.max(...simSizes) / [...simSizes].sort((a, b) => a - b)[SIM_TERRITORIES / 2]).toFixed(1)}, 4 regions);`);
  console.log(`${pilots} placebo pilots per cell (G territories drawn uniformly without replacement per pilot), +${100 * LIFT}% planted lift, α = ${ALPHA};`);
  console.log(`RI, randomization-t and WCR with ${draws} Monte Carlo draws (the product: 10,000 / 9,999); CR2 on matched pairs up to G = ${cr2PairsMax}; ${workers} worker thread(s).`);
  console.log(`targets: FPR in [${pct(FPR_BAND[0])}, ${pct(FPR_BAND[1])}], coverage in [${pct(COVERAGE_BAND[0])}, ${pct(COVERAGE_BAND[1])}]; MC SE at 5% with ${pilots} pilots ±${pct(Math.sqrt(0.05 * 0.95 / pilots))}.`);

  // same-run baseline: one pilot's cheapest analysis (Welch t) on the sim panel at G = 30, timed here
  const base = simulatedWindow(simSizes, 0);
  const bt = base.y.slice(0, 15);
  const bc = base.y.slice(15, 30);
  const b0 = process.hrtime.bigint();
  const reps = 2000;
  for (let r = 0; r < reps; r++) welchTTest(bt, bc, { alpha: ALPHA });
  const welchMs = Number(process.hrtime.bigint() - b0) / 1e6 / reps;
  const pilotB0 = process.hrtime.bigint();
  const pilotReps = 3;
  for (let r = 0; r < pilotReps; r++) runPilot(panels[1], { panel: 'simulated_heavy_tail', G: 30, design: 'complete', from: 0, to: 1 }, r, draws, cr2PairsMax);
  const pilotMs = Number(process.hrtime.bigint() - pilotB0) / 1e6 / pilotReps;

  const started = Date.now();
  const load0 = loadavg();
  const tasks: Task[] = [];
  for (const c of cells) for (let from = 0; from < pilots; from += chunk) tasks.push({ ...c, from, to: Math.min(pilots, from + chunk) });
  // chunk by chunk over every cell (so a --max-seconds stop leaves every cell with as many pilots),
  // the expensive cells (large G) first within a round
  tasks.sort((a, b) => a.from - b.from || b.G - a.G);
  const merged = new Map<string, Record<string, Tally>>();
  const cellKey = (c: { panel: string; G: number; design: string }) => `${c.panel}|${c.G}|${c.design}`;
  let done = 0;
  const done_ = new Map<string, number>();
  await new Promise<void>((resolveAll, reject) => {
    let next = 0;
    let alive = 0;
    const isTs = __filename.endsWith('.ts');
    for (let wk = 0; wk < Math.min(workers, tasks.length); wk++) {
      const worker = new Worker(__filename, { workerData: { calibrationGrid: true, panels, draws, cr2PairsMax, only: ONLY }, execArgv: isTs ? ['-r', 'ts-node/register/transpile-only'] : [] });
      alive++;
      const feed = () => worker.postMessage(next < tasks.length && (Date.now() - started) / 1000 < maxSeconds ? tasks[next++] : null);
      worker.on('message', (msg: { task: Task; tallies: Record<string, Tally> }) => {
        const key = cellKey(msg.task);
        done_.set(key, (done_.get(key) ?? 0) + msg.task.to - msg.task.from);
        const acc = merged.get(key) ?? {};
        for (const [m, t] of Object.entries(msg.tallies)) {
          const a = acc[m] ?? emptyTally();
          a.n += t.n;
          a.fp += t.fp;
          a.nPlanted += t.nPlanted;
          a.covered += t.covered;
          a.withCi += t.withCi;
          a.detected += t.detected;
          acc[m] = a;
        }
        merged.set(key, acc);
        done++;
        if (done % Math.max(1, Math.floor(tasks.length / 10)) === 0) console.log(`  … ${done}/${tasks.length} tasks, ${((Date.now() - started) / 1000).toFixed(0)} s`);
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        alive--;
        if (alive === 0) resolveAll();
      });
      feed();
    }
  });
  const seconds = (Date.now() - started) / 1000;
  const load1 = loadavg();

  const gridCells: GridCell[] = [];
  for (const G of sizes) {
    for (const c of cells.filter((x) => x.G === G)) {
      const acc = merged.get(cellKey(c)) ?? {};
      const all = (Object.keys(METHOD_KEYS) as Short[]).filter((m) => Object.values(PANEL_SHORT).includes(m) || ['ri_lin', 'ri', 'lin_hc2'].includes(m) || acc[m]);
      for (const m of all) {
        const t = acc[m];
        const offeredHere = methodsOf(c.design, G, cr2PairsMax).includes(m);
        const cr2Skipped = (m === 'cr2_ik' || m === 'cr2_bm') && c.design === 'matched_pairs' && G > cr2PairsMax && (!ONLY || ONLY.includes(m));
        if (!t && !cr2Skipped) continue;
        if (!t || !offeredHere) {
          gridCells.push({ panel: c.panel, G, design: c.design, method: METHOD_KEYS[m], short: m, n: 0, fpr: null, fpr_ci: null, coverage: null, coverage_ci: null, power: null, mc_se_fpr: null, status: 'not_run', reasons: [`not run in the grid at G = ${G} (CR2's Imbens–Kolesár df with ${G / 2 - 1} pair dummies is too slow for 2,000 pilots); not calibrated at this size`] });
          continue;
        }
        const fpr = clopperPearson(t.fp, Math.max(1, t.n));
        // a method that gives no CI by design (randomization-t on Lin's statistic under
        // rerandomization: the p decides, no test inversion) has no coverage to judge: n/a, not 0%
        const noCi = t.nPlanted > 0 && t.withCi === 0;
        const cov = clopperPearson(t.covered, Math.max(1, t.nPlanted));
        const power = t.nPlanted ? t.detected / t.nPlanted : 0;
        const reasons: string[] = [];
        const ranPilots = done_.get(cellKey(c)) ?? 0;
        if (t.n < 0.9 * ranPilots) reasons.push(`no result in ${pct(1 - t.n / ranPilots)} of the pilots`);
        if (fpr.rate < FPR_BAND[0] || fpr.rate > FPR_BAND[1]) reasons.push(`FPR ${pct(fpr.rate)} outside [${pct(FPR_BAND[0])}, ${pct(FPR_BAND[1])}]`);
        if (!noCi && (cov.rate < COVERAGE_BAND[0] || cov.rate > COVERAGE_BAND[1])) reasons.push(`coverage ${pct(cov.rate)} outside [${pct(COVERAGE_BAND[0])}, ${pct(COVERAGE_BAND[1])}]`);
        const se = Math.sqrt((fpr.rate * (1 - fpr.rate)) / Math.max(1, t.n));
        gridCells.push({ panel: c.panel, G, design: c.design, method: METHOD_KEYS[m], short: m, n: t.n, fpr: fpr.rate, fpr_ci: [fpr.low, fpr.high], coverage: noCi ? null : cov.rate, coverage_ci: noCi ? null : [cov.low, cov.high], power, mc_se_fpr: se, status: reasons.length ? 'fail' : 'pass', reasons });
        console.log(
          `G=${G} panel=${c.panel === 'crm' ? 'crm' : 'sim'} design=${SHORT_DESIGN[c.design]} method=${m} fpr=${pct(fpr.rate)} coverage=${noCi ? 'n/a (no CI by design)' : pct(cov.rate)} power10=${(100 * power).toFixed(0)}%` +
            `  (n=${t.n}, MC SE ±${pct(se)})${reasons.length ? `  FAIL: ${reasons.join('; ')}` : '  ok'}`,
        );
      }
    }
  }
  for (const c of gridCells.filter((x) => x.status === 'not_run')) console.log(`G=${c.G} panel=${c.panel === 'crm' ? 'crm' : 'sim'} design=${SHORT_DESIGN[c.design as DesignType]} method=${c.short} not run: ${c.reasons[0]}`);
  // flags per (design, G, method): failed (or not run) on any panel
  const flagged: CalibrationGrid['flagged'] = [];
  for (const c of gridCells.filter((x) => x.status !== 'pass')) {
    const f = flagged.find((x) => x.design === c.design && x.G === c.G && x.method === c.method);
    const reasons = c.reasons.map((r) => `${c.panel === 'crm' ? 'CRM panel' : 'simulated heavy-tailed panel'}: ${r}`);
    if (f) f.reasons.push(...reasons);
    else flagged.push({ design: c.design, G: c.G, method: c.method, reasons });
  }
  const ran = gridCells.filter((c) => c.status !== 'not_run');
  const passed = ran.filter((c) => c.status === 'pass').length;
  const pilotsRun = [...done_.values()];
  const analyses = 2 * pilotsRun.reduce((a, b) => a + b, 0);
  const minPilots = Math.min(...pilotsRun);
  console.log(`\n${passed}/${ran.length} cells pass (${gridCells.length - ran.length} not run); ${flagged.length} (design, G, method) flagged.`);
  console.log(`time ${seconds.toFixed(0)} s for ${cells.length} (panel, G, design) × ${minPilots === pilots ? pilots : `${minPilots}–${Math.max(...pilotsRun)} (stopped at --max-seconds ${maxSeconds})`} pilots × 2 arms on ${workers} worker(s); load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${load1.map((l) => l.toFixed(2)).join(' ')} at end.`);
  console.log(`baseline (same run): Welch t ${(welchMs * 1000).toFixed(1)} µs per analysis → ${((welchMs * analyses) / 1000).toFixed(1)} s for the same ${analyses} pilot-arms; one sim G = 30 complete pilot with every method ${pilotMs.toFixed(0)} ms; grid/Welch-only ratio ${(seconds / ((welchMs * analyses) / 1000)).toFixed(0)}×, target 900 s: ${seconds <= 900 ? 'met' : 'missed'}.`);

  if (!values['no-write']) {
    const path = join(__dirname, '..', 'src', 'stats', 'calibration-results.json');
    const record = JSON.parse(readFileSync(path, 'utf8')) as CalibrationFlags;
    record.grid = {
      generated_by: 'npm run bench:calibration (bench/calibration-grid.ts)',
      generated_at: new Date().toISOString(),
      sizes,
      panels: [`crm (${territories.length} territories)`, `simulated_heavy_tail (50 territories, CV of size ${cv(simSizes).toFixed(2)})`],
      placebo_pilots_per_cell: minPilots,
      methods_run: ONLY ?? 'all',
      monte_carlo_draws: draws,
      targets: { fpr: FPR_BAND, coverage: COVERAGE_BAND, alpha: ALPHA, planted_lift: LIFT },
      seconds: Math.round(seconds),
      workers,
      load_average: [load0, load1].map((l) => l.map((v) => Math.round(v * 100) / 100)),
      flagged,
      cells: gridCells,
    };
    writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`grid written to ${path}`);
  }
}
