import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { DiscoveryAttempt } from '../../../src/discovery/attempt.js';
import { DiscoveryTable, MAX_TOOLS } from '../../../src/discovery/table.js';
import { heapAfterGc } from '../../helpers/heap.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function attempt(host: string, extra: Partial<DiscoveryAttempt> = {}): DiscoveryAttempt {
  return {
    host,
    pathPrefix: '/mcp',
    hostOnly: false,
    client: 'claude-code',
    methods: ['tools/call'],
    tool: 'search',
    protocolVersion: '2025-11-25',
    outcome: 'deny',
    atMs: T0,
    ...extra,
  };
}

describe('discovery table', () => {
  test('a row keeps counts, first and last seen, clients, methods, tools and revisions', () => {
    const table = new DiscoveryTable(10);
    table.record(attempt('mcp.shadow.example', { methods: ['initialize'], tool: undefined }));
    table.record(attempt('mcp.shadow.example', { atMs: T0 + 5000, client: 'cursor' }));
    table.record(
      attempt('mcp.shadow.example', {
        atMs: T0 + 1000,
        outcome: 'would_deny',
        protocolVersion: '2026-07-28',
      }),
    );
    table.record(attempt('mcp.shadow.example', { pathPrefix: '/', hostOnly: true, methods: [] }));
    const { rows } = table.snapshot(T0 + 9000);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      host: 'mcp.shadow.example',
      path_prefix: '/mcp',
      attempts: 3,
      max_untracked_attempts: 0,
      host_only_attempts: 0,
      first_seen: '2026-12-01T10:00:00.000Z',
      last_seen: '2026-12-01T10:00:05.000Z',
      outcomes: { deny: 2, would_deny: 1, allow: 0 },
      clients: { 'claude-code': 2, cursor: 1 },
      methods: ['initialize', 'tools/call'],
      methods_overflow: 0,
      tools: ['search'],
      tools_overflow: 0,
      protocol_versions: ['2025-11-25', '2026-07-28'],
      protocol_versions_overflow: 0,
    });
    expect(rows[1]).toMatchObject({ path_prefix: '/', attempts: 1, host_only_attempts: 1 });
  });

  test('name sets stop at their bound and count the rest; over-long names are counted, not kept', () => {
    const table = new DiscoveryTable(10);
    for (let i = 0; i < MAX_TOOLS + 5; i++) table.record(attempt('h.example', { tool: `t${i}` }));
    table.record(attempt('h.example', { tool: 't0' }));
    table.record(attempt('h.example', { tool: 'x'.repeat(129), protocolVersion: 'y'.repeat(500) }));
    const row = table.snapshot(T0).rows[0];
    expect(row?.tools).toHaveLength(MAX_TOOLS);
    // 5 names beyond the bound, 1 too long; a known name again is not overflow.
    expect(row?.tools_overflow).toBe(6);
    expect(row?.protocol_versions_overflow).toBe(1);
    expect(row?.attempts).toBe(MAX_TOOLS + 7);
  });

  test('full table: the row with the fewest attempts is taken over and keeps its count as untracked', () => {
    const table = new DiscoveryTable(3);
    for (let i = 0; i < 5; i++) table.record(attempt('a.example', { atMs: T0 + i }));
    for (let i = 0; i < 3; i++) table.record(attempt('b.example', { atMs: T0 + i }));
    table.record(attempt('c.example', { atMs: T0 + 1 }));
    table.record(attempt('c.example', { atMs: T0 + 2 }));
    table.record(attempt('d.example', { atMs: T0 + 10 }));
    const snap = table.snapshot(T0);
    expect(snap.rows.map((r) => r.host)).toEqual(['a.example', 'b.example', 'd.example']);
    expect(snap.rows[2]).toMatchObject({ attempts: 1, max_untracked_attempts: 2 });
    expect(snap.evictions).toBe(1);
    expect(snap.attempts_recorded).toBe(11);
    // d's count is now 3, tied with b: the least recently seen of those goes first.
    table.record(attempt('e.example', { atMs: T0 + 20 }));
    expect(table.snapshot(T0).rows.map((r) => r.host)).toEqual([
      'a.example',
      // Tied on attempts counted (1): e inherited more.
      'e.example',
      'd.example',
    ]);
  });

  test('a flood of 100,000 random hosts keeps the table at its cap and the real top servers in it', () => {
    const capacity = 1000;
    const table = new DiscoveryTable(capacity);
    const real = Array.from({ length: 10 }, (_, i) => `mcp${i}.shadow.example`);
    const heapBefore = heapAfterGc();
    for (let i = 0; i < 100_000; i++) {
      const host = `${randomBytes(8).toString('hex')}.flood.example`;
      table.record(attempt(host, { tool: randomBytes(6).toString('hex'), atMs: T0 + i }));
      // Each real server is tried 300 times over the flood: well above 100,000 / 1,000.
      if (i % 33 === 0) {
        const h = real[(i / 33) % real.length] ?? '';
        table.record(attempt(h, { atMs: T0 + i }));
      }
    }
    const heapAfter = heapAfterGc();
    const snap = table.snapshot(T0);
    expect(table.size).toBe(capacity);
    expect(snap.rows).toHaveLength(capacity);
    const top = snap.rows.slice(0, real.length);
    expect(top.map((r) => r.host).sort()).toEqual([...real].sort());
    for (const row of top) {
      expect(row.max_untracked_attempts).toBe(0);
      expect(row.attempts).toBeGreaterThanOrEqual(303);
    }
    // One-off hosts rank by what was counted, never by what they inherited.
    expect(snap.rows[real.length]?.attempts).toBe(1);
    const mb = (heapAfter - heapBefore) / 1024 / 1024;
    expect(mb).toBeLessThan(5);
    console.log(
      `discovery flood: ${capacity} rows after 100,000 random hosts, table heap ${mb.toFixed(2)} MB`,
    );
  }, 60_000);

  test('worst case: every row full of the longest names stays under the documented 8 KB a row', () => {
    const capacity = 1000;
    // Flat strings, as JSON.parse makes them.
    const long = (seed: string, chars = 128): string =>
      JSON.parse(JSON.stringify(seed.padEnd(chars, 'x'))) as string;
    const heapBefore = heapAfterGc();
    const table = new DiscoveryTable(capacity);
    for (let r = 0; r < capacity; r++) {
      const host = long(`${'h'.repeat(60)}.${r}.`, 253);
      for (let n = 0; n < 20; n++) {
        table.record(
          attempt(host, {
            pathPrefix: long(`/p${r}`),
            tool: long(`t${r}-${n}`),
            methods: [long(`m${r}-${n}`, 64)],
            protocolVersion: n < 8 ? long(`v${r}-${n}`, 32) : undefined,
          }),
        );
      }
    }
    const kbPerRow = (heapAfterGc() - heapBefore) / 1024 / capacity;
    expect(table.size).toBe(capacity);
    expect(kbPerRow).toBeLessThan(8);
    console.log(`discovery worst case: ${kbPerRow.toFixed(1)} KB a row`);
  });

  test("absorbing another table's rows adds counts and joins name sets", () => {
    const a = new DiscoveryTable(10);
    const b = new DiscoveryTable(10);
    a.record(attempt('x.example', { atMs: T0 + 100, tool: 'one' }));
    b.record(attempt('x.example', { atMs: T0, tool: 'two', client: 'cursor' }));
    b.record(attempt('x.example', { atMs: T0 + 500, tool: 'two', outcome: 'allow' }));
    b.record(attempt('y.example'));
    const merged = new DiscoveryTable(10);
    for (const row of [...a.snapshot(T0).rows, ...b.snapshot(T0).rows]) merged.absorb(row);
    const snap = merged.snapshot(T0);
    expect(snap.rows[0]).toMatchObject({
      host: 'x.example',
      attempts: 3,
      first_seen: new Date(T0).toISOString(),
      last_seen: new Date(T0 + 500).toISOString(),
      outcomes: { deny: 2, would_deny: 0, allow: 1 },
      clients: { 'claude-code': 2, cursor: 1 },
      tools: ['one', 'two'],
    });
    expect(snap.rows[1]).toMatchObject({ host: 'y.example', attempts: 1 });
  });

  test('top(n) ranks by attempts counted', () => {
    const table = new DiscoveryTable(10);
    table.record(attempt('b.example'));
    table.record(attempt('a.example'));
    table.record(attempt('a.example', { client: 'cursor' }));
    expect(table.top(1)).toEqual([
      {
        host: 'a.example',
        pathPrefix: '/mcp',
        attempts: 2,
        clients: new Map([
          ['claude-code', 1],
          ['cursor', 1],
        ]),
      },
    ]);
  });
});
