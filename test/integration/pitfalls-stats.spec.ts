import request from 'supertest';
import type { KpiResult, PilotReport } from '../../src/reports/report.types';
import { designAndLaunch, ingest, loadTerritories, opportunityRow, OpportunityRowInput, pilot, territory, useIngestionStack } from '../factories';
import { findNonFinite } from '../fixtures/assert-finite';
import { waitForReport } from '../utils/test-stack';

/**
 * Pitfalls P5 (degenerate arms) and P7 (the CI and the p-value agree) of shared/cases/pitfalls.md,
 * end to end: territories and opportunities through the HTTP API, the pilot designed, approved and
 * launched, the report computed by the queued worker job on PostgreSQL, then read back as JSON (its
 * raw text) and as HTML. src/stats/pitfalls.spec.ts checks the same inputs on the estimators alone.
 */

const KPIS = ['revenue_won', 'sales_velocity', 'opportunities', 'win_rate', 'average_deal_size', 'sales_cycle_length', 'open_deals'] as const;
const TEST_MONTHS = ['2024-01', '2024-02', '2024-03'];
const PRE_MONTHS = ['2023-10', '2023-11', '2023-12'];
const day = (month: string, d: number) => `${month}-${String(d).padStart(2, '0')}`;

/** A lost deal engaged on day `d` of `month`, closed on day `closeDay` (default 9 days later). */
const lostDeal = (code: string, month: string, d: number, closeDay = d + 9) =>
  opportunityRow({ territory: code, stage: 'Lost', amount: '0', engage_date: day(month, d), close_date: day(month, closeDay) });
/** A won deal of `amount` engaged on day `d` of `month`, closed on day `closeDay` (default 9 days later). */
const wonDeal = (code: string, month: string, d: number, amount: number, closeDay = d + 9) =>
  opportunityRow({ territory: code, stage: 'Won', amount: amount.toFixed(2), engage_date: day(month, d), close_date: day(month, closeDay) });

interface ReadReport {
  /** the GET body as sent (the stored JSON text) */
  text: string;
  report: PilotReport;
  html: string;
}

/** Every numeric p-value (keys p_value and *_p) inside `value`, with its path. */
function pValuesIn(value: unknown, path = '$'): { path: string; p: number }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => pValuesIn(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [
    ...(typeof v === 'number' && (k === 'p_value' || k.endsWith('_p')) ? [{ path: `${path}.${k}`, p: v }] : []),
    ...pValuesIn(v, `${path}.${k}`),
  ]);
}

/** One (estimate, CI, p) triple the P7 walk checked. */
interface CheckedPair {
  path: string;
  kpi: string | null;
  p: number;
  alpha: number;
  significant: boolean;
}

/** A block whose numbers break P7, or that the walk does not know how to read. */
interface P7Violation {
  path: string;
  kpi: string | null;
  problem: string;
}

/**
 * Blocks that carry a p-value and something interval-like but are NOT a two-sided CI of the same
 * test (so P7's "p < α ⇔ CI excludes 0" does not apply), each with the reason. A block of a new
 * shape that is not here and not read by `walkP7` fails the test until it is classified.
 */
const NOT_A_TWO_SIDED_CI: Record<string, string> = {
  '$.kpis[].non_inferiority':
    'one-sided non-inferiority test against the margin: lower_bound is compared with −margin (non_inferior), not with 0, and its p is one-sided',
};

