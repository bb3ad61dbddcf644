import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import Table from 'cli-table3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { hashApiKey } from '../auth/api-key.service';
import { createApi, createWorker } from '../bootstrap';
import { EnvironmentVariables, loadEnvironment } from '../config/env.validation';
import { ensureDatabase, runMigrations } from '../database/migrate';
import { ROLE_LABELS, type Role } from '../common/auth/roles';
import { DESIGN_TYPE_LABELS, type DesignType } from '../stats/design/design-types';
import type { PilotReport } from '../reports/report.types';
import { ApiClient } from './api-client';
import { DATASET_HELP, DEFAULT_DATA_DIR, PipelineRow, readCrmDataset } from './crm-dataset';
import { runReport, uploadCsv, waitForBatches } from './demo-jobs';
import { fmt, fmtP, printReport, say } from './demo-output';
import { crmCovariateLabel, crmTerritories, RunningPilot, roleClients, technicalSpecialistPilot } from './pilot-factory';
import { plantLift } from './planted-effect';

const PRE_PERIOD = { start: '2017-03-01', end: '2017-06-30' };
const TEST_PERIOD = { start: '2017-07-01', end: '2017-12-31' };
/** Whole weeks in the test period (both ends inclusive): the test length the power planner is asked about. */
const TEST_WEEKS = Math.floor((Date.parse(TEST_PERIOD.end) - Date.parse(TEST_PERIOD.start) + 86_400_000) / (7 * 86_400_000));
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

/** Command-line options (`--data DIR`, `--inject-lift X`, `--out DIR`, `--help`); throws on a bad --inject-lift. */
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

/** Active bootstrap admin keys other than `key` in the demo's database (0 on a fresh one). */
async function otherBootstrapKeys(env: EnvironmentVariables, key: string): Promise<number> {
  const client = new Client({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_NAME });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM api_keys WHERE is_bootstrap AND revoked_at IS NULL AND key_hash <> $1`, [hashApiKey(key)]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** The running API and worker of the demo, and one API client per role. */
interface DemoStack {
  env: EnvironmentVariables;
  app: NestExpressApplication;
  worker: INestApplicationContext;
  /** sales_ops: loads territories and opportunities, defines and submits the pilot */
  salesOps: ApiClient;
  /** draws, launches and stops pilots */
  experimenter: ApiClient;
  /** a second experimenter: approves (separation of duties: whoever drew may not approve) */
  reviewer: ApiClient;
  /** reads reports and the audit trail */
  analyst: ApiClient;
}

/** Creates and migrates the configured database (DB_NAME at DB_HOST:DB_PORT), saying what it did. */
async function prepareDatabase(env: EnvironmentVariables, dataDir: string): Promise<void> {
  say('PilotLab demo: a territory pilot from definition to significance report, on the public CRM sample data.');
  say(`  data: ${dataDir}`);
  say(`  database: ${env.DB_NAME} at ${env.DB_HOST}:${env.DB_PORT}; Redis ${env.REDIS_HOST}:${env.REDIS_PORT}`);
  if (await ensureDatabase(env)) say(`  created database ${env.DB_NAME}`);
  const applied = await runMigrations(env);
  say(`  migrations: ${applied.length ? applied.join(', ') : 'schema up to date'}`);
}

/**
 * The bootstrap admin key to use: BOOTSTRAP_ADMIN_KEY, else the local demo default. Exits (code 2)
 * when the database has its own bootstrap key: registering the default would revoke it.
 */
async function chooseAdminKey(env: EnvironmentVariables): Promise<string> {
  const adminKey = env.BOOTSTRAP_ADMIN_KEY ?? DEMO_ADMIN_KEY;
  if (!env.BOOTSTRAP_ADMIN_KEY && (await otherBootstrapKeys(env, adminKey)) > 0) {
    // Registering the demo default would rotate (revoke) the operator's own bootstrap key.
    say(`This database (${env.DB_NAME}) has its own bootstrap admin key, and the demo would revoke it by registering`);
    say('its local default. Run the demo with BOOTSTRAP_ADMIN_KEY set to that key, or on another database (DB_NAME=...).');
    process.exit(2);
  }
  return adminKey;
}

/**
 * Starts the API (on a free loopback port) and a worker in this process, on the configured
 * database and Redis with the queue prefix `${QUEUE_PREFIX}-demo`, and creates one key per role.
 */
async function startStack(args: DemoArgs): Promise<DemoStack> {
  const env = loadEnvironment();
  await prepareDatabase(env, args.dataDir);
  const adminKey = await chooseAdminKey(env);
  const demoOverrides = { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', QUEUE_PREFIX: `${env.QUEUE_PREFIX}-demo`, BOOTSTRAP_ADMIN_KEY: adminKey };
  const app: NestExpressApplication = await createApi(demoOverrides);
  await app.listen(0, '127.0.0.1');
  const worker: INestApplicationContext = await createWorker(demoOverrides);
  const address = app.getHttpServer().address() as AddressInfo;
  const admin = new ApiClient(`http://127.0.0.1:${address.port}`, adminKey);
  say(`  API listening on http://127.0.0.1:${address.port} (OpenAPI at /docs); worker consuming ingestion and analysis`);
  // One key per role, created with the bootstrap admin key (each key is shown once; not printed here).
  const keys = await roleClients(admin, 'demo', ['sales_ops', 'experimenter', 'analyst'] as const);
  const { experimenter: reviewer } = await roleClients(admin, 'demo reviewer', ['experimenter'] as const);
  say(`  API keys: bootstrap admin ${env.BOOTSTRAP_ADMIN_KEY ? 'from BOOTSTRAP_ADMIN_KEY' : '(local demo default)'}; ${ROLE_LABELS.sales_ops}, experimenter, reviewer (experimenter) and analyst keys created`);
  return { env, app, worker, salesOps: keys.sales_ops, experimenter: keys.experimenter, reviewer, analyst: keys.analyst };
}

