import 'reflect-metadata';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { HISTORY_MAX_ROWS } from '../src/opportunities/history/history-csv';
import { addDays, benchEnvironment, checkpoint, connect, freshSchema, intArg, peakRssMb, poll, prng, spawnEntry } from './bench-util';

/**
 * `npm run bench:ingest [-- --rows N --territories T --profile pilotlab|salesforce]` (defaults
 * 1,000,000, 500 and pilotlab).
 *
 * `--profile salesforce` generates the same rows in a Salesforce Opportunity export's shape (Id,
 * StageName, Amount, CloseDate, CreatedDate with `+0000` offsets, IsWon/IsClosed as "true"/"false",
 * OwnerId, Territory2.Name, Account.Name, Product2.Name, SystemModstamp) and uploads it with
 * `?profile=salesforce` (docs/imports.md); the COPY baseline is the same rows as stored.
 *
 * Measures in ONE run, on the same generated rows:
 * (a) end to end: a CSV upload streamed to the API (a separate process), staged with COPY, the
 *     `ingestion` job in a worker process (another process) upserting into `opportunities`, until
 *     the batch status says completed: rows/s;
 * (b) the physical ceiling: raw `COPY` of the same rows (already typed, from a file) into an empty
 *     copy of `opportunities` (same columns, primary key, indexes and checks): rows/s, the median
 *     of 5 runs (the ratio against the fastest is printed too).
 * Prints both, the peak RSS (VmHWM) of the API and worker processes, and last the ratio line.
 * Wipes DB_NAME (default pilotlab_bench).
 */
/** Raw COPY runs of the baseline (the median is the ceiling). */
const COPY_RUNS = 5;

