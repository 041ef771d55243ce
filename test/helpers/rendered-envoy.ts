/**
 * Runs `mcp-gate render-envoy` in-process into a temporary directory and reads back what it
 * wrote, for tests of the rendered files and of the bootstraps that load them.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { parse } from 'yaml';

import { runCli } from '../../src/cli.js';
import { runCommand } from './run-command.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** The files render-envoy wrote (relative path → text), with its exit code and output. */
export interface RenderResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly files: ReadonlyMap<string, string>;
}

/** Renders `allowlist` (a path relative to the repository) with `flags` added. */
export async function renderAllowlist(
  allowlist: string,
  flags: readonly string[] = [],
): Promise<RenderResult> {
  const out = await mkdtemp(path.join(tmpdir(), 'mcp-gate-render-'));
  try {
    const run = await runCommand(
      runCli,
      ['render-envoy', '--allowlist', path.join(REPO_ROOT, allowlist), '--out', out, ...flags],
      { now: new Date('2026-12-01T00:00:00Z'), env: {} },
    );
    return { ...run, files: await readTree(out) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Every file below `dir`, by path relative to it ('/'-separated), sorted. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  for (const name of names) files.set(name, await readFile(path.join(dir, name), 'utf8'));
  return files;
}

/** The `resources` of a rendered discovery file. */
export function resourcesOf(text: string | undefined): Record<string, unknown>[] {
  if (text === undefined) throw new Error('rendered file missing');
  const doc = parse(text) as { resources?: Record<string, unknown>[] };
  return doc.resources ?? [];
}
