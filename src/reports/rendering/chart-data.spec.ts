import { forestPlotSpec, renderSvg, velocityDecompositionSpec, weeklySeriesSpec } from './charts';
import { forestPlotData, velocityDecompositionData, weeklyChartData } from './chart-data';
import { fmtPct } from './format';
import { sampleReport } from './sample-report.fixture';

/** The inline data values of every layer of a Vega-Lite spec (what Vega draws). */
function layerValues(spec: any): any[][] {
  return spec.layer.map((l: any) => (l.data ?? spec.data)?.values ?? []);
}

describe('forest plot data', () => {
  it("plots every KPI's stored relative lift and CI, and lists the KPIs without one", () => {
    const report = sampleReport();
    const { rows, omitted } = forestPlotData(report);
    const plotted = report.kpis.filter((k) => k.relative_lift.estimate !== null);
    expect(rows.map((r) => [r.kpi, r.estimate, r.ci_low, r.ci_high])).toEqual(
      plotted.map((k) => [k.kpi, k.relative_lift.estimate, k.relative_lift.ci_low, k.relative_lift.ci_high]),
    );
    expect(omitted).toEqual([{ label: 'Average deal size', reason: 'insufficient data' }]);
    // open deals: lower is better, estimate +10% -> not favourable
    expect(rows.find((r) => r.kpi === 'open_deals')!.favourable).toBe(false);
    expect(rows.find((r) => r.kpi === 'sales_velocity')!.favourable).toBe(true);
  });

  it('the spec draws those numbers (in percent) and the SVG prints each estimate with its CI', async () => {
    const { rows } = forestPlotData(sampleReport());
    const spec = forestPlotSpec(rows);
    const main = layerValues(spec)[1];
    expect(main.map((v: any) => [v.estimate_pct, v.ci_low_pct, v.ci_high_pct])).toEqual(rows.map((r) => [100 * r.estimate, 100 * r.ci_low, 100 * r.ci_high]));
    const svg = await renderSvg(spec);
    for (const r of rows) expect(svg).toContain(`${fmtPct(r.estimate)} [${fmtPct(r.ci_low)}, ${fmtPct(r.ci_high)}]`);
    // one marker per KPI (point marks are paths with class mark-symbol)
    const symbols = svg.match(/<g class="mark-symbol[^"]*"[^>]*>(.*?)<\/g>/s)?.[1] ?? '';
    expect((symbols.match(/<path /g) ?? []).length).toBe(rows.length);
  });

  it('an empty or odd report gives no rows instead of throwing', () => {
    expect(forestPlotData({} as any)).toEqual({ rows: [], omitted: [] });
    expect(forestPlotData({ kpis: [null, { kpi: 'x', label: 'X' }] } as any)).toEqual({ rows: [], omitted: [{ label: 'X', reason: 'no estimate' }] });
  });
});

describe('weekly chart data', () => {
  it("plots the stored weekly arm means, one point per arm and week with a value, and shades both periods", () => {
    const report = sampleReport();
    const stored = report.weekly_primary_kpi as any;
    const data = weeklyChartData(report)!;
    const full = stored.weeks.filter((w: any) => w.days === 7);
    expect(full.length).toBe(stored.weeks.length - 1); // 2024-01-29..31 is 3 days
    const expected = full.flatMap((w: any) =>
      w.arms.filter((a: any) => a.mean !== null).map((a: any) => ({ week_start: w.week_start, period: w.period, arm: a.arm, value: a.mean, n_territories: a.n_territories })),
    );
    expect(data.points).toEqual(expected);
    expect(data.points.length).toBeGreaterThan(0);
    expect(data.gaps).toBe(full.length * 2 - expected.length);
    expect(data.partial_weeks).toBe(1);
    expect(data.bands).toEqual([
      { period: 'pre', label: 'pre-period', start: '2024-01-01', end: '2024-02-01' },
      { period: 'test', label: 'test period', start: '2024-02-05', end: '2024-03-04' },
    ]);
    const values = layerValues(weeklySeriesSpec(data));
    expect(values[2].map((v: any) => v.plotted)).toEqual(expected.map((p: any) => p.value));
    expect(values[0]).toEqual(data.bands);
  });

  it('a report without the series gives null', () => {
    const report = sampleReport();
    delete (report as any).weekly_primary_kpi;
    expect(weeklyChartData(report)).toBeNull();
  });

  it('a fraction KPI is plotted in percent', () => {
    const report = sampleReport();
    const w = report.weekly_primary_kpi as any;
    w.unit = 'fraction 0..1';
    w.weeks = [{ period: 'test', week_start: '2024-02-05', week_end: '2024-02-11', days: 7, arms: [{ arm: 'control', mean: 0.25, n_territories: 3, n_missing: 1 }] }];
    const values = layerValues(weeklySeriesSpec(weeklyChartData(report)!));
    expect(values[2].map((v: any) => v.plotted)).toEqual([25]);
  });
});

