import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { reachableFrom, readImportGraph } from '../../helpers/import-graph.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

test('the scanner imports only Node built-ins, so it runs from dist/ with Node alone', () => {
  const { files, external } = reachableFrom(readImportGraph(SRC), 'inventory-scan.ts');
  expect(external.filter((specifier) => !specifier.startsWith('node:'))).toEqual([]);
  expect(files).toContain('inventory/scan.ts');
  // The check side (zod, yaml, the allowlist loader) stays out of it.
  expect(files).not.toContain('inventory/report-schema.ts');
  expect(files.filter((file) => file.startsWith('config/'))).toEqual([]);
});
