import { expect, test } from 'vitest';
import { toReportedUrl } from '../../../src/inventory/url.js';

const ROWS = [
  { name: 'plain', raw: 'https://mcp.linear.app/sse', want: 'https://mcp.linear.app/sse' },
  {
    name: 'port and path kept as written',
    raw: 'HTTPS://Mcp.Example:8443/a/../mcp',
    want: 'HTTPS://Mcp.Example:8443/a/../mcp',
  },
  {
    name: 'query and fragment dropped',
    raw: 'https://h.example/mcp?api_key=K#x',
    want: 'https://h.example/mcp',
  },
  {
    name: 'user info replaced',
    raw: 'https://alice:tok@h.example/mcp',
    want: 'https://[userinfo]@h.example/mcp',
  },
  {
    name: 'a ? or # in a password does not hide the @ after it',
    raw: 'https://alice:p?a#ss@h.example/mcp',
    want: 'https://[userinfo]@h.example/mcp',
  },
  { name: 'not a URL: a client variable', raw: '${input:serverUrl}', want: '${input:serverUrl}' },
  {
    name: 'not a URL, with user info',
    raw: 'u:pw@h.example/x?k=v',
    want: '[userinfo]@h.example/x',
  },
] as const;

test.each(ROWS)('toReportedUrl: $name', ({ raw, want }) => {
  expect(toReportedUrl(raw)).toBe(want);
});
