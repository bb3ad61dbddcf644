import { join } from 'path';
import { folderCycles, folderGraph, ImportEdge, measureSource, readImports, topFolder } from './import-graph';

/**
 * The floors of src/ (docs/architecture.md). A folder may import its own floor's folders (without
 * a cycle) and any floor below; the ground floor imports nothing of src/ but itself.
 */
/** A spec file, and the packages a spec of the pure core may use besides jstat (fixtures and invariant checks live under test/). */
const SPEC = /\.spec\.ts$/;
const TEST_PACKAGES = new Set(['fast-check']);

export const FLOORS: Record<string, number> = {
  common: 0,
  config: 0,
  stats: 0,
  queues: 1,
  territories: 2,
  owners: 2,
  audit: 2,
  auth: 2,
  opportunities: 2,
  rollups: 2,
  kpis: 2,
  pilots: 2,
  assignment: 2,
  power: 2,
  governance: 2,
  reports: 2,
  'queue-admin': 2,
  health: 2,
  database: 3,
  demo: 3,
  '(root)': 3,
};
const FLOOR_NAMES = ['ground', 'plumbing', 'domain', 'composition'];

/** Imports that break the floors: upward, or out of a ground-floor folder. */
export function floorViolations(edges: ImportEdge[], floors: Record<string, number>): string[] {
  const out: string[] = [];
  for (const e of edges) {
    if (e.to === null || e.to.startsWith('..')) continue; // packages; migrations/ (outside src) is read by database/ only
    const a = topFolder(e.from);
    const b = topFolder(e.to);
    if (a === b) continue;
    const fa = floors[a];
    const fb = floors[b];
    if (fa === undefined || fb === undefined) out.push(`${e.from} → ${e.to}: folder without a floor (add it to FLOORS and docs/architecture.md)`);
    else if (fb > fa) out.push(`${e.from} → ${e.to}: ${FLOOR_NAMES[fa]} floor imports the ${FLOOR_NAMES[fb]} floor`);
    else if (fa === 0) out.push(`${e.from} → ${e.to}: the ground floor imports only its own folder`);
  }
  return out;
}

const SRC = join(__dirname, '../../src');
const edges = readImports(SRC);
const edgesWithSpecs = readImports(SRC, { includeSpecs: true });

describe('the import graph of src/', () => {
  it('keeps every folder on its floor', () => {
    expect(floorViolations(edges, FLOORS)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    expect(folderCycles(folderGraph(edges))).toEqual([]);
  });

  it('keeps stats/ pure: no Nest, TypeORM or other src/ folder, its specs included (test tools aside)', () => {
    const allowed = (e: ImportEdge) =>
      e.to === null
        ? e.specifier === 'jstat' || (SPEC.test(e.from) && TEST_PACKAGES.has(e.specifier))
        : e.to.startsWith('stats/') || (SPEC.test(e.from) && e.to.startsWith('../test/'));
    const out = edgesWithSpecs
      .filter((e) => e.from.startsWith('stats/'))
      .filter((e) => !allowed(e))
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(out).toEqual([]);
  });

  it('keeps queues/ domain-free: it imports only queues/, common/ and config/', () => {
    const out = edges.filter((e) => e.from.startsWith('queues/') && e.to !== null && !/^(queues|common|config)\//.test(e.to)).map((e) => `${e.from} → ${e.to}`);
    expect(out).toEqual([]);
  });

  it('reads the imports it checks (a guard against an empty graph passing every rule)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'reports/building/report-builder.service.ts', to: 'reports/comparison/kpi-comparison.ts' }));
    expect(Object.keys(FLOORS).sort()).toEqual([...folderGraph(edges).keys()].sort());
  });
});

describe('the checks themselves', () => {
  const edge = (from: string, to: string | null, specifier = to ?? 'pkg'): ImportEdge => ({ from, to, specifier, typeOnly: false });

  it('find a cycle between folders', () => {
    const g = folderGraph([edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'c/z.ts'), edge('c/z.ts', 'a/w.ts'), edge('d/v.ts', 'a/x.ts')]);
    expect(folderCycles(g)).toEqual([['a', 'b', 'c']]);
    expect(folderCycles(folderGraph([edge('a/x.ts', 'b/y.ts'), edge('d/v.ts', 'a/x.ts')]))).toEqual([]);
  });

  it('find an upward import, a ground floor importing another folder, and an unknown folder', () => {
    const floors = { stats: 0, common: 0, kpis: 2 };
    expect(floorViolations([edge('stats/a.ts', 'kpis/k.ts')], floors)).toEqual(['stats/a.ts → kpis/k.ts: ground floor imports the domain floor']);
    expect(floorViolations([edge('stats/a.ts', 'common/c.ts')], floors)).toEqual(['stats/a.ts → common/c.ts: the ground floor imports only its own folder']);
    expect(floorViolations([edge('kpis/k.ts', 'stats/a.ts'), edge('kpis/k.ts', 'kpis/j.ts'), edge('kpis/k.ts', null)], floors)).toEqual([]);
    expect(floorViolations([edge('newfolder/n.ts', 'stats/a.ts')], floors)[0]).toMatch(/folder without a floor/);
  });
});

describe('the size of src/ (generated migrations live outside it)', () => {
  const { functions, files } = measureSource(SRC);

  it('has no function over 120 lines', () => {
    expect(functions.filter((f) => f.lines > 120).map((f) => `${f.file} ${f.name}: ${f.lines} lines`)).toEqual([]);
  });

  it('has no file over 450 lines', () => {
    expect(files.filter((f) => f.lines > 450).map((f) => `${f.file}: ${f.lines} lines`)).toEqual([]);
  });

  it('measures what it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    const builder = functions.find((f) => f.file === 'reports/building/report-builder.service.ts' && f.name === 'computeReport');
    expect(builder?.lines).toBeGreaterThan(5);
  });
});
