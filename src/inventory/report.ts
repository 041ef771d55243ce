/**
 * The endpoint inventory report: what `mcp-gate inventory scan` prints for one machine and user,
 * and what `mcp-gate inventory check` reads back. docs/inventory.md describes every field.
 *
 * Plain types and constants only, no imports: the scanner's whole module graph is Node built-ins
 * and our own files, so it runs from dist/ without node_modules (test/unit/inventory/
 * scan-graph.test.ts holds that). report-schema.ts is the zod schema check reads reports with,
 * and fails type-checking when it and these types drift apart.
 *
 * Credentials never enter a report: environment variables and HTTP headers are listed by name,
 * and a URL loses its user info and query (url.ts).
 */

/** `format` of every report; a reader refuses any other. */
export const REPORT_FORMAT = 'mcp-gate.inventory/v1';

/** The platforms whose config locations are known (locations.ts). */
export const PLATFORMS = ['darwin', 'win32', 'linux'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The clients whose config files are read, by the ids docs/inventory.md lists. */
export const CLIENT_IDS = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'windsurf',
  'gemini-cli',
  'zed',
  'cline',
  'roo-code',
  'codex',
  'copilot-cli',
] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

/** `user`: a file of the user's profile; `project`: a file inside a `--project` folder. */
export const CONFIG_SCOPES = ['user', 'project'] as const;
export type ConfigScope = (typeof CONFIG_SCOPES)[number];

/**
 * How a server is reached. `unknown`: the entry has neither a usable command nor a URL, or says
 * a type this reader does not know; the file's problems say which. check never approves one.
 */
export const SERVER_TRANSPORTS = ['stdio', 'http', 'sse', 'unknown'] as const;
export type ServerTransport = (typeof SERVER_TRANSPORTS)[number];

/** What went wrong with one config file. Each is reported and the scan goes on. */
export const PROBLEM_KINDS = [
  /** Not JSON (or JSONC, or the TOML subset codex.ts reads); line and column say where. */
  'malformed',
  /** Parsed, but the MCP part is not the shape the client documents. */
  'unknown_shape',
  /** Larger than the location's size cap; not read. */
  'too_large',
  /** A symbolic link loop (ELOOP) on the way to the file. */
  'symlink_loop',
  /** The scanning user may not read it (EACCES, EPERM). */
  'permission_denied',
  /** A directory, FIFO, socket or device where a file was expected. */
  'not_a_file',
  /** Any other read error; the message carries the error code. */
  'read_error',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** One problem of a config file. */
export interface FileProblem {
  readonly kind: ProblemKind;
  readonly message: string;
  /** 1-based position in the file, where the problem has one. */
  readonly line: number | null;
  readonly col: number | null;
}

/** One MCP server entry of a config file. */
export interface ReportedServer {
  /** The entry's key in the file. */
  readonly name: string;
  readonly transport: ServerTransport;
  /** stdio: the executable exactly as written. */
  readonly command: string | null;
  /** stdio: the arguments exactly as written (they are what a review approves). */
  readonly args: readonly string[];
  /** http/sse: the URL without user info, query or fragment. */
  readonly url: string | null;
  /** Names of the environment variables the entry sets or forwards; never their values. */
  readonly env: readonly string[];
  /** Names of the HTTP headers the entry sends; never their values. */
  readonly headers: readonly string[];
  /** The entry is switched off in the file (`disabled: true`, `enabled: false`). */
  readonly disabled: boolean;
  /** Claude Code's per-project servers in ~/.claude.json: the project folder they belong to. */
  readonly project: string | null;
}

/** One config file that exists at a known location. */
export interface ConfigReport {
  readonly client: ClientId;
  readonly scope: ConfigScope;
  readonly path: string;
  /** SHA-256 (hex) of the file's bytes; null when it was not read. */
  readonly sha256: string | null;
  /** Size in bytes; null when it could not be read. */
  readonly size: number | null;
  readonly servers: readonly ReportedServer[];
  readonly problems: readonly FileProblem[];
}

/** One scan: one user on one machine. */
export interface InventoryReport {
  readonly format: typeof REPORT_FORMAT;
  /** The mcp-gate version that wrote it. */
  readonly tool_version: string;
  /** The machine's host name (or what `--host` said). */
  readonly host: string;
  readonly user: string;
  readonly os: { readonly platform: Platform; readonly release: string; readonly arch: string };
  /** When the scan ran, ISO 8601 UTC. */
  readonly time: string;
  /** Every config file found, in the order of the locations table. */
  readonly configs: readonly ConfigReport[];
}
