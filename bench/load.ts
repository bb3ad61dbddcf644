import 'reflect-metadata';
import { Queue } from 'bullmq';
import Table from 'cli-table3';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { ApiClient } from '../src/demo/api-client';
import { DATASET_HELP, DEFAULT_DATA_DIR, readCrmDataset } from '../src/demo/crm-dataset';
import { runReport, uploadCsv, waitForBatches } from '../src/demo/demo-jobs';
import { createRunningPilot, crmTerritories, technicalSpecialistPilot } from '../src/demo/pilot-factory';
import { QUEUES } from '../src/queues/queue.constants';
import { addDays, benchEnvironment, freshSchema, intArg, poll, prng, spawnEntry } from './bench-util';

/**
 * `npm run bench:load [-- --seconds S --readers R --uploaders U --think-ms T]` (defaults 45, 16, 2
 * and 500). Each reader pauses uniformly on [0, 2T) ms between reads, as 16 analysts reading
 * reports do; `--think-ms 0` is the saturation variant (closed loop without pauses), where by
 * Little's law every request waits behind the other readers on 2 cores whatever the route costs.
 *
 * Response times of the report routes while the service is busy, against the same run's idle
 * figures. Starts the API and a worker as separate processes (as in production) on DB_NAME
 * (default pilotlab_bench_load, wiped), loads the CRM sample data (DATA_DIR, default
 * ../shared/data/crm-sales-opportunities) through the API, takes the demo's pilot to `running`
 * (src/demo/pilot-factory.ts) and completes one report. Then, per route (GET report JSON, GET
 * report HTML, POST report, POST opportunities batch):
 * - idle: requests one at a time, nothing else running;
 * - under load, for S seconds: R report readers (each alternating the JSON and the HTML of the
 *   report, with think time T), U uploaders (each posts a 1,000-row JSON batch, waits until the worker
 *   has processed it, posts the next), one requester posting a report every 2 s (each is a job
 *   for the worker) and a probe of a light route (GET /pilots/:id) every 250 ms, the reference
 *   for how long any request waits in the busy API process.
 * Prints a table per route: p50/p99 idle and under load, the p99 ratio, and whether it is at most
 * 3× (the target of issue 15); then the CPU the API and worker processes used under load. Before
 * the table, per phase, the event-loop delay and GC pauses of both processes (bench/event-loop-probe.ts).
 */
const PRE_PERIOD = { start: '2017-03-01', end: '2017-06-30' };
const TEST_PERIOD = { start: '2017-07-01', end: '2017-12-31' };
const TARGET_RATIO = 3;
const BATCH_ROWS = 1_000;
const REPORT_EVERY_MS = 2_000;

type Route = 'GET report (JSON)' | 'GET report (HTML)' | 'POST /pilots/:id/reports' | 'POST /opportunities/batches' | 'GET /pilots/:id (reference)';
const ROUTES: Route[] = ['GET report (JSON)', 'GET report (HTML)', 'POST /pilots/:id/reports', 'POST /opportunities/batches', 'GET /pilots/:id (reference)'];
/** The reference route: a light read (one pilot row), probed every PROBE_EVERY_MS under load, to tell queueing in the API from the cost of a route. */
const PROBE_EVERY_MS = 250;

/** Latencies (ms) per route, and the answers that were not 2xx. */
class Samples {
  readonly ms = new Map<Route, number[]>(ROUTES.map((r) => [r, []]));
  readonly errors = new Map<Route, Map<number, number>>(ROUTES.map((r) => [r, new Map()]));

  add(route: Route, ms: number, status: number): void {
    if (status >= 200 && status < 300) this.ms.get(route)!.push(ms);
    else this.errors.get(route)!.set(status, (this.errors.get(route)!.get(status) ?? 0) + 1);
  }

  /** Nearest-rank percentile `p` (0..100) of a route's latencies; NaN without samples. */
  percentile(route: Route, p: number): number {
    const xs = [...this.ms.get(route)!].sort((a, b) => a - b);
    return xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : NaN;
  }

  errorText(route: Route): string {
    const e = [...this.errors.get(route)!].map(([status, n]) => `${n}× ${status}`);
    return e.length ? e.join(', ') : '0';
  }
}

/** The bench's HTTP calls: each one timed until its whole body has arrived. */
class Caller {
  constructor(
    private readonly base: string,
    private readonly keys: { analyst: string; experimenter: string; reviewer: string; salesOps: string },
    private readonly pilotId: string,
    private readonly reportId: string,
  ) {}

