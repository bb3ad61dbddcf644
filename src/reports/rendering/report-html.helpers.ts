/**
 * Shared pieces of the report page (report-html.renderer.ts): its input types, the section and chart
 * lists, and tiny text helpers used by every section. Imports no other part of the page.
 */
import type { BalanceRow } from '../../stats/balance';
import type { ReportData } from './chart-data';
import type { ReportDonorPool } from '../report.types';
import { esc } from './format';

/** The assignment as `GET /pilots/:id/assignment` returns it (the parts the page uses). */
export interface AssignmentView {
  units: { territory_code: string; name?: string | null; region?: string | null; stratum?: string | null; arm: string }[];
  balance?: { treatment_arm?: string; control_arm?: string; smd_rule?: string; rows?: BalanceRow[] } | null;
  /** the stored design; a chosen design carries its donor pool */
  design?: { type?: string; donor_pool?: Partial<ReportDonorPool> | null } | null;
}

/** Everything the page shows. */
export interface ReportHtmlInput {
  report: ReportData;
  /** the report row: id, status and timestamps */
  meta: { report_id: string; pilot_id: string; status: string; requested_at?: Date | string | null; completed_at?: Date | string | null };
  /** the pilot's assignment with regions and balance (null when it could not be read) */
  assignment?: AssignmentView | null;
  /** the pilot's declared monthly cost, for reports that do not store it */
  monthlyCost?: number | null;
  /** links to the other formats of this report */
  links?: { json?: string; territoriesCsv?: string; kpisCsv?: string };
}

/** The page's sections in order: id and heading (the browser test checks each). */
export const SECTIONS = [
  { id: 'decision', title: 'Decision summary' },
  { id: 'return', title: 'Return on the pilot' },
  { id: 'kpis', title: 'KPI results' },
  { id: 'forest', title: 'Relative lift of every KPI' },
  { id: 'diagnostics', title: 'Few-cluster diagnostics and robustness' },
  { id: 'weekly', title: 'Primary KPI week by week' },
  { id: 'velocity', title: 'Sales velocity decomposition' },
  { id: 'balance', title: 'Balance of the arms' },
  { id: 'assignment', title: 'Assignment by region' },
  { id: 'completeness', title: 'Data completeness and open deals' },
  { id: 'details', title: 'Design and methods' },
] as const;

/** The charts the page draws (the browser test checks each). */
export const CHARTS = ['forest', 'weekly', 'velocity'] as const;

/** Text as a sentence: capital first letter, final full stop (empty for nothing). */
export function sentence(text: unknown): string {
  if (typeof text !== 'string' || !text.trim()) return '';
  const t = text.trim();
  return `${t[0].toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/** The note a section shows for a part the report lacks. */
export function notAvailable(what: string): string {
  return `<p class="na">Not available for this report: ${esc(what)}.</p>`;
}

/** A page section: its id, its heading (from SECTIONS) and its body. */
export function section(id: (typeof SECTIONS)[number]['id'], body: string): string {
  const title = SECTIONS.find((s) => s.id === id)!.title;
  return `<section id="${id}" data-section="${id}" aria-labelledby="${id}-h">\n<h2 id="${id}-h">${esc(title)}</h2>\n${body}\n</section>`;
}

/** The treatment arms of the report (several for a multi-arm pilot). */
export function treatmentArms(report: ReportData): string[] {
  const list = (report.arms as unknown as { treatments?: unknown } | undefined)?.treatments;
  if (Array.isArray(list) && list.length) return list.map(String);
  return report.arms?.treatment ? [report.arms.treatment] : [];
}
