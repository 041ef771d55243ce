/**
 * `mcp-gate --version` (and `-v`) print the version of the package.json beside the sources, the
 * one an image or an npm package was built from.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';

import { runCli } from '../../../src/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

test.each(['--version', '-v'])('%s prints the package version and exits 0', async (flag) => {
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  let stdout = '';
  let stderr = '';
  const code = await runCli([flag], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    now: new Date(),
    env: {},
  });
  expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});
