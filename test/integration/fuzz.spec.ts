import request from 'supertest';
import { DataSource } from 'typeorm';
import { createPrng, Prng } from '../../src/stats/design/prng';
import { loadTerritories, territory } from '../factories/territory.factory';
import { opportunityRow, postBatch } from '../factories/opportunity.factory';
import { designAndLaunch, pilot } from '../factories/pilot.factory';
import { startStack, TestStack } from '../utils/test-stack';

/**
 * A seeded fuzz over every route of the OpenAPI document (issue 15): wrong types, NUL bytes, huge
 * and non-finite numbers, impossible dates, unknown fields, junk bodies, bad CSV and bad multipart,
 * sent as the bootstrap admin (so validation, not the role check, answers). Every answer must be
 * below 500, and an answer of 4xx must leave every table exactly as it was (a fingerprint of all
 * rows, taken before and after each such request). A 2xx may change rows (a fuzzed value can be
 * valid); the fingerprint then moves on. Same seed ⇒ the same requests. FUZZ_SEED and
 * FUZZ_REQUESTS_PER_OPERATION explore further (the suite's defaults send about 3,000 requests).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const REQUESTS_PER_OPERATION = Number(process.env.FUZZ_REQUESTS_PER_OPERATION ?? 60);

interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  params: { name: string; in: 'path' | 'query' | 'header'; schema?: Record<string, any> }[];
  body: Record<string, any> | null;
  multipart: boolean;
  csv: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values of the wrong kind, or of the right kind out of range: what a hostile or careless client sends. */
function junkValue(rng: Prng, depth = 0): Json {
  const pick = Math.floor(rng.nextDouble() * 22);
  switch (pick) {
    case 0: return null;
    case 1: return true;
    case 2: return -1;
    case 3: return 1e308;
    case 4: return 9007199254740993;
    case 5: return -9223372036854775808;
    case 6: return 0.1 + 0.2;
    case 7: return 'a\u0000b';
    case 8: return '';
    case 9: return 'x'.repeat(5000);
    case 10: return '2024-02-30';
    case 11: return '2024-01-01T10:00:00';
    case 12: return '99999-01-01';
    case 13: return "'; DROP TABLE territories; --";
    case 14: return 'NaN';
    case 15: return '\ud800';
    case 16: return '00000000-0000-0000-0000-000000000000';
    case 17: return 'not-a-uuid';
    case 18: return depth < 2 ? [junkValue(rng, depth + 1), junkValue(rng, depth + 1)] : [];
    case 19: return depth < 2 ? { [junkKey(rng)]: junkValue(rng, depth + 1) } : {};
    case 20: return '1e999';
    default: return 'Infinity';
  }
}

function junkKey(rng: Prng): string {
  return ['__proto__', 'constructor', 'a\u0000', 'unknown_field', 'x'.repeat(300), ''][Math.floor(rng.nextDouble() * 6)];
}

/** A plausible value for a schema, or (often) junk in its place. */
function valueFor(schema: Record<string, any> | undefined, rng: Prng, doc: any, depth: number, known: string[]): Json {
  if (rng.nextDouble() < 0.35 || !schema || depth > 3) return junkValue(rng);
  const s = schema.$ref ? resolveRef(doc, schema.$ref) : schema;
  if (s.enum) return s.enum[Math.floor(rng.nextDouble() * s.enum.length)];
  switch (s.type) {
    case 'string':
      if (s.format === 'uuid' || /id$/i.test(s.description ?? '')) return known[Math.floor(rng.nextDouble() * known.length)] ?? 'x';
      if (s.format === 'date') return ['2024-01-01', '2023-12-31', '2024-02-29'][Math.floor(rng.nextDouble() * 3)];
      if (s.format === 'date-time') return '2024-01-01T00:00:00Z';
      return ['T-1', 'T-2', 'revenue_won', 'control', 'a reason'][Math.floor(rng.nextDouble() * 5)];
    case 'integer':
    case 'number':
      return [0, 1, 2, 42, 1000][Math.floor(rng.nextDouble() * 5)];
    case 'boolean':
      return rng.nextDouble() < 0.5;
    case 'array':
      return Array.from({ length: Math.floor(rng.nextDouble() * 3) }, () => valueFor(s.items, rng, doc, depth + 1, known));
    default:
      return objectFor(s, rng, doc, depth + 1, known);
  }
}

