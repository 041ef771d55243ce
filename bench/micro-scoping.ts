/**
 * What scoping costs a decision: one approved `tools/call`, decided in process (authorize), on
 * an entry without scoping and on the same entry with an identity (user and groups headers), an
 * access rule and two conditions (one on the entry, one on the tool rule). The ratio is the
 * figure issue "who may use what" sets a goal for (at most 1.3x).
 *
 *   npx tsx bench/micro-scoping.ts
 */
import { stampAllowlistText } from '../src/config/stamp-file.js';
import { authorize } from '../src/core/pipeline.js';
import { toRequestFacts } from '../src/envoy/to-facts.js';
import { benchSnapshot } from './snapshot.js';
import { cpuNsPerCall, median, round } from './stats.js';

const REVIEW = `
    review_ticket: SEC-1
    reviewed_by: bench
    reviewed_on: 2026-11-20
    expires_on: 2099-11-20`;

const PLAIN = `version: bench-plain
review_url: https://mcp-review.corp.example/request
approved:
  - id: warehouse
    host: warehouse-mcp.corp.example
    transport: http
    tools:
      allow: ['get_*', 'list_*', 'run_query']${REVIEW}
`;

const SCOPED = `version: bench-scoped
review_url: https://mcp-review.corp.example/request
identity:
  user: { header: x-forwarded-email }
  groups: { header: x-forwarded-groups }
approved:
  - id: warehouse
    host: warehouse-mcp.corp.example
    transport: http
    access: { users: ['*@corp.example'] }
    conditions:
      - expr: 'method != "tools/call" || size(args) <= 8'
        description: at most eight arguments
    tools:
      allow: ['get_*', 'list_*', 'run_query']
      rules:
        - match: [run_query]
          access: { groups: [data-eng] }
          conditions:
            - expr: 'args.query.matches("(?i)^\\\\s*select\\\\b")'
              description: only SELECT statements${REVIEW}
`;

const BODY = JSON.stringify({
  method: 'tools/call',
  params: { name: 'run_query', arguments: { query: 'SELECT region, sum(total) FROM orders' } },
  jsonrpc: '2.0',
  id: 8,
});

const FACTS = toRequestFacts({
  attributes: {
    request: {
      http: {
        method: 'POST',
        host: 'warehouse-mcp.corp.example',
        path: '/mcp',
        scheme: 'https',
        protocol: 'HTTP/2',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          'mcp-session-id': '3f0c9a52-7d1e-4b8e-9f36-2c5d1e7a9b40',
          'user-agent': 'claude-code/2.1.221 (cli)',
          'x-forwarded-email': 'ana@corp.example',
          'x-forwarded-groups': 'eng,data-eng',
          'x-envoy-auth-partial-body': 'false',
        },
        raw_body: Buffer.from(BODY),
      },
    },
  },
});

export interface ScopingReport {
  readonly plain_ns: number | null;
  readonly scoped_ns: number | null;
  readonly ratio: number | null;
}

/** Median CPU ns per decision, plain and scoped, in interleaved rounds. */
export function scopingCost(rounds: number, iterations: number, problems: string[]): ScopingReport {
  const now = new Date();
  const plain = benchSnapshot(stampAllowlistText(PLAIN).text, now);
  const scoped = benchSnapshot(stampAllowlistText(SCOPED).text, now);
  for (const [name, snapshot] of [
    ['plain', plain],
    ['scoped', scoped],
  ] as const) {
    const { decision } = authorize(snapshot, FACTS, now.getTime(), 'benchmarkdecisionidx');
    if (decision.reason !== 'approved') {
      problems.push(`micro scoping ${name}: ${decision.reason}, expected approved`);
    }
  }
  const samples = { plain: [] as number[], scoped: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, snapshot] of [
      ['plain', plain],
      ['scoped', scoped],
    ] as const) {
      samples[name].push(
        cpuNsPerCall(
          () => authorize(snapshot, FACTS, now.getTime(), 'benchmarkdecisionidx'),
          iterations,
        ),
      );
    }
  }
  const plainNs = median(samples.plain);
  const scopedNs = median(samples.scoped);
  return {
    plain_ns: round(plainNs),
    scoped_ns: round(scopedNs),
    ratio: round(scopedNs / plainNs, 2),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems: string[] = [];
  const report = scopingCost(15, 20_000, problems);
  console.log(JSON.stringify({ ...report, problems }, null, 2));
}