  private async timed(route: Route, into: Samples, path: string, init: RequestInit): Promise<{ status: number; body: string }> {
    const t = performance.now();
    const res = await fetch(`${this.base}${path}`, init);
    const body = await res.text();
    into.add(route, performance.now() - t, res.status);
    return { status: res.status, body };
  }

  readJson(into: Samples) {
    return this.timed('GET report (JSON)', into, `/pilots/${this.pilotId}/reports/${this.reportId}`, { headers: { 'x-api-key': this.keys.analyst, accept: 'application/json' } });
  }

  readHtml(into: Samples) {
    return this.timed('GET report (HTML)', into, `/pilots/${this.pilotId}/reports/${this.reportId}.html`, { headers: { 'x-api-key': this.keys.analyst } });
  }

  readPilot(into: Samples) {
    return this.timed('GET /pilots/:id (reference)', into, `/pilots/${this.pilotId}`, { headers: { 'x-api-key': this.keys.analyst } });
  }

  requestReport(into: Samples) {
    return this.timed('POST /pilots/:id/reports', into, `/pilots/${this.pilotId}/reports`, { method: 'POST', headers: { 'x-api-key': this.keys.experimenter } });
  }

  /** Posts a batch; @returns its id (null when it was not accepted). */
  async postBatch(into: Samples, rows: object[]): Promise<string | null> {
    const init = { method: 'POST', headers: { 'x-api-key': this.keys.salesOps, 'content-type': 'application/json' }, body: JSON.stringify({ rows }) };
    const res = await this.timed('POST /opportunities/batches', into, '/opportunities/batches', init);
    return res.status === 202 ? (JSON.parse(res.body).batch_id as string) : null;
  }

  /** Polls a batch every 200 ms until the worker has completed (or failed) it. */
  async waitForBatch(batchId: string): Promise<void> {
    await poll(
      async () => {
        const res = await fetch(`${this.base}/opportunities/batches/${batchId}?limit=1`, { headers: { 'x-api-key': this.keys.salesOps } });
        const s = (await res.json()) as { status?: string };
        return s.status === 'completed' || s.status === 'failed' ? true : undefined;
      },
      `batch ${batchId}`,
      300_000,
    );
  }

  /** Polls until no report of the pilot is queued or running (the worker is idle again). */
  async waitForReports(): Promise<void> {
    await poll(
      async () => {
        const res = await fetch(`${this.base}/pilots/${this.pilotId}/reports`, { headers: { 'x-api-key': this.keys.analyst } });
        const list = (await res.json()) as { status: string }[];
        return list.every((r) => r.status === 'completed' || r.status === 'failed') ? true : undefined;
      },
      'the requested reports',
      600_000,
      500,
    );
  }
}

/** `BATCH_ROWS` new opportunities (ids unique per uploader and batch) of the pilot's territories, engaged in the test period. */
function syntheticBatch(agents: string[], uploader: number, batch: number): object[] {
  const rand = prng(1_000 * uploader + batch);
  const stages = ['Won', 'Lost', 'Engaging', 'Prospecting'];
  return Array.from({ length: BATCH_ROWS }, (_, i) => {
    const stage = stages[Math.floor(rand() * 4)];
    const engage = addDays(TEST_PERIOD.start, Math.floor(rand() * 150));
    const closed = stage === 'Won' || stage === 'Lost';
    return {
      opportunity_id: `LOAD-${uploader}-${batch}-${i}`,
      territory: agents[Math.floor(rand() * agents.length)],
      stage,
      amount: stage === 'Won' ? Math.round(100 + rand() * 5_000) : null,
      engage_date: engage,
      close_date: closed ? addDays(engage, 1 + Math.floor(rand() * 30)) : null,
      product: 'GTX Basic',
      account: `Load account ${i % 97}`,
    };
  });
}

/** The idle figures: each route alone, one request at a time (the worker drained in between). */
async function measureIdle(call: Caller, agents: string[]): Promise<Samples> {
  const idle = new Samples();
  for (let i = 0; i < 100; i++) await call.readJson(idle);
  for (let i = 0; i < 100; i++) await call.readHtml(idle);
  for (let i = 0; i < 100; i++) await call.readPilot(idle);
  for (let b = 0; b < 20; b++) {
    const id = await call.postBatch(idle, syntheticBatch(agents, 0, b));
    if (id) await call.waitForBatch(id);
  }
  for (let i = 0; i < 20; i++) {
    await call.requestReport(idle);
    await new Promise((r) => setTimeout(r, 100));
  }
  await call.waitForReports();
  return idle;
}