function objectFor(schema: Record<string, any>, rng: Prng, doc: any, depth: number, known: string[]): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, p] of Object.entries<Record<string, any>>(schema.properties ?? {})) if (rng.nextDouble() < 0.8) out[k] = valueFor(p, rng, doc, depth, known);
  if (rng.nextDouble() < 0.2) out[junkKey(rng)] = junkValue(rng);
  return out;
}

function resolveRef(doc: any, ref: string): Record<string, any> {
  return ref.replace(/^#\//, '').split('/').reduce((o, k) => o?.[k], doc) ?? {};
}

/** A request body: the operation's schema filled (mostly) plausibly, or a junk body of any shape. */
function bodyFor(op: Operation, rng: Prng, doc: any, known: string[]): Json {
  const r = rng.nextDouble();
  if (r < 0.15) return junkValue(rng);
  if (!op.body) return rng.nextDouble() < 0.5 ? {} : junkValue(rng);
  const s = op.body.$ref ? resolveRef(doc, op.body.$ref) : op.body;
  if (s.type === 'array') return Array.from({ length: 1 + Math.floor(rng.nextDouble() * 3) }, () => valueFor(s.items, rng, doc, 1, known));
  return objectFor(s, rng, doc, 0, known);
}

const CSV_BODIES = [
  'code,name\nT-1,"unterminated\n',
  'opportunity_id;sales_agent;deal_stage\nX;Y;Won\n',
  '\u0000\u0001\u0002',
  'a,b\n1,2,3,4\n',
  '\ufeffopportunity_id,sales_agent,deal_stage,engage_date,close_date,close_value\nO1,T-1,Won,2024-02-30,2024-01-01,-5\n',
  '',
  'x'.repeat(2000),
];

/**
 * Percent-encodes `s`; a lone surrogate (which encodeURIComponent refuses) goes out as the bytes of
 * an invalid UTF-8 sequence, which is what a broken client sends.
 */
function encodeLoosely(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split('').map((c) => (/[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

/** Sends one fuzzed request; returns its status (or throws on a network error, which fails the test). */
async function sendOne(stack: TestStack, op: Operation, rng: Prng, doc: any, known: string[]): Promise<{ status: number; what: string }> {
  const pathValue = () => {
    const r = rng.nextDouble();
    if (r < 0.4) return known[Math.floor(rng.nextDouble() * known.length)];
    return String(junkValue(rng));
  };
  const path = op.path.replace(/\{[^}]+\}/g, () => encodeLoosely(pathValue()));
  const query: Record<string, string> = {};
  for (const p of op.params.filter((x) => x.in === 'query')) if (rng.nextDouble() < 0.7) query[p.name] = String(valueFor(p.schema, rng, doc, 0, known));
  if (rng.nextDouble() < 0.2) query[junkKey(rng) || 'q'] = String(junkValue(rng));
  const search = Object.entries(query).map(([k, v]) => `${encodeLoosely(k)}=${encodeLoosely(v)}`).join('&');
  const url = search ? `${path}?${search}` : path;
  let req = request(stack.http)[op.method](url);
  for (const p of op.params.filter((x) => x.in === 'header')) if (rng.nextDouble() < 0.5) req = req.set(p.name, String(junkValue(rng)).replace(/[\u0000-\u001f\u007f-\uffff]/g, '?').slice(0, 300));
  let what = `${op.method.toUpperCase()} ${url} ${JSON.stringify(query)}`;
  if (op.multipart || op.csv) {
    const csv = CSV_BODIES[Math.floor(rng.nextDouble() * CSV_BODIES.length)];
    const mode = Math.floor(rng.nextDouble() * 4);
    what += ` csv-mode ${mode} ${JSON.stringify(csv.slice(0, 40))}`;
    if (mode === 0) req = req.attach('file', Buffer.from(csv), 'upload.csv');
    else if (mode === 1) req = req.set('content-type', 'multipart/form-data').send(csv);
    else if (mode === 2) req = req.set('content-type', 'multipart/form-data; boundary=XYZ').send(`--XYZ\r\nContent-Disposition: form-data; name="file"\r\n\r\n${csv}`);
    else req = req.set('content-type', op.csv ? 'text/csv' : 'application/octet-stream').send(csv);
  } else if (op.method !== 'get' && op.method !== 'delete') {
    const body = bodyFor(op, rng, doc, known);
    const raw = rng.nextDouble() < 0.1;
    what += ` ${raw ? 'raw' : 'json'} ${JSON.stringify(body)?.slice(0, 300)}`;
    // Sent as text so a top-level scalar (a bare number, a string) goes out as JSON too.
    req = req.set('content-type', 'application/json').send(raw ? `{"broken": ${JSON.stringify(body)}` : JSON.stringify(body));
  }
  const res = await req;
  return { status: res.status, what: `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}` };
}

/** One hash over every row of every table of the public and staging schemas (migrations' log aside). */
async function fingerprintQuery(ds: DataSource): Promise<string> {
  const tables: { s: string; t: string }[] = await ds.query(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
      WHERE table_schema IN ('public', 'opportunity_staging') AND table_type = 'BASE TABLE' AND table_name <> 'migrations' ORDER BY 1, 2`,
  );
  return tables
    .map(({ s, t }) => `SELECT '${s}.${t}' AS t, count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${s}"."${t}" x`)
    .join(' UNION ALL ');
}

async function fingerprint(ds: DataSource): Promise<string> {
  const rows: { t: string; n: string; h: string }[] = await ds.query(await fingerprintQuery(ds));
  return rows.map((r) => `${r.t}:${r.n}:${r.h}`).join(',');
}

function operations(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete'] as const) {
      const op = item[method];
      if (!op || path.startsWith('/docs')) continue;
      const content = op.requestBody?.content ?? {};
      out.push({
        method,
        path,
        params: (op.parameters ?? []).map((p: any) => ({ name: p.name, in: p.in, schema: p.schema })),
        body: content['application/json']?.schema ?? null,
        multipart: 'multipart/form-data' in content,
        csv: 'text/csv' in content,
      });
    }
  }
  return out;
}

describe('fuzz: no input makes a 5xx, and a refused request changes nothing', () => {
  let stack: TestStack;
  let doc: any;
  const known: string[] = [];

  beforeAll(async () => {
    // The rate limit is not what this suite probes: raise it so every request reaches validation.
    stack = await startStack({ withWorker: false, overrides: { RATE_LIMIT_LIMIT: 1_000_000 } });
    const ids = await loadTerritories(stack.http, ['T-1', 'T-2', 'T-3', 'T-4', 'T-5', 'T-6', 'T-7', 'T-8'].map((code) => territory({ code })));
    known.push(...ids.values());
    const draft = await request(stack.http).post('/pilots').send(pilot(['T-1', 'T-2', 'T-3', 'T-4'])).expect(201);
    const running = await request(stack.http).post('/pilots').send(pilot(['T-5', 'T-6', 'T-7', 'T-8'], { name: 'running pilot' })).expect(201);
    await designAndLaunch(stack.http, running.body.id);
    const batch = await postBatch(stack.http, [opportunityRow({ territory: 'T-1' })]);
    const report = await request(stack.http).post(`/pilots/${running.body.id}/reports`).send({});
    known.push(draft.body.id, running.body.id, batch.batch_id, report.body.id, '1', 'ingestion', 'analysis');
    doc = (await request(stack.http).get('/docs-json').expect(200)).body;
  }, 60_000);
  afterAll(() => stack.close());

  it(`sends ${REQUESTS_PER_OPERATION} seeded requests to every operation of the OpenAPI document`, async () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    const rng = createPrng(SEED);
    const serverErrors: string[] = [];
    const changedOnRefusal: string[] = [];
    const statuses = new Map<number, number>();
    let before = await fingerprint(stack.dataSource);
    for (const op of ops) {
      for (let i = 0; i < REQUESTS_PER_OPERATION; i++) {
        const { status, what } = await sendOne(stack, op, rng, doc, known);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) serverErrors.push(what);
        if (op.method === 'get' && status < 500) continue;
        const after = await fingerprint(stack.dataSource);
        if (status >= 400 && after !== before) changedOnRefusal.push(what);
        before = after;
      }
    }
    console.info(`fuzz seed ${SEED}: ${ops.length} operations, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(serverErrors.slice(0, 20)).toEqual([]);
    expect(changedOnRefusal.slice(0, 20)).toEqual([]);
    // The fuzz reached validation, not only the router: most answers are 400s, some requests succeed.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(ops.length * REQUESTS_PER_OPERATION * 0.3);
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
  }, 600_000);
});