/** Step 1: one territory per sales agent, with pre-period covariates. @returns the eligible territory codes */
async function loadTerritories(api: ApiClient, dataset: ReturnType<typeof readCrmDataset>): Promise<string[]> {
  say();
  say(`1. Territories: the ${dataset.teams.length} sales agents of sales_teams.csv (region = regional office, team = manager)`);
  const { territories, eligible, idle } = crmTerritories(dataset, PRE_PERIOD);
  const loaded = await api.post('/territories', territories);
  say(`   loaded ${loaded.received} territories (${loaded.created} created, ${loaded.updated} updated)`);
  say(`   covariates from each agent's pre-period (${PRE_PERIOD.start}..${PRE_PERIOD.end}) history: ${crmCovariateLabel('pre_won_revenue')}, ${crmCovariateLabel('pre_opportunities')}`);
  say(`   left out of the eligible set, because they have no opportunities at all in the pipeline: ${idle.join(', ')}`);
  return eligible.map((t) => t.sales_agent);
}

/** Uploads `rows` as one batch and waits for it. @returns the batch id and its final status body */
async function ingest(api: ApiClient, rows: PipelineRow[], label: string, file = label): Promise<{ id: string; status: any }> {
  const id = await uploadCsv(api, rows, file);
  const [done] = await waitForBatches(api, [{ id, label, rows: rows.length }]);
  return { id, status: done.status };
}

/** Step 2: the opportunities engaged before the test period. @returns them and the rest of the file */
async function ingestHistory(api: ApiClient, pipeline: PipelineRow[]): Promise<{ history: PipelineRow[]; rest: PipelineRow[]; accepted: number }> {
  say();
  say('2. History: opportunities engaged before the test period, ingested through the batch API and the queue');
  const history = pipeline.filter((r) => r.engage_date !== '' && r.engage_date < TEST_PERIOD.start);
  const rest = pipeline.filter((r) => !(r.engage_date !== '' && r.engage_date < TEST_PERIOD.start));
  const h = await ingest(api, history, 'history');
  say(`   batch ${h.id}: ${h.status.rows_accepted} accepted, ${h.status.rows_rejected} rejected`);
  return { history, rest, accepted: h.status.rows_accepted };
}

/** The strata counts and the covariate balance table of a drawn assignment. */
function printAssignment(assignment: RunningPilot['assignment']): void {
  say(`   assignment drawn (${assignment.algorithm_version}, inputs hash ${assignment.inputs_hash.slice(0, 12)}…):`);
  for (const s of assignment.design.strata) say(`     ${s.stratum}: ${JSON.stringify(s.counts)}`);
  const balance = new Table({ head: ['covariate', 'control mean', 'treatment mean', 'SMD', 'balance'], style: { head: [], border: [] } });
  for (const row of assignment.balance.rows) {
    balance.push([crmCovariateLabel(row.covariate), fmt(row.mean_control), fmt(row.mean_treatment), row.smd === null ? '—' : row.smd.toFixed(3), row.rating ?? '—']);
  }
  say(balance.toString());
  say(`   (${assignment.balance.smd_rule}.)`);
}

