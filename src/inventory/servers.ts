/**
 * The MCP servers of one parsed config file, for each shape of locations.ts. Every entry the file
 * lists becomes a ReportedServer, even one this reader cannot make sense of: that one is
 * reported with transport `unknown` and a problem saying why, so it cannot drop out of the
 * inventory unseen. A file without the servers key lists none; a servers key of the wrong type
 * is an `unknown_shape` problem.
 *
 * Environment variables and headers are reported by name only. Their values are never read
 * into the result, so no code path can print them. Pure and total.
 */
import type { ConfigShape } from './locations.js';
import type { FileProblem, ReportedServer, ServerTransport } from './report.js';
import { toReportedUrl } from './url.js';

/** The servers of one file and the problems met reading them. */
export interface ServersRead {
  readonly servers: ReportedServer[];
  readonly problems: FileProblem[];
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A remote-server key and the transport it means in one client's dialect. */
interface UrlKey {
  readonly key: string;
  readonly transport: 'http' | 'sse';
}

/** What differs between clients in how one entry is written. */
interface Dialect {
  readonly urlKeys: readonly UrlKey[];
  /** Codex: `env_vars`, `bearer_token_env_var`, `http_headers`, `env_http_headers`. */
  readonly codex: boolean;
}

const PLAIN: Dialect = { urlKeys: [{ key: 'url', transport: 'http' }], codex: false };
const GEMINI: Dialect = {
  urlKeys: [
    { key: 'httpUrl', transport: 'http' },
    { key: 'url', transport: 'sse' },
  ],
  codex: false,
};
const WINDSURF: Dialect = {
  urlKeys: [
    { key: 'serverUrl', transport: 'http' },
    { key: 'url', transport: 'http' },
  ],
  codex: false,
};
const CODEX: Dialect = { urlKeys: [{ key: 'url', transport: 'http' }], codex: true };

/**
 * `type` values clients write, and the transport each means: VS Code and Claude Code write
 * `http`, Cline `streamableHttp`, Roo Code `streamable-http`. Anything else is not guessed at.
 */
const TYPE_NAMES: Readonly<Record<string, ServerTransport>> = {
  stdio: 'stdio',
  http: 'http',
  'streamable-http': 'http',
  streamableHttp: 'http',
  sse: 'sse',
};

/** Reads the servers of a parsed file of the given shape. */
export function readServers(shape: ConfigShape, doc: unknown): ServersRead {
  const out: ServersRead = { servers: [], problems: [] };
  if (!isRecord(doc)) {
    out.problems.push(shapeProblem('the file is not an object at the top level'));
    return out;
  }
  switch (shape) {
    case 'mcp-servers':
      readMap(doc, 'mcpServers', PLAIN, null, out);
      break;
    case 'gemini':
      readMap(doc, 'mcpServers', GEMINI, null, out);
      break;
    case 'windsurf':
      readMap(doc, 'mcpServers', WINDSURF, null, out);
      break;
    case 'vscode-mcp':
      readMap(doc, 'servers', PLAIN, null, out);
      break;
    case 'vscode-settings': {
      const mcp = doc['mcp'];
      if (mcp === undefined) break;
      if (!isRecord(mcp)) out.problems.push(shapeProblem('"mcp" is not an object'));
      else readMap(mcp, 'servers', PLAIN, null, out, 'mcp.');
      break;
    }
    case 'zed':
      readMap(doc, 'context_servers', PLAIN, null, out);
      break;
    case 'codex':
      readMap(doc, 'mcp_servers', CODEX, null, out);
      break;
    case 'claude-code-user':
      readMap(doc, 'mcpServers', PLAIN, null, out);
      readClaudeProjects(doc['projects'], out);
      break;
  }
  return out;
}

/** ~/.claude.json `projects`: folder → project state, each with its own `mcpServers`. */
function readClaudeProjects(projects: unknown, out: ServersRead): void {
  if (projects === undefined) return;
  if (!isRecord(projects)) {
    out.problems.push(shapeProblem('"projects" is not an object'));
    return;
  }
  for (const [folder, project] of Object.entries(projects)) {
    const at = `projects[${JSON.stringify(folder)}].`;
    if (!isRecord(project)) out.problems.push(shapeProblem(`${at.slice(0, -1)} is not an object`));
    else readMap(project, 'mcpServers', PLAIN, folder, out, at);
  }
}

function readMap(
  container: Raw,
  key: string,
  dialect: Dialect,
  project: string | null,
  out: ServersRead,
  prefix = '',
): void {
  const map = container[key];
  if (map === undefined) return;
  if (!isRecord(map)) {
    out.problems.push(shapeProblem(`${prefix}${key} is not an object of servers`));
    return;
  }
  for (const [name, entry] of Object.entries(map)) {
    out.servers.push(readEntry(name, entry, dialect, project, `${prefix}${key}.${name}`, out));
  }
}

function shapeProblem(message: string): FileProblem {
  return { kind: 'unknown_shape', message, line: null, col: null };
}

/** One entry; on any doubt, transport `unknown` and a problem naming the field. */
function readEntry(
  name: string,
  entry: unknown,
  dialect: Dialect,
  project: string | null,
  at: string,
  out: ServersRead,
): ReportedServer {
  const server = {
    name,
    transport: 'unknown' as ServerTransport,
    command: null as string | null,
    args: [] as string[],
    url: null as string | null,
    env: [] as string[],
    headers: [] as string[],
    disabled: false,
    project,
  };
  const doubts: string[] = [];
  if (!isRecord(entry)) {
    out.problems.push(shapeProblem(`${at}: a server entry must be an object`));
    return server;
  }
  server.disabled = entry['disabled'] === true || entry['enabled'] === false;

  // Zed's older form nests the program: "command": {"path", "args", "env"}.
  const nested = isRecord(entry['command']) ? entry['command'] : undefined;
  const program = nested ?? entry;
  const command = nested === undefined ? entry['command'] : nested['path'];
  if (command !== undefined) {
    if (typeof command === 'string' && command !== '') server.command = command;
    else
      doubts.push(`${nested === undefined ? 'command' : 'command.path'} is not a non-empty string`);
  }
  const args = program['args'];
  if (args !== undefined) {
    if (Array.isArray(args) && args.every((arg) => typeof arg === 'string')) server.args = args;
    else doubts.push('args is not a list of strings');
  }
  server.env = [...names(program['env'], 'env', doubts)];
  server.headers = [...names(entry['headers'], 'headers', doubts)];
  if (dialect.codex) {
    codexNames(entry, server, doubts);
  }

  let url: UrlKey | undefined;
  for (const candidate of dialect.urlKeys) {
    const value = entry[candidate.key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') {
      doubts.push(`${candidate.key} is not a non-empty string`);
    } else if (server.url === null) {
      server.url = toReportedUrl(value);
      url = candidate;
    }
  }

  const type = entry['type'];
  let transport: ServerTransport | undefined;
  if (type !== undefined) {
    transport = typeof type === 'string' ? TYPE_NAMES[type] : undefined;
    if (transport === undefined)
      doubts.push(`type ${JSON.stringify(type)} is not one this reader knows`);
  } else if (server.command !== null && server.url !== null) {
    doubts.push('both a command and a URL, and no type to choose between them');
  } else if (server.command !== null) {
    transport = 'stdio';
  } else if (url !== undefined) {
    transport = url.transport;
  } else if (doubts.length === 0) {
    doubts.push('neither a command nor a URL (a server an extension provides is not read)');
  }
  if (transport === 'stdio' && server.command === null) doubts.push('type stdio without a command');
  if ((transport === 'http' || transport === 'sse') && server.url === null) {
    doubts.push(`type ${String(type)} without a URL`);
  }

  if (doubts.length > 0 || transport === undefined) {
    out.problems.push(shapeProblem(`${at}: ${doubts.join('; ')}`));
    return server;
  }
  server.transport = transport;
  return server;
}

/** The keys of an object of names (env, headers); a doubt when it is not an object. */
function names(value: unknown, field: string, doubts: string[]): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) {
    doubts.push(`${field} is not an object`);
    return [];
  }
  return Object.keys(value);
}

/**
 * Codex forwards variables by name (`env_vars`, `bearer_token_env_var`) and sends headers from
 * literal values (`http_headers`) or from variables (`env_http_headers`, header → variable).
 */
function codexNames(
  entry: Raw,
  server: { env: string[]; headers: string[] },
  doubts: string[],
): void {
  const forwarded = entry['env_vars'];
  if (forwarded !== undefined) {
    if (Array.isArray(forwarded) && forwarded.every((n) => typeof n === 'string')) {
      server.env.push(...forwarded);
    } else doubts.push('env_vars is not a list of strings');
  }
  const bearer = entry['bearer_token_env_var'];
  if (bearer !== undefined) {
    if (typeof bearer === 'string') server.env.push(bearer);
    else doubts.push('bearer_token_env_var is not a string');
  }
  server.headers.push(...names(entry['http_headers'], 'http_headers', doubts));
  const fromEnv = entry['env_http_headers'];
  server.headers.push(...names(fromEnv, 'env_http_headers', doubts));
  if (isRecord(fromEnv)) {
    for (const variable of Object.values(fromEnv)) {
      if (typeof variable === 'string') server.env.push(variable);
      else doubts.push('env_http_headers holds a value that is not a variable name');
    }
  }
}
