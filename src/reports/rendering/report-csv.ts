/**
 * CSV exports of a report (csv-stringify): the territory-level KPI values per arm and period, and
 * the KPI result table. Pure; numbers are written at full precision (no rounding), a missing value
 * as an empty cell, one header row, CRLF line ends (RFC 4180).
 */
import { stringify } from 'csv-stringify/sync';
import { KPI_KEYS, type KpiKey } from '../../kpis/kpi-catalogue';
import { kpisOf, type ReportData } from './chart-data';
import { num } from './format';

/** KPI values of one territory over one period (`null` = undefined for that territory). */
export type KpiValues = Partial<Record<KpiKey, number | null>>;

/** Extra per-territory facts the caller knows (region from the assignment, pre-period values). */
export interface TerritoryExtras {
  region?: string | null;
  /** the territory's KPI values over the pre-period, when the report does not store them */
  pre_period?: KpiValues | null;
}

const CSV_OPTIONS = { header: true, record_delimiter: 'windows' as const, cast: { boolean: (b: boolean) => (b ? 'true' : 'false') } };

function cell(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return String(v);
}

/** The pre-period KPI values a report stores for a territory under any of the names used for them. */
function storedPrePeriod(t: Record<string, unknown>): KpiValues | null {
  const v = t.pre_period_kpis ?? t.pre_kpis ?? (t.pre_period as Record<string, unknown> | undefined)?.kpis;
  return v && typeof v === 'object' ? (v as KpiValues) : null;
}

/**
 * Territory-level KPI values per arm and period: one row per territory and period (`test`, and
 * `pre` when the pre-period values are known), columns territory_code, region, stratum, arm,
 * period, period_start, period_end, then every catalogue KPI, then open_now (test rows only).
 * @param extras per territory code: region and pre-period values (used when the report has none)
 */
export function territoryKpiCsv(report: ReportData, extras: Map<string, TerritoryExtras> = new Map()): string {
  const test = report.pilot?.test_period;
  const pre = report.pilot?.pre_period;
  const rows: Record<string, unknown>[] = [];
  const territories = Array.isArray(report.territories) ? report.territories : [];
  for (const t of territories) {
    const x = extras.get(t.territory_code) ?? {};
    const base = { territory_code: t.territory_code, region: x.region ?? null, stratum: t.stratum ?? null, arm: t.arm };
    const preValues = storedPrePeriod(t as unknown as Record<string, unknown>) ?? x.pre_period ?? null;
    if (preValues) {
      rows.push({ ...base, period: 'pre', period_start: pre?.start, period_end: pre?.end, ...kpiCells(preValues), open_now: null });
    }
    rows.push({ ...base, period: 'test', period_start: test?.start, period_end: test?.end, ...kpiCells(t.kpis ?? {}), open_now: t.open_now });
  }
  const columns = ['territory_code', 'region', 'stratum', 'arm', 'period', 'period_start', 'period_end', ...KPI_KEYS, 'open_now'];
  return stringify(
    rows.map((r) => columns.map((c) => cell(r[c]))),
    { ...CSV_OPTIONS, columns },
  );
}

function kpiCells(values: KpiValues): Record<string, number | null> {
  return Object.fromEntries(KPI_KEYS.map((k) => [k, num(values[k])]));
}

/** Column names of the KPI result table, in order. */
export const KPI_RESULT_COLUMNS = [
  'kpi',
  'label',
  'unit',
  'role',
  'status',
  'control_arm',
  'control_territories',
  'control_mean',
  'treatment_arm',
  'treatment_territories',
  'treatment_mean',
  'difference',
  'difference_ci_low',
  'difference_ci_high',
  'conf_level',
  'difference_method',
  'welch_p',
  'relative_lift',
  'relative_lift_ci_low',
  'relative_lift_ci_high',
  'relative_lift_method',
  'randomization_p',
  'randomization_method',
  'adjusted_p',
  'adjustment_method',
  'decision_p',
  'significant',
  'verdict',
] as const;

const METHOD_FIELDS = [
  ['estimate', 'estimate'],
  ['ci_low', 'ci_low'],
  ['ci_high', 'ci_high'],
  ['p', 'p_value'],
] as const;

