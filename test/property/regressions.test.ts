/**
 * Minimal cases for bugs the properties found, each in the form a fuzz counterexample is
 * printed in (checkProperty on a FuzzCase). Where the case is a body a real MCP server must run
 * for the bug to matter, the test first proves that the TypeScript SDK's own server runs it.
 */
import { describe, expect, test } from 'vitest';
import type { FuzzCase } from './arbitraries.js';
import { evaluate } from './oracle.js';
import { checkProperty } from './properties.js';
import { toolsRunBySdkServer } from './sdk-server.js';

const STREAMABLE: readonly (readonly [string, string])[] = [
  ['content-type', 'application/json'],
  ['accept', 'application/json, text/event-stream'],
];

const callText = (tool: string): string =>
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${tool}","arguments":{"text":"hi"}}}`;

/** A tools/call whose argument holds one byte that is not UTF-8 (0xFF). */
function callWithInvalidUtf8(tool: string): Uint8Array {
  const [head, tail] = callText(tool).split('"hi"') as [string, string];
  return Buffer.concat([Buffer.from(`${head}"h`), Buffer.from([0xff]), Buffer.from(`"${tail}`)]);
}

function httpCase(
  authority: string,
  headers: readonly (readonly [string, string])[],
  body: Uint8Array,
  intent: FuzzCase['intent'],
): FuzzCase {
  return {
    policy: 'base',
    intent,
    request: {
      method: 'POST',
      authority,
      path: '/mcp',
      headers,
      body,
      maxRequestBytes: 1024 * 1024,
      allowPartial: true,
      packAsBytes: true,
      streamId: '1',
      requestId: 'regression',
    },
    bodyBuffered: true,
  };
}

/**
 * Bodies mcp-gate refused to decode or parse, sent without MCP headers, were judged "not MCP" and
 * allowed (`not_mcp:body_undecodable`, `not_mcp:body_not_json`), while the SDK server ignores
 * Content-Encoding and the charset, decodes invalid UTF-8 with U+FFFD and parses any depth, so it
 * ran the tool. Found 2026-11-21 by unmatched-host-never-allowed and
 * tool-outside-globs-never-allowed against commit eb984ee; fixed in src/core/mcp
 * (json-rpc-signal.ts).
 */
describe('regression – bodies mcp-gate will not parse, without MCP headers, are still MCP', () => {
  const rows = [
    {
      name: 'invalid UTF-8 inside a tool argument',
      headers: STREAMABLE,
      body: callWithInvalidUtf8('delete_repo'),
    },
    {
      name: 'plain JSON labelled content-encoding: gzip',
      headers: [...STREAMABLE, ['content-encoding', 'gzip']] as const,
      body: Buffer.from(callText('delete_repo')),
    },
    {
      name: 'plain JSON labelled charset=latin1',
      headers: [
        ['content-type', 'application/json; charset=latin1'],
        ['accept', 'application/json, text/event-stream'],
      ] as const,
      body: Buffer.from(callText('delete_repo')),
    },
    {
      name: 'arguments nested deeper than the inspector parses',
      headers: STREAMABLE,
      body: Buffer.from(
        callText('delete_repo').replace('"hi"', `${'['.repeat(70)}1${']'.repeat(70)}`),
      ),
    },
  ];

  test.each(rows)('$name – a real MCP server runs the tool', async ({ headers, body }) => {
    expect(await toolsRunBySdkServer(['delete_repo'], headers, body)).toEqual(['delete_repo']);
  });

  test.each(rows)('$name – a tool outside the globs is denied', ({ headers, body }) => {
    const c = httpCase('api.githubcopilot.com', headers, body, { kind: 'entry', id: 'gh' });
    expect(checkProperty('tool-outside-globs-never-allowed', c)).toBe('asserted');
    expect(evaluate(c).authorization.decision.verdict).toBe('deny');
  });

  test.each(rows)('$name – an unapproved host is denied', ({ headers, body }) => {
    const c = httpCase('mcp.evil.outside.test', headers, body, { kind: 'unmatched' });
    expect(checkProperty('unmatched-host-never-allowed', c)).toBe('asserted');
    expect(evaluate(c).authorization.decision.reason).toBe('unapproved');
  });
});

/**
 * A tool name holding a lone surrogate (`"\ud800"` in the JSON) made the deny text's review URL
 * throw `URIError: URI malformed` (encodeURIComponent), so the service answered internal_error
 * instead of tool_not_allowed. Found by never-throws at seed 20261121 against commit eb984ee;
 * fixed in src/core/deny-message.ts.
 */
describe('regression – a lone surrogate in an echoed tool name', () => {
  test('is denied as tool_not_allowed without an exception', () => {
    const body = Buffer.from(
      '{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"\\ud800","arguments":{}}}',
    );
    const c = httpCase(
      'api.githubcopilot.com',
      [...STREAMABLE, ['mcp-protocol-version', '2025-11-25']],
      body,
      { kind: 'entry', id: 'gh' },
    );
    expect(checkProperty('never-throws', c)).toBe('asserted');
    const { decision } = evaluate(c).authorization;
    expect([decision.reason, decision.tool]).toEqual(['tool_not_allowed', '\ud800']);
  });
});