/** The load phase: readers, uploaders and the report requester, all for `seconds`. */
async function measureLoad(call: Caller, agents: string[], o: { seconds: number; readers: number; uploaders: number; thinkMs: number }): Promise<Samples> {
  const load = new Samples();
  const until = Date.now() + o.seconds * 1_000;
  const pause = prng(7);
  const reader = async (k: number) => {
    for (let i = k; Date.now() < until; i++) {
      await (i % 2 ? call.readHtml(load) : call.readJson(load));
      // Think time, uniform on [0, 2·thinkMs): a person reading the page before the next one.
      if (o.thinkMs > 0) await new Promise((r) => setTimeout(r, pause() * 2 * o.thinkMs));
    }
  };
  const uploader = async (u: number) => {
    for (let b = 0; Date.now() < until; b++) {
      const id = await call.postBatch(load, syntheticBatch(agents, u, b));
      if (id) await call.waitForBatch(id);
    }
  };
  const every = (ms: number, fn: () => Promise<unknown>) => async () => {
    while (Date.now() < until) {
      const t = Date.now();
      await fn();
      await new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - t))));
    }
  };
  await Promise.all([
    ...Array.from({ length: o.readers }, (_, k) => reader(k)),
    ...Array.from({ length: o.uploaders }, (_, u) => uploader(u + 1)),
    every(REPORT_EVERY_MS, () => call.requestReport(load))(),
    every(PROBE_EVERY_MS, () => call.readPilot(load))(),
  ]);
  return load;
}

