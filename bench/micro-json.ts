/**
 * What inspecting a request body costs, next to what a generic server pays to parse it:
 *
 *   npx tsx bench/micro-json.ts [--rounds 7] [--batch-ms 150]
 *
 * Bodies: the bench's approved `tools/call` (276 B) and the same call with its arguments padded to
 * 4 KiB and 64 KiB (bench/payloads.ts builds them the same way). Per body it reports the CPU per
 * call of:
 * - `utf8+JSON.parse`: Buffer → string → JSON.parse, the body work of the "null + parse"
 *   baseline;
 * - `decodeBody`: content codings and fatal UTF-8 decoding (src/core/mcp/decode-body.ts);
 * - `parseStrictJson`: the strict parser the tests use as an oracle (test/oracles/strict-json.ts);
 * - `parseJsonRpcBody`: what inspection parses with (src/core/mcp/json-rpc-body.ts);
 * - `inspectMcp`: the whole MCP inspection of a request with that body (src/core/mcp/inspect.ts),
 *   which is the body's share of a Check;
 * and the ratio of each to `utf8+JSON.parse`. CPU time (user + system, GC included) over batches,
 * median of the rounds; the kinds are interleaved within a round so that noise from other
 * processes on a shared machine falls on all of them alike. Compare ratios, not absolute figures.
 */
import { parseArgs } from 'node:util';
import type { RequestFacts } from '../src/core/facts.js';
import { decodeBody } from '../src/core/mcp/decode-body.js';
import { inspectMcp } from '../src/core/mcp/inspect.js';
import { parseJsonRpcBody } from '../src/core/mcp/json-rpc-body.js';
import { parseStrictJson } from '../test/oracles/strict-json.js';
import { cpuNsPerCall, cpuTimeSink } from './stats.js';
import { ICONV_CHARSETS } from '../src/text/iconv-charsets.js';

const LIMITS = { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 };

const SEARCH_ARGS = {
  owner: 'acme',
  repo: 'payments-service',
  query: 'is:open is:issue label:bug label:"needs triage" sort:updated-desc',
  perPage: 30,
  page: 1,
};

function toolsCall(args: Record<string, unknown>): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 42,
    method: 'tools/call',
    params: { name: 'search_issues', arguments: args, _meta: { progressToken: 'c1b2e7f0-42' } },
  });
}

/** The approved tools/call with its arguments padded by pasted-looking text to exactly `bytes`. */
function padded(bytes: number): string {
  const pad = bytes - Buffer.byteLength(toolsCall({ ...SEARCH_ARGS, context: '' }));
  const text = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(pad / 27)).slice(0, pad);
  return toolsCall({ ...SEARCH_ARGS, context: text });
}

function factsFor(body: Uint8Array): RequestFacts {
  return {
    method: 'POST',
    authority: 'api.githubcopilot.com',
    host: 'api.githubcopilot.com',
    port: undefined,
    rawPath: '/mcp/',
    path: '/mcp/',
    isConnect: false,
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers: new Map([
      ['accept', 'application/json, text/event-stream'],
      ['content-type', 'application/json'],
      ['mcp-protocol-version', '2025-11-25'],
      ['mcp-session-id', '3f0c9a52-7d1e-4b8e-9f36-2c5d1e7a9b40'],
      ['user-agent', 'claude-code/2.1.221 (cli)'],
      ['content-length', String(body.length)],
    ]),
    body,
    bodyTruncated: false,
    requestId: '6f1c3c1e-2c8e-4a53-9a36-0b9d8f2f6a11',
    sni: undefined,
    source: undefined,
    peerPrincipal: '',
    peerCertificate: '',
    metadata: new Map(),
  };
}

function calibrate(fn: () => unknown, batchMs: number): number {
  let iterations = 8;
  while (cpuNsPerCall(fn, iterations) * iterations < batchMs * 1e5) iterations *= 4;
  const ns = cpuNsPerCall(fn, iterations);
  return Math.max(8, Math.round((batchMs * 1e6) / Math.max(ns, 1)));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      'batch-ms': { type: 'string', default: '150' },
    },
  });
  const rounds = Number(values.rounds);
  const batchMs = Number(values['batch-ms']);

  const bodies = [
    { name: 'tools-call', text: toolsCall(SEARCH_ARGS) },
    { name: 'body-4k', text: padded(4096) },
    { name: 'body-64k', text: padded(65_536) },
  ];
  for (const { name, text } of bodies) {
    const bytes = Buffer.from(text);
    const facts = factsFor(bytes);
    const decoded = decodeBody(
      bytes,
      undefined,
      'application/json',
      LIMITS.maxBodyBytes,
      ICONV_CHARSETS,
    );
    if (!decoded.ok) throw new Error(`${name}: ${decoded.message}`);
    const inspection = inspectMcp(facts, LIMITS, ICONV_CHARSETS);
    if (inspection.failure !== undefined || inspection.messages[0]?.tool !== 'search_issues') {
      throw new Error(`${name}: the inspection is not the approved tools/call it should be`);
    }
    const kinds: Record<string, () => unknown> = {
      'utf8+JSON.parse': () => JSON.parse(bytes.toString('utf8')) as unknown,
      decodeBody: () =>
        decodeBody(bytes, undefined, 'application/json', LIMITS.maxBodyBytes, ICONV_CHARSETS),
      parseStrictJson: () => parseStrictJson(decoded.text, { maxDepth: 64 }),
      parseJsonRpcBody: () => parseJsonRpcBody(decoded.text, { maxDepth: 64 }),
      inspectMcp: () => inspectMcp(facts, LIMITS, ICONV_CHARSETS),
    };
    const iterations = new Map(
      Object.entries(kinds).map(([kind, fn]) => [kind, calibrate(fn, batchMs)]),
    );
    const samples = new Map(Object.keys(kinds).map((kind) => [kind, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      for (const [kind, fn] of Object.entries(kinds)) {
        samples.get(kind)!.push(cpuNsPerCall(fn, iterations.get(kind)!));
      }
    }
    const base = median(samples.get('utf8+JSON.parse')!);
    console.log(`${name} (${bytes.length} B)`);
    for (const [kind, ns] of samples) {
      const m = median(ns);
      const us = (m / 1000).toFixed(m < 10_000 ? 2 : 1);
      console.log(`  ${kind.padEnd(16)} ${us.padStart(8)} µs   ×${(m / base).toFixed(2)}`);
    }
  }
  if (cpuTimeSink === Symbol.for('never')) console.log('');
}

main();