/** A territory is in one running pilot at a time: stops this demo's pilots left running by earlier runs. */
async function stopEarlierRuns(stack: DemoStack, name: string): Promise<void> {
  const earlier = (await stack.analyst.get('/pilots?limit=500')).items.filter((p: any) => p.status === 'running' && p.name === name);
  for (const p of earlier) await stack.experimenter.post(`/pilots/${p.id}/stop`, { reason: 'superseded by a new demo run' });
  if (earlier.length) say(`   stopped ${earlier.length} pilot(s) of earlier demo runs (they held the same territories)`);
}

/**
 * Target lift and power the demo plans for, and the planner's placebo pilots per cell (small: the
 * demo stays fast). The planner is asked about the pilot's own test length only ({@link TEST_WEEKS}):
 * a plan for another length is not the pilot the demo runs.
 */
const PLAN_TARGET = { mde: 0.1, power: 0.8, simulations: 40, weeks: [TEST_WEEKS] };

/** A design type in words (DESIGN_TYPE_LABELS; an unknown code as it is). */
function designWords(type: string): string {
  return DESIGN_TYPE_LABELS[type as DesignType] ?? type;
}

/** The planner's answer the demo keeps: every cell, for the planned power of the design finally drawn. */
interface PlannerCells {
  cells: any[];
  /** the territory count the demo runs on (the largest the planner tried) */
  full: number;
}

/** A planner cell's power and false-positive rate in words, or why it has none. */
function cellPower(c: any): string {
  if (!c) return `not simulated by the planner for ${TEST_WEEKS} weeks`;
  if (c.power.rate === null) return `none: ${c.invalid_reason ?? 'no placebo pilot could be analysed'}`;
  return `${Math.round(100 * c.power.rate)}% (false positives ${Math.round(100 * c.false_positive_rate.rate)}%${c.valid ? '' : `; cannot decide: ${c.invalid_reason}`})`;
}

/** The planner cell of `design` at the pilot's size and test length, if the planner ran one. */
function plannedCell(plan: PlannerCells, design: string): any {
  return plan.cells.find((c) => c.design === design && c.territories === plan.full && c.weeks === TEST_WEEKS);
}

/** The design options the demo may choose, by type (pairs and rerandomization on the pre-period covariates). */
function designOf(type: string): Record<string, unknown> {
  if (type === 'stratified') return { type, stratify_by: 'region', seed: SEED };
  if (type === 'matched_pairs') return { type, pair_on: 'pre_won_revenue', seed: SEED };
  if (type === 'rerandomization') return { type, seed: SEED, rerandomization: { covariates: ['pre_won_revenue', 'pre_opportunities'], acceptance_probability: 0.1 } };
  return { type, seed: SEED };
}

/**
 * Step 3a: power first. Runs the planner (POST /pilots/:id/power, mode planner) on the draft and
 * prints its answer and the power per design at the full pool. @returns the design to use: the
 * recommended plan's, else the valid design with the highest power on all territories (shortest test on ties)
 */
