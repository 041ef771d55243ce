import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { CLIENT_NAMES } from '../../../src/core/mcp/client.js';
import type { DiscoveryAttempt } from '../../../src/discovery/attempt.js';
import { registerDiscoveryGauge } from '../../../src/discovery/gauge.js';
import { DiscoveryTable } from '../../../src/discovery/table.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function attempt(host: string, client: DiscoveryAttempt['client'], atMs: number): DiscoveryAttempt {
  return {
    host,
    pathPrefix: '/mcp',
    hostOnly: false,
    client,
    methods: ['tools/call'],
    tool: 'x',
    protocolVersion: undefined,
    outcome: 'deny',
    atMs,
  };
}

const gaugeLines = async (registry: Registry): Promise<string[]> =>
  (await registry.metrics())
    .split('\n')
    .filter((line) => line.startsWith('mcp_gate_discovered_attempts{'));

describe('mcp_gate_discovered_attempts', () => {
  test('computed at scrape time: the top rows by host and client, summed over path prefixes', async () => {
    const registry = new Registry();
    const table = new DiscoveryTable(100);
    registerDiscoveryGauge(registry, table, 2);
    expect(await gaugeLines(registry)).toEqual([]);
    table.record(attempt('a.example', 'cursor', T0));
    table.record({ ...attempt('a.example', 'cursor', T0), pathPrefix: '/sse' });
    table.record(attempt('a.example', 'claude-code', T0));
    table.record(attempt('b.example', 'other', T0));
    expect(await gaugeLines(registry)).toEqual([
      // a.example /mcp (2 attempts) and a.example /sse (1) are the top 2 rows.
      'mcp_gate_discovered_attempts{host="a.example",client="cursor"} 2',
      'mcp_gate_discovered_attempts{host="a.example",client="claude-code"} 1',
    ]);
    // b.example overtakes a.example /sse: the series follow the table at the next scrape.
    table.record(attempt('b.example', 'other', T0));
    table.record(attempt('b.example', 'other', T0));
    expect(await gaugeLines(registry)).toEqual([
      'mcp_gate_discovered_attempts{host="b.example",client="other"} 3',
      'mcp_gate_discovered_attempts{host="a.example",client="cursor"} 1',
      'mcp_gate_discovered_attempts{host="a.example",client="claude-code"} 1',
    ]);
  });

  test('a flood of 100,000 random hosts and clients: at most top × clients series, the real servers named', async () => {
    const registry = new Registry();
    const table = new DiscoveryTable(1000);
    registerDiscoveryGauge(registry, table, 50);
    const real = Array.from({ length: 20 }, (_, i) => `mcp${i}.shadow.example`);
    for (let i = 0; i < 100_000; i++) {
      const client = CLIENT_NAMES[i % CLIENT_NAMES.length] ?? 'other';
      table.record(attempt(`${randomBytes(8).toString('hex')}.flood.example`, client, T0 + i));
      if (i % 40 === 0) table.record(attempt(real[(i / 40) % real.length] ?? '', 'cursor', T0 + i));
    }
    const lines = await gaugeLines(registry);
    expect(lines.length).toBeLessThanOrEqual(50 * CLIENT_NAMES.length);
    for (const host of real) {
      expect(lines).toContain(`mcp_gate_discovered_attempts{host="${host}",client="cursor"} 125`);
    }
  }, 60_000);
});
