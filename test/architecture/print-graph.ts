import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { folderGraph, readImports } from './import-graph';
import { FLOORS, mermaidGraph } from './floors';

/** The markers around the generated picture in docs/architecture.md. */
export const GRAPH_BEGIN = '<!-- folder-graph:begin (npm run arch:graph) -->';
export const GRAPH_END = '<!-- folder-graph:end -->';
export const ARCHITECTURE_DOC = join(__dirname, '../../docs/architecture.md');

/** The Mermaid picture of src/'s folder graph, as a fenced block. */
export function folderGraphBlock(): string {
  return ['```mermaid', mermaidGraph(folderGraph(readImports(join(__dirname, '../../src'))), FLOORS), '```'].join('\n');
}

/**
 * `npm run arch:graph`: prints the picture; with `--write`, replaces the block between the markers
 * in docs/architecture.md (test/architecture/layers.spec.ts fails while the two differ).
 */
function main(): void {
  const block = folderGraphBlock();
  if (!process.argv.includes('--write')) {
    process.stdout.write(`${block}\n`);
    return;
  }
  const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
  const a = doc.indexOf(GRAPH_BEGIN);
  const b = doc.indexOf(GRAPH_END);
  if (a < 0 || b < a) throw new Error(`docs/architecture.md lacks the markers ${GRAPH_BEGIN} … ${GRAPH_END}`);
  writeFileSync(ARCHITECTURE_DOC, `${doc.slice(0, a + GRAPH_BEGIN.length)}\n${block}\n${doc.slice(b)}`);
  process.stdout.write('docs/architecture.md: folder graph updated\n');
}

if (require.main === module) main();