async function planPowerFirst(stack: DemoStack, pilotId: string, pool: number): Promise<{ design: string; why: string; plan: PlannerCells }> {
  say(`   power first: planner on the draft (target ${Math.round(100 * PLAN_TARGET.power)}% power for a +${100 * PLAN_TARGET.mde}% lift; ${PLAN_TARGET.simulations} placebo pilots per cell, ${TEST_WEEKS} weeks, the pilot's test period ${TEST_PERIOD.start}..${TEST_PERIOD.end})`);
  const body = { mode: 'planner', target_mde: PLAN_TARGET.mde, power: PLAN_TARGET.power, simulations: PLAN_TARGET.simulations, weeks: PLAN_TARGET.weeks, territory_counts: [...new Set([2 * Math.floor(pool / 4), 2 * Math.floor(pool / 2)])], designs: ['complete', 'stratified', 'matched_pairs', 'rerandomization'] };
  const started = await stack.experimenter.post(`/pilots/${pilotId}/power`, body);
  let done: any;
  for (const deadline = Date.now() + 5 * 60_000; ; ) {
    done = await stack.analyst.get(started.status_url);
    if (done.status === 'completed' || done.status === 'failed') break;
    if (Date.now() > deadline) throw new Error('the power planner did not finish within 5 minutes');
    await new Promise((r) => setTimeout(r, 300));
  }
  if (done.status === 'failed') throw new Error(`the power planner failed: ${done.error}`);
  const sim = done.simulation;
  const full = Math.max(...sim.cells.map((c: any) => c.territories));
  const table = new Table({ head: ['design', 'territories', 'weeks', 'deciding test', 'power', 'false positives', 'valid'], style: { head: [], border: [] } });
  for (const c of sim.cells.filter((c: any) => c.territories === full)) {
    table.push([designWords(c.design), c.territories, c.weeks, c.deciding_test, c.power.rate === null ? '—' : `${Math.round(100 * c.power.rate)}%`, c.false_positive_rate.rate === null ? '—' : `${Math.round(100 * c.false_positive_rate.rate)}%`, c.valid ? 'yes' : 'no (below)']);
  }
  say(table.toString());
  for (const c of sim.cells.filter((c: any) => c.territories === full && !c.valid)) say(`   ${designWords(c.design)}, ${c.weeks} weeks cannot decide: ${c.invalid_reason}`);
  for (const w of sim.weeks_left_out ?? []) say(`   ${w.weeks} weeks left out: ${w.reason}`);
  say(`   planner: ${done.decision.text}`);
  const plan: PlannerCells = { cells: sim.cells, full };
  if (sim.recommendation) return { design: sim.recommendation.design, why: `the planner's cheapest plan reaching the target (${sim.recommendation.territories} territories, ${sim.recommendation.weeks} weeks)`, plan };
  const best = sim.cells
    .filter((c: any) => c.valid && c.territories === full && c.weeks === TEST_WEEKS && c.power.rate !== null)
    .sort((a: any, b: any) => b.power.rate - a.power.rate)[0];
  if (!best) return { design: 'rerandomization', why: `no design could be simulated for ${TEST_WEEKS} weeks on this history; rerandomization keeps the pre-period covariates balanced`, plan };
  return { design: best.design, why: `no plan reaches the target; ${designWords(best.design)} has the highest power on all ${full} territories for the pilot's ${TEST_WEEKS} weeks (${Math.round(100 * best.power.rate)}%)`, plan };
}

/** Covariates whose balance fails (|SMD| ≥ 0.25, rated imbalanced), with their SMDs, in words. */
function imbalancedRows(assignment: RunningPilot['assignment']): string[] {
  return assignment.balance.rows.filter((r: any) => r.rating === 'imbalanced').map((r: any) => `${crmCovariateLabel(r.covariate)} (SMD ${r.smd.toFixed(2)})`);
}

