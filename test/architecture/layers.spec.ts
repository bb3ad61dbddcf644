import { join } from 'path';
import { existsSync, readFileSync } from 'fs';
import { folderCycles, folderGraph, ImportEdge, measureSource, readImports } from './import-graph';
import { FLOORS, floorViolations, mermaidGraph } from './floors';
import { ARCHITECTURE_DOC, folderGraphBlock, GRAPH_BEGIN, GRAPH_END } from './print-graph';

/** A spec file, and the packages a spec of the pure core may use besides jstat (fixtures and invariant checks live under test/). */
const SPEC = /\.spec\.ts$/;
const TEST_PACKAGES = new Set(['fast-check']);

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

describe('docs/architecture.md', () => {
  const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');

  it('shows the current folder graph (regenerate with npm run arch:graph -- --write)', () => {
    const a = doc.indexOf(GRAPH_BEGIN);
    const b = doc.indexOf(GRAPH_END);
    expect(a).toBeGreaterThan(0);
    expect(doc.slice(a + GRAPH_BEGIN.length, b).trim()).toBe(folderGraphBlock());
  });

  it('names every folder of src/ with its floor', () => {
    const table = doc.slice(doc.indexOf('## Floors'), doc.indexOf(GRAPH_BEGIN));
    const missing = Object.entries(FLOORS)
      .filter(([folder]) => folder !== '(root)')
      .filter(([folder, floor]) => !new RegExp(`\\| ${floor} \\|[^\\n]*\`${folder}/\``).test(table))
      .map(([folder]) => folder);
    expect(missing).toEqual([]);
  });

  it('names only files that exist in its "Adding a KPI" steps', () => {
    const steps = doc.slice(doc.indexOf('## Adding a KPI'));
    const paths = [...steps.matchAll(/`((?:src|migrations|test|docs)\/[\w./-]+\.(?:ts|md))`/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThanOrEqual(4);
    expect(paths.filter((p) => !existsSync(join(__dirname, '../..', p)))).toEqual([]);
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
