/**
 * The AI client of a request, as a bounded label: `clientInfo.name` (initialize params, or the
 * 2026-07-28 `_meta` client info, both read by read-messages.ts) first, then the `User-Agent`, mapped
 * onto the fixed CLIENT_NAMES. Anything unrecognised is `other`; a request that is not MCP is
 * `none`.
 *
 * Self-reported: any program can send any name, so this is a label for dashboards and triage
 * and a scope an approval may narrow to (`access.clients`), never an authentication. Because
 * the result is always one of CLIENT_NAMES, no byte of the request (control characters, a
 * megabyte-long name) can become a metric label; inputs are cut to MAX_INSPECTED_CHARS before
 * they are looked at, so a huge value costs no more than a short one.
 *
 * Pure and total: no I/O, never throws. The rules and the sources they were taken from are in
 * docs/monitoring.md ("AI clients").
 */
import type { McpInspection } from './inspection.js';

/** Every value the `client` label, the audit `client` field and Decision.client can take. */
export const CLIENT_NAMES = [
  /** Claude Desktop (`clientInfo.name` `claude-ai`). */
  'claude-desktop',
  /** Claude Code (`claude-code`). */
  'claude-code',
  /** Cursor (`cursor-vscode`). */
  'cursor',
  /** Visual Studio Code and Insiders (`Visual Studio Code`), GitHub Copilot's MCP host. */
  'vscode',
  /** Windsurf (`windsurf-client`). */
  'windsurf',
  /** OpenAI Codex CLI (`codex-mcp-client`). */
  'codex',
  /** Gemini CLI (`gemini-cli-mcp-client`). */
  'gemini-cli',
  /** The MCP Inspector (`mcp-inspector`). */
  'mcp-inspector',
  /** Any stdio client bridged to a remote server by mcp-remote (`<name> (via mcp-remote x)`). */
  'mcp-remote',
  /** A program built on the TypeScript SDK that names itself nothing we know (Node's fetch). */
  'mcp-sdk-typescript',
  /** A program built on the Python SDK (its default name `mcp`, or httpx's User-Agent). */
  'mcp-sdk-python',
  /** MCP from a client none of the rules recognise. */
  'other',
  /** Not MCP: nothing to classify. */
  'none',
] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

/**
 * Characters of a name or User-Agent that are looked at. Real names are under 40 characters and
 * real User-Agents under 300; the rest of a longer value cannot change the answer we would give
 * and is not worth reading.
 */
export const MAX_INSPECTED_CHARS = 512;

/** `clientInfo.name`, lower-cased and trimmed → client. Exact names only: no guessing. */
const BY_NAME: ReadonlyMap<string, ClientName> = new Map<string, ClientName>([
  ['claude-ai', 'claude-desktop'],
  ['claude-desktop', 'claude-desktop'],
  ['claude desktop', 'claude-desktop'],
  ['claude-code', 'claude-code'],
  ['claude code', 'claude-code'],
  ['cursor-vscode', 'cursor'],
  ['cursor', 'cursor'],
  ['visual studio code', 'vscode'],
  ['visual studio code - insiders', 'vscode'],
  ['visual-studio-code', 'vscode'],
  ['vscode', 'vscode'],
  ['windsurf-client', 'windsurf'],
  ['windsurf', 'windsurf'],
  ['codex-mcp-client', 'codex'],
  ['codex', 'codex'],
  ['gemini-cli-mcp-client', 'gemini-cli'],
  ['gemini-cli', 'gemini-cli'],
  ['mcp-inspector', 'mcp-inspector'],
  ['inspector-client', 'mcp-inspector'],
  ['mcp', 'mcp-sdk-python'],
]);

/** What mcp-remote appends to the bridged client's name in the initialize it forwards. */
const MCP_REMOTE_MARK = '(via mcp-remote';

/**
 * User-Agent product names (the part before `/` of each token), lower-cased → client, in order
 * of precedence: an editor built on VS Code may also carry `Code/…`, so forks come first.
 */
const BY_PRODUCT: readonly (readonly [string, ClientName])[] = [
  ['claude-code', 'claude-code'],
  ['claude-cli', 'claude-code'],
  ['cursor', 'cursor'],
  ['windsurf', 'windsurf'],
  ['vscode', 'vscode'],
  ['code', 'vscode'],
  ['codex_cli_rs', 'codex'],
  ['geminicli', 'gemini-cli'],
  ['mcp-remote', 'mcp-remote'],
  ['python-httpx', 'mcp-sdk-python'],
  // Node's built-in fetch (undici), what the TypeScript SDK's transports use unless told
  // otherwise; older Node versions said `undici`.
  ['node', 'mcp-sdk-typescript'],
  ['undici', 'mcp-sdk-typescript'],
];

/** The client of an inspected request. See the module comment. */
export function classifyClient(inspection: McpInspection, isMcp: boolean): ClientName {
  if (!isMcp) return 'none';
  return (
    clientFromName(inspection.clientName) ?? clientFromUserAgent(inspection.userAgent) ?? 'other'
  );
}

/** The client a `clientInfo.name` names, or undefined when no rule knows it. */
export function clientFromName(name: string | undefined): ClientName | undefined {
  if (name === undefined) return undefined;
  const key = name.slice(0, MAX_INSPECTED_CHARS).trim().toLowerCase();
  if (key.includes(MCP_REMOTE_MARK)) return 'mcp-remote';
  return BY_NAME.get(key);
}

/** The client a User-Agent names, or undefined when no product token is known. */
export function clientFromUserAgent(userAgent: string | undefined): ClientName | undefined {
  if (userAgent === undefined) return undefined;
  const products = new Set<string>();
  // Product tokens are `name[/version]` separated by spaces; comments in parentheses hold
  // platform details, never the product, and are skipped. Tokens are sliced, not built a
  // character at a time: this runs on every MCP Check.
  const text = userAgent.slice(0, MAX_INSPECTED_CHARS).toLowerCase();
  let depth = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : SPACE;
    if (depth === 0 && code !== SPACE && code !== TAB && code !== OPEN && code !== CLOSE) {
      if (start === -1) start = i;
      continue;
    }
    if (start !== -1) {
      const token = text.slice(start, i);
      const slash = token.indexOf('/');
      products.add(slash === -1 ? token : token.slice(0, slash));
      start = -1;
    }
    if (code === OPEN) depth++;
    else if (code === CLOSE) depth = Math.max(0, depth - 1);
  }
  for (const [product, client] of BY_PRODUCT) if (products.has(product)) return client;
  return undefined;
}

const SPACE = 0x20;
const TAB = 0x09;
const OPEN = 0x28;
const CLOSE = 0x29;