/** Step 3: plans power, chooses the design, draws (redrawing under rerandomization when balance fails), approves and launches. */
async function buildPilot(stack: DemoStack, eligible: string[]): Promise<{ pilotId: string; treatment: Set<string> }> {
  say();
  say('3. Pilot: "Technical specialist in chosen regions", seed 42: power planned first, then the design');
  const definition = technicalSpecialistPilot({
    name: 'Technical specialist in chosen regions',
    territoryCodes: eligible,
    prePeriod: PRE_PERIOD,
    testPeriod: TEST_PERIOD,
    design: { type: 'stratified', stratify_by: 'region', seed: SEED },
    monthlyCost: MONTHLY_COST,
  });
  const pilot = await stack.salesOps.post('/pilots', definition);
  say(`   draft pilot ${pilot.id}: ${eligible.length} eligible territories, primary KPI sales velocity`);
  const chosen = await planPowerFirst(stack, pilot.id, eligible.length);
  const plan = chosen.plan;
  say(`   design chosen: ${designWords(chosen.design)}, because ${chosen.why}`);
  if (chosen.design !== 'stratified') await stack.salesOps.request('PATCH', `/pilots/${pilot.id}`, { design: designOf(chosen.design) });
  let assignment = await stack.experimenter.post(`/pilots/${pilot.id}/assignment`);
  let failing = imbalancedRows(assignment);
  if (failing.length && chosen.design !== 'rerandomization') {
    printAssignment(assignment);
    const reason = `balance fails on ${failing.join(', ')}: redrawn under rerandomization on the pre-period covariates`;
    say(`   ${reason}`);
    say(`   so the pilot runs the rerandomization design, not the ${designWords(chosen.design)} design chosen above; its planned power in the same planner run (${plan.full} territories, ${TEST_WEEKS} weeks): ${cellPower(plannedCell(plan, 'rerandomization'))}`);
    await stack.salesOps.request('PATCH', `/pilots/${pilot.id}`, { design: designOf('rerandomization') });
    assignment = await stack.experimenter.post(`/pilots/${pilot.id}/assignment`, { reason });
    failing = imbalancedRows(assignment);
  }
  printAssignment(assignment);
  say(failing.length ? `   balance still fails on ${failing.join(', ')}; the report adjusts for the pre-period KPI` : '   balance passes: no covariate is rated imbalanced (|SMD| < 0.25)');
  const drawn: string = assignment.design?.type ?? chosen.design;
  say(
    `   plan chosen: ${designWords(drawn)} design on ${eligible.length} territories for the test period ${TEST_PERIOD.start}..${TEST_PERIOD.end} (${TEST_WEEKS} weeks); ` +
      `planned power for a +${100 * PLAN_TARGET.mde}% lift: ${cellPower(plannedCell(plan, drawn))}`,
  );
  await stack.salesOps.post(`/pilots/${pilot.id}/submit`, { reason: 'definition and assignment ready for review' });
  const approved = await stack.reviewer.post(`/pilots/${pilot.id}/approve`, { reason: 'balance checked' });
  say(`   drawn by the experimenter, submitted by ${ROLE_LABELS.sales_ops}, approved by a second experimenter (the reviewer): analysis plan locked, hash ${approved.plan_hash.slice(0, 12)}…`);
  await stopEarlierRuns(stack, pilot.name);
  const launched = await stack.experimenter.post(`/pilots/${pilot.id}/launch`);
  say(`   launched at ${launched.launched_at} by the experimenter: design and assignment are frozen`);
  const trail = await stack.analyst.get(`/audit?pilot_id=${pilot.id}&limit=500`);
  say(`   audit trail of this pilot so far: ${trail.items.map((e: any) => `${e.action} (${ROLE_LABELS[e.actor_role as Role] ?? e.actor_role})`).join(', ')}`);
  const treatment = new Set<string>(assignment.units.filter((u: any) => u.arm === 'treatment').map((u: any) => u.territory_code));
  return { pilotId: pilot.id, treatment };
}

/** Step 4: the remaining opportunities (engaged in the test period or without an engage date). */
async function ingestTestPeriod(api: ApiClient, data: { history: PipelineRow[]; rest: PipelineRow[]; accepted: number }): Promise<void> {
  say();
  say('4. Test-period data: the remaining opportunities, through the same API and queue');
  const r = await ingest(api, data.rest, 'test period', 'test-period');
  say(`   batch ${r.id}: ${r.status.rows_accepted} accepted, ${r.status.rows_rejected} rejected`);
  say(`   all ${data.history.length + data.rest.length} rows of sales_pipeline.csv ingested (${data.accepted + r.status.rows_accepted} accepted)`);
}

/** Runs a report, prints it and writes its JSON and HTML to `outDir/<name>.json|.html`. @returns the report and both paths */
async function reportAndWrite(analyst: ApiClient, pilotId: string, outDir: string, name: string) {
  const report = await runReport(analyst, pilotId);
  printReport(report.result);
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, `${name}.json`);
  writeFileSync(jsonPath, JSON.stringify(report.result, null, 2));
  const htmlPath = join(outDir, `${name}.html`);
  writeFileSync(htmlPath, await analyst.getText(`/pilots/${pilotId}/reports/${report.id}`, 'text/html'));
  return { ...report, jsonPath, htmlPath };
}

/** Step 5: the A/A report (no real treatment in the history). @returns its result */
async function reportAa(analyst: ApiClient, pilotId: string, outDir: string): Promise<PilotReport> {
  say();
  say('5. Report');
  say('   This is an A/A pilot: the history has no real treatment, so any "effect" below is chance.');
  const aa = await reportAndWrite(analyst, pilotId, outDir, 'demo-report-aa');
  say(`   written to ${aa.jsonPath} (locked plan hash ${aa.result.plan?.hash?.slice(0, 12) ?? '—'}…)`);
  say(`   HTML report (decision summary, charts; opens offline, prints to PDF): ${aa.htmlPath}`);
  return aa.result;
}