/** The result table: one row per route. @returns whether every route met the target */
function printTable(idle: Samples, load: Samples): boolean {
  const f = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 100 ? 1 : 0) : '—');
  const table = new Table({
    head: ['route', 'idle n', 'idle p50 ms', 'idle p99 ms', 'load n', 'load p50 ms', 'load p99 ms', 'errors under load', 'p99 load/idle', `≤ ${TARGET_RATIO}×`],
    style: { head: [], border: [] },
  });
  let allMet = true;
  for (const route of ROUTES) {
    const ratio = load.percentile(route, 99) / idle.percentile(route, 99);
    const met = Number.isFinite(ratio) && ratio <= TARGET_RATIO;
    allMet &&= met;
    table.push([route, idle.ms.get(route)!.length, f(idle.percentile(route, 50)), f(idle.percentile(route, 99)), load.ms.get(route)!.length, f(load.percentile(route, 50)), f(load.percentile(route, 99)), load.errorText(route), Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—', met ? 'yes' : 'NO']);
  }
  console.log(table.toString());
  return allMet;
}

/** CPU time (user + system, seconds) a live process has used so far (Linux /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** A free loopback TCP port from the OS (used when PORT is not set). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

/** Role keys created through POST /api-keys with the admin key (raw keys: the bench sends them itself). */
async function roleKeys(base: string, adminKey: string): Promise<{ analyst: string; experimenter: string; reviewer: string; salesOps: string }> {
  const admin = new ApiClient(base, adminKey);
  const key = async (role: string) => (await admin.post('/api-keys', { name: `bench load ${role}`, role })).key as string;
  return { analyst: await key('analyst'), experimenter: await key('experimenter'), reviewer: await key('experimenter'), salesOps: await key('sales_ops') };
}

/** Loads the CRM territories and opportunities, takes the pilot to `running` and completes its first report. */
async function preparePilot(base: string, keys: { analyst: string; experimenter: string; reviewer: string; salesOps: string }, dataDir: string) {
  const dataset = readCrmDataset(dataDir);
  const salesOps = new ApiClient(base, keys.salesOps);
  const { territories, eligible } = crmTerritories(dataset, PRE_PERIOD);
  await salesOps.post('/territories', territories);
  const batchId = await uploadCsv(salesOps, dataset.pipeline, 'crm');
  await waitForBatches(salesOps, [{ id: batchId, label: 'crm', rows: dataset.pipeline.length }]);
  const agents = eligible.map((t) => t.sales_agent);
  const { pilot } = await createRunningPilot(
    // A second experimenter approves: whoever drew the assignment may not (separation of duties).
    { author: salesOps, experimenter: new ApiClient(base, keys.experimenter), approver: new ApiClient(base, keys.reviewer) },
    technicalSpecialistPilot({ name: 'Load bench pilot', territoryCodes: agents, prePeriod: PRE_PERIOD, testPeriod: TEST_PERIOD, design: { type: 'stratified', stratify_by: 'region', seed: 42 }, monthlyCost: 15_000 }),
  );
  const report = await runReport(new ApiClient(base, keys.analyst), pilot.id);
  return { agents, pilotId: pilot.id as string, reportId: report.id };
}

async function main(): Promise<void> {
  const o = { seconds: intArg('seconds', 45), readers: intArg('readers', 16), uploaders: intArg('uploaders', 2), thinkMs: intArg('think-ms', 500, 0) };
  const env = benchEnvironment({}, 'pilotlab_bench_load');
  const dataDir = resolve(process.env.DATA_DIR ?? DEFAULT_DATA_DIR);
  try {
    readCrmDataset(dataDir);
  } catch (err) {
    console.error(`${(err as Error).message}\n${DATASET_HELP}`);
    process.exit(2);
  }
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  const adminKey = `bench-admin-${Date.now()}-0123456789abcdef`;
  const queuePrefix = `${env.QUEUE_PREFIX}-bench-load-${process.pid}`;
  const shared = { DB_NAME: env.DB_NAME, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', BOOTSTRAP_ADMIN_KEY: adminKey, NODE_ENV: 'development', RATE_LIMIT_LIMIT: 100_000_000 };
  console.log(`bench:load  readers=${o.readers} (think time mean ${o.thinkMs} ms)  uploaders=${o.uploaders}  load=${o.seconds} s  database=${env.DB_NAME}  data=${dataDir}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await freshSchema(env);
  // Diagnostics per phase (event-loop delay and GC pauses of each process): bench/event-loop-probe.ts.
  const probe = join(__dirname, 'event-loop-probe.ts');
  const eldFile = (who: string) => join(tmpdir(), `pilotlab-bench-load-${process.pid}-${who}.json`);
  const api = spawnEntry('main', { ...shared, PORT: port, BENCH_ELD_FILE: eldFile('api') }, [probe]);
  const worker = spawnEntry('worker', { ...shared, WORKER_QUEUES: 'ingestion,analysis,rollups,governance', BENCH_ELD_FILE: eldFile('worker') }, [probe]);
  const procs = { api, worker };
  const resetProbes = () => Object.values(procs).forEach((p) => p.kill('SIGWINCH'));
  const printProbes = async (phase: string) => {
    for (const [who, p] of Object.entries(procs)) {
      rmSync(eldFile(who), { force: true });
      p.kill('SIGWINCH');
    }
    await poll(async () => (Object.keys(procs).every((w) => existsSync(eldFile(w))) ? true : undefined), 'the probes', 10_000, 50);
    await new Promise((r) => setTimeout(r, 50));
    for (const who of Object.keys(procs)) console.log(`${phase} ${who}: ${readFileSync(eldFile(who), 'utf8')}`);
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await poll(
      async () => {
        if (api.exitCode !== null || worker.exitCode !== null) throw new Error('the API or the worker exited during start-up (see above)');
        return (await fetch(`${base}/health`).catch(() => null))?.ok ? true : undefined;
      },
      'the API',
      120_000,
      500,
    );
    const keys = await roleKeys(base, adminKey);
    const { agents, pilotId, reportId } = await preparePilot(base, keys, dataDir);
    const call = new Caller(base, keys, pilotId, reportId);
    for (let i = 0; i < 5; i++) await Promise.all([call.readJson(new Samples()), call.readHtml(new Samples())]); // warm up
    console.log('idle: each route alone …');
    resetProbes();
    const idle = await measureIdle(call, agents);
    await printProbes('idle');
    resetProbes();
    console.log(`under load: ${o.readers} readers, ${o.uploaders} uploaders, a report requested every ${REPORT_EVERY_MS / 1000} s, for ${o.seconds} s …`);
    const cpu = [api.pid!, worker.pid!].map(cpuSeconds);
    const started = Date.now();
    const load = await measureLoad(call, agents, o);
    const wall = (Date.now() - started) / 1000;
    const [apiCpu, workerCpu] = [api.pid!, worker.pid!].map((pid, i) => (100 * (cpuSeconds(pid) - cpu[i])) / wall);
    await printProbes('load');
    const met = printTable(idle, load);
    console.log(`CPU under load (share of one core): API ${apiCpu.toFixed(0)}%, worker ${workerCpu.toFixed(0)}%; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`target p99 under load ≤ ${TARGET_RATIO}× idle: ${met ? 'met on every route' : 'MISSED on at least one route'}`);
  } finally {
    // stop both and wait for them (at most 30 s) before the queues are removed: a worker still
    // finishing a job would otherwise log "Missing key for job …" for the job removed under it
    const exited = [api, worker].map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r()))));
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 30_000))]);
    for (const name of Object.values(QUEUES)) {
      const q = new Queue(name, { connection: { host: env.REDIS_HOST, port: env.REDIS_PORT }, prefix: queuePrefix });
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
