import { describe, expect, test } from 'vitest';
import { showsJsonRpcSignal } from '../../../../src/core/mcp/json-rpc-signal.js';

const latin1 = (bytes: Buffer): string => bytes.toString('latin1');

const ROWS: readonly { name: string; text: string; want: boolean; rationale: string }[] = [
  {
    name: 'jsonrpc key first',
    text: '{"jsonrpc":"2.0","method":"eth_call","params":["0x',
    want: true,
    rationale: 'the JSON-RPC marker alone is enough for a body we cannot parse',
  },
  {
    name: 'TS SDK order, cut before jsonrpc',
    text: '{"method":"initialize","params":{"protocolVersion":"2025-11-25","pad":"AAAA',
    want: true,
    rationale: 'the SDK writes jsonrpc after params',
  },
  {
    name: 'escaped keys and method',
    text: '{"\\u006dethod":"tools\\/call","params":{"name":"x","pad":"AA',
    want: true,
    rationale: 'escapes are undone before comparing',
  },
  {
    name: 'ping as the value of method',
    text: '{"method":"ping","params":{"pad":"AA',
    want: true,
    rationale: 'ping counts where it is a method',
  },
  {
    name: 'ping as an ordinary value',
    text: '{"type":"ping","payload":"AA',
    want: false,
    rationale: 'too common a word to count anywhere else',
  },
  {
    name: 'MCP method name as any value',
    text: '[{"op":"tools/call"',
    want: true,
    rationale: 'names with a slash are MCP-specific',
  },
  {
    name: 'BOM and whitespace before the object (latin1 view of UTF-8)',
    text: `${latin1(Buffer.from('\ufeff'))} \r\n{"jsonrpc":"2.0"`,
    want: true,
    rationale: 'upstreams strip a BOM',
  },
  {
    name: 'UTF-16LE with BOM (latin1 view)',
    text: latin1(Buffer.from('\ufeff{"jsonrpc":"2.0","id":1', 'utf16le')),
    want: true,
    rationale: 'NUL bytes are ignored',
  },
  {
    name: 'does not start with { or [',
    text: 'x={"jsonrpc":"2.0"}',
    want: false,
    rationale: 'a form field holding JSON is not a JSON-RPC body',
  },
  {
    name: 'jsonrpc only inside a longer string',
    text: '{"doc":"see \\"jsonrpc\\" for details","n":[1,2',
    want: false,
    rationale: 'escaped quotes do not end a string',
  },
  {
    name: 'jsonrpc cut off mid-string',
    text: '{"data":[1,2,3],"jsonr',
    want: false,
    rationale: 'an unfinished string has no known value',
  },
  {
    name: 'plain JSON upload',
    text: '{"records":[{"id":1,"name":"a"},{"id":2',
    want: false,
    rationale: 'ordinary uploads stay non-MCP',
  },
  {
    name: 'empty',
    text: '',
    want: false,
    rationale: 'nothing to see',
  },
];

describe('showsJsonRpcSignal', () => {
  test.each(ROWS)('$name', ({ text, want }) => {
    expect(showsJsonRpcSignal(text)).toBe(want);
  });

  test('a huge escape-free string is skipped without unescaping', () => {
    const text = `{"pad":"${'A'.repeat(1_000_000)}","jsonrpc":"2.0"`;
    expect(showsJsonRpcSignal(text)).toBe(true);
  });
});
