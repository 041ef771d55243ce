/**
 * `npx tsx bench/micro-discovery.ts`: what recording a shadow-MCP attempt adds to a Check
 * (src/envoy/server.ts check): reading the attempt back from the audit record and updating the
 * discovery table, for a server already in the table and for a flood of new hosts into a full
 * one (the worst case: every attempt takes over a row). Prints ns per attempt. (A Check takes
 * about 40 µs: docs/performance.md.)
 */
import { attemptFromAudit } from '../src/discovery/attempt.js';
import { DiscoveryTable } from '../src/discovery/table.js';

const ROUNDS = 1_000_000;

function record(host: string): Record<string, unknown> {
  return {
    decision: 'deny',
    reason: 'unapproved',
    host,
    path: '/mcp/',
    methods: ['tools/call'],
    tool: 'search_issues',
    client: 'claude-code',
    protocol_version: '2025-11-25',
  };
}

function measure(name: string, hosts: readonly string[]): void {
  const table = new DiscoveryTable(1000);
  const records = hosts.map(record);
  let at = Date.now();
  // Warm-up, then the timed rounds.
  for (let i = 0; i < 100_000; i++) {
    const attempt = attemptFromAudit(records[i % records.length] ?? {}, at++, true);
    if (attempt !== undefined) table.record(attempt);
  }
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    const attempt = attemptFromAudit(records[i % records.length] ?? {}, at++, true);
    if (attempt !== undefined) table.record(attempt);
  }
  const ns = Number(process.hrtime.bigint() - started) / ROUNDS;
  process.stdout.write(`${name}: ${ns.toFixed(0)} ns per attempt (table ${table.size} rows)\n`);
}

measure(
  '50 servers already in the table',
  Array.from({ length: 50 }, (_, i) => `mcp${i}.shadow.example`),
);
measure(
  'flood: a new host every attempt, table full',
  Array.from({ length: 200_000 }, (_, i) => `h${i.toString(36)}.flood.example`),
);
