import { describe, expect, test } from 'vitest';
import type { ConfigShape } from '../../../src/inventory/locations.js';
import type { ReportedServer } from '../../../src/inventory/report.js';
import { readServers } from '../../../src/inventory/servers.js';

const server = (
  fields: Partial<ReportedServer> & Pick<ReportedServer, 'name'>,
): ReportedServer => ({
  transport: 'stdio',
  command: null,
  args: [],
  url: null,
  env: [],
  headers: [],
  disabled: false,
  project: null,
  ...fields,
});

interface Row {
  readonly name: string;
  readonly shape: ConfigShape;
  readonly doc: unknown;
  readonly servers: readonly ReportedServer[];
  /** Problem messages, in order. */
  readonly problems?: readonly string[];
}

const ROWS: readonly Row[] = [
  {
    name: 'Claude Desktop / Cursor: a stdio server, env by name only',
    shape: 'mcp-servers',
    doc: {
      mcpServers: {
        github: { command: 'npx', args: ['-y', 'gh-mcp'], env: { GITHUB_TOKEN: 'ghp_x' } },
      },
    },
    servers: [
      server({ name: 'github', command: 'npx', args: ['-y', 'gh-mcp'], env: ['GITHUB_TOKEN'] }),
    ],
  },
  {
    name: 'a url entry is Streamable HTTP, headers by name; user info and query leave the URL',
    shape: 'mcp-servers',
    doc: {
      mcpServers: {
        ctx: {
          url: 'https://u:p@mcp.context7.com/mcp?api_key=k#f',
          headers: { CONTEXT7_API_KEY: 'k' },
        },
      },
    },
    servers: [
      server({
        name: 'ctx',
        transport: 'http',
        url: 'https://[userinfo]@mcp.context7.com/mcp',
        headers: ['CONTEXT7_API_KEY'],
      }),
    ],
  },
  {
    name: 'type names of Claude Code, Cline and Roo Code',
    shape: 'mcp-servers',
    doc: {
      mcpServers: {
        a: { type: 'sse', url: 'https://a.example/sse' },
        b: { type: 'streamableHttp', url: 'https://b.example/mcp' },
        c: { type: 'streamable-http', url: 'https://c.example/mcp' },
        d: { type: 'stdio', command: 'd' },
      },
    },
    servers: [
      server({ name: 'a', transport: 'sse', url: 'https://a.example/sse' }),
      server({ name: 'b', transport: 'http', url: 'https://b.example/mcp' }),
      server({ name: 'c', transport: 'http', url: 'https://c.example/mcp' }),
      server({ name: 'd', command: 'd' }),
    ],
  },
  {
    name: 'disabled and enabled: false are reported as disabled',
    shape: 'mcp-servers',
    doc: {
      mcpServers: { a: { command: 'a', disabled: true }, b: { command: 'b', enabled: false } },
    },
    servers: [
      server({ name: 'a', command: 'a', disabled: true }),
      server({ name: 'b', command: 'b', disabled: true }),
    ],
  },
  {
    name: 'a file without mcpServers has no servers and no problem',
    shape: 'mcp-servers',
    doc: { preferences: {} },
    servers: [],
  },
  {
    name: 'Gemini CLI: httpUrl is Streamable HTTP, url is SSE',
    shape: 'gemini',
    doc: {
      mcpServers: { h: { httpUrl: 'https://h.example/mcp' }, s: { url: 'https://s.example/sse' } },
    },
    servers: [
      server({ name: 'h', transport: 'http', url: 'https://h.example/mcp' }),
      server({ name: 's', transport: 'sse', url: 'https://s.example/sse' }),
    ],
  },
  {
    name: 'Windsurf: serverUrl',
    shape: 'windsurf',
    doc: { mcpServers: { w: { serverUrl: 'https://w.example/mcp' } } },
    servers: [server({ name: 'w', transport: 'http', url: 'https://w.example/mcp' })],
  },
  {
    name: 'VS Code mcp.json: servers, with inputs beside them',
    shape: 'vscode-mcp',
    doc: {
      inputs: [{ id: 'k' }],
      servers: { fs: { type: 'stdio', command: 'node', args: ['fs.js'] } },
    },
    servers: [server({ name: 'fs', command: 'node', args: ['fs.js'] })],
  },
  {
    name: 'VS Code settings.json: mcp.servers',
    shape: 'vscode-settings',
    doc: {
      'editor.fontSize': 12,
      mcp: { servers: { r: { type: 'http', url: 'https://r.example/mcp' } } },
    },
    servers: [server({ name: 'r', transport: 'http', url: 'https://r.example/mcp' })],
  },
  {
    name: 'VS Code settings.json without mcp',
    shape: 'vscode-settings',
    doc: { 'editor.fontSize': 12 },
    servers: [],
  },
  {
    name: 'Zed: the flat form, the older nested command, a remote server',
    shape: 'zed',
    doc: {
      context_servers: {
        flat: { command: 'zed-mcp', args: ['--x'], env: { K: 'v' } },
        nested: {
          command: { path: '/bin/old', args: ['a'], env: { OLD_TOKEN: 'v' } },
          settings: {},
        },
        remote: { url: 'https://z.example/mcp', headers: { Authorization: 'Bearer x' } },
      },
    },
    servers: [
      server({ name: 'flat', command: 'zed-mcp', args: ['--x'], env: ['K'] }),
      server({ name: 'nested', command: '/bin/old', args: ['a'], env: ['OLD_TOKEN'] }),
      server({
        name: 'remote',
        transport: 'http',
        url: 'https://z.example/mcp',
        headers: ['Authorization'],
      }),
    ],
  },
  {
    name: 'Zed: a server an extension provides has no command; reported, not guessed',
    shape: 'zed',
    doc: { context_servers: { ext: { source: 'extension', settings: { key: 'v' } } } },
    servers: [server({ name: 'ext', transport: 'unknown' })],
    problems: [
      'context_servers.ext: neither a command nor a URL (a server an extension provides is not read)',
    ],
  },
  {
    name: 'Codex: env, forwarded variables, bearer token variable, both header tables',
    shape: 'codex',
    doc: {
      mcp_servers: {
        local: { command: 'docs', args: ['-q'], env: { A: '1' }, env_vars: ['B'] },
        remote: {
          url: 'https://c.example/mcp',
          bearer_token_env_var: 'C_TOKEN',
          http_headers: { 'X-Team': 'p' },
          env_http_headers: { 'X-Key': 'C_KEY' },
        },
      },
    },
    servers: [
      server({ name: 'local', command: 'docs', args: ['-q'], env: ['A', 'B'] }),
      server({
        name: 'remote',
        transport: 'http',
        url: 'https://c.example/mcp',
        env: ['C_TOKEN', 'C_KEY'],
        headers: ['X-Team', 'X-Key'],
      }),
    ],
  },
  {
    name: "Claude Code ~/.claude.json: user servers, then each project folder's",
    shape: 'claude-code-user',
    doc: {
      numStartups: 3,
      mcpServers: { u: { type: 'stdio', command: 'u' } },
      projects: {
        '/home/a/app': { mcpServers: { p: { type: 'http', url: 'https://p.example/mcp' } } },
        '/home/a/other': { allowedTools: [] },
      },
    },
    servers: [
      server({ name: 'u', command: 'u' }),
      server({
        name: 'p',
        transport: 'http',
        url: 'https://p.example/mcp',
        project: '/home/a/app',
      }),
    ],
  },
  {
    name: 'unknown shapes: the servers key of the wrong type, a non-object file',
    shape: 'claude-code-user',
    doc: { mcpServers: ['a'], projects: { '/x': 'y' } },
    servers: [],
    problems: ['mcpServers is not an object of servers', 'projects["/x"] is not an object'],
  },
  {
    name: 'entries in doubt: still reported, transport unknown, the reason named',
    shape: 'mcp-servers',
    doc: {
      mcpServers: {
        notObject: 'npx',
        badArgs: { command: 'x', args: 'y z' },
        badType: { type: 'websocket', url: 'wss://w.example' },
        both: { command: 'x', url: 'https://b.example' },
        stdioNoCommand: { type: 'stdio', url: 'https://b.example' },
        badEnv: { command: 'x', env: ['A'] },
      },
    },
    servers: [
      server({ name: 'notObject', transport: 'unknown' }),
      server({ name: 'badArgs', transport: 'unknown', command: 'x' }),
      server({ name: 'badType', transport: 'unknown', url: 'wss://w.example' }),
      server({ name: 'both', transport: 'unknown', command: 'x', url: 'https://b.example' }),
      server({ name: 'stdioNoCommand', transport: 'unknown', url: 'https://b.example' }),
      server({ name: 'badEnv', transport: 'unknown', command: 'x' }),
    ],
    problems: [
      'mcpServers.notObject: a server entry must be an object',
      'mcpServers.badArgs: args is not a list of strings',
      'mcpServers.badType: type "websocket" is not one this reader knows',
      'mcpServers.both: both a command and a URL, and no type to choose between them',
      'mcpServers.stdioNoCommand: type stdio without a command',
      'mcpServers.badEnv: env is not an object',
    ],
  },
];

describe('readServers', () => {
  test.each(ROWS)('$name', ({ shape, doc, servers, problems = [] }) => {
    const read = readServers(shape, doc);
    expect(read.servers).toEqual(servers);
    expect(read.problems.map((p) => p.message)).toEqual(problems);
    expect(read.problems.every((p) => p.kind === 'unknown_shape')).toBe(true);
  });

  test.each(['mcp-servers', 'zed', 'codex', 'vscode-mcp'] as const)(
    '%s: a file that is not an object is an unknown shape',
    (shape) => {
      expect(readServers(shape, [1, 2]).problems).toEqual([
        {
          kind: 'unknown_shape',
          message: 'the file is not an object at the top level',
          line: null,
          col: null,
        },
      ]);
    },
  );

  test('no value of env, headers or a URL query reaches the result', () => {
    const read = readServers('mcp-servers', {
      mcpServers: {
        a: { command: 'x', env: { TOKEN: 'VALUE-ENV-1' } },
        b: {
          url: 'https://h.example/mcp?key=VALUE-QUERY-2',
          headers: { Authorization: 'VALUE-HEADER-3' },
        },
      },
    });
    expect(JSON.stringify(read)).not.toMatch(/VALUE-/);
  });
});
