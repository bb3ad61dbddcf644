/**
 * Renders a stored pilot report as one self-contained HTML page: inline CSS, charts as inline SVG
 * (charts.ts), no script, no external reference, so it opens offline and prints to PDF. Pure
 * apart from the chart rendering (async). Every section reads the report defensively: a part the
 * report lacks says "not available for this report" and the page still renders.
 */
import { kpisOf } from './chart-data';
import { esc } from './format';
import { fewTreatedSection, forestSection, velocitySection, weeklySection } from './report-chart-sections';
import { CSS } from './report-html.css';
import { section, SECTIONS, type ReportHtmlInput } from './report-html.helpers';
import { diagnosticsSection } from './report-diagnostics-section';
import { kpiSection } from './report-kpi-section';
import { assignmentSection, balanceSection, completenessSection, decisionSection, detailsSection, returnSection } from './report-sections';

export { CHARTS, SECTIONS, type AssignmentView, type ReportHtmlInput } from './report-html.helpers';

/**
 * The whole page for a completed report.
 * @returns an HTML5 document (UTF-8) with inline CSS and SVG, no script
 */
export async function renderReportHtml(input: ReportHtmlInput): Promise<string> {
  const report = input.report;
  const name = report.pilot?.name ?? 'Pilot';
  const [forest, weeklyOnly, velocity, fewTreated] = await Promise.all([forestSection(report), weeklySection(report), velocitySection(report), fewTreatedSection(report)]);
  const weekly = fewTreated ? `${fewTreated}\n${weeklyOnly}` : weeklyOnly;
  const links = input.links ?? {};
  const exportLinks = [
    links.kpisCsv ? `<li><a href="${esc(links.kpisCsv)}">KPI result table (CSV)</a></li>` : '',
    links.territoriesCsv ? `<li><a href="${esc(links.territoriesCsv)}">Territory KPI values per arm and period (CSV)</a></li>` : '',
    links.json ? `<li><a href="${esc(links.json)}">The full report (JSON)</a></li>` : '',
  ].join('');
  const body = [
    section('decision', decisionSection(report, input)),
    section('return', returnSection(report, input)),
    section('kpis', kpiSection(report)),
    section('forest', forest),
    section('diagnostics', diagnosticsSection(report)),
    section('weekly', weekly),
    section('velocity', velocity),
    section('balance', balanceSection(input)),
    section('assignment', assignmentSection(report, input)),
    section('completeness', completenessSection(report)),
    section('details', detailsSection(report)),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pilot report: ${esc(name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="n">PilotLab pilot report</p>
<h1>${esc(name)}</h1>
<dl class="meta">
<dt>Report</dt><dd><code>${esc(input.meta.report_id)}</code>, ${esc(input.meta.status)}, generated ${esc(report.generated_at ?? input.meta.completed_at ?? '—')}</dd>
<dt>Pilot</dt><dd><code>${esc(input.meta.pilot_id)}</code>, ${esc(pilotStatusInWords(report.pilot?.status))}; primary KPI ${esc(kpisOf(report).find((k) => k.role === 'primary')?.label ?? report.pilot?.primary_kpi ?? '—')}</dd>
<dt>Test period</dt><dd>${esc(report.pilot?.test_period?.start ?? '—')} to ${esc(report.pilot?.test_period?.end ?? '—')}</dd>
</dl>
${report.readout?.test_period_complete === false ? `<p class="banner" role="note">${esc(report.readout.note ?? 'Interim look: the test period is still running.')}</p>` : ''}
<nav aria-label="Sections"><h2 class="visually-hidden">Contents</h2><ol>
${SECTIONS.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join('\n')}
</ol></nav>
</header>
<main>
${body}
</main>
<footer>
${exportLinks ? `<section class="exports" aria-label="Exports"><h2>Exports</h2><ul>${exportLinks}</ul></section>` : ''}
<p class="note">Charts are drawn on the server with Vega-Lite; the page has no script and needs no network.</p>
</footer>
</body>
</html>
`;
}

/** A short page for a report that is not completed yet (queued, running or failed). */
export function renderPendingHtml(meta: ReportHtmlInput['meta'] & { error?: string | null }): string {
  const text =
    meta.status === 'failed'
      ? `The report failed: ${meta.error ?? 'unknown error'}.`
      : `The report is ${meta.status}; reload this page in a moment.`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pilot report ${esc(meta.report_id)}: ${esc(meta.status)}</title></head>
<body><main><h1>Pilot report ${esc(meta.status)}</h1><p data-status="${esc(meta.status)}">${esc(text)}</p></main></body></html>
`;
}

/** A pilot's status as a reader says it (never the stored code, e.g. in_review). */
const PILOT_STATUS_WORDS: Record<string, string> = {
  draft: 'draft',
  in_review: 'in review',
  approved: 'approved',
  running: 'running',
  stopped: 'stopped',
  concluded: 'concluded',
  archived: 'archived',
};

/** @param status stored pilot status (pilot.entity.ts PILOT_STATUSES); unknown: its words with spaces; absent: '—' */
function pilotStatusInWords(status: unknown): string {
  if (typeof status !== 'string' || !status) return '—';
  return PILOT_STATUS_WORDS[status] ?? status.replace(/_/g, ' ');
}
