import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { hashApiKey } from '../auth/api-key.service';
import { createApi, createWorker } from '../bootstrap';
import { loadEnvironment } from '../config/env.validation';
import { ensureDatabase, runMigrations } from '../database/migrate';
import type { KpiResult, PilotReport } from '../reports/report.types';
import { ApiClient } from './api-client';
import { DATASET_HELP, DEFAULT_DATA_DIR, PipelineRow, readCrmDataset } from './crm-dataset';
import { plantLift } from './planted-effect';

const PRE_PERIOD = { start: '2017-03-01', end: '2017-06-30' };
const TEST_PERIOD = { start: '2017-07-01', end: '2017-12-31' };
const SEED = 42;
/**
 * The bootstrap admin key the demo uses when BOOTSTRAP_ADMIN_KEY is not set: for a local run only
 * (README). In production the API refuses to start without its own BOOTSTRAP_ADMIN_KEY.
 */
const DEMO_ADMIN_KEY = 'pilotlab-local-demo-admin-key-0001';
/** Declared cost of the treatment per month (the specialists' headcount), set against revenue won in the HTML report. */
const MONTHLY_COST = 15_000;

interface DemoArgs {
  dataDir: string;
  injectLift: number | null;
  outDir: string;
}

function parseDemoArgs(): DemoArgs {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      'inject-lift': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log('npm run demo -- [--data DIR] [--inject-lift 0.15] [--out DIR]');
    process.exit(0);
  }
  let injectLift: number | null = null;
  if (values['inject-lift'] !== undefined) {
    injectLift = Number(values['inject-lift']);
    if (!/^-?\d*\.?\d+$/.test(values['inject-lift']) || !(injectLift > -1)) {
      throw new Error(`--inject-lift must be a number > -1 (e.g. 0.15), got '${values['inject-lift']}'`);
    }
  }
  return {
    dataDir: resolve(values.data ?? process.env.DATA_DIR ?? DEFAULT_DATA_DIR),
    injectLift,
    outDir: resolve(values.out ?? 'out'),
  };
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Computes a territory's pre-period covariates from the file (cohort conventions of docs/kpis.md). */
function preCovariates(rows: PipelineRow[], agent: string) {
  const cohort = rows.filter((r) => r.sales_agent === agent && r.engage_date >= PRE_PERIOD.start && r.engage_date <= PRE_PERIOD.end);
  const wonRevenue = cohort
    .filter((r) => r.deal_stage === 'Won' && r.close_date !== '' && r.close_date <= PRE_PERIOD.end)
    .reduce((s, r) => s + Number(r.close_value), 0);
  return { pre_won_revenue: wonRevenue, pre_opportunities: cohort.length };
}

async function uploadCsv(api: ApiClient, rows: PipelineRow[], label: string): Promise<string> {
  const csv = stringify(rows, { header: true, record_delimiter: 'windows', columns: Object.keys(rows[0]) });
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), `${label}.csv`);
  const accepted = await api.post('/opportunities/batches/csv', form);
  return accepted.batch_id as string;
}

