import { describe, expect, test } from 'vitest';
import { readToml } from '../../../src/inventory/toml.js';

/** The reader's tables have no prototype; compare them as plain JSON. */
const plain = (text: string): unknown => {
  const result = readToml(text);
  if (!result.ok) throw new Error(`${result.line}:${result.col} ${result.message}`);
  return JSON.parse(JSON.stringify(result.value));
};

const CODEX_CONFIG = `# Codex settings
model = "gpt-5"
approval_policy = "on-request"
developer_instructions = """
Be brief.
Quote "things" like \\"this\\"."""

[projects."/home/alice/src/app"]
trust_level = "trusted"

[model_providers.azure]
name = "Azure"
base_url = "https://example.openai.azure.com/openai"
env_key = "AZURE_OPENAI_API_KEY"
query_params = { api-version = "2025-04-01-preview" }

[mcp_servers.docs]
command = "npx"
args = [
  "-y",            # fetch if missing
  "@acme/docs-mcp@1.2.3",
]
env = { "DOCS_TOKEN" = "s3cret", LOG = 'debug' }
startup_timeout_sec = 20

[mcp_servers.remote]
url = "https://mcp.example.com/mcp"
bearer_token_env_var = "REMOTE_TOKEN"
enabled = false

[mcp_servers.remote.http_headers]
X-Team = "platform"

[[profiles.fast.rules]]
when = 1979-05-27T07:32:00Z
`;

describe('readToml: a Codex config.toml', () => {
  test('its servers and the tables around them', () => {
    const doc = plain(CODEX_CONFIG) as Record<string, Record<string, unknown>>;
    expect(doc['mcp_servers']).toEqual({
      docs: {
        command: 'npx',
        args: ['-y', '@acme/docs-mcp@1.2.3'],
        env: { DOCS_TOKEN: 's3cret', LOG: 'debug' },
        startup_timeout_sec: 20,
      },
      remote: {
        url: 'https://mcp.example.com/mcp',
        bearer_token_env_var: 'REMOTE_TOKEN',
        enabled: false,
        http_headers: { 'X-Team': 'platform' },
      },
    });
    expect(doc['developer_instructions']).toBe('Be brief.\nQuote "things" like "this".');
    expect(doc['projects']).toEqual({ '/home/alice/src/app': { trust_level: 'trusted' } });
    expect(doc['profiles']).toEqual({ fast: { rules: [{ when: '1979-05-27T07:32:00Z' }] } });
  });
});

interface ValueRow {
  readonly name: string;
  readonly text: string;
  readonly want: unknown;
}

const VALUE_ROWS: readonly ValueRow[] = [
  {
    name: 'basic string escapes',
    text: 'a = "t\\tn\\n\\u00e9\\U0001F600\\\\"',
    want: { a: 't\tn\né😀\\' },
  },
  {
    name: 'a literal string keeps backslashes',
    text: "a = 'C:\\Users\\x'",
    want: { a: 'C:\\Users\\x' },
  },
  { name: 'a # inside a string is not a comment', text: 'a = "x # y" # z', want: { a: 'x # y' } },
  {
    name: 'a multi-line literal string, first newline dropped',
    text: "a = '''\nline 1\nline 2'''",
    want: { a: 'line 1\nline 2' },
  },
  {
    name: 'a line-ending backslash trims the newline and what follows',
    text: 'a = """one \\   \n     two"""',
    want: { a: 'one two' },
  },
  {
    name: 'quotes right before the closing delimiter belong to the string',
    text: 'a = """say ""hi"""""',
    want: { a: 'say ""hi""' },
  },
  {
    name: 'dotted keys build tables, quoted parts included',
    text: 'mcp_servers."my server".command = "x"\nmcp_servers."my server".args = []',
    want: { mcp_servers: { 'my server': { command: 'x', args: [] } } },
  },
  {
    name: 'numbers, booleans, dates',
    text: 'i = 1_000\nh = 0xff\nf = -1.5e3\nb = true\nd = 2026-11-30\nt = 07:32:00',
    want: { i: 1000, h: 255, f: -1500, b: true, d: '2026-11-30', t: '07:32:00' },
  },
  {
    name: 'nested arrays and inline tables, CRLF line ends',
    text: 'a = [[1, 2], [{ x = "y" }]]\r\nb = 1\r\n',
    want: { a: [[1, 2], [{ x: 'y' }]], b: 1 },
  },
  { name: 'an empty document', text: '# nothing\n\n', want: {} },
];

interface ErrorRow {
  readonly name: string;
  readonly text: string;
  readonly line: number;
  readonly col: number;
  readonly message: RegExp;
}

const ERROR_ROWS: readonly ErrorRow[] = [
  { name: 'a key defined twice', text: 'a = 1\na = 2', line: 2, col: 1, message: /defined twice/ },
  {
    name: 'a table defined twice',
    text: '[mcp_servers.x]\ncommand = "a"\n[mcp_servers.x]\n',
    line: 3,
    col: 1,
    message: /table mcp_servers.x is defined twice/,
  },
  {
    name: 'a header into a value',
    text: 'mcp_servers = 1\n[mcp_servers.x]',
    line: 2,
    col: 1,
    message: /already a value/,
  },
  {
    name: 'extending an inline table',
    text: 'env = { A = "1" }\n[env.more]',
    line: 2,
    col: 1,
    message: /already a value/,
  },
  {
    name: 'an unclosed string',
    text: 'a = "open\nb = 1',
    line: 1,
    col: 10,
    message: /never closed/,
  },
  { name: 'a bare word value', text: 'a = yes', line: 1, col: 5, message: /expected a value/ },
  {
    name: 'two values on a line',
    text: 'a = 1 b = 2',
    line: 1,
    col: 7,
    message: /end of the line/,
  },
  { name: 'an invalid escape', text: 'a = "\\x41"', line: 1, col: 6, message: /invalid escape/ },
  { name: 'a surrogate escape', text: 'a = "\\uD800"', line: 1, col: 6, message: /invalid escape/ },
  {
    name: 'an unclosed array',
    text: 'a = [1, 2',
    line: 1,
    col: 10,
    message: /expected a value|","/,
  },
  {
    name: 'a JSON document',
    text: '{"mcp_servers": {}}',
    line: 1,
    col: 1,
    message: /expected a key/,
  },
];

describe('readToml', () => {
  test.each(VALUE_ROWS)('$name', ({ text, want }) => {
    expect(plain(text)).toEqual(want);
  });

  test.each(ERROR_ROWS)('refuses $name, at line:col', ({ text, line, col, message }) => {
    const result = readToml(text);
    expect(result).toMatchObject({ ok: false, line, col });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  test('a "__proto__" key is an ordinary key, not a prototype', () => {
    const result = readToml('[mcp_servers.__proto__]\ncommand = "x"');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const servers = result.value['mcp_servers'] as Record<string, unknown>;
    expect(Object.keys(servers)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['command']).toBeUndefined();
  });
});
