import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { validateEnvironment, EnvironmentVariables } from '../src/config/env.validation';
import { ensureDatabase, runMigrations } from '../src/database/migrate';

/** The database a bench may wipe: DB_NAME when set, else `fallbackDb` (default `pilotlab_bench`; never the demo's `pilotlab`). */
export function benchEnvironment(extra: Record<string, string> = {}, fallbackDb = 'pilotlab_bench'): EnvironmentVariables {
  const dbName = process.env.DB_NAME ?? fallbackDb;
  if (dbName === 'pilotlab' || dbName.startsWith('pilotlab_test')) throw new Error(`refusing to wipe ${dbName}: set DB_NAME to a bench database`);
  return validateEnvironment({ ...process.env, DB_NAME: dbName, LOG_LEVEL: 'warn', ...extra });
}

/** Recreates the bench database's schema from the migrations. */
export async function freshSchema(env: EnvironmentVariables): Promise<void> {
  await ensureDatabase(env);
  const c = await connect(env);
  await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS opportunity_staging CASCADE;');
  await c.end();
  await runMigrations(env);
}

export async function connect(env: EnvironmentVariables): Promise<Client> {
  const c = new Client({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_NAME });
  await c.connect();
  return c;
}

/** Flushes every dirty page (CHECKPOINT), so a timed phase does not pay for the writes of the one before. */
export async function checkpoint(env: EnvironmentVariables): Promise<void> {
  const c = await connect(env);
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

/** Starts `src/<entry>.ts` in its own Node process (ts-node, transpile only) with `env`. */
export function spawnEntry(entry: 'main' | 'worker', env: Record<string, string | number>, preload: string[] = []): ChildProcess {
  // BENCH_CHILD_NODE_ARGS: extra node flags for the spawned API/worker (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
  // which NODE_OPTIONS does not accept.
  const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  // BENCH_API_CPUS / BENCH_WORKER_CPUS (e.g. "0" and "1"): pin the process to those CPUs with
  // taskset (which execs node, so the pid is node's), to stand in for separate hosts or containers.
  const cpuList = process.env[entry === 'main' ? 'BENCH_API_CPUS' : 'BENCH_WORKER_CPUS'];
  const [command, prefix] = cpuList ? ['taskset', ['-c', cpuList, process.execPath]] : [process.execPath, []];
  const child = spawn(command, [...prefix, ...extra, '-r', 'ts-node/register/transpile-only', ...preload.flatMap((p) => ['-r', p]), join(__dirname, '..', 'src', `${entry}.ts`)], {
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

/** Peak resident set size (VmHWM) of a live process, in MB (Linux /proc). */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Polls `check` every `everyMs` until it returns a value (or throws after `timeoutMs`). */
export async function poll<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A small deterministic PRNG (mulberry32) so every run generates the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `YYYY-MM-DD` of `start` plus `days`. */
export function addDays(start: string, days: number): string {
  return new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Integer argument `--name N` or the default. */
export function intArg(name: string, fallback: number, min = 1): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} needs an integer ≥ ${min}`);
  return v;
}
