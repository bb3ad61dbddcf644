import { SingleBar, Presets } from 'cli-progress';
import { stringify } from 'csv-stringify/sync';
import type { PilotReport } from '../reports/report.types';
import { ApiClient } from './api-client';
import { PipelineRow } from './crm-dataset';
import { say } from './demo-output';

/**
 * Uploads `rows` as one CSV file (header from the first row's fields, CRLF line ends) to
 * POST /opportunities/batches/csv. @returns the batch id (the batch is processed by the worker).
 * @throws Error with the API's answer on a non-2xx answer (e.g. 429 when the queue is full)
 */
export async function uploadCsv(api: ApiClient, rows: PipelineRow[], label: string): Promise<string> {
  const csv = stringify(rows, { header: true, record_delimiter: 'windows', columns: Object.keys(rows[0]) });
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), `${label}.csv`);
  const accepted = await api.post('/opportunities/batches/csv', form);
  return accepted.batch_id as string;
}

/**
 * Polls each batch (GET /opportunities/batches/:id every 200 ms) until all are completed or failed,
 * showing progress (a bar on a terminal, a line every 25% on a pipe). `rows` is the batch's row
 * count (for the progress total). @returns the batches with their final `status` body.
 * @throws Error after 10 minutes
 */
export async function waitForBatches(api: ApiClient, batches: { id: string; label: string; rows: number }[]) {
  const total = batches.reduce((s, b) => s + b.rows, 0);
  // A bar on a terminal; on a pipe (CI logs) a line every 25% instead of a redraw per update.
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: '   ingesting [{bar}] {percentage}% | {value}/{total} rows | {batches}' }, Presets.shades_classic)
    : null;
  bar?.start(total, 0, { batches: '' });
  let lastQuarter = -1;
  const done = new Map<string, any>();
  const deadline = Date.now() + 10 * 60_000;
  while (done.size < batches.length) {
    if (Date.now() > deadline) throw new Error('ingestion did not finish within 10 minutes');
    let processed = 0;
    for (const b of batches) {
      const s = done.get(b.id) ?? (await api.get(`/opportunities/batches/${b.id}?limit=20`));
      if (s.status === 'completed' || s.status === 'failed') done.set(b.id, s);
      processed += s.rows_processed;
    }
    bar?.update(processed, { batches: `${done.size}/${batches.length} batch(es) done` });
    const quarter = Math.floor((4 * processed) / Math.max(total, 1));
    if (!bar && quarter > lastQuarter) {
      say(`   ingesting: ${processed}/${total} rows (${Math.round((100 * processed) / Math.max(total, 1))}%)`);
      lastQuarter = quarter;
    }
    if (done.size < batches.length) await new Promise((r) => setTimeout(r, 200));
  }
  bar?.stop();
  return batches.map((b) => ({ ...b, status: done.get(b.id) }));
}

/**
 * Requests a report of `pilotId` (POST /pilots/:id/reports) and polls it every 150 ms until it is
 * completed. @returns the report id and its result. @throws Error when the job fails or after 5 minutes
 */
export async function runReport(api: ApiClient, pilotId: string): Promise<{ id: string; result: PilotReport }> {
  const { report_id } = await api.post(`/pilots/${pilotId}/reports`);
  const frames = ['|', '/', '-', '\\'];
  let i = 0;
  const started = Date.now();
  for (;;) {
    const r = await api.get(`/pilots/${pilotId}/reports/${report_id}`);
    if (r.status === 'completed') {
      if (process.stdout.isTTY) process.stdout.write('\r');
      say(`  analysis job finished in ${((Date.now() - started) / 1000).toFixed(1)} s                `);
      return { id: report_id, result: r.result };
    }
    if (r.status === 'failed') throw new Error(`report failed: ${r.error}`);
    if (Date.now() - started > 5 * 60_000) throw new Error('report did not finish within 5 minutes');
    if (process.stdout.isTTY) process.stdout.write(`\r  analysis job ${r.status} ${frames[i++ % 4]}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

