/**
 * The import graph of a source tree, for the layering checks in test/unit/import-graph.test.ts:
 * every `import`, `import type`, `export … from` and `import()` of every .ts file, read with
 * TypeScript's own pre-processor so that comments and strings are never mistaken for imports.
 * Type-only imports count: a type cycle is still a cycle for the reader, and the first one we
 * removed (config/allowlist-schema.ts ↔ core/policy/compile.ts) was type-only on one side.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** File (relative to the root, `/`-separated) → what it imports. */
export interface ImportGraph {
  /** Relative imports, resolved to files of the tree. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** Every other specifier (packages, `node:` built-ins), per file. */
  readonly external: ReadonlyMap<string, readonly string[]>;
}

/** Reads every .ts file under `root` (a folder) and resolves its relative imports. */
export function readImportGraph(root: string): ImportGraph {
  const files = listTs(root).map((file) => toKey(root, file));
  const sources = new Map(files.map((file) => [file, readFileSync(join(root, file), 'utf8')]));
  return importGraphOf(sources);
}

/**
 * The graph of in-memory sources (file → text, files named relative to one root). A relative
 * specifier resolves as Node's ESM resolution does for our emitted code: `./x.js` is `./x.ts`.
 * One that names no file of the set is an error, so a typo cannot hide an edge.
 */
export function importGraphOf(sources: ReadonlyMap<string, string>): ImportGraph {
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const specifiers = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((imported) => imported.fileName);
    const local: string[] = [];
    const other: string[] = [];
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.')) {
        other.push(specifier);
        continue;
      }
      const target = resolveSpecifier(file, specifier);
      if (!sources.has(target)) {
        throw new Error(`${file}: ${JSON.stringify(specifier)} names no file of the tree`);
      }
      if (!local.includes(target)) local.push(target);
    }
    edges.set(file, local);
    external.set(file, other);
  }
  return { edges, external };
}

function resolveSpecifier(file: string, specifier: string): string {
  const joined = toPosix(relative('/', resolve('/', dirname(file), specifier)));
  return joined.endsWith('.js') ? `${joined.slice(0, -3)}.ts` : joined;
}

/**
 * Every cycle, as the files of one strongly connected component (sorted, joined by " ↔ "), the
 * list sorted: a stable text to compare with a list of known cycles. A file importing itself
 * counts. Tarjan's algorithm, iterative so that a deep tree cannot overflow the stack.
 */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[] = [];
  let next = 0;

  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, next);
    low.set(start, next);
    next++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges.get(frame.node) ?? [];
      if (frame.child < targets.length) {
        const target = targets[frame.child++]!;
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next);
          next++;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, child: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfLoop = (edges.get(frame.node) ?? []).includes(frame.node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort().join(' ↔ '));
    }
  }
  return cycles.sort();
}

/**
 * Imports that leave `folder` (a prefix such as "core/"): "file → target" for relative imports
 * outside it, "file → specifier" for external specifiers not in `allowedExternal`.
 */
export function importsLeaving(
  graph: ImportGraph,
  folder: string,
  allowedExternal: ReadonlySet<string>,
): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph.edges) {
    if (!file.startsWith(folder)) continue;
    for (const target of targets) {
      if (!target.startsWith(folder)) found.push(`${file} → ${target}`);
    }
    for (const specifier of graph.external.get(file) ?? []) {
      if (!allowedExternal.has(specifier)) found.push(`${file} → ${specifier}`);
    }
  }
  return found.sort();
}

/**
 * Imports from files under `from` (a folder prefix such as "cluster/", or a file such as
 * "service.ts") into any of `into`: "file → target", sorted.
 */
export function importsInto(graph: ImportGraph, from: string, into: readonly string[]): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph.edges) {
    if (!file.startsWith(from)) continue;
    for (const target of targets) {
      if (into.some((prefix) => target.startsWith(prefix))) found.push(`${file} → ${target}`);
    }
  }
  return found.sort();
}

/**
 * The files reachable from `start` (itself included, sorted) and the external specifiers they
 * import: what must ship with an entry point.
 */
export function reachableFrom(
  graph: ImportGraph,
  start: string,
): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const pending = [start];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    pending.push(...(graph.edges.get(file) ?? []));
  }
  const external = new Set([...files].flatMap((file) => graph.external.get(file) ?? []));
  return { files: [...files].sort(), external: [...external].sort() };
}

function listTs(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listTs(root, path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function toKey(root: string, file: string): string {
  return toPosix(relative(root, file));
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