describe('velocity decomposition data', () => {
  it("without the analysis' decomposition, uses the arms' mean territory values: contributions are log ratios", () => {
    const report = sampleReport();
    const d = velocityDecompositionData(report)!;
    expect(d.source).toBe('territory_means');
    const mean = (arm: string, k: string) => {
      const xs = report.territories.filter((t) => t.arm === arm).map((t) => (t.kpis as any)[k]);
      return xs.reduce((s: number, x: number) => s + x, 0) / xs.length;
    };
    for (const c of d.components) {
      expect(c.control).toBeCloseTo(mean('control', c.component), 12);
      expect(c.treatment).toBeCloseTo(mean('treatment', c.component), 12);
      const ln = Math.log(c.treatment! / c.control!);
      expect(c.contribution).toBeCloseTo(c.component === 'sales_cycle_length' ? -ln : ln, 12);
    }
    expect(d.total).toBeCloseTo(d.components.reduce((s, c) => s + c.contribution!, 0), 12);
    const largest = d.components.reduce((a, b) => (Math.abs(b.contribution!) > Math.abs(a.contribution!) ? b : a));
    expect(d.largest).toBe(largest.component);
    const bars = layerValues(velocityDecompositionSpec(d))[0];
    expect(bars.map((b: any) => b.contribution)).toEqual(d.components.map((c) => 100 * c.contribution!));
  });

  it("prefers the analysis' own velocity_decomposition (per treatment arm, log-lifts with CIs)", () => {
    const report = sampleReport();
    const comp = (component: string, control: number, treatment: number, ci: [number, number]) => ({
      component,
      control,
      treatment,
      log_lift: Math.log(treatment / control),
      ci_low: ci[0],
      ci_high: ci[1],
    });
    (report as any).velocity_decomposition = [
      {
        treatment_arm: 'treatment',
        control_arm: 'control',
        conf_level: 0.95,
        components: [
          comp('velocity', 100, 90, [-0.3, 0.1]),
          comp('opportunities', 10, 11, [-0.1, 0.3]),
          comp('win_rate', 0.5, 0.5, [-0.2, 0.2]),
          comp('average_deal_size', 1000, 900, [-0.4, 0.2]),
          comp('sales_cycle_length', 40, 50, [0.05, 0.4]),
        ],
      },
    ];
    const d = velocityDecompositionData(report)!;
    expect(d.source).toBe('report');
    expect(d.components.map((c) => c.contribution)).toEqual([Math.log(1.1), 0, Math.log(0.9), -Math.log(50 / 40)]);
    // the divisor's CI flips sign and order
    expect(d.components[3]).toMatchObject({ ci_low: -0.4, ci_high: -0.05 });
    expect(d.components[0]).toMatchObject({ ci_low: -0.1, ci_high: 0.3, control: 10, treatment: 11 });
    expect(d.velocity).toEqual({ log_lift: Math.log(0.9), ci_low: -0.3, ci_high: 0.1 });
    expect(d.largest).toBe('sales_cycle_length');
    const bars = layerValues(velocityDecompositionSpec(d))[0];
    expect(bars.map((b: any) => [b.contribution, b.ci_low, b.ci_high])).toEqual(d.components.map((c) => [100 * c.contribution!, 100 * c.ci_low!, 100 * c.ci_high!]));
  });

  it('gives null when the report has neither source', () => {
    const report = sampleReport();
    (report as any).territories = [];
    expect(velocityDecompositionData(report)).toBeNull();
  });
});
