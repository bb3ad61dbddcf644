import { ImportEdge, topFolder } from './import-graph';

/**
 * The floors of src/ (docs/architecture.md). A folder may import its own floor's folders (without
 * a cycle) and any floor below; the ground floor imports nothing of src/ but itself.
 */

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
  'exchange-rates': 2,
  health: 2,
  database: 3,
  demo: 3,
  '(root)': 3,
};
export const FLOOR_NAMES = ['ground', 'plumbing', 'domain', 'composition'];

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

/**
 * The folder graph as a Mermaid flowchart, one subgraph per floor (top floor first), edges sorted,
 * so the picture in docs/architecture.md can be regenerated and compared byte for byte. Imports of
 * files outside src/ (database/ reads migrations/) are left out.
 */
export function mermaidGraph(graph: Map<string, Set<string>>, floors: Record<string, number>): string {
  const id = (folder: string) => (folder === '(root)' ? 'root' : folder.replace(/[^a-z0-9]/gi, '_'));
  const label = (folder: string) => (folder === '(root)' ? 'src/*.ts' : `${folder}/`);
  const lines = ['flowchart TD'];
  for (let floor = FLOOR_NAMES.length - 1; floor >= 0; floor--) {
    const members = Object.keys(floors).filter((f) => floors[f] === floor).sort();
    lines.push(`  subgraph ${FLOOR_NAMES[floor]}["${floor}: ${FLOOR_NAMES[floor]}"]`);
    for (const f of members) lines.push(`    ${id(f)}["${label(f)}"]`);
    lines.push('  end');
  }
  for (const from of [...graph.keys()].sort()) for (const to of [...graph.get(from)!].sort()) if (to in floors) lines.push(`  ${id(from)} --> ${id(to)}`);
  return lines.join('\n');
}
