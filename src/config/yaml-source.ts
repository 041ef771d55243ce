/**
 * A policy file's YAML source with positions: the text read as one YAML 1.2 document (core
 * schema) and turned into plain data, and the way back from a document path to the line and
 * column an Issue points at (on the offending key or value; for a missing key, at the mapping
 * that lacks it). Every policy file is read here: the allowlist, the known-host list, the trust
 * file, and the stamp and sign edits.
 *
 * Contract:
 * - parseYamlSource never throws for any input text.
 * - The core schema keeps dates and `yes`/`no` as strings. Duplicate keys, anchors, aliases,
 *   unknown tags, complex keys and multi-document files are errors: a security file is read by
 *   people, and every one of those lets the file mean something other than what a reader sees.
 *   So is nesting deeper than 32 levels, checked before the recursive part of YAML parsing runs.
 * - One reader: the `yaml` package, with positions, words and places every error. A second
 *   reader of a security file could come to read it differently from the first.
 * Pure: no I/O.
 */
import { Composer, isAlias, isMap, isScalar, isSeq, LineCounter, Parser } from 'yaml';
import type { CST, Document, Node as YamlNode } from 'yaml';
import { sortIssues } from './config-issues.js';
import type { DocPath, Issue } from './config-issues.js';

/** A parsed YAML document together with what is needed to turn offsets into positions. */
export interface YamlSource {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** The text parsed. */
  readonly text: string;
}

/** The result of parseYamlSource: the document as plain data, or every YAML-level error. */
export type YamlParseResult =
  | { readonly ok: true; readonly source: YamlSource; readonly value: unknown }
  | { readonly ok: false; readonly errors: Issue[] };

/**
 * Parses `text` as a single YAML 1.2 (core schema) document and converts it to plain data
 * (objects without prototype, arrays, strings, numbers, booleans, null). Rejects what the
 * module comment lists; never throws.
 */
export function parseYamlSource(text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  // parseDocument's steps, split so nesting is bounded before composing: yaml's CST parser is
  // iterative, but its composer recurses once per level, and a pathological file (100,000
  // nested "[") can exhaust the stack in ways V8 does not always report as a catchable error.
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const tooDeep = firstTooDeep(tokens);
  if (tooDeep !== undefined) {
    const message = `nested more than ${String(MAX_DEPTH)} levels deep`;
    return { ok: false, errors: [{ ...positionOf({ lineCounter }, tooDeep), message }] };
  }
  const composer = new Composer({ schema: 'core', uniqueKeys: true });
  let doc: Document.Parsed | undefined;
  const errors: Issue[] = [];
  for (const next of composer.compose(tokens, true, text.length)) {
    if (doc === undefined) doc = next;
    else {
      errors.push({
        ...positionOf({ lineCounter }, next.range[0]),
        message: 'the file must hold a single YAML document (found a second "---")',
      });
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document.
  if (doc === undefined)
    return { ok: false, errors: [{ line: 1, col: 1, message: 'no YAML document' }] };
  const source: YamlSource = { doc, lineCounter, text };
  for (const problem of [...doc.errors, ...doc.warnings]) {
    // Duplicate keys are reported by checkNode below, with the first occurrence's line.
    if (problem.code === 'DUPLICATE_KEY') continue;
    errors.push({ ...positionOf(source, problem.pos[0]), message: yamlMessage(problem) });
  }
  checkNode(source, doc.contents, errors);
  if (errors.length > 0) return { ok: false, errors: sortIssues(errors) };
  return { ok: true, source, value: toPlain(doc.contents) };
}

/** Deeper than any valid file nests (an allowlist needs 5 levels). */
const MAX_DEPTH = 32;

/** The offset of the first CST token nested deeper than MAX_DEPTH, walked without recursion. */
function firstTooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack = tokens.map((token) => ({ token, depth: 0 }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { token, depth } = next;
    if (depth > MAX_DEPTH) return token.offset;
    if (token.type === 'document') {
      if (token.value !== undefined) stack.push({ token: token.value, depth: depth + 1 });
    } else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value !== undefined) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function yamlMessage(problem: { code: string; message: string }): string {
  if (problem.code === 'TAG_RESOLVE_FAILED') {
    return `YAML tags other than the core schema's are not allowed (${problem.message})`;
  }
  return `YAML syntax error: ${problem.message.split('\n')[0] ?? problem.message}`;
}

/** Rejects anchors, aliases, complex keys and duplicate keys anywhere under `node`. */
function checkNode(source: YamlSource, node: unknown, errors: Issue[]): void {
  if (isAlias(node)) {
    errors.push({
      ...positionOf(source, node.range?.[0] ?? 0),
      message:
        'YAML aliases (*name) are not allowed: write each value out in full. ' +
        'To write a wildcard host, quote it: "*.example.com"',
    });
    return;
  }
  if (!isScalar(node) && !isMap(node) && !isSeq(node)) return;
  if (node.anchor !== undefined) {
    errors.push({
      ...positionOf(source, node.range?.[0] ?? 0),
      message: `YAML anchors (&${node.anchor}) are not allowed: write each value out in full`,
    });
  }
  if (isSeq(node)) {
    for (const item of node.items) checkNode(source, item, errors);
  } else if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key)) {
        errors.push({
          ...positionOf(source, rangeStart(key) ?? rangeStart(node) ?? 0),
          message: 'keys must be plain strings',
        });
        continue;
      }
      checkNode(source, key, errors);
      const name = String(key.value);
      const offset = key.range?.[0] ?? 0;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, offset);
      else {
        errors.push({
          ...positionOf(source, offset),
          message: `duplicate key ${JSON.stringify(name)} (first at line ${String(positionOf(source, first).line)})`,
        });
      }
      checkNode(source, pair.value, errors);
    }
  }
}

