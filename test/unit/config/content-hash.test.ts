/**
 * The store tells "unchanged" by hashing the files on its own thread (content-hash.ts); that
 * digest must be the very one loadPolicyData computes from the texts, or a poll would either
 * reload for nothing or, worse, skip a change.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { policyContentHash } from '../../../src/config/content-hash.js';
import { loadPolicyData } from '../../../src/config/policy-data.js';
import { githubAllowlist } from '../../helpers/github-allowlist.js';

const GITHUB_ALLOWLIST = githubAllowlist();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-hash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loaderHash(allowlistPath: string, knownHostsPath?: string): Promise<string> {
  const result = await loadPolicyData({
    allowlistPath,
    knownHostsPath,
    nowMs: Date.parse('2026-11-21T12:00:00Z'),
    skipHashes: [],
  });
  const hash =
    result.kind === 'loaded'
      ? result.data.hash
      : result.kind === 'invalid'
        ? result.hash
        : undefined;
  if (hash === undefined) throw new Error(`no digest from the loader: ${result.kind}`);
  return hash;
}

test.each([
  ['a valid allowlist', GITHUB_ALLOWLIST, undefined],
  ['with a BOM and non-ASCII text', `\uFEFF# Überprüft – ✓\n${GITHUB_ALLOWLIST}`, undefined],
  ['an invalid one', 'version: [', undefined],
  ['with a known-host file', GITHUB_ALLOWLIST, 'hosts: [mcp.notion.com]\n'],
  ['with an empty known-host file', GITHUB_ALLOWLIST, ''],
])('%s: the same digest as the loader', async (_name, text, known) => {
  const file = path.join(dir, 'allowlist.yaml');
  await writeFile(file, text);
  let knownPath: string | undefined;
  if (known !== undefined) {
    knownPath = path.join(dir, 'known.yaml');
    await writeFile(knownPath, known);
  }
  expect(await policyContentHash(file, knownPath)).toBe(await loaderHash(file, knownPath));
});

test('moving bytes between the two files changes the digest', async () => {
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, 'ab');
  await writeFile(b, 'c');
  const first = await policyContentHash(a, b);
  await writeFile(a, 'a');
  await writeFile(b, 'bc');
  expect(await policyContentHash(a, b)).not.toBe(first);
});

test('missing, a directory or a FIFO: undefined, at once (a FIFO is never opened)', async () => {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const sub = path.join(dir, 'sub');
  await mkdir(sub);
  const file = path.join(dir, 'allowlist.yaml');
  await writeFile(file, GITHUB_ALLOWLIST);
  expect(await policyContentHash(path.join(dir, 'missing.yaml'), undefined)).toBeUndefined();
  expect(await policyContentHash(sub, undefined)).toBeUndefined();
  expect(await policyContentHash(fifo, undefined)).toBeUndefined();
  expect(await policyContentHash(file, fifo)).toBeUndefined();
});
