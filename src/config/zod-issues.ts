/**
 * zod's issues turned into positioned Issues that a person can act on: `path: problem`, with
 * the expected type and the value found written out, a missing key reported at the mapping that
 * lacks it, and a "did you mean" hint for a misspelt key. Shared by every policy file's loader.
 * Pure: no I/O.
 */
import type * as z from 'zod';
import { pathLabel } from './config-issues.js';
import type { DocPath, Issue } from './config-issues.js';
import { issueAt, locate } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

function prefixed(path: DocPath, message: string): string {
  return path.length === 0 ? message : `${pathLabel(path)}: ${message}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/**
 * Turns zod issues into positioned Issues with messages of the form `path: problem`.
 * `keysAt` supplies the allowed keys at a path for "did you mean" hints.
 */
export function zodIssuesToIssues(
  source: YamlSource,
  issues: readonly z.core.$ZodIssue[],
  keysAt: (path: DocPath) => readonly string[] | undefined,
): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((step) => typeof step !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = closest(key, keysAt(path) ?? []);
        const message = `unknown key ${JSON.stringify(key)}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`;
        out.push(issueAt(source, [...path, key], 'key', prefixed(path, message)));
      }
      continue;
    }
    const found = locate(source, path);
    if (!found.found) {
      const parent = path.slice(0, -1);
      const key = String(path[path.length - 1]);
      out.push(
        issueAt(
          source,
          parent,
          'map',
          prefixed(parent, `missing required key ${JSON.stringify(key)}`),
        ),
      );
      continue;
    }
    let message: string;
    if (path.length === 0 && source.doc.contents === null) {
      message = 'the file is empty; an allowlist needs at least version, review_url and approved';
    } else if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      message = prefixed(path, `expected ${expected}, got ${describeValue(issue.input)}`);
      if (path.length === 0)
        message = `the top level must be a mapping (key: value lines), got ${describeValue(issue.input)}`;
    } else if (issue.code === 'invalid_value') {
      const values = issue.values.map((value) => String(value)).join(', ');
      message = prefixed(path, `must be one of ${values}; got ${describeValue(issue.input)}`);
    } else {
      message = prefixed(path, issue.message);
    }
    out.push(issueAt(source, path, 'value', message));
  }
  return out;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
