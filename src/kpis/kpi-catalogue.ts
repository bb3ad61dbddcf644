import type { CohortKpis } from '../stats/sales-velocity';

/** One catalogue entry: how a KPI is shown and which of a territory's cohort KPIs it reads. */
export interface KpiDefinition {
  label: string;
  unit: string;
  /** direction of a good change (guardrails and one-sided tests read it) */
  higherIsBetter: boolean;
  description: string;
  /**
   * true when the KPI grows with the window's length (a count or sum over the deals engaged in the
   * window, or a product with that count): comparing windows of different lengths needs per-day
   * rates (the change score, docs/statistics.md). false for per-deal means and shares.
   */
  windowTotal: boolean;
  /** the KPI's value for one territory's cohort (stats/sales-velocity.ts); null when undefined there */
  value: (k: CohortKpis) => number | null;
}

/**
 * The KPI catalogue: what a pilot may name as primary, secondary or guardrail KPI. Definitions in
 * docs/kpis.md; the cohort conventions are those of shared/reference/sales_velocity.json.
 * A new KPI is one entry here, its sums in the rollup SQL (rollups/rollup.sql.ts) and its
 * statistic in stats/sales-velocity.ts (docs/architecture.md, "Adding a KPI").
 */
export const KPI_CATALOGUE = {
  sales_velocity: {
    label: 'Sales velocity',
    unit: 'currency per day',
    higherIsBetter: true,
    description: 'opportunities × win rate × average deal size ÷ sales cycle length',
    windowTotal: true,
    value: (k) => k.velocity,
  },
  opportunities: {
    label: 'Opportunities',
    unit: 'count',
    higherIsBetter: true,
    description: 'deals engaged in the window',
    windowTotal: true,
    value: (k) => k.n_opportunities,
  },
  win_rate: { label: 'Win rate', unit: 'fraction 0..1', higherIsBetter: true, description: 'won ÷ closed', windowTotal: false, value: (k) => k.win_rate },
  average_deal_size: {
    label: 'Average deal size',
    unit: 'currency',
    higherIsBetter: true,
    description: 'mean amount of won deals',
    windowTotal: false,
    value: (k) => k.avg_won_deal_size,
  },
  sales_cycle_length: {
    label: 'Sales cycle length',
    unit: 'days',
    higherIsBetter: false,
    description: 'mean days from engage to close over closed deals',
    windowTotal: false,
    value: (k) => k.avg_cycle_days,
  },
  revenue_won: {
    label: 'Revenue won',
    unit: 'currency',
    higherIsBetter: true,
    description: 'sum of won amounts',
    windowTotal: true,
    value: (k) => k.won_amount_total,
  },
  open_deals: {
    label: 'Open deals',
    unit: 'count',
    higherIsBetter: false,
    description: 'cohort deals not closed by the end of the window',
    windowTotal: true,
    value: (k) => k.n_open,
  },
} satisfies Record<string, KpiDefinition>;

export type KpiKey = keyof typeof KPI_CATALOGUE;
export const KPI_KEYS = Object.keys(KPI_CATALOGUE) as KpiKey[];

/**
 * The value of catalogue KPI `key` for one territory's cohort KPIs (null when undefined for that
 * territory, e.g. a win rate without a closed deal).
 */
export function kpiValue(k: CohortKpis, key: KpiKey): number | null {
  return KPI_CATALOGUE[key].value(k);
}

/** Catalogue KPI `key` as a measure a pure statistic can read (e.g. stats/weekly-series.ts): key, label, unit and value. */
export function kpiMeasure<K extends KpiKey>(key: K): { key: K; label: string; unit: string; value: (k: CohortKpis) => number | null } {
  const { label, unit, value } = KPI_CATALOGUE[key];
  return { key, label, unit, value };
}

/**
 * A design covariate in words: `pre_period_<kpi>` (the KPI over the pre-period, a covariate the
 * product derives) as "pre-period <KPI label>", e.g. `pre_period_sales_velocity` → "pre-period sales
 * velocity"; any other name (a territory attribute, named by whoever loaded it) unchanged.
 */
export function covariateLabel(name: string): string {
  const kpi = name.startsWith('pre_period_') ? name.slice('pre_period_'.length) : null;
  if (kpi !== null && (KPI_KEYS as readonly string[]).includes(kpi)) return `pre-period ${KPI_CATALOGUE[kpi as KpiKey].label.toLowerCase()}`;
  return name;
}