/** The median of a non-empty list of numbers (the mean of the middle two for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const n = intArg('rows', 1_000_000);
  const nTerritories = intArg('territories', 500);
  const profileArg = process.argv.indexOf('--profile');
  const profile = profileArg < 0 ? 'pilotlab' : process.argv[profileArg + 1];
  if (profile !== 'pilotlab' && profile !== 'salesforce') throw new Error('--profile needs pilotlab or salesforce');
  const salesforce = profile === 'salesforce';
  // the export's field history too (salesforce only; on by default there, off with --no-history)
  const history = salesforce && !process.argv.includes('--no-history');
  const port = 3900 + Math.floor(Math.random() * 90);
  const adminKey = `bench-admin-${Date.now()}-0123456789abcdef`;
  const env = benchEnvironment();
  const shared = {
    DB_NAME: env.DB_NAME,
    QUEUE_PREFIX: `${env.QUEUE_PREFIX}-bench-${process.pid}`,
    LOG_LEVEL: 'warn',
    BOOTSTRAP_ADMIN_KEY: adminKey,
    NODE_ENV: 'development',
  };
  console.log(`bench:ingest  rows=${n.toLocaleString('en')}  territories=${nTerritories}  profile=${profile}  database=${env.DB_NAME}`);
  await freshSchema(env);

  const dir = mkdtempSync(join(tmpdir(), 'pilotlab-bench-'));
  const csvPath = join(dir, 'opportunities.csv');
  const stages = ['Won', 'Lost', 'Engaging', 'Prospecting'];
  const rand = prng(42);
  const out = createWriteStream(csvPath);
  out.write(
    salesforce
      ? 'Id,StageName,Amount,CloseDate,CreatedDate,IsWon,IsClosed,OwnerId,Territory2.Name,Account.Name,Product2.Name,SystemModstamp\n'
      : 'opportunity_id,territory,stage,amount,engage_date,close_date,created_at,source_updated_at,product,account\n',
  );
  const sfStage: Record<string, string> = { Won: 'Closed Won', Lost: 'Closed Lost', Engaging: 'Negotiation/Review', Prospecting: 'Prospecting' };
  // The export's OpportunityFieldHistory (salesforce): a closed deal's StageName change into its
  // closed stage on the close day; a won deal's Amount set then too. No extra draws: the
  // opportunity rows are the same with and without it. Written in files of HISTORY_MAX_ROWS rows
  // (one upload each: the history endpoints are synchronous and take at most that many rows).
  const historyFiles: string[] = [];
  let historyRows = 0;
  let historyBuf = '';
  const flushHistory = (last: boolean) => {
    if (historyBuf === '' || (!last && historyRows % HISTORY_MAX_ROWS !== 0)) return;
    const file = join(dir, `history-${historyFiles.length}.csv`);
    writeFileSync(file, 'OpportunityId,CreatedDate,Field,OldValue,NewValue\n' + historyBuf);
    historyFiles.push(file);
    historyBuf = '';
  };
  const addHistory = (line: string) => {
    historyBuf += line;
    historyRows += 1;
    flushHistory(false);
  };
  let buf = '';
  for (let i = 0; i < n; i++) {
    const stage = stages[Math.floor(rand() * 4)];
    const engage = addDays('2023-01-02', Math.floor(rand() * 700));
    const closed = stage === 'Won' || stage === 'Lost';
    const close = closed ? addDays(engage, 1 + Math.floor(rand() * 90)) : '';
    const amount = !salesforce && stage === 'Won' ? `"$${(100 + Math.floor(rand() * 9_900_000) / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}"` : '';
    if (salesforce) {
      // Same draws as the pilotlab rows; an open deal carries an expected CloseDate (dropped by the profile).
      // Two owners per territory (reps work in their territory): each (territory, owner, week) is a
      // rollup change key, and owners drawn independently of territories would make nearly every row its own key.
      const sfAmount = stage === 'Won' ? (100 + Math.floor(rand() * 9_900_000) / 100).toFixed(2) : '';
      const expected = close || addDays(engage, 30);
      const id = `006B${i.toString(36).padStart(11, '0')}`;
      buf += `${id},${sfStage[stage]},${sfAmount},${expected},${engage}T09:00:00.000+0000,${stage === 'Won'},${closed},005B${String(2 * (i % nTerritories) + (Math.floor(i / nTerritories) % 2)).padStart(11, '0')},BT-${String(i % nTerritories).padStart(4, '0')},Account ${i % 997},GTX Plus Basic,${close || engage}T17:30:00.000+0000\n`;
      if (history && closed) {
        addHistory(`${id},${close}T17:30:00.000+0000,StageName,Negotiation/Review,${sfStage[stage]}\n`);
        if (stage === 'Won') addHistory(`${id},${close}T17:30:00.000+0000,Amount,,${sfAmount}\n`);
      }
    } else {
      buf += `BO-${i.toString(36).padStart(7, '0')},BT-${String(i % nTerritories).padStart(4, '0')},${stage},${amount},${engage},${close},${engage}T09:00:00Z,${close || engage}T17:30:00Z,GTX Plus Basic,Account ${i % 997}\n`;
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  flushHistory(true);
  const bytes = statSync(csvPath).size;
  console.log(`generated ${csvPath}: ${(bytes / 1e6).toFixed(1)} MB`);
  if (history) console.log(`generated the field history: ${historyRows.toLocaleString('en')} rows in ${historyFiles.length} files of at most ${HISTORY_MAX_ROWS.toLocaleString('en')}`);

  const api = spawnEntry('main', { ...shared, PORT: port });
  const worker = spawnEntry('worker', { ...shared, WORKER_QUEUES: 'ingestion' });
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'x-api-key': adminKey, 'content-type': 'application/json' };
  try {
    await poll(async () => ((await fetch(`${base}/health`).catch(() => null))?.ok ? true : undefined), 'the API', 120_000, 500);
    const territories = Array.from({ length: nTerritories }, (_, i) => ({
      code: `BT-${String(i).padStart(4, '0')}`,
      name: `Bench territory ${i}`,
      region: ['North', 'South', 'East', 'West'][i % 4],
    }));
    const t = await fetch(`${base}/territories`, { method: 'POST', headers, body: JSON.stringify(territories) });
    if (t.status !== 200) throw new Error(`POST /territories ${t.status}: ${await t.text()}`);
    // Let the worker finish booting before the clock starts (it is polled by BullMQ).
    await new Promise((r) => setTimeout(r, 3_000));

    // Both timed phases start from a clean checkpoint, so neither pays for the other's dirty pages.
    await checkpoint(env);
    // (a) end to end
    const started = Date.now();
    const accepted = await new Promise<{ batch_id: string }>((resolve, reject) => {
      const req = httpRequest(`${base}/opportunities/batches/csv${salesforce ? '?profile=salesforce' : ''}`, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'text/csv' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 202 ? resolve(JSON.parse(body)) : reject(new Error(`upload ${res.statusCode}: ${body}`))));
      });
      req.on('error', reject);
      createReadStream(csvPath).pipe(req);
    });
    const uploaded = Date.now();
    const status = await poll(
      async () => {
        const s = (await (await fetch(`${base}/opportunities/batches/${accepted.batch_id}?limit=1`, { headers })).json()) as Record<string, any>;
        return ['completed', 'failed'].includes(s.status) ? s : undefined;
      },
      'the batch',
      3_600_000,
      250,
    );
    const e2eMs = Date.now() - started;
    if (status.status !== 'completed' || status.rows_inserted !== n) throw new Error(`batch ended ${status.status}: ${JSON.stringify(status)}`);
    // (a') the field history, one synchronous upload per file, after the batch (its anomaly scan
    // reads the stored opportunities' histories)
    let historyMs = 0;
    if (history) {
      await checkpoint(env);
      const historyStarted = Date.now();
      for (const file of historyFiles) {
        const res = await fetch(`${base}/opportunities/history/csv`, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'text/csv' }, body: readFileSync(file) });
        const body = (await res.json()) as Record<string, any>;
        if (res.status !== 200 || body.rejected_rows.length > 0) throw new Error(`history upload ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
      }
      historyMs = Date.now() - historyStarted;
    }
    const apiRss = peakRssMb(api.pid!);
    const workerRss = peakRssMb(worker.pid!);

    // (b) raw COPY of the same rows into an empty copy of the table
    const c = await connect(env);
    const copyPath = join(dir, 'opportunities.copy');
    await pipeline(
      c.query(
        copyTo(`COPY (SELECT opportunity_id, territory_id, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at,
                             product, account, version_at, version_batch_seq, version_row, batch_id, ingested_at, owner, data_version
                        FROM opportunities) TO STDOUT`),
      ),
      createWriteStream(copyPath),
    );
    await c.query(`CREATE TABLE bench_copy (LIKE opportunities INCLUDING ALL)`);
    // COPY_RUNS times (emptied and checkpointed in between). On this shared VM one COPY of the same
    // rows took 8.7–14.5 s in consecutive runs while the end-to-end time held at 27–31 s
    // (docs/performance.md), so a single run or the faster of two decided the ratio by chance: the
    // ceiling is the median of the runs; the ratio against the fastest run is printed beside it.
    const copyRuns: number[] = [];
    for (let run = 0; run < COPY_RUNS; run++) {
      await c.query('TRUNCATE bench_copy');
      await c.query('CHECKPOINT');
      const copyStarted = Date.now();
      const copyStream = c.query(
        copyFrom(`COPY bench_copy (opportunity_id, territory_id, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at,
                                   product, account, version_at, version_batch_seq, version_row, batch_id, ingested_at, owner, data_version) FROM STDIN`),
      );
      await pipeline(createReadStream(copyPath), copyStream);
      copyRuns.push(Date.now() - copyStarted);
      const [{ n: copied }] = (await c.query(`SELECT count(*)::int AS n FROM bench_copy`)).rows;
      if (copied !== n) throw new Error(`COPY stored ${copied} rows`);
    }
    const copyMs = median(copyRuns);
    const fastestMs = Math.min(...copyRuns);
    await c.query(`DROP TABLE bench_copy`);
    // (b') raw COPY of the stored field history into an empty copy of its table, the same way
    let historyCopyMs = 0;
    const historyCopyRuns: number[] = [];
    if (history) {
      const cols = 'upload_id, source_row, field, opportunity_id, changed_at, old_value, new_value, received_at, new_status';
      const historyPath = join(dir, 'history.copy');
      await pipeline(c.query(copyTo(`COPY (SELECT ${cols} FROM opportunity_field_history) TO STDOUT`)), createWriteStream(historyPath));
      const [{ n: stored }] = (await c.query(`SELECT count(*)::int AS n FROM opportunity_field_history`)).rows;
      if (stored !== historyRows) throw new Error(`the field history holds ${stored} rows, ${historyRows} sent`);
      await c.query(`CREATE TABLE bench_history_copy (LIKE opportunity_field_history INCLUDING ALL)`);
      for (let run = 0; run < COPY_RUNS; run++) {
        await c.query('TRUNCATE bench_history_copy');
        await c.query('CHECKPOINT');
        const t0 = Date.now();
        await pipeline(createReadStream(historyPath), c.query(copyFrom(`COPY bench_history_copy (${cols}) FROM STDIN`)));
        historyCopyRuns.push(Date.now() - t0);
      }
      historyCopyMs = median(historyCopyRuns);
      await c.query(`DROP TABLE bench_history_copy`);
    }
    await c.end();

    const e2eRate = n / (e2eMs / 1000);
    const copyRate = n / (copyMs / 1000);
    console.log(`upload streamed and staged in ${((uploaded - started) / 1000).toFixed(1)} s; batch completed after ${(e2eMs / 1000).toFixed(1)} s`);
    console.log(`end to end (API → COPY staging → queue → worker upsert): ${Math.round(e2eRate).toLocaleString('en')} rows/s`);
    console.log(
      `raw COPY into an empty copy of opportunities:          ${Math.round(copyRate).toLocaleString('en')} rows/s (${(copyMs / 1000).toFixed(1)} s; ` +
        `the median of ${copyRuns.length} runs: ${copyRuns.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')})`,
    );
    if (history) {
      console.log(
        `field history: ${historyRows.toLocaleString('en')} rows in ${historyFiles.length} uploads, ${(historyMs / 1000).toFixed(1)} s ` +
          `(${Math.round(historyRows / (historyMs / 1000)).toLocaleString('en')} rows/s); raw COPY ${(historyCopyMs / 1000).toFixed(1)} s ` +
          `(median of ${historyCopyRuns.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}): history ratio ${(historyCopyMs / historyMs).toFixed(2)}`,
      );
      console.log(`export plus its history, end to end ${((e2eMs + historyMs) / 1000).toFixed(1)} s against raw COPY ${((copyMs + historyCopyMs) / 1000).toFixed(1)} s`);
    }
    console.log(`peak RSS: api ${apiRss} MB, worker ${workerRss} MB (target < 512 MB each)`);
    console.log(`against the fastest COPY run (${(fastestMs / 1000).toFixed(1)} s): ratio ${(fastestMs / e2eMs).toFixed(2)}`);
    // the ratio line: the opportunity rows plus, for salesforce, the history (time against time)
    console.log(`ingest (profile ${profile}${history ? ' with history' : ''}) e2e/copy ratio=${((copyMs + historyCopyMs) / (e2eMs + historyMs)).toFixed(2)}`);
  } finally {
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