/**
 * Walks the whole report and checks every block that has a p-value and a CI (whatever the method:
 * the walk goes by shape, so a method added later is covered): lower ≤ estimate ≤ upper, and
 * p < α exactly when the (1 − α) CI excludes 0. A null bound is an unbounded side (±∞). Both bounds
 * null means "no interval" and is accepted unless the block says its CI is unbounded while p < α
 * (an unbounded interval contains 0). Besides the ordinary blocks ({p_value, ci_low, ci_high} at the
 * level of the nearest conf_level, or the report's α):
 *  - `randomization` has no estimate of its own: its statistic is the difference in means, the
 *    `difference` block's estimate;
 *  - `primary_intervals[]` are the primary method's CIs at other levels α': checked against the
 *    primary p at α';
 *  - `adjusted.interval` (Holm-consistent) is checked against the Holm-adjusted primary p at α.
 * Boundary: where p equals the level to 1e-9 the agreement is not judged (as in estimator-invariants.ts);
 * the order check allows the test-inversion bisection slack of 1e-9·max(1, |estimate|).
 */
function walkP7(report: PilotReport): { checked: CheckedPair[]; violations: P7Violation[]; unclassified: string[] } {
  const alpha = report.pilot.alpha;
  const checked: CheckedPair[] = [];
  const violations: P7Violation[] = [];
  const unclassified = new Set<string>();
  const shape = (path: string) => path.replace(/\[\d+\]/g, '[]');
  const num = (v: unknown): v is number => typeof v === 'number';

  const judge = (path: string, kpi: string | null, p: number, level: number, est: number | null, lo: number | null, hi: number | null, note: unknown) => {
    if (lo === null && hi === null) {
      if (p < level && typeof note === 'string' && /unbounded|no constant effect is rejected/i.test(note)) {
        violations.push({ path, kpi, problem: `p = ${p} < ${level} but the CI is reported unbounded (${note})` });
      }
      return;
    }
    const low = lo ?? -Infinity;
    const high = hi ?? Infinity;
    if (est === null) violations.push({ path, kpi, problem: 'a CI without an estimate' });
    else {
      const slack = 1e-9 * Math.max(1, Math.abs(est));
      if (!(low <= est + slack && est <= high + slack)) violations.push({ path, kpi, problem: `estimate ${est} outside its CI [${lo}, ${hi}]` });
    }
    const excludes = low > 0 || high < 0;
    if (Math.abs(p - level) <= 1e-9) return;
    if (p < level !== excludes) violations.push({ path, kpi, problem: `p = ${p} at level ${level} but the CI [${lo}, ${hi}] ${excludes ? 'excludes' : 'contains'} 0` });
    checked.push({ path, kpi, p, alpha: level, significant: p < level });
  };

  const visit = (v: unknown, path: string, kpi: KpiResult | null, level: number) => {
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, `${path}[${i}]`, kpi, level));
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const isKpi = /^\$\.kpis\[\d+\]$/.test(path);
    if (isKpi) kpi = o as unknown as KpiResult;
    const here = num(o.conf_level) ? 1 - o.conf_level : level;
    const key = path.slice(path.lastIndexOf('.') + 1);
    const k = kpi?.kpi ?? null;
    const keys = Object.keys(o);
    const hasP = keys.some((x) => x === 'p_value' || x.endsWith('_p'));
    const hasCi = keys.some((x) => /ci_low|ci_high|lower|upper|bound|interval/.test(x));
    if ('p_value' in o && ('ci_low' in o || 'ci_high' in o)) {
      if (Math.abs(here - alpha) > 1e-12) violations.push({ path, kpi: k, problem: `a CI at level ${1 - here}, not the report's 1 − α = ${1 - alpha}: teach the walk which p it pairs with` });
      else if (num(o.p_value)) {
        let est: number | null = null;
        if ('estimate' in o) est = num(o.estimate) ? o.estimate : null;
        else if ('log_lift' in o) est = num(o.log_lift) ? o.log_lift : null;
        else if (key === 'randomization' && o.statistic === 'difference_in_means' && kpi) est = kpi.difference.estimate;
        else violations.push({ path, kpi: k, problem: `no estimate the CI belongs to (keys ${keys.join(', ')}): teach the walk` });
        judge(path, k, o.p_value, here, est, num(o.ci_low) ? o.ci_low : null, num(o.ci_high) ? o.ci_high : null, o.note);
      }
    } else if (key === 'adjusted' && kpi) {
      const iv = (o as NonNullable<KpiResult['adjusted']>).interval;
      const p = (o as NonNullable<KpiResult['adjusted']>).primary_p;
      if (iv && num(p)) judge(`${path}.interval`, k, p, alpha, kpi.primary.estimate, iv.ci_low, iv.ci_high, iv.note);
    } else if (isKpi && kpi) {
      for (const [i, row] of (kpi.primary_intervals ?? []).entries()) {
        // both bounds null here can only mean unbounded (the rows have no note): then p must be ≥ α'
        if (num(kpi.primary.p_value)) {
          if (row.ci_low === null && row.ci_high === null && kpi.primary.p_value < row.alpha) {
            violations.push({ path: `${path}.primary_intervals[${i}]`, kpi: k, problem: `p = ${kpi.primary.p_value} < ${row.alpha} but no bound` });
          } else judge(`${path}.primary_intervals[${i}]`, k, kpi.primary.p_value, row.alpha, kpi.primary.estimate, row.ci_low, row.ci_high, null);
        }
      }
    } else if (hasP && hasCi && !(shape(path) in NOT_A_TWO_SIDED_CI)) unclassified.add(shape(path));
    for (const [name, child] of Object.entries(o)) {
      if (name === 'primary_intervals' || (key === 'adjusted' && name === 'interval')) continue; // read above
      visit(child, `${path}.${name}`, kpi, here);
    }
  };
  visit(report, '$', null, alpha);
  return { checked, violations, unclassified: [...unclassified] };
}

