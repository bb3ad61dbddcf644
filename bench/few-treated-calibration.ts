/**
 * npm run bench:calibration -- --few-treated (or npm run bench:calibration:few-treated), issue 12:
 * placebo calibration of the few-treated tests (src/stats/synthetic/few-treated.ts, analyseFewTreated).
 *
 * Panels:
 *  - crm: the CRM Sales Opportunities sample (../shared/data/crm-sales-opportunities, read by
 *    src/demo/crm-dataset.ts), territories = the 30 sales agents with opportunities
 *    (crmEligibleAgents), KPI weekly revenue won by the rollups' cohort convention
 *    (weeklyCohortRevenuePanel); a placebo pilot is a 16-week pre-period and an 8-week test period at
 *    a start drawn among the weekly starts at which ≥ 80% of territories won revenue in both windows;
 *  - sim: a fresh simulated panel per pilot (simulateFactorPanel: 40 territories, 16 + 8 weeks,
 *    log-normal sizes, two AR(1) factors, Student-t(3) noise).
 * For k = 1, 2, 5 treated chosen at random (seeded) among all territories of the panel (every one is
 * eligible: complete weeks), each pilot is analysed twice by analyseFewTreated: without effect
 * (false-positive rate of each estimator's p, the placebo randomization test over re-assignments of
 * the treated set (its CI by inversion; the placebo SE is not computed here), and of the permutation
 * p, p < 0.05), and with a +10% lift planted on the treated test weeks (coverage of the 95% CI of the
 * true effect, the mean of 0.1 × the treated test-week values). The permutation p has no CI: coverage
 * n/a. Targets: FPR within [3.5%, 6.5%], coverage within [93%, 97%]; each line ends PASS or MISS, and
 * a test the product does not offer as a decision test in that cell (an estimator's test by
 * `test_decision`, the permutation p by `permutation_decision`) ends NOT OFFERED with the product's
 * reason; a not-offered permutation p is counted on the first
 * --permutation-pilots pilots only (its refits are half the cost of a pilot). Every line prints its n
 * and the Monte Carlo SE of each rate.
 *
 * Options: --data DIR, --pilots N per cell (default 1000: MC SE of a 5% rate 0.7 pp, against a band
 * of ±1.5 pp), --replications B placebo replications (default 100; the product's default is 200; the
 * placebo randomization test is exact for any B), --permutation-pilots M (default 200), --panels crm,sim,
 * --k 1,2,5.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addDays } from '../src/common/utils/dates';
import { DATASET_HELP, DEFAULT_DATA_DIR, readCrmDataset } from '../src/demo/crm-dataset';
import { crmEligibleAgents } from '../src/demo/pilot-factory';
import { statusOfStage } from '../src/opportunities/ingestion/stage';
import { clopperPearson } from '../src/power/binomial-ci';
import { createPrng } from '../src/stats/design/prng';
import {
  CalibrationTally,
  calibrationLine,
  CohortDeal,
  countCoverage,
  countNull,
  emptyTally,
  plantLift,
  simulateFactorPanel,
  weeklyCohortRevenuePanel,
} from '../src/stats/synthetic/calibration-panels';
import { analyseFewTreated, FewTreatedPanel } from '../src/stats/synthetic/few-treated';
import { permutationDecision } from '../src/stats/synthetic/randomization-test';

const ALPHA = 0.05;
const LIFT = 0.1;
const PRE_WEEKS = 16;
const TEST_WEEKS = 8;
const SIM_UNITS = 40;
const FPR_RANGE: [number, number] = [0.035, 0.065];
const COVERAGE_RANGE: [number, number] = [0.93, 0.97];
const ESTIMATORS = ['sdid', 'sc', 'did'] as const;

/** The CRM placebo windows: one long panel per admissible pre-period start. */
function crmPanels(dataDir: string): { panels: FewTreatedPanel[]; starts: string[]; units: number } {
  const data = readCrmDataset(dataDir);
  const { eligible } = crmEligibleAgents(data);
  const deals = new Map<string, CohortDeal[]>(eligible.map((t) => [t.sales_agent, []]));
  for (const r of data.pipeline) {
    const list = deals.get(r.sales_agent);
    const status = statusOfStage(r.deal_stage);
    if (!list || !status) continue;
    const amount = r.close_value === '' ? null : Number(r.close_value);
    list.push({ engage_date: r.engage_date || null, close_date: r.close_date || null, won: status === 'won', amount: Number.isFinite(amount) ? amount : null });
  }
  const dates = data.pipeline.map((r) => r.engage_date).filter(Boolean).sort();
  const panels: FewTreatedPanel[] = [];
  const starts: string[] = [];
  for (let s = dates[0]; addDays(s, 7 * (PRE_WEEKS + TEST_WEEKS) - 1) <= dates[dates.length - 1]; s = addDays(s, 7)) {
    const p = weeklyCohortRevenuePanel(deals, s, PRE_WEEKS, TEST_WEEKS);
    // live: ≥ 80% of territories won revenue in the pre-period and in the test period
    const pre = new Map<string, number>();
    const test = new Map<string, number>();
    p.unit.forEach((u, r) => {
      const m = p.week[r] < PRE_WEEKS ? pre : test;
      m.set(u, (m.get(u) ?? 0) + p.value[r]);
    });
    const live = (m: Map<string, number>) => [...m.values()].filter((v) => v > 0).length >= 0.8 * deals.size;
    if (live(pre) && live(test)) {
      panels.push(p);
      starts.push(s);
    }
  }
  return { panels, starts, units: deals.size };
}

