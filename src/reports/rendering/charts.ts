/**
 * The report's charts: Vega-Lite specs built from chart-data.ts, rendered on the server to static
 * SVG by Vega (`View.toSVG()` with the headless 'none' renderer), so the page needs no script and
 * no network. Arms and roles are told apart by shape and dash pattern as well as colour, and every
 * chart carries a text description (`aria-label`) and direct labels, so it reads in greyscale and
 * in print.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ForestRow, VelocityDecomposition, WeeklyChartData } from './chart-data';
import { fmtPct } from './format';

/** Colours that stay apart in greyscale (dark vs mid grey-blue); shapes and dashes carry the same meaning. */
const ARM_COLOURS = ['#4d4d4d', '#1f6fb4', '#b35806', '#5e3c99'];
const ARM_DASHES = [[6, 3], [1, 0], [2, 2], [8, 2, 2, 2]];
const ARM_SHAPES = ['square', 'circle', 'triangle-up', 'diamond'];

/** A number with one decimal and a true minus sign. */
function signed(x: number): string {
  return `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(1)}`;
}

const BASE_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e5e5e5', labelLimit: 260 },
  // below the plot, so it never covers the value labels printed at the right
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', direction: 'horizontal' },
  view: { stroke: null },
  background: 'white',
};

/**
 * Renders a Vega-Lite spec to an SVG string (no script, no external reference).
 * @throws when Vega-Lite cannot compile the spec
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Forest plot: each KPI's relative lift (percent) with its CI as a horizontal bar, a marker per
 * role (shape), a vertical reference line at 0, and the estimate and CI printed at the right.
 */
export function forestPlotSpec(rows: readonly ForestRow[], confLevel = 0.95): TopLevelSpec {
  const values = rows.map((r, i) => ({
    order: i,
    label: r.label,
    role: r.role,
    estimate_pct: 100 * r.estimate,
    ci_low_pct: 100 * r.ci_low,
    ci_high_pct: 100 * r.ci_high,
    text: `${fmtPct(r.estimate)} [${fmtPct(r.ci_low)}, ${fmtPct(r.ci_high)}]${r.significant ? ' *' : ''}`,
  }));
  // An explicit sort array (not a sort field): layers then share one domain without a merge warning.
  const y = { field: 'label', type: 'nominal', sort: values.map((v) => v.label), title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description:
      `Forest plot of relative lifts (treatment versus control) with ${Math.round(100 * confLevel)}% confidence intervals: ` +
      rows.map((r) => `${r.label} ${fmtPct(r.estimate)} from ${fmtPct(r.ci_low)} to ${fmtPct(r.ci_high)}`).join('; '),
    width: 420,
    height: { step: 30 },
    config: BASE_CONFIG,
    data: { values },
    layer: [
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#333' },
        encoding: { x: { field: 'zero', type: 'quantitative' } },
      },
      {
        mark: { type: 'rule', strokeWidth: 2, color: '#333' },
        encoding: {
          y,
          x: { field: 'ci_low_pct', type: 'quantitative', title: 'relative lift, % (treatment vs control)' },
          x2: { field: 'ci_high_pct' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 90, color: '#1f6fb4', stroke: '#000', strokeWidth: 1 },
        encoding: {
          y,
          x: { field: 'estimate_pct', type: 'quantitative' },
          shape: {
            field: 'role',
            type: 'nominal',
            title: 'KPI role',
            scale: { domain: ['primary', 'secondary', 'guardrail'], range: ['diamond', 'circle', 'square'] },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 8, fontSize: 11 },
        encoding: { y, x: { value: 425 }, text: { field: 'text' } },
      },
    ],
    padding: { left: 5, right: 190, top: 5, bottom: 5 },
  } as TopLevelSpec;
}

/**
 * Weekly time series of the primary KPI: one line per arm (colour, dash pattern and point shape),
 * the pre-period and the test period shaded and labelled.
 */
export function weeklySeriesSpec(data: WeeklyChartData): TopLevelSpec {
  const arms = data.arms;
  const armScale = (range: unknown[]) => ({ domain: arms, range: arms.map((_, i) => range[i % range.length]) });
  const isPct = data.unit === 'fraction 0..1';
  const values = data.points.map((p) => ({ ...p, plotted: isPct ? 100 * p.value : p.value }));
  const yTitle = `${data.label}${isPct ? ' (%)' : data.unit === 'currency per day' ? ' (per day)' : data.unit === 'days' ? ' (days)' : ''}, arm mean`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description:
      `Weekly ${data.label} per arm (${arms.join(', ')}), mean over each arm's territories; ` +
      data.bands.map((b) => `${b.label} from ${b.start} (shaded)`).join(', '),
    width: 640,
    height: 260,
    config: BASE_CONFIG,
    layer: [
      {
        data: { values: data.bands },
        mark: { type: 'rect', opacity: 1 },
        encoding: {
          x: { field: 'start', type: 'temporal' },
          x2: { field: 'end' },
          fill: {
            field: 'label',
            type: 'nominal',
            title: 'period',
            scale: { domain: ['pre-period', 'test period'], range: ['#f0f0f0', '#dbe9f6'] },
          },
        },
      },
      {
        data: { values: data.bands },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 11, fontWeight: 'bold', color: '#333' },
        encoding: { x: { field: 'start', type: 'temporal' }, y: { value: 0 }, text: { field: 'label' } },
      },
      {
        data: { values },
        mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 },
        encoding: {
          x: { field: 'week_start', type: 'temporal', title: 'week (start)', axis: { format: '%-d %b %Y', labelAngle: -30 } },
          y: { field: 'plotted', type: 'quantitative', title: yTitle },
          color: { field: 'arm', type: 'nominal', title: 'arm', scale: armScale(ARM_COLOURS) },
          strokeDash: { field: 'arm', type: 'nominal', title: 'arm', scale: armScale(ARM_DASHES) },
          shape: { field: 'arm', type: 'nominal', title: 'arm', scale: armScale(ARM_SHAPES) },
          detail: { field: 'period', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Sales velocity decomposition: each component's contribution to the log velocity ratio (log
 * points, about percent) as a bar with its value printed; bars point right when the component
 * speeds velocity up in treatment.
 */
export function velocityDecompositionSpec(d: VelocityDecomposition): TopLevelSpec {
  const values = d.components
    .filter((c) => c.contribution !== null)
    .map((c, i) => ({
      order: i,
      label: c.label,
      contribution: 100 * c.contribution!,
      ci_low: c.ci_low === null ? null : 100 * c.ci_low,
      ci_high: c.ci_high === null ? null : 100 * c.ci_high,
      direction: c.contribution! >= 0 ? 'speeds up' : 'slows down',
      text:
        `${c.contribution! >= 0 ? '+' : '−'}${Math.abs(100 * c.contribution!).toFixed(1)} (${c.contribution! >= 0 ? 'speeds up' : 'slows down'})` +
        (c.ci_low !== null && c.ci_high !== null ? ` [${signed(100 * c.ci_low)}, ${signed(100 * c.ci_high)}]` : ''),
    }));
  const withCi = values.filter((v) => v.ci_low !== null && v.ci_high !== null);
  const y = { field: 'label', type: 'nominal', sort: values.map((v) => v.label), title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description:
      'Contribution of each component to the change in sales velocity, treatment versus control, in log points: ' +
      values.map((v) => `${v.label} ${v.text}`).join('; '),
    width: 380,
    height: { step: 30 },
    config: BASE_CONFIG,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', stroke: '#000', strokeWidth: 0.5, height: { band: 0.6 } },
        encoding: {
          y,
          x: { field: 'contribution', type: 'quantitative', title: 'contribution to velocity change (log points ≈ %)' },
          fill: {
            field: 'direction',
            type: 'nominal',
            title: 'effect on velocity',
            scale: { domain: ['speeds up', 'slows down'], range: ['#1f6fb4', '#bdbdbd'] },
          },
        },
      },
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', color: '#000' },
        encoding: { x: { field: 'zero', type: 'quantitative' } },
      },
      ...(withCi.length
        ? [
            {
              data: { values: withCi },
              mark: { type: 'rule', strokeWidth: 1.5, color: '#000' },
              encoding: { y, x: { field: 'ci_low', type: 'quantitative' }, x2: { field: 'ci_high' } },
            },
          ]
        : []),
      {
        mark: { type: 'text', align: 'left', dx: 8, fontSize: 11 },
        encoding: { y, x: { value: 385 }, text: { field: 'text' } },
      },
    ],
    padding: { left: 5, right: 210, top: 5, bottom: 5 },
  } as TopLevelSpec;
}