describe('pitfalls: statistics end to end (API, worker, PostgreSQL, queue)', () => {
  const stack = useIngestionStack([]);

  /** Loads the territories, creates the pilot over them, launches it; returns its id and each territory's arm. */
  async function launch(codes: string[], overrides: Record<string, unknown>) {
    await loadTerritories(stack.http, codes.map((code, i) => territory({ code, region: i % 2 ? 'North' : 'South' })));
    const created = await request(stack.http).post('/pilots').send(pilot(codes, overrides));
    if (created.status !== 201) throw new Error(`POST /pilots answered ${created.status}: ${JSON.stringify(created.body)}`);
    const assignment = await designAndLaunch(stack.http, created.body.id);
    const arms = new Map<string, string>(assignment.units.map((u: { territory_code: string; arm: string }) => [u.territory_code, u.arm]));
    expect([...arms.keys()].sort()).toEqual([...codes].sort());
    const inArm = (arm: string) => codes.filter((c) => arms.get(c) === arm);
    // `units`: the territories in the assignment's order (the order the effect data are drawn in)
    return { pilotId: created.body.id as string, control: inArm('control'), treatment: inArm('treatment'), units: [...arms.keys()] };
  }

  /** Ingests `rows`, requests a report, waits for the worker and reads it back as JSON text and as HTML. */
  async function report(pilotId: string, rows: OpportunityRowInput[]): Promise<ReadReport> {
    await ingest(stack.http, rows);
    const requested = await request(stack.http).post(`/pilots/${pilotId}/reports`).expect(202);
    const reportId: string = requested.body.report_id;
    const done = await waitForReport(stack.http, pilotId, reportId, 120_000);
    expect({ status: done.status, error: done.error ?? null }).toEqual({ status: 'completed', error: null });
    const json = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}`).expect(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const html = await request(stack.http).get(`/pilots/${pilotId}/reports/${reportId}.html`).expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    return { text: json.text, report: JSON.parse(json.text).result as PilotReport, html: html.text };
  }

  /** The report's result for `kpi` (one treatment arm); throws naming the KPIs it has when absent. */
  const kpiOf = (r: PilotReport, kpi: string) => {
    const found = r.kpis.find((k) => k.kpi === kpi);
    if (!found) throw new Error(`the report has no KPI ${kpi} (has ${r.kpis.map((k) => k.kpi).join(', ')})`);
    return found;
  };

  describe('P5 degenerate arms: an explicit status, no NaN/Infinity, never p = 0 or significant', () => {
    /** The report as a whole: no NaN/Infinity in the JSON text, the parsed JSON or the HTML, and no bare null/undefined cell. */
    function expectCleanReport(r: ReadReport): void {
      expect(r.text).not.toMatch(/NaN|Infinity/);
      expect(findNonFinite(r.report)).toEqual([]);
      expect(r.html).toMatch(/^<!DOCTYPE html>/);
      expect(r.html).not.toMatch(/\bNaN\b|Infinity/);
      expect(r.html).not.toMatch(/>\s*(null|undefined|NaN)\s*</);
    }

    /**
     * One degenerate KPI: the status and its reason in the JSON and in the HTML; the Welch block has
     * its estimate (a number) and null t, p and CI; the deciding block takes the status with null p
     * and CI; no decision p, not significant; the relative lift has no interval; every p-value left in
     * the KPI's block (e.g. randomization inference, which stays valid) is positive and not below α.
     */
    function expectDegenerate(r: ReadReport, kpi: string, status: 'zero_variance' | 'insufficient_data', estimate: number | null): KpiResult {
      const k = kpiOf(r.report, kpi);
      const alpha = r.report.pilot.alpha;
      expect({ kpi, status: k.status }).toEqual({ kpi, status });
      expect(k.status_reason).toEqual(expect.any(String));
      expect(k.difference).toEqual({ method: 'welch_t', estimate, ci_low: null, ci_high: null, conf_level: 1 - alpha, se: status === 'zero_variance' ? 0 : null, t: null, df: null, p_value: null });
      expect(k.primary).toMatchObject({ status, p_value: null, ci_low: null, ci_high: null });
      expect(k.primary.note).toContain('not used for a decision');
      expect(k.decision_p).toBeNull();
      expect(k.significant).not.toBe(true);
      expect(k.verdict).toBe(`Cannot judge ${k.label.toLowerCase()}: ${k.status_reason}.`);
      expect(k.relative_lift.status).not.toBe('ok');
      expect([k.relative_lift.ci_low, k.relative_lift.ci_high]).toEqual([null, null]);
      for (const { path, p } of pValuesIn(k)) expect({ kpi, path, p, positive: p > 0, belowAlpha: p < alpha }).toEqual({ kpi, path, p, positive: true, belowAlpha: false });
      expect(k.design_analyses?.fragility.significant ?? []).toEqual([]);
      expect(k.design_analyses?.panel?.fragility.significant ?? []).toEqual([]);
      // the HTML states the same: the KPI cannot be judged, and why
      expect(r.html).toContain(k.verdict.replace(/'/g, '&#39;'));
      return k;
    }

    it('(a) every territory of both arms has 0 revenue won (and equal counts, cycles, win rates): every KPI zero_variance or insufficient_data', async () => {
      const codes = Array.from({ length: 8 }, (_, i) => `A${i + 1}`);
      const { pilotId, control, treatment } = await launch(codes, { primary_kpi: 'revenue_won', secondary_kpis: KPIS.filter((k) => k !== 'revenue_won') });
      expect([control.length, treatment.length]).toEqual([4, 4]);
      // two lost deals per territory in the pre-period and in the test period, on the same days
      const rows = codes.flatMap((code) => [PRE_MONTHS[1], TEST_MONTHS[1]].flatMap((m) => [lostDeal(code, m, 1), lostDeal(code, m, 2)]));
      const r = await report(pilotId, rows);
      expectCleanReport(r);

      const revenue = expectDegenerate(r, 'revenue_won', 'zero_variance', 0);
      // pitfalls.md P5 (a): control [0,0,0,0], treatment [0,0,0,0]
      expect(revenue.control).toEqual({ arm: 'control', n_territories: 4, n_missing: 0, mean: 0, sd: 0 });
      expect(revenue.treatment).toEqual({ arm: 'treatment', n_territories: 4, n_missing: 0, mean: 0, sd: 0 });
      expect(r.report.territories.map((t) => t.kpis.revenue_won)).toEqual(Array(8).fill(0));
      expect(revenue.randomization).toMatchObject({ method: 'exact', p_value: 1, n_assignments: 70 });
      expect(revenue.relative_lift.status).toBe('baseline_not_positive');
      const opportunities = expectDegenerate(r, 'opportunities', 'zero_variance', 0);
      expect([opportunities.control.mean, opportunities.treatment.mean, opportunities.control.sd, opportunities.treatment.sd]).toEqual([2, 2, 0, 0]);
      expect(expectDegenerate(r, 'sales_cycle_length', 'zero_variance', 0).control.mean).toBe(9);
      for (const kpi of ['win_rate', 'sales_velocity', 'open_deals']) expectDegenerate(r, kpi, 'zero_variance', 0);
      // no territory won a deal: the average deal size is undefined everywhere (null values, not 0)
      const deal = expectDegenerate(r, 'average_deal_size', 'insufficient_data', null);
      expect(deal.control).toEqual({ arm: 'control', n_territories: 0, n_missing: 4, mean: null, sd: null });
      expect(r.report.kpis.map((k) => k.status).filter((s) => s === 'ok')).toEqual([]);
      // nothing is decided, and the decision summary does not call anything significant
      expect(r.report.kpis.map((k) => k.significant)).not.toContain(true);
    });

    it('(b) control [3,5,4,6], treatment [7]: one territory of the arm has a value → insufficient_data', async () => {
      // A randomized arm needs at least 2 territories (count ≥ 2), so the single value comes from a
      // treatment territory whose partner has no won deal (its average deal size is undefined).
      const codes = Array.from({ length: 6 }, (_, i) => `B${i + 1}`);
      const { pilotId, control, treatment } = await launch(codes, {
        arms: [
          { key: 'control', role: 'control', count: 4 },
          { key: 'treatment', role: 'treatment', count: 2 },
        ],
        primary_kpi: 'average_deal_size',
        secondary_kpis: KPIS.filter((k) => k !== 'average_deal_size'),
      });
      const rows = [
        ...control.flatMap((code, i) => [PRE_MONTHS[1], TEST_MONTHS[1]].map((m) => wonDeal(code, m, 1, [3, 5, 4, 6][i]))),
        ...[PRE_MONTHS[1], TEST_MONTHS[1]].flatMap((m) => [wonDeal(treatment[0], m, 1, 7), lostDeal(treatment[1], m, 1)]),
      ];
      const r = await report(pilotId, rows);
      expectCleanReport(r);

      // the difference of the two means (7 − 4.5) is shown as a description; nothing is tested on it
      const deal = expectDegenerate(r, 'average_deal_size', 'insufficient_data', 2.5);
      expect(deal.control).toEqual({ arm: 'control', n_territories: 4, n_missing: 0, mean: 4.5, sd: expect.closeTo(1.2909944487358056, 12) });
      expect(deal.treatment).toEqual({ arm: 'treatment', n_territories: 1, n_missing: 1, mean: 7, sd: null }); // a sample SD of one value is undefined
      expect(deal.status_reason).toBe('each arm needs at least 2 territories with a defined average deal size (treatment 1, control 4)');
    });

    it('(c) control [2,2,2], treatment [5,5,5]: zero_variance, never p = 0 or significant (randomization p = 0.1, the 3-vs-3 floor)', async () => {
      const codes = Array.from({ length: 6 }, (_, i) => `C${i + 1}`);
      const { pilotId, control, treatment } = await launch(codes, { primary_kpi: 'opportunities', secondary_kpis: KPIS.filter((k) => k !== 'opportunities') });
      expect([control.length, treatment.length]).toEqual([3, 3]);
      const deals = (code: string, n: number) => [PRE_MONTHS[1], TEST_MONTHS[1]].flatMap((m) => Array.from({ length: n }, (_, d) => lostDeal(code, m, d + 1)));
      const r = await report(pilotId, [...control.flatMap((c) => deals(c, 2)), ...treatment.flatMap((c) => deals(c, 5))]);
      expectCleanReport(r);

      const opp = expectDegenerate(r, 'opportunities', 'zero_variance', 3);
      expect(opp.control).toEqual({ arm: 'control', n_territories: 3, n_missing: 0, mean: 2, sd: 0 });
      expect(opp.treatment).toEqual({ arm: 'treatment', n_territories: 3, n_missing: 0, mean: 5, sd: 0 });
      expect(opp.randomization).toMatchObject({ method: 'exact', n_assignments: 20, p_value: expect.closeTo(0.1, 15), min_attainable_p: expect.closeTo(0.1, 15) });
      // the weekly panel has no variation left either: its cluster-robust rows give no p (they gave p ≈ 1e-55 before)
      const panel = opp.design_analyses!.panel!;
      expect(panel.methods.map((m) => [m.method, m.p_value])).toEqual(panel.methods.map((m) => [m.method, null]));
      expect(opp.methods.did_panel).toMatchObject({ status: 'zero_variance', p_value: null });
    });
  });

  describe('P7 the CI and the p-value agree, for every KPI and method of a report', () => {
    /**
     * Deterministic deals with a real effect: each territory has its own deal size and volume; in the
     * test period treatment territories get 2 more deals a month, a higher win probability and 30%
     * larger deals. Pre-period deals make the covariate-adjusted methods and the panel run.
     */
    function effectDeals(units: string[], treatment: string[]): OpportunityRowInput[] {
      let s = 2024;
      const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
      const rows: OpportunityRowInput[] = [];
      units.forEach((code, i) => {
        const treated = treatment.includes(code);
        for (const m of [...PRE_MONTHS, ...TEST_MONTHS]) {
          const lift = treated && TEST_MONTHS.includes(m);
          for (let k = 0; k < 4 + (i % 3) + (lift ? 2 : 0); k++) {
            const d = 1 + Math.floor(next() * 18);
            const closeDay = Math.min(28, d + 3 + Math.floor(next() * 8));
            if (next() < (lift ? 0.7 : 0.5)) rows.push(wonDeal(code, m, d, Math.round((800 + 150 * (i % 4)) * (lift ? 1.3 : 1) + 300 * next()), closeDay));
            else rows.push(lostDeal(code, m, d, closeDay));
          }
        }
      });
      return rows;
    }

    // Matched pairs once had one: sales velocity, RI on Lin's adjustment, p = 1/32 < 0.05 with a null
    // CI, because invertTest dropped the finite bound of a half-line [744.9, ∞); it keeps it now.

    const DESIGNS: [string, number, Record<string, unknown>][] = [
      ['complete', 12, { type: 'complete', seed: 42 }],
      ['stratified', 12, { type: 'stratified', stratify_by: 'region', seed: 42 }],
      ['matched_pairs', 12, { type: 'matched_pairs', seed: 42, pair_on: 'pre_period_revenue_won' }],
      // C(20, 10) = 184,756 assignments > RI_MAX_EXACT: Monte Carlo randomization inference
      ['complete_monte_carlo', 20, { type: 'complete', seed: 42 }],
    ];

    it.each(DESIGNS)('%s design (%i territories): every (estimate, CI, p) block is ordered and agrees at the report α', async (name, n, design) => {
      const codes = Array.from({ length: n }, (_, i) => `E${String(i + 1).padStart(2, '0')}`);
      const { pilotId, treatment, units } = await launch(codes, {
        design,
        primary_kpi: 'revenue_won',
        secondary_kpis: ['opportunities', 'win_rate', 'average_deal_size', 'sales_velocity'],
        guardrail_kpis: ['sales_cycle_length'],
        guardrail_margins: [{ kpi: 'sales_cycle_length', margin: 0.5, type: 'relative' }],
      });
      const { report: r, text } = await report(pilotId, effectDeals(units, treatment));
      expect(text).not.toMatch(/NaN|Infinity/);
      expect(r.kpis.every((k) => k.status === 'ok')).toBe(true);

      const { checked, violations, unclassified } = walkP7(r);
      expect(unclassified).toEqual([]);
      expect(violations).toEqual([]);
      // the walk really read the report: every KPI's Welch, randomization and primary blocks, the
      // covariate-adjusted methods, the design's own analyses, the panel and the velocity decomposition
      const read = new Set(checked.map((c) => c.path.replace(/\[\d+\]/g, '[]')));
      for (const block of ['difference', 'primary', 'methods.cuped', 'methods.change_score', 'methods.randomization_cuped', 'design_analyses.rows[]', 'design_analyses.panel.methods[]']) {
        expect(read).toContain(`$.kpis[].${block}`);
      }
      expect(read).toContain('$.velocity_decomposition[].components[]');
      expect(read).toContain('$.kpis[].primary_intervals[]');
      if (name === 'matched_pairs') expect(read).toContain('$.kpis[].methods.paired_t');
      if (!name.includes('monte_carlo')) expect(read).toContain('$.kpis[].randomization');
      expect(checked.length).toBeGreaterThan(60);
      // a real effect: some blocks significant, some not (both sides of the equivalence are exercised)
      expect(checked.some((c) => c.significant)).toBe(true);
      expect(checked.some((c) => !c.significant)).toBe(true);
      const primary = kpiOf(r, 'revenue_won');
      expect(primary.decision_p!).toBeLessThan(0.05);
    });

    it.each([
      [0.05, 0.693996, 5.306],
      [0.1, 1.14045, 4.85955],
    ])('pitfalls.md input at α = %p: control [10,12,9,11,13], treatment [14,15,13,16,12] → difference 3, t 3, df 8, p 0.0170717, CI [%p, %p]', async (alpha, lo, hi) => {
      const codes = Array.from({ length: 10 }, (_, i) => `P${String(i + 1).padStart(2, '0')}`);
      const { pilotId, control, treatment } = await launch(codes, { alpha, primary_kpi: 'opportunities', secondary_kpis: ['revenue_won'] });
      expect([control.length, treatment.length]).toEqual([5, 5]);
      // the opportunities KPI is the number of deals engaged in the test period; every third one is won
      const deals = (code: string, count: number) =>
        Array.from({ length: count }, (_, k) => (k % 3 === 0 ? wonDeal(code, TEST_MONTHS[k % 3], 1 + k, 1000 + 37 * k) : lostDeal(code, TEST_MONTHS[k % 3], 1 + k)));
      const rows = [...control.flatMap((c, i) => deals(c, [10, 12, 9, 11, 13][i])), ...treatment.flatMap((c, i) => deals(c, [14, 15, 13, 16, 12][i]))];
      const { report: r, text } = await report(pilotId, rows);
      expect(text).not.toMatch(/NaN|Infinity/);
      expect(r.pilot.alpha).toBe(alpha);

      const d = kpiOf(r, 'opportunities').difference;
      const six = (actual: number | null, expected: number) => expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(5e-6 * Math.abs(expected));
      expect(d.conf_level).toBeCloseTo(1 - alpha, 12);
      six(d.estimate, 3);
      six(d.t, 3);
      six(d.df, 8);
      six(d.p_value, 0.0170717);
      six(d.ci_low, lo);
      six(d.ci_high, hi);
      const { checked, violations, unclassified } = walkP7(r);
      expect(unclassified).toEqual([]);
      expect(violations).toEqual([]);
      expect(checked.filter((c) => c.kpi === 'opportunities' && c.path.endsWith('.difference'))).toEqual([
        expect.objectContaining({ p: d.p_value, alpha: expect.closeTo(alpha, 12), significant: true }),
      ]);
    });
  });
});
