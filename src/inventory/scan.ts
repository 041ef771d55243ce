/**
 * The scan: every known config location (locations.ts) read, parsed and turned into the report
 * of report.ts. Nothing a file contains or lacks stops it: a file that cannot be read, parsed or
 * understood is reported with its problems, and the next one is read. Files are read one after
 * another, so the report's order is the table's.
 *
 * Imports only Node built-ins and its own folder (and the pure URL helpers of src/core), so the
 * scanner runs from dist/ with Node alone (src/inventory-scan.ts is its entry).
 */
import { createHash } from 'node:crypto';
import { parseJsonText } from './json-text.js';
import type { ConfigLocation, LocationRoots } from './locations.js';
import { configLocations } from './locations.js';
import { readConfigBytes } from './read-config.js';
import type { ConfigReport, FileProblem, InventoryReport } from './report.js';
import { REPORT_FORMAT } from './report.js';
import { readServers } from './servers.js';
import { readToml } from './toml.js';

/** Everything the scan needs to know about the machine it describes. */
export interface ScanOptions {
  readonly roots: LocationRoots;
  readonly host: string;
  readonly user: string;
  readonly release: string;
  readonly arch: string;
  readonly time: Date;
  readonly toolVersion: string;
}

/** Scans every location. Never throws for anything found on disk. */
export async function scanInventory(options: ScanOptions): Promise<InventoryReport> {
  const configs: ConfigReport[] = [];
  for (const location of configLocations(options.roots)) {
    const config = await scanLocation(location);
    if (config !== undefined) configs.push(config);
  }
  return {
    format: REPORT_FORMAT,
    tool_version: options.toolVersion,
    host: options.host,
    user: options.user,
    os: { platform: options.roots.platform, release: options.release, arch: options.arch },
    time: options.time.toISOString(),
    configs,
  };
}

/** One location's report, or undefined when nothing is there. */
export async function scanLocation(location: ConfigLocation): Promise<ConfigReport | undefined> {
  const base = { client: location.client, scope: location.scope, path: location.path };
  const read = await readConfigBytes(location.path, location.maxBytes);
  if (read.kind === 'absent') return undefined;
  if (read.kind === 'problem') {
    return { ...base, sha256: null, size: read.size, servers: [], problems: [read.problem] };
  }
  const sha256 = createHash('sha256').update(read.bytes).digest('hex');
  const parsed = parseConfig(read.bytes, location);
  if (!parsed.ok) {
    return { ...base, sha256, size: read.bytes.length, servers: [], problems: [parsed.problem] };
  }
  const { servers, problems } = readServers(location.shape, parsed.value);
  return { ...base, sha256, size: read.bytes.length, servers, problems };
}

type Parsed = { ok: true; value: unknown } | { ok: false; problem: FileProblem };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseConfig(bytes: Buffer, location: ConfigLocation): Parsed {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return malformed('not UTF-8 text', null, null);
  }
  const result =
    location.syntax === 'toml' ? readToml(text) : parseJsonText(text, location.syntax === 'jsonc');
  if (result.ok) return { ok: true, value: result.value };
  const what = location.syntax === 'toml' ? 'not read as TOML: ' : '';
  return malformed(`${what}${result.message}`, result.line, result.col);
}

function malformed(message: string, line: number | null, col: number | null): Parsed {
  return { ok: false, problem: { kind: 'malformed', message, line, col } };
}
