import { describe, expect, test } from 'vitest';

import { hasJsonRpcMessage } from '../../../src/vet/http-probes.js';

const ROWS = [
  { name: 'JSON result', input: '{"jsonrpc":"2.0","id":1,"result":{}}', want: true },
  {
    name: 'JSON error',
    input: '{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x"}}',
    want: true,
  },
  { name: 'batch', input: '[{"jsonrpc":"2.0","id":1,"result":{}}]', want: true },
  {
    name: 'SSE event',
    input: 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
    want: true,
  },
  {
    name: 'SSE with CRLF',
    input: 'event: message\r\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\r\n',
    want: true,
  },
  { name: 'HTML page', input: '<html>It works</html>', want: false },
  { name: 'other JSON', input: '{"error":"not found"}', want: false },
  {
    name: 'a request, not a response',
    input: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    want: false,
  },
  { name: 'cut off', input: '{"jsonrpc":"2.0","id":1,"res', want: false },
  { name: 'empty', input: '', want: false },
] as const;

describe('hasJsonRpcMessage', () => {
  test.each(ROWS)('$name', ({ input, want }) => {
    expect(hasJsonRpcMessage(input)).toBe(want);
  });
});
