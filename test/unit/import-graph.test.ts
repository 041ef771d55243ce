import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  findCycles,
  importGraphOf,
  importsInto,
  importsLeaving,
  readImportGraph,
} from '../helpers/import-graph.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * The Node built-ins src/core/ may import, the same list as the `no-restricted-imports` rule for
 * src/core/** in eslint.config.js: each computes without I/O. node:crypto hashes, and gives
 * decision-id.ts its random bytes; node:zlib inflates bodies in memory; node:net and node:url
 * only parse addresses and names; node:buffer is the byte type.
 */
const CORE_BUILT_INS = new Set(['node:buffer', 'node:crypto', 'node:net', 'node:url', 'node:zlib']);

/**
 * Directions that point back up the layers (cli → service → envoy edge → core, with config and
 * telemetry beside the edge): what each folder must not import. telemetry → envoy, cluster → cli
 * and cluster → config were such edges once; types a lower layer needs are declared by it
 * (telemetry's ShedCause, cluster's PrimaryConfig) and the higher layer fits them.
 */
const BACKWARD: readonly (readonly [string, readonly string[]])[] = [
  ['telemetry/', ['cli/', 'cluster/', 'config/', 'envoy/', 'grpc/', 'service.ts']],
  ['cluster/', ['cli/', 'config/', 'envoy/', 'service.ts']],
  ['config/', ['cli/', 'cluster/', 'envoy/', 'service.ts']],
  ['envoy/', ['cli/', 'cluster/', 'config/', 'service.ts']],
  ['grpc/', ['cli/', 'cluster/', 'config/', 'envoy/', 'service.ts']],
  ['service.ts', ['cli/', 'cluster/']],
];

describe('the import graph of src/', () => {
  const graph = readImportGraph(SRC);

  test('has no cycle', () => {
    expect(findCycles(graph.edges)).toEqual([]);
  });

  test('src/core/ imports only itself and pure Node built-ins', () => {
    expect(importsLeaving(graph, 'core/', CORE_BUILT_INS)).toEqual([]);
  });

  test.each(BACKWARD)('%s imports none of %j', (from, into) => {
    expect(importsInto(graph, from, into)).toEqual([]);
  });

  test('is read from every file: the core and its edges are in it', () => {
    expect(graph.edges.get('core/policy/compile.ts')).toContain('core/policy/policy-input.ts');
    expect(graph.edges.get('config/policy-data.ts')).toContain('core/policy/compile.ts');
  });
});

describe('the graph checker', () => {
  const sources = (files: Record<string, string>) => new Map(Object.entries(files));

  test('reads every import form, not comments or strings', () => {
    const graph = importGraphOf(
      sources({
        'a/main.ts': [
          "import { b } from './b.js';",
          "import type { C } from '../c/c.js';",
          "export { d } from './d.js';",
          "const e = await import('./e.js');",
          "// import { x } from './comment.js';",
          'const text = "import { y } from \'./string.js\'";',
          "import { z } from 'node:zlib';",
          "import pkg from 'some-package';",
        ].join('\n'),
        'a/b.ts': '',
        'c/c.ts': '',
        'a/d.ts': '',
        'a/e.ts': '',
      }),
    );
    expect(graph.edges.get('a/main.ts')).toEqual(['a/b.ts', 'c/c.ts', 'a/d.ts', 'a/e.ts']);
    expect(graph.external.get('a/main.ts')).toEqual(['node:zlib', 'some-package']);
  });

  test('a relative import of no file is an error', () => {
    expect(() => importGraphOf(sources({ 'a.ts': "import './missing.js';" }))).toThrow(
      /names no file/,
    );
  });

  test('finds a cycle through several files, a type-only one and a self-import', () => {
    const graph = importGraphOf(
      sources({
        'config/schema.ts': "import { compile } from '../core/compile.js';",
        'core/compile.ts': "import { stamp } from '../config/stamp.js';",
        'config/stamp.ts': "import type { Doc } from './schema.js';",
        'core/self.ts': "import './self.js';",
        'core/leaf.ts': "import { compile } from './compile.js';",
      }),
    );
    expect(findCycles(graph.edges)).toEqual([
      'config/schema.ts ↔ config/stamp.ts ↔ core/compile.ts',
      'core/self.ts',
    ]);
  });

  test('an acyclic graph has none', () => {
    const graph = importGraphOf(
      sources({
        'a.ts': "import './b.js'; import './c.js';",
        'b.ts': "import './c.js';",
        'c.ts': '',
      }),
    );
    expect(findCycles(graph.edges)).toEqual([]);
  });

  test('names imports into folders a folder must not import', () => {
    const graph = importGraphOf(
      sources({
        'cluster/primary.ts': "import type { Io } from '../cli/io.js'; import '../net/port.js';",
        'cli/io.ts': '',
        'net/port.ts': '',
        'service.ts': "import './cli/io.js';",
      }),
    );
    expect(importsInto(graph, 'cluster/', ['cli/', 'config/'])).toEqual([
      'cluster/primary.ts → cli/io.ts',
    ]);
    expect(importsInto(graph, 'service.ts', ['cli/'])).toEqual(['service.ts → cli/io.ts']);
  });

  test('names imports that leave a folder', () => {
    const graph = importGraphOf(
      sources({
        'core/a.ts':
          "import '../config/b.js'; import './c.js'; import 'node:fs'; import 'node:url';",
        'core/c.ts': "import 'iconv-lite';",
        'config/b.ts': "import '../core/a.js';",
      }),
    );
    expect(importsLeaving(graph, 'core/', new Set(['node:url']))).toEqual([
      'core/a.ts → config/b.ts',
      'core/a.ts → node:fs',
      'core/c.ts → iconv-lite',
    ]);
  });
});
