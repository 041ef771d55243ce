/**
 * What the inventory judge tests share: the fixture allowlist compiled as check compiles it, and
 * builders of reported servers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllowlist } from '../../src/config/load-allowlist.js';
import type { CompiledPolicy } from '../../src/core/policy/policy.js';
import type { ReportedServer } from '../../src/inventory/report.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/allowlists/inventory.yaml');

/** The clock the judge tests use: after old-docs and legacy-tool expired, before the rest do. */
export const INVENTORY_NOW = new Date('2026-12-01T12:00:00Z');

/** test/fixtures/allowlists/inventory.yaml, compiled. */
export function inventoryPolicy(): CompiledPolicy {
  const parsed = parseAllowlist(readFileSync(FIXTURE, 'utf8'), {
    fileName: FIXTURE,
    now: INVENTORY_NOW,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

/** The fixture allowlist, compiled once per test file that imports this helper. */
export const INVENTORY_POLICY: CompiledPolicy = inventoryPolicy();

/** A stdio server as a report lists it. */
export const stdioServer = (command: string, ...args: string[]): ReportedServer => ({
  name: 's',
  transport: 'stdio',
  command,
  args,
  url: null,
  env: [],
  headers: [],
  disabled: false,
  project: null,
});

/** An http or sse server as a report lists it. */
export const urlServer = (url: string, transport: 'http' | 'sse' = 'http'): ReportedServer => ({
  ...stdioServer(''),
  transport,
  command: null,
  url,
});