/** Columns of the deciding method (`primary`), the other methods (`methods.*`) and the non-inferiority test, as present. */
function methodColumns(kpis: ReturnType<typeof kpisOf>): { columns: string[]; cells: (k: ReturnType<typeof kpisOf>[number]) => Record<string, unknown> } {
  const rec = (k: unknown) => k as Record<string, unknown>;
  const hasPrimary = kpis.some((k) => rec(k).primary && typeof rec(k).primary === 'object');
  const methodKeys: string[] = [];
  for (const k of kpis) {
    const m = rec(k).methods as Record<string, unknown> | undefined;
    if (m && typeof m === 'object') for (const key of Object.keys(m)) if (!methodKeys.includes(key)) methodKeys.push(key);
  }
  const hasNi = kpis.some((k) => rec(k).non_inferiority);
  const columns = [
    ...(hasPrimary ? ['primary_method', ...METHOD_FIELDS.map(([c]) => `primary_${c}`)] : []),
    ...methodKeys.flatMap((key) => [`${key}_method`, ...METHOD_FIELDS.map(([c]) => `${key}_${c}`)]),
    ...(hasNi ? ['non_inferiority_margin', 'non_inferiority_margin_type', 'non_inferiority_p', 'non_inferiority_adjusted_p', 'non_inferior'] : []),
  ];
  const cells = (k: ReturnType<typeof kpisOf>[number]) => {
    const out: Record<string, unknown> = {};
    const block = (prefix: string, b: Record<string, unknown> | null | undefined) => {
      out[`${prefix}_method`] = b?.method ?? null;
      for (const [c, f] of METHOD_FIELDS) out[`${prefix}_${c}`] = b?.[f] ?? null;
    };
    if (hasPrimary) block('primary', rec(k).primary as Record<string, unknown> | undefined);
    const m = (rec(k).methods ?? {}) as Record<string, Record<string, unknown> | null>;
    for (const key of methodKeys) block(key, m[key]);
    const ni = rec(k).non_inferiority as Record<string, unknown> | null | undefined;
    if (hasNi) {
      out.non_inferiority_margin = ni?.margin ?? null;
      out.non_inferiority_margin_type = ni?.margin_type ?? null;
      out.non_inferiority_p = ni?.p_value ?? null;
      out.non_inferiority_adjusted_p = ni?.adjusted_p ?? null;
      out.non_inferior = ni?.non_inferior ?? null;
    }
    return out;
  };
  return { columns, cells };
}

/**
 * The KPI result table: one row per KPI (and treatment arm) of the report, every number as stored:
 * the fixed columns of {@link KPI_RESULT_COLUMNS}, then the deciding method (`primary_*`), each
 * other method of the report (`<method>_estimate`, `_ci_low`, `_ci_high`, `_p`) and the
 * non-inferiority test, when the report has them.
 */
export function kpiResultCsv(report: ReportData): string {
  const kpis = kpisOf(report);
  const extra = methodColumns(kpis);
  const rows = kpis.map((k) => {
    const r: Record<(typeof KPI_RESULT_COLUMNS)[number], unknown> = {
      kpi: k.kpi,
      label: k.label,
      unit: k.unit,
      role: k.role,
      status: k.status,
      control_arm: k.control?.arm,
      control_territories: k.control?.n_territories,
      control_mean: k.control?.mean,
      treatment_arm: k.treatment?.arm,
      treatment_territories: k.treatment?.n_territories,
      treatment_mean: k.treatment?.mean,
      difference: k.difference?.estimate,
      difference_ci_low: k.difference?.ci_low,
      difference_ci_high: k.difference?.ci_high,
      conf_level: k.difference?.conf_level,
      difference_method: k.difference?.method,
      welch_p: k.difference?.p_value,
      relative_lift: k.relative_lift?.estimate,
      relative_lift_ci_low: k.relative_lift?.ci_low,
      relative_lift_ci_high: k.relative_lift?.ci_high,
      relative_lift_method: k.relative_lift?.method,
      randomization_p: k.randomization?.p_value,
      randomization_method: k.randomization?.method,
      adjusted_p: (k.adjusted as unknown as Record<string, unknown> | null)?.primary_p ?? k.adjusted?.randomization_p ?? null,
      adjustment_method: k.adjusted?.method ?? null,
      decision_p: k.decision_p,
      significant: k.significant,
      verdict: k.verdict,
    };
    const more = extra.cells(k);
    return [...KPI_RESULT_COLUMNS.map((c) => cell(r[c])), ...extra.columns.map((c) => cell(more[c]))];
  });
  return stringify(rows, { ...CSV_OPTIONS, columns: [...KPI_RESULT_COLUMNS, ...extra.columns] });
}