interface Cell {
  panel: string;
  k: number;
  tallies: Map<string, CalibrationTally>;
  seconds: number;
}

/** Runs the bench; `argv` are the options after the script name. */
export function run(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      pilots: { type: 'string' },
      replications: { type: 'string' },
      panels: { type: 'string' },
      k: { type: 'string' },
      'permutation-pilots': { type: 'string' },
      progress: { type: 'string' },
    },
  });
  const pilots = Number(values.pilots ?? 1000);
  const permPilots = Number(values['permutation-pilots'] ?? 200);
  // every `progress` pilots, the cell's lines so far (a long run on a shared machine can be read before it ends)
  const progress = Number(values.progress ?? 0);
  const reps = Number(values.replications ?? 100);
  const panelNames = (values.panels ?? 'crm,sim').split(',');
  const ks = (values.k ?? '1,2,5').split(',').map(Number);
  const started = Date.now();
  let crm: ReturnType<typeof crmPanels> | null = null;
  if (panelNames.includes('crm')) {
    const dataDir = resolve(values.data ?? process.env.DATA_DIR ?? DEFAULT_DATA_DIR);
    try {
      crm = crmPanels(dataDir);
    } catch (err) {
      console.error(`Data set not found at ${dataDir}: ${(err as Error).message}`);
      DATASET_HELP.forEach((l) => console.error(l));
      process.exit(2);
    }
    console.log(
      `few-treated calibration: crm = ${crm.units} territories, ${crm.panels.length} placebo windows of ${PRE_WEEKS}+${TEST_WEEKS} weeks (pre-period starts ${crm.starts[0]} … ${crm.starts[crm.starts.length - 1]}), KPI weekly revenue won (cohort)`,
    );
  }
  console.log(
    `sim = ${SIM_UNITS} territories, ${PRE_WEEKS}+${TEST_WEEKS} weeks, fresh panel per pilot; ${pilots} placebo pilots per cell (per line; not-offered permutation lines: the first ${Math.min(permPilots, pilots)}), ${reps} placebo replications, α = ${ALPHA}, planted lift +${100 * LIFT}%`,
  );
  const cells: Cell[] = [];
  for (const name of panelNames) {
    for (const k of ks) {
      const cellStart = Date.now();
      const tallies = new Map<string, CalibrationTally>();
      for (const e of ESTIMATORS) {
        tallies.set(e, emptyTally());
        tallies.set(`${e}-permutation`, emptyTally());
      }
      const rng = createPrng(12_000_000 + 1000 * k + (name === 'crm' ? 0 : 500));
      // the product's rule for the permutation p (J = all other territories are donors in every pilot); null = offered
      const units = name === 'crm' ? (crm as NonNullable<typeof crm>).units : SIM_UNITS;
      const decision = permutationDecision(k, units - k, ALPHA);
      const permNotOffered = decision.offered ? null : decision.reason;
      // the product's rule for each estimator's randomization test (rankTestDecision: the same M in every pilot of a cell)
      const testNotOffered = new Map<string, string | null>();
      const printLines = (prefix: string) => {
        for (const [method, t] of tallies) {
          const { line } = calibrationLine(name, k, method, t, FPR_RANGE, COVERAGE_RANGE, method.endsWith('-permutation') ? permNotOffered : (testNotOffered.get(method) ?? null));
          const f = clopperPearson(t.rejections, t.n);
          const c = t.nPlanted ? clopperPearson(t.covered, t.nPlanted) : null;
          const ci = (x: { low: number; high: number }) => `[${(100 * x.low).toFixed(1)}%, ${(100 * x.high).toFixed(1)}%]`;
          console.log(`${prefix}${line}  fpr CI ${ci(f)}${c ? ` coverage CI ${ci(c)}` : ''}`);
        }
      };
      for (let i = 0; i < pilots; i++) {
        let panel: FewTreatedPanel;
        if (name === 'crm') panel = (crm as NonNullable<typeof crm>).panels[rng.nextInt((crm as NonNullable<typeof crm>).panels.length)];
        else panel = simulateFactorPanel(rng, { units: SIM_UNITS, weeks: PRE_WEEKS + TEST_WEEKS });
        const units = [...new Set(panel.unit)].sort();
        const treated = rng.shuffle(units).slice(0, k);
        const seed = 1 + rng.nextInt(1_000_000);
        // the placebo SE (Algorithm 4) is shown, not tested: skipped here
        const opts = { preWeeks: PRE_WEEKS, replications: reps, seed, leaveOneOut: false, level: 1 - ALPHA, placeboSe: false };
        const nul = analyseFewTreated(panel, treated, { ...opts, permutation: i < permPilots || permNotOffered === null });
        for (const est of nul.estimates) {
          if (est.permutation_decision.offered !== decision.offered) throw new Error(`permutation rule differs from the analysis' in pilot ${i}`);
          if (i === 0) testNotOffered.set(est.estimator, est.test_decision.offered ? null : est.test_decision.reason);
          countNull(tallies.get(est.estimator) as CalibrationTally, est.p_value, ALPHA);
          if (est.permutation_p !== null) countNull(tallies.get(`${est.estimator}-permutation`) as CalibrationTally, est.permutation_p, ALPHA);
        }
        const planted = plantLift(panel, treated, PRE_WEEKS, LIFT);
        const withLift = analyseFewTreated(planted.panel, treated, { ...opts, permutation: false });
        for (const est of withLift.estimates) countCoverage(tallies.get(est.estimator) as CalibrationTally, est.ci, planted.trueEffect);
        if (progress > 0 && (i + 1) % progress === 0 && i + 1 < pilots) printLines(`progress ${i + 1}/${pilots} ${((Date.now() - cellStart) / 1000).toFixed(0)} s: `);
      }
      const cell: Cell = { panel: name, k, tallies, seconds: (Date.now() - cellStart) / 1000 };
      cells.push(cell);
      printLines('');
      console.log(`  (panel=${name} k=${k}: ${cell.seconds.toFixed(1)} s)`);
    }
  }
  const mcse = Math.sqrt((ALPHA * (1 - ALPHA)) / pilots);
  console.log(
    `Monte Carlo SE of a 5% rate (and of 95% coverage) at n=${pilots}: ${(100 * mcse).toFixed(1)} percentage points (each line prints its own n and MC SE); total time ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (require.main === module) run(process.argv.slice(2));