function toPlain(node: unknown): unknown {
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map(toPlain);
  if (isMap(node)) {
    // No prototype: a key such as "__proto__" stays an ordinary (unknown) key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const pair of node.items) {
      if (isScalar(pair.key)) out[String(pair.key.value)] = toPlain(pair.value);
    }
    return out;
  }
  return null;
}

function rangeStart(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}

/** 1-based line and column of a character offset. */
export function positionOf(
  source: Pick<YamlSource, 'lineCounter'>,
  offset: number,
): { line: number; col: number } {
  const { line, col } = source.lineCounter.linePos(offset);
  return line === 0 ? { line: 1, col: offset + 1 } : { line, col };
}

interface Located {
  /** The node at the path, if the path exists. */
  readonly node: YamlNode | undefined;
  /** The key node of the last path step, when that step is a mapping key that exists. */
  readonly key: YamlNode | undefined;
  /** The deepest node that exists along the path. */
  readonly nearest: YamlNode | undefined;
  readonly found: boolean;
}

/** Finds the node at a document path (mapping keys and sequence indexes). */
export function locate(source: YamlSource, path: DocPath): Located {
  let current: unknown = source.doc.contents;
  let key: YamlNode | undefined;
  let nearest = isYamlNode(current) ? current : undefined;
  for (const step of path) {
    if (isMap(current)) {
      const pair = current.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(step),
      );
      if (pair === undefined) return { node: undefined, key: undefined, nearest, found: false };
      key = isYamlNode(pair.key) ? pair.key : undefined;
      current = pair.value;
    } else if (isSeq(current) && typeof step === 'number') {
      key = undefined;
      current = current.items[step];
      if (current === undefined) return { node: undefined, key: undefined, nearest, found: false };
    } else {
      return { node: undefined, key: undefined, nearest, found: false };
    }
    if (isYamlNode(current)) nearest = current;
  }
  return { node: isYamlNode(current) ? current : undefined, key, nearest, found: true };
}

function isYamlNode(value: unknown): value is YamlNode {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

/**
 * The Issue for `message` at `path`: on the key, on the value (on the key instead when the value
 * is empty, as in `approved:`), or on the mapping at `path` (for a missing key).
 */
export function issueAt(
  source: YamlSource,
  path: DocPath,
  at: 'key' | 'value' | 'map',
  message: string,
): Issue {
  const found = locate(source, path);
  let node: YamlNode | undefined;
  if (at === 'key') node = found.key ?? found.node;
  else if (at === 'value') {
    node = isImplicitNull(found.node) ? (found.key ?? found.node) : (found.node ?? found.key);
  } else node = found.node;
  const offset = rangeStart(node ?? found.nearest) ?? 0;
  return { ...positionOf(source, offset), message };
}

function isImplicitNull(node: YamlNode | undefined): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}

/**
 * An issue inside a condition's expression, placed at its own line and column in the file when
 * the expression's text appears there as written (plain, quoted without escapes, or a block);
 * otherwise at the start of the value, with the position inside the expression in the message.
 */
export function issueInExpression(
  source: YamlSource,
  path: DocPath,
  position: { readonly line: number; readonly column: number },
  message: string,
): Issue {
  const found = locate(source, path);
  const node = found.node;
  const start = rangeStart(node);
  const expr = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  if (start !== undefined && expr !== undefined && isScalar(node)) {
    const lineText = expr.split('\n')[position.line - 1];
    const end = node.range?.[1] ?? start;
    const at = lineText === undefined ? -1 : source.text.indexOf(lineText, start);
    if (at >= 0 && at + (lineText?.length ?? 0) <= end) {
      return { ...positionOf(source, at + position.column - 1), message };
    }
  }
  const where = `(line ${position.line}, column ${position.column} of the expression)`;
  return issueAt(source, path, 'value', `${message} ${where}`);
}

/** A YAML mapping read as plain data (an object parseYamlSource made). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
