/**
 * The KPI catalogue: what a pilot may name as primary, secondary or guardrail KPI. Definitions in
 * docs/kpis.md; the cohort conventions are those of shared/reference/sales_velocity.json.
 */
export const KPI_CATALOGUE = {
  sales_velocity: {
    label: 'Sales velocity',
    unit: 'currency per day',
    higherIsBetter: true,
    description: 'opportunities × win rate × average deal size ÷ sales cycle length',
  },
  opportunities: { label: 'Opportunities', unit: 'count', higherIsBetter: true, description: 'deals engaged in the window' },
  win_rate: { label: 'Win rate', unit: 'fraction 0..1', higherIsBetter: true, description: 'won ÷ closed' },
  average_deal_size: {
    label: 'Average deal size',
    unit: 'currency',
    higherIsBetter: true,
    description: 'mean amount of won deals',
  },
  sales_cycle_length: {
    label: 'Sales cycle length',
    unit: 'days',
    higherIsBetter: false,
    description: 'mean days from engage to close over closed deals',
  },
  revenue_won: { label: 'Revenue won', unit: 'currency', higherIsBetter: true, description: 'sum of won amounts' },
  open_deals: {
    label: 'Open deals',
    unit: 'count',
    higherIsBetter: false,
    description: 'cohort deals not closed by the end of the window',
  },
} as const;

export type KpiKey = keyof typeof KPI_CATALOGUE;
export const KPI_KEYS = Object.keys(KPI_CATALOGUE) as KpiKey[];