/**
 * The planted-effect check: revenue-won lift with the planted factor must equal
 * (1 + lift) × (1 + A/A lift) − 1 (src/demo/planted-effect.ts), to 1e-9 relative.
 */
function printLiftCheck(aa: PilotReport, lifted: PilotReport, injectLift: number): void {
  const aaRev = aa.kpis.find((k) => k.kpi === 'revenue_won')!;
  const liftRev = lifted.kpis.find((k) => k.kpi === 'revenue_won')!;
  const expected = (1 + injectLift) * (1 + aaRev.relative_lift.estimate!) - 1;
  const got = liftRev.relative_lift.estimate!;
  say(
    `   Check: revenue-won lift ${(100 * got).toFixed(4)}% vs (1 + ${injectLift}) × (1 + A/A lift ${(100 * aaRev.relative_lift.estimate!).toFixed(4)}%) − 1 = ` +
      `${(100 * expected).toFixed(4)}%: ${Math.abs(got - expected) <= 1e-9 * Math.max(1, Math.abs(expected)) ? 'equal' : 'DIFFERENT'}`,
  );
  say(
    `   95% CI of the relative lift (${liftRev.relative_lift.method}): ` +
      (liftRev.relative_lift.ci_low !== null && liftRev.relative_lift.ci_high !== null
        ? `[${(100 * liftRev.relative_lift.ci_low).toFixed(1)}%, ${(100 * liftRev.relative_lift.ci_high).toFixed(1)}%], `
        : `none (${liftRev.relative_lift.note ?? 'no interval'}), `) +
      `randomization p (Holm) ${fmtP(liftRev.adjusted?.randomization_p ?? null)}`,
  );
}

/** Step 6 (--inject-lift): plants the lift, reports, checks it, then restores the original amounts. */
async function plantedEffect(stack: DemoStack, run: { pilotId: string; treatment: Set<string>; rest: PipelineRow[]; aa: PilotReport }, injectLift: number, outDir: string): Promise<void> {
  say();
  say(`6. Planted effect: won amounts of treatment territories in the test period × ${1 + injectLift}`);
  const planted = plantLift(run.rest, run.treatment, TEST_PERIOD, injectLift);
  say(`   ${planted.changed} won deals changed; sent as newer versions of the same opportunities.`);
  say('   Expect revenue won to move by the planted factor relative to the A/A result above (whose chance');
  say('   difference stays in the data), not to show +15% against control.');
  const p = await ingest(stack.salesOps, planted.rows, 'planted');
  say(`   batch ${p.id}: ${p.status.rows_updated} updated, ${p.status.rows_unchanged} unchanged, ${p.status.rows_rejected} rejected`);
  const lifted = await reportAndWrite(stack.analyst, run.pilotId, outDir, `demo-report-lift-${injectLift}`);
  printLiftCheck(run.aa, lifted.result, injectLift);
  say(`   written to ${lifted.jsonPath}`);
  say(`   HTML report: ${lifted.htmlPath}`);
  say('   Restoring the original amounts (newer versions again) so the database holds the real history.');
  const restored = await ingest(stack.salesOps, run.rest, 'restore');
  say(`   batch ${restored.id}: ${restored.status.rows_updated} restored, ${restored.status.rows_unchanged} unchanged, ${restored.status.rows_rejected} rejected`);
}

/** The demo: steps 1 to 5 (and 6 with --inject-lift) against an API and worker started here. */
async function main(): Promise<void> {
  const args = parseDemoArgs();
  if (!existsSync(args.dataDir)) {
    say(`Data set not found at ${args.dataDir}.`);
    DATASET_HELP.forEach((l) => say(l));
    process.exit(2);
  }
  const stack = await startStack(args);
  try {
    const dataset = readCrmDataset(args.dataDir);
    const eligible = await loadTerritories(stack.salesOps, dataset);
    const data = await ingestHistory(stack.salesOps, dataset.pipeline);
    const { pilotId, treatment } = await buildPilot(stack, eligible);
    await ingestTestPeriod(stack.salesOps, data);
    const aa = await reportAa(stack.analyst, pilotId, args.outDir);
    if (args.injectLift !== null) await plantedEffect(stack, { pilotId, treatment, rest: data.rest, aa }, args.injectLift, args.outDir);
  } finally {
    await stack.worker.close();
    await stack.app.close();
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
