import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve, sep } from 'path';
import * as ts from 'typescript';

/** One import statement of a source file: the specifier as written and, for a relative one, the file it names. */
export interface ImportEdge {
  /** importing file, relative to the source root, with `/` separators */
  from: string;
  /** the module specifier as written (`'../stats/welch'`, `'@nestjs/common'`) */
  specifier: string;
  /** imported file relative to the source root, or null for a package import */
  to: string | null;
  /** true for `import type` / `export type` (erased at compile time) */
  typeOnly: boolean;
}

const posix = (p: string) => p.split(sep).join('/');

function listTsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return listTsFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveRelative(fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* try the next form */
    }
  }
  return `${base}.ts`;
}

/**
 * Reads every import and re-export of the `.ts` files under `root` with the TypeScript parser
 * (no type checking, so it is fast and sees exactly what is written; dynamic `import()` and
 * `require()` calls with a string literal count too).
 * @param root absolute path of the source root (e.g. `<repo>/src`)
 * @param options.includeSpecs also read `*.spec.ts` files (default false: specs may import fixtures)
 * @returns one edge per import statement
 */
export function readImports(root: string, options: { includeSpecs?: boolean } = {}): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of listTsFiles(root)) {
    if (!options.includeSpecs && file.endsWith('.spec.ts')) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const add = (specifier: string, typeOnly: boolean) =>
      edges.push({
        from: posix(relative(root, file)),
        specifier,
        to: specifier.startsWith('.') ? posix(relative(root, resolveRelative(file, specifier))) : null,
        typeOnly,
      });
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, Boolean(node.importClause?.isTypeOnly));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly);
      } else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
        node.arguments.length === 1 &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        add((node.arguments[0] as ts.StringLiteral).text, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return edges;
}

/** The top-level folder of a path relative to the source root (`stats/design/x.ts` → `stats`); root files map to `(root)`. */
export function topFolder(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? '(root)' : path.slice(0, i);
}

/**
 * Folder-level dependency graph: an edge A → B for every import from a file in top folder A of a
 * file in top folder B (A ≠ B). Package imports are left out.
 * @returns map from folder to the set of folders it imports
 */
export function folderGraph(edges: ImportEdge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = topFolder(e.from);
    if (!graph.has(a)) graph.set(a, new Set());
    if (e.to === null) continue;
    const b = topFolder(e.to);
    if (a !== b) graph.get(a)!.add(b);
  }
  return graph;
}

/**
 * The strongly connected components with more than one node (Tarjan 1972): each is a set of
 * folders that import each other in a cycle.
 * @returns the cycles, each sorted, in discovery order
 */
export function folderCycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const strongConnect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) strongConnect(v);
  return cycles;
}

/** A function-like declaration and its length in source lines. */
export interface FunctionSpan {
  file: string;
  name: string;
  lines: number;
}

/**
 * The length in lines of every function, method, arrow function and function expression in the
 * `.ts` files under `root` (a nested function counts in its own right and inside its parent),
 * and the length of each file.
 * @param root absolute path of the source root
 * @param options.includeSpecs also read `*.spec.ts` files (default false)
 */
export function measureSource(root: string, options: { includeSpecs?: boolean } = {}): { functions: FunctionSpan[]; files: { file: string; lines: number }[] } {
  const functions: FunctionSpan[] = [];
  const files: { file: string; lines: number }[] = [];
  for (const file of listTsFiles(root)) {
    if (!options.includeSpecs && file.endsWith('.spec.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const rel = posix(relative(root, file));
    files.push({ file: rel, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const named = (node as ts.FunctionLikeDeclaration).name;
        let name = named && (ts.isIdentifier(named) || ts.isStringLiteral(named)) ? named.text : '';
        if (!name && ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) name = node.parent.name.text;
        if (!name && ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name)) name = node.parent.name.text;
        functions.push({ file: rel, name: name || '(anonymous)', lines: lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { functions, files };
}
