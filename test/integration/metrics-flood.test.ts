/**
 * A flood of 100,000 distinct random hosts, tool names and AI client names (clientInfo and
 * User-Agent) through the Check path (the same
 * `check()` the gRPC handler runs, with the real store, metrics and logger) leaves the
 * `/metrics` series count under the documented cap and the heap flat: no label, cache or
 * per-key structure grows with what clients send.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { PolicyStore } from '../../src/config/policy-store.js';
import { CLIENT_NAMES } from '../../src/core/mcp/client.js';
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { check } from '../../src/envoy/server.js';
import type { AuthzServerDeps } from '../../src/envoy/server.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { rpc } from '../helpers/facts.js';
import { heapAfterGc } from '../helpers/heap.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const FLOOD = 100_000;

const ALLOWLIST = githubAllowlist({
  allow: ['get_*', 'list_issues'],
  deny: ['delete_repo'],
  extraEntries: `  - id: internal-wiki
    host: '*.wiki.corp.example'
    transport: http
    review_ticket: SEC-5001
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2099-04-18
`,
});

/**
 * The documented cap (src/telemetry/metrics.ts, README "Monitoring"): decisions_total has at most
 * 3 decisions × 11 reasons × (entries + 2) servers × (literal tool names + 2) tools ×
 * CLIENT_NAMES clients; every other mcp_gate_ family has a fixed, small number of series. For
 * this allowlist: 2 entries, 2 literal names (list_issues, delete_repo).
 */
const DECISION_SERIES_CAP = 3 * 11 * (2 + 2) * (2 + 2) * CLIENT_NAMES.length;
const OTHER_SERIES_CAP = 64;

let dir: string;
let deps: AuthzServerDeps;
let registry: Registry;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-flood-'));
  const allowlistPath = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlistPath, ALLOWLIST);
  registry = new Registry();
  const metrics = createMetrics(registry);
  // Audit lines are written and dropped: the flood must not be measured in the test's own buffer.
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    }),
  });
  const store = new PolicyStore({
    allowlistPath,
    knownHostsPath: undefined,
    limits: { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 },
    logger,
    metrics,
    now: () => NOW,
  });
  await store.loadInitial();
  deps = { store, logger, metrics, now: () => NOW };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TOOL_CALL = githubToolCall('placeholder');

/**
 * TOOL_CALL (built as Envoy builds it) with another host and body: building every request from
 * scratch would make the flood measure the test's builder rather than the service.
 */
function variant(host: string, body: string, userAgent: string): CheckRequest {
  const http = TOOL_CALL.attributes?.request?.http;
  if (http === undefined) throw new Error('template has no HTTP attributes');
  return {
    ...TOOL_CALL,
    attributes: {
      ...TOOL_CALL.attributes,
      request: {
        ...TOOL_CALL.attributes?.request,
        http: {
          ...http,
          host,
          headers: { ...http.headers, ':authority': host, 'user-agent': userAgent },
          body,
          size: String(Buffer.byteLength(body)),
        },
      },
    },
  };
}

/** Known clients among the random ones, so the client label takes several values. */
const KNOWN_USER_AGENTS = ['claude-code/2.1.0', 'node', 'python-httpx/0.28.1'];

/**
 * The i-th request of the flood: alternately a random tool on an approved server and a random
 * host; a random User-Agent, and on every third request a random 2026 `_meta` client name.
 */
function floodRequest(i: number): CheckRequest {
  const name = randomBytes(9).toString('base64url');
  const userAgent =
    i % 5 === 0 ? (KNOWN_USER_AGENTS[i % 3] ?? 'node') : `${name}/1.${i} (\u0000${name})`;
  const params: Record<string, unknown> = { arguments: {} };
  if (i % 3 === 0) {
    params['_meta'] = { 'io.modelcontextprotocol/clientInfo': { name: `agent-${name}` } };
  }
  if (i % 2 === 0) {
    return variant(
      'api.githubcopilot.com',
      rpc('tools/call', { ...params, name: `run_${name}` }, i),
      userAgent,
    );
  }
  return variant(
    `${name.toLowerCase()}.mcp-${i}.example`,
    rpc('tools/call', { ...params, name }, i),
    userAgent,
  );
}

/** The sum of every decisions_total sample whose labels include all of `labels`. */
function decisionsWith(text: string, labels: readonly string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('mcp_gate_decisions_total{')) continue;
    if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function seriesCounts(text: string): { decisions: number; other: number } {
  const samples = text.split('\n').filter((l) => l.startsWith('mcp_gate_'));
  const decisions = samples.filter((l) => l.startsWith('mcp_gate_decisions_total')).length;
  return { decisions, other: samples.length - decisions };
}

function flood(from: number, to: number): void {
  for (let i = from; i < to; i += 1) {
    const response = check(deps, floodRequest(i));
    // Every flooded request is MCP to a server or tool nobody approved.
    if (response.status.code !== 7) throw new Error(`request ${i} was not denied`);
  }
}

describe('metrics under a flood of random names', () => {
  test(`${FLOOD} distinct hosts and tool names: series under the cap, heap flat`, async () => {
    flood(0, FLOOD / 5);
    const heapBefore = heapAfterGc();
    const countsBefore = seriesCounts(await registry.metrics());
    flood(FLOOD / 5, FLOOD);
    const heapAfter = heapAfterGc();
    const countsAfter = seriesCounts(await registry.metrics());

    // The series count did not move while 80,000 more names went through.
    expect(countsAfter).toEqual(countsBefore);
    expect(countsAfter.decisions).toBeLessThanOrEqual(DECISION_SERIES_CAP);
    expect(countsAfter.other).toBeLessThanOrEqual(OTHER_SERIES_CAP);
    const text = await registry.metrics();
    const githubOther = ['reason="tool_not_allowed"', 'server="github-official"', 'tool="other"'];
    const unlisted = ['reason="unapproved"', 'server="unlisted"', 'tool="other"'];
    expect(decisionsWith(text, githubOther)).toBe(FLOOD / 2);
    expect(decisionsWith(text, unlisted)).toBe(FLOOD / 2);
    // Random client names all land on `other`; the known User-Agents on their own names.
    const clients = new Set([...text.matchAll(/client="([^"]*)"/g)].map((m) => m[1]));
    expect([...clients].sort()).toEqual(
      ['claude-code', 'mcp-sdk-python', 'mcp-sdk-typescript', 'other'].sort(),
    );
    expect(text).toContain('mcp_gate_denials_total{decision="deny",reason="unapproved"} 50000');
    // 80,000 requests retained nothing per request: a few MB of slack for the allocator.
    expect(heapAfter - heapBefore).toBeLessThan(8 * 1024 * 1024);
    console.log(
      `metrics flood: ${countsAfter.decisions + countsAfter.other} mcp_gate_ series after ${FLOOD} names; heap ${(
        (heapAfter - heapBefore) /
        1024 /
        1024
      ).toFixed(2)} MB after the last 80,000`,
    );
  }, 120_000);
});