/** Data of the few-treated chart (a chosen pilot's deciding estimator, report few_treated block). */
export interface FewTreatedChartData {
  label: string;
  estimator: string;
  pre_weeks: number;
  series: { week: number; treated: number; synthetic: number; gap: number }[];
  placebo_gaps: { unit: string; gap: number[] }[];
}

/**
 * Two panels of a chosen (few-treated) pilot: the treated territories' weekly KPI against their
 * synthetic counterfactual (pre-period and test period), and the weekly gap (treated − synthetic)
 * with each donor's placebo gap in grey behind it; a rule marks the first test week.
 */
export function fewTreatedSpec(d: FewTreatedChartData): TopLevelSpec {
  const lines = d.series.flatMap((p) => [
    { week: p.week, series: 'treated (observed)', value: p.treated },
    { week: p.week, series: `synthetic counterfactual (${d.estimator})`, value: p.synthetic },
  ]);
  const placebo = d.placebo_gaps.flatMap((g) => g.gap.map((v, week) => ({ week, unit: g.unit, gap: v })));
  const start = [{ week: d.pre_weeks - 0.5 }];
  const x = { field: 'week', type: 'quantitative' as const, title: 'week (0 = first pre-period week)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description: `Weekly ${d.label} of the treated territories against their synthetic counterfactual (${d.estimator}), and the weekly gap with the donors' placebo gaps in grey; the test period starts at week ${d.pre_weeks}`,
    config: BASE_CONFIG,
    vconcat: [
      {
        width: 640,
        height: 220,
        layer: [
          { data: { values: lines }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: `${d.label}, treated mean` }, strokeDash: { field: 'series', type: 'nominal', title: null }, shape: { field: 'series', type: 'nominal', title: null } } },
          { data: { values: start }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { field: 'week', type: 'quantitative' } } },
        ],
      },
      {
        width: 640,
        height: 180,
        layer: [
          { data: { values: placebo }, mark: { type: 'line', color: '#bbbbbb', strokeWidth: 1 }, encoding: { x, y: { field: 'gap', type: 'quantitative', title: 'gap: treated − synthetic' }, detail: { field: 'unit', type: 'nominal' } } },
          { data: { values: d.series }, mark: { type: 'line', color: '#000000', strokeWidth: 2.5 }, encoding: { x, y: { field: 'gap', type: 'quantitative' } } },
          { data: { values: start }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { field: 'week', type: 'quantitative' } } },
        ],
      },
    ],
  } as TopLevelSpec;
}