async function waitForBatches(api: ApiClient, batches: { id: string; label: string; rows: number }[]) {
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

async function runReport(api: ApiClient, pilotId: string): Promise<{ id: string; result: PilotReport }> {
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

/** One number format for the whole table: thousands separators, 0 decimals from 100 up, else 2 (3 below 1). */
function fmt(x: number | null | undefined, unit = ''): string {
  if (x === null || x === undefined) return '—';
  if (unit === 'fraction 0..1') return `${(100 * x).toFixed(1)}%`;
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const UNIT_LABEL: Record<string, string> = {
  'currency per day': ' (per day)',
  'fraction 0..1': ' (%)',
  days: ' (days)',
  count: '',
  currency: '',
};

function fmtP(p: number | null): string {
  if (p === null) return '—';
  return p < 1e-4 ? '<0.0001' : p.toFixed(4);
}

function printReport(report: PilotReport): void {
  const table = new Table({
    head: ['KPI', 'role', 'control mean', 'treatment mean', 'lift', 'Welch 95% CI of difference', 'p Welch', 'primary-method 95% CI', 'decision p', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const k of report.kpis) {
    const lift = k.relative_lift.estimate;
    const ci =
      k.difference.ci_low === null
        ? '—'
        : k.unit === 'fraction 0..1'
          ? `[${(100 * k.difference.ci_low).toFixed(1)}, ${(100 * k.difference.ci_high!).toFixed(1)}] pp`
          : `[${fmt(k.difference.ci_low, k.unit)}, ${fmt(k.difference.ci_high, k.unit)}]`;
    table.push([
      `${k.label}${UNIT_LABEL[k.unit] ?? ''}`,
      k.role,
      fmt(k.control.mean, k.unit),
      fmt(k.treatment.mean, k.unit),
      lift === null ? '—' : `${lift >= 0 ? '+' : ''}${(100 * lift).toFixed(1)}%`,
      ci,
      fmtP(k.difference.p_value),
      k.primary.ci_low === null
        ? '—'
        : k.unit === 'fraction 0..1'
          ? `[${(100 * k.primary.ci_low).toFixed(1)}, ${(100 * k.primary.ci_high!).toFixed(1)}] pp`
          : `[${fmt(k.primary.ci_low, k.unit)}, ${fmt(k.primary.ci_high, k.unit)}]`,
      `${fmtP(k.decision_p)}${k.adjusted ? ` (${k.adjusted.method === 'bh' ? 'BH' : 'Holm'})` : ''}`,
      shortVerdict(k),
    ]);
  }
  say(table.toString());
  say(`  p Welch: the Welch t-test, unadjusted. Primary method (decides): ${report.primary_method.name}.`);
  say('  Its CI and decision p come from the same method (the p is Holm-adjusted across the secondary and guardrail KPIs).');
  printAnalyses(report);
  say();
  for (const k of report.kpis) say(`  • ${k.label}: ${k.verdict}`);
  const o = report.open_opportunities;
  say();
  if (report.readout.note) say(`  ${report.readout.note}`);
  say(
    `  Open opportunities at readout: control ${o.control.open_at_test_end}, treatment ${o.treatment.open_at_test_end} ` +
      `(deals engaged in the test period and not closed by ${report.pilot.test_period.end}).`,
  );
  say(
    `  Open now: control ${o.control.open_now}, treatment ${o.treatment.open_now} (every open deal of these territories, ` +
      'including those engaged earlier and prospects without an engage date).',
  );
  say(
    `  Data cut-off: last load ${report.data_cutoff.ingested_at}, latest engage/close date ${report.data_cutoff.latest_activity_date}, ` +
      `${report.data_cutoff.opportunities} opportunities of the pilot's territories.`,
  );
  const ri = report.kpis[0].randomization;
  say(
    `  Randomization inference: ${ri.method === 'exact' ? `exact over ${ri.n_assignments} assignments` : `${ri.draws} Monte Carlo draws`} ` +
      `of the stratified design (smallest attainable p ${fmtP(ri.min_attainable_p)}).`,
  );
}

/** The issue-3 analyses in a few lines: adjustment, DiD, why velocity moved, time to close, completeness. */
function printAnalyses(report: PilotReport): void {
  const primary = report.kpis[0];
  const cup = primary.methods.cuped;
  const lin = primary.methods.regression_adjustment;
  if (cup && lin) {
    say(
      `  ${primary.label}: CUPED (θ ${fmt(cup.theta)}, variance −${cup.variance_reduction === null ? '—' : (100 * cup.variance_reduction).toFixed(0)}%) ` +
        `effect ${fmt(cup.estimate, primary.unit)} [${fmt(cup.ci_low, primary.unit)}, ${fmt(cup.ci_high, primary.unit)}] p ${fmtP(cup.p_value)}; ` +
        `Lin regression (HC2, df ${lin.df}) ${fmt(lin.estimate, primary.unit)} [${fmt(lin.ci_low, primary.unit)}, ${fmt(lin.ci_high, primary.unit)}] p ${fmtP(lin.p_value)}`,
    );
  }
  for (const k of report.kpis) {
    const d = k.methods.did_panel;
    if (d && d.status === 'ok') {
      say(`  DiD ${k.label} (${d.unit}, ${d.weeks_pre} + ${d.weeks_test} weeks, CR2, df ${d.df!.toFixed(1)}): ${fmt(d.estimate)} [${fmt(d.ci_low)}, ${fmt(d.ci_high)}] p ${fmtP(d.p_value)}`);
    }
  }
  for (const v of report.velocity_decomposition) {
    const parts = v.components.map((c) => `${c.component} ${c.lift === null ? '—' : `${c.lift >= 0 ? '+' : ''}${(100 * c.lift).toFixed(1)}%`} (p ${fmtP(c.p_value)})`);
    say(`  Why pooled velocity moved (${v.treatment_arm} vs ${v.control_arm}; log-lifts add up, cycle subtracts): ${parts.join(', ')}`);
  }
  const km = report.sales_cycle_survival;
  say(
    `  Time to close (Kaplan–Meier, open deals censored at ${km.cutoff}): ` +
      km.arms.map((a) => `${a.arm} median ${a.median_days ?? 'not reached'} days [${a.median_ci_low ?? '—'}, ${a.median_ci_high ?? '∞'}] (${a.censored} of ${a.n} open)`).join('; ') +
      `; log-rank p ${km.log_rank.map((l) => fmtP(l.p_value)).join(', ')}`,
  );
  const dc = report.data_completeness;
  say(
    `  Data completeness: ${dc.state === 'ok' ? 'consistent with the design' : dc.state === 'mismatch' ? 'MISMATCH, investigate before trusting the results' : 'the checks cannot detect a mismatch at this size'}; ` +
      dc.arms.map((a) => `${a.arm} ${a.territories_reporting}/${a.designed_territories} territories reporting, ${a.opportunities_test} opportunities (pre-period ${a.opportunities_pre})`).join('; '),
  );
  for (const c of dc.checks) say(`    ${c.note}`);
}

function shortVerdict(k: KpiResult): string {
  if (k.status !== 'ok') return k.status;
  if (k.significant === null) return 'n/a';
  if (!k.significant) return 'no significant difference';
  const up = (k.difference.estimate ?? 0) > 0;
  return `${up ? 'up' : 'down'}, ${up === k.higher_is_better ? 'better' : 'worse'} (significant)`;
}

/** Active bootstrap admin keys other than `key` in the demo's database (0 on a fresh one). */
async function otherBootstrapKeys(env: ReturnType<typeof loadEnvironment>, key: string): Promise<number> {
  const client = new Client({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_NAME });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM api_keys WHERE is_bootstrap AND revoked_at IS NULL AND key_hash <> $1`, [hashApiKey(key)]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const args = parseDemoArgs();
  if (!existsSync(args.dataDir)) {
    say(`Data set not found at ${args.dataDir}.`);
    DATASET_HELP.forEach((l) => say(l));
    process.exit(2);
  }
  const env = loadEnvironment();
  say('PilotLab demo: a territory pilot from definition to significance report, on the public CRM sample data.');
  say(`  data: ${args.dataDir}`);
  say(`  database: ${env.DB_NAME} at ${env.DB_HOST}:${env.DB_PORT}; Redis ${env.REDIS_HOST}:${env.REDIS_PORT}`);
  if (await ensureDatabase(env)) say(`  created database ${env.DB_NAME}`);
  const applied = await runMigrations(env);
  say(`  migrations: ${applied.length ? applied.join(', ') : 'schema up to date'}`);

  const adminKey = env.BOOTSTRAP_ADMIN_KEY ?? DEMO_ADMIN_KEY;
  if (!env.BOOTSTRAP_ADMIN_KEY && (await otherBootstrapKeys(env, adminKey)) > 0) {
    // Registering the demo default would rotate (revoke) the operator's own bootstrap key.
    say(`This database (${env.DB_NAME}) has its own bootstrap admin key, and the demo would revoke it by registering`);
    say('its local default. Run the demo with BOOTSTRAP_ADMIN_KEY set to that key, or on another database (DB_NAME=...).');
    process.exit(2);
  }
  const demoOverrides = { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', QUEUE_PREFIX: `${env.QUEUE_PREFIX}-demo`, BOOTSTRAP_ADMIN_KEY: adminKey };
  const app: NestExpressApplication = await createApi(demoOverrides);
  await app.listen(0, '127.0.0.1');
  const worker: INestApplicationContext = await createWorker(demoOverrides);
  const address = app.getHttpServer().address() as import('node:net').AddressInfo;
  const admin = new ApiClient(`http://127.0.0.1:${address.port}`, adminKey);
  say(`  API listening on http://127.0.0.1:${address.port} (OpenAPI at /docs); worker consuming ingestion and analysis`);
  // One key per role, created with the bootstrap admin key (each key is shown once; not printed here).
  const keyFor = async (role: string) => admin.withKey((await admin.post('/api-keys', { name: `demo ${role}`, role })).key);
  const api = await keyFor('sales_ops');
  const experimenter = await keyFor('experimenter');
  const analyst = await keyFor('analyst');
  say(`  API keys: bootstrap admin ${env.BOOTSTRAP_ADMIN_KEY ? 'from BOOTSTRAP_ADMIN_KEY' : '(local demo default)'}; sales_ops, experimenter and analyst keys created`);

  try {
    const { pipeline, teams } = readCrmDataset(args.dataDir);
    say();
    say(`1. Territories: the ${teams.length} sales agents of sales_teams.csv (region = regional office, team = manager)`);
    const active = new Set(pipeline.map((r) => r.sales_agent));
    const idle = teams.filter((t) => !active.has(t.sales_agent)).map((t) => t.sales_agent);
    const territories = teams.map((t) => ({
      code: t.sales_agent,
      name: t.sales_agent,
      region: t.regional_office,
      team: t.manager,
      manager: t.manager,
      attributes: preCovariates(pipeline, t.sales_agent),
    }));
    const loaded = await api.post('/territories', territories);
    say(`   loaded ${loaded.received} territories (${loaded.created} created, ${loaded.updated} updated)`);
    say(`   covariates from each agent's pre-period (${PRE_PERIOD.start}..${PRE_PERIOD.end}) history: pre_won_revenue, pre_opportunities`);
    say(`   left out of the eligible set, because they have no opportunities at all in the pipeline: ${idle.join(', ')}`);
    const eligible = teams.filter((t) => active.has(t.sales_agent)).map((t) => t.sales_agent);

    say();
    say('2. History: opportunities engaged before the test period, ingested through the batch API and the queue');
    const history = pipeline.filter((r) => r.engage_date !== '' && r.engage_date < TEST_PERIOD.start);
    const rest = pipeline.filter((r) => !(r.engage_date !== '' && r.engage_date < TEST_PERIOD.start));
    const historyBatch = await uploadCsv(api, history, 'history');
    const [h] = await waitForBatches(api, [{ id: historyBatch, label: 'history', rows: history.length }]);
    say(`   batch ${historyBatch}: ${h.status.rows_accepted} accepted, ${h.status.rows_rejected} rejected`);

    say();
    say('3. Pilot: "Technical specialist in chosen regions", stratified by regional office, seed 42');
    const pilot = await api.post('/pilots', {
      name: 'Technical specialist in chosen regions',
      hypothesis: 'A technical sales specialist joining the team raises sales velocity',
      treatment_description: 'technical sales specialist joins the team',
      eligibility: { territory_codes: eligible },
      arms: [
        { key: 'control', role: 'control', ratio: 1 },
        { key: 'treatment', role: 'treatment', ratio: 1 },
      ],
      primary_kpi: 'sales_velocity',
      secondary_kpis: ['opportunities', 'win_rate', 'average_deal_size', 'sales_cycle_length', 'revenue_won'],
      guardrail_kpis: ['open_deals'],
      pre_period: PRE_PERIOD,
      test_period: TEST_PERIOD,
      alpha: 0.05,
      design: { type: 'stratified', stratify_by: 'region', seed: SEED },
      monthly_cost: MONTHLY_COST,
    });
    say(`   pilot ${pilot.id}: ${eligible.length} eligible territories, primary KPI sales velocity`);

    const assignment = await experimenter.post(`/pilots/${pilot.id}/assignment`);
    say(`   assignment drawn (${assignment.algorithm_version}, inputs hash ${assignment.inputs_hash.slice(0, 12)}…):`);
    for (const s of assignment.design.strata) say(`     ${s.stratum}: ${JSON.stringify(s.counts)}`);
    const balance = new Table({ head: ['covariate', 'control mean', 'treatment mean', 'SMD', 'balance'], style: { head: [], border: [] } });
    for (const row of assignment.balance.rows) {
      balance.push([row.covariate, fmt(row.mean_control), fmt(row.mean_treatment), row.smd === null ? '—' : row.smd.toFixed(3), row.rating ?? '—']);
    }
    say(balance.toString());
    say(`   (${assignment.balance.smd_rule}.) With 30 territories a stratified draw can be this imbalanced by chance;`);
    say('   the tests stay valid (randomization inference re-draws from this same design), but imbalance widens the');
    say('   spread of the estimate; the report adjusts for the pre-period KPI (CUPED, Lin regression), which reduces it.');
    await api.post(`/pilots/${pilot.id}/submit`, { reason: 'definition and assignment ready for review' });
    const approved = await experimenter.post(`/pilots/${pilot.id}/approve`, { reason: 'balance checked' });
    say(`   submitted by sales_ops, approved by the experimenter: analysis plan locked, hash ${approved.plan_hash.slice(0, 12)}…`);
    // A territory is in one running pilot at a time: stop this demo's pilots left running by earlier runs.
    const earlier = (await analyst.get('/pilots?limit=500')).items.filter((p: any) => p.status === 'running' && p.name === pilot.name);
    for (const p of earlier) await experimenter.post(`/pilots/${p.id}/stop`, { reason: 'superseded by a new demo run' });
    if (earlier.length) say(`   stopped ${earlier.length} pilot(s) of earlier demo runs (they held the same territories)`);
    const launched = await experimenter.post(`/pilots/${pilot.id}/launch`);
    say(`   launched at ${launched.launched_at} by the experimenter: design and assignment are frozen`);
    const trail = await analyst.get(`/audit?pilot_id=${pilot.id}&limit=500`);
    say(`   audit trail of this pilot so far: ${trail.items.map((e: any) => `${e.action} (${e.actor_role})`).join(', ')}`);
    const treatment = new Set<string>(assignment.units.filter((u: any) => u.arm === 'treatment').map((u: any) => u.territory_code));

    say();
    say('4. Test-period data: the remaining opportunities, through the same API and queue');
    const restBatch = await uploadCsv(api, rest, 'test-period');
    const [r] = await waitForBatches(api, [{ id: restBatch, label: 'test period', rows: rest.length }]);
    say(`   batch ${restBatch}: ${r.status.rows_accepted} accepted, ${r.status.rows_rejected} rejected`);
    say(`   all ${history.length + rest.length} rows of sales_pipeline.csv ingested (${h.status.rows_accepted + r.status.rows_accepted} accepted)`);

    say();
    say('5. Report');
    say('   This is an A/A pilot: the history has no real treatment, so any "effect" below is chance.');
    const aa = await runReport(analyst, pilot.id);
    printReport(aa.result);
    mkdirSync(args.outDir, { recursive: true });
    const aaPath = join(args.outDir, 'demo-report-aa.json');
    writeFileSync(aaPath, JSON.stringify(aa.result, null, 2));
    say(`   written to ${aaPath} (locked plan hash ${aa.result.plan?.hash?.slice(0, 12) ?? '—'}…)`);
    const aaHtml = join(args.outDir, 'demo-report-aa.html');
    writeFileSync(aaHtml, await analyst.getText(`/pilots/${pilot.id}/reports/${aa.id}`, 'text/html'));
    say(`   HTML report (decision summary, charts; opens offline, prints to PDF): ${aaHtml}`);

    if (args.injectLift !== null) {
      say();
      say(`6. Planted effect: won amounts of treatment territories in the test period × ${1 + args.injectLift}`);
      const planted = plantLift(rest, treatment, TEST_PERIOD, args.injectLift);
      say(`   ${planted.changed} won deals changed; sent as newer versions of the same opportunities.`);
      say('   Expect revenue won to move by the planted factor relative to the A/A result above (whose chance');
      say('   difference stays in the data), not to show +15% against control.');
      const plantedBatch = await uploadCsv(api, planted.rows, 'planted');
      const [p] = await waitForBatches(api, [{ id: plantedBatch, label: 'planted', rows: planted.rows.length }]);
      say(`   batch ${plantedBatch}: ${p.status.rows_updated} updated, ${p.status.rows_unchanged} unchanged, ${p.status.rows_rejected} rejected`);
      const lifted = await runReport(analyst, pilot.id);
      printReport(lifted.result);
      const liftedPath = join(args.outDir, `demo-report-lift-${args.injectLift}.json`);
      writeFileSync(liftedPath, JSON.stringify(lifted.result, null, 2));
      const aaRev = aa.result.kpis.find((k) => k.kpi === 'revenue_won')!;
      const liftRev = lifted.result.kpis.find((k) => k.kpi === 'revenue_won')!;
      const expected = (1 + args.injectLift) * (1 + aaRev.relative_lift.estimate!) - 1;
      const got = liftRev.relative_lift.estimate!;
      say(
        `   Check: revenue-won lift ${(100 * got).toFixed(4)}% vs (1 + ${args.injectLift}) × (1 + A/A lift ${(100 * aaRev.relative_lift.estimate!).toFixed(4)}%) − 1 = ` +
          `${(100 * expected).toFixed(4)}%: ${Math.abs(got - expected) <= 1e-9 * Math.max(1, Math.abs(expected)) ? 'equal' : 'DIFFERENT'}`,
      );
      say(
        `   95% CI of the relative lift (delta method): [${(100 * liftRev.relative_lift.ci_low!).toFixed(1)}%, ${(100 * liftRev.relative_lift.ci_high!).toFixed(1)}%], ` +
          `randomization p (Holm) ${fmtP(liftRev.adjusted?.randomization_p ?? null)}`,
      );
      say(`   written to ${liftedPath}`);
      const liftedHtml = join(args.outDir, `demo-report-lift-${args.injectLift}.html`);
      writeFileSync(liftedHtml, await analyst.getText(`/pilots/${pilot.id}/reports/${lifted.id}`, 'text/html'));
      say(`   HTML report: ${liftedHtml}`);
      say('   Restoring the original amounts (newer versions again) so the database holds the real history.');
      const restoreBatch = await uploadCsv(api, rest, 'restore');
      const [restored] = await waitForBatches(api, [{ id: restoreBatch, label: 'restore', rows: rest.length }]);
      say(`   batch ${restoreBatch}: ${restored.status.rows_updated} restored, ${restored.status.rows_unchanged} unchanged, ${restored.status.rows_rejected} rejected`);
    }
  } finally {
    await worker.close();
    await app.close();
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
