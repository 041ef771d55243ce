/**
 * Holds mcp-gate's verdict on one request to what real readers do with the same bytes.
 *
 * mcp-gate sees the request as Envoy forwards it (raw path, raw body, pack_as_bytes, a 4 MiB
 * cut as envoy/egress-proxy.yaml configures) through the pure pipeline `serve` runs. The readers:
 * - four real TypeScript SDK servers (sdk-servers.ts), which report each tool they ran and the
 *   mount that served it, so the entry a run falls under is the one the server's own routing
 *   chose (`/mcp/open` is `github-open`, `/mcp` is `github-official`);
 * - Go's `encoding/json` and Python's `json` (readers/), which see the body bytes only: the
 *   entry of their runs is the one the request's path names.
 * On the shadow host every run is on an unapproved server.
 *
 * A finding is a run mcp-gate let through when it should not have: a tool of an unapproved
 * server, a tool outside the run's entry, or (on an allow) a tool mcp-gate did not see. Nothing
 * here asks mcp-gate what the request is: the expected outcome follows from what ran.
 */
import { parseAllowlist } from '../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../src/config/load-known-hosts.js';
import type { Decision } from '../../src/core/decision.js';
import type { McpInspection } from '../../src/core/mcp/inspection.js';
import { authorize } from '../../src/core/pipeline.js';
import type { PolicySnapshot } from '../../src/core/pipeline.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { ALLOWLIST, KNOWN_HOSTS, NOW } from '../adversarial/requests.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { APPROVED_HOST, TOOLS } from './generate.js';
import type { GeneratedRequest } from './generate.js';
import type { ReferenceReader } from './readers/reference-readers.js';
import type { SdkServers } from './sdk-servers.js';
import { ICONV_CHARSETS } from '../../src/text/iconv-charsets.js';

const OFFERED: ReadonlySet<string> = new Set(TOOLS);

/** Envoy's `max_request_bytes` in envoy/egress-proxy.yaml. */
const ENVOY_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** The tool rules of the catalogue's entries on the approved host, restated independently. */
const ENTRY_RULES: Readonly<Record<string, { allow: RegExp[]; deny: RegExp[] } | undefined>> = {
  'github-official': {
    allow: ['get_*', 'list_*', 'search_*'].map(glob),
    deny: ['*delete*'].map(glob),
  },
  'github-open': undefined,
};

/** Which entry serves a mount of the Express server on the approved host. */
const MOUNT_ENTRY: Readonly<Record<string, string>> = {
  '/mcp/open': 'github-open',
  '/mcp': 'github-official',
};

/**
 * The entry a server's own reading of the path falls under: whole segments, case as written,
 * the longer prefix first (the allowlist's meaning of two urls on one host).
 */
function entryForServerPath(path: string): string | undefined {
  const under = (prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/mcp/open')) return 'github-open';
  if (under('/mcp')) return 'github-official';
  return undefined;
}

/**
 * Where each server's run falls: Express reports the mount its router chose; the v2 server
 * routes the raw path; the web-standard server routes the path WHATWG URL makes of it; the
 * legacy SSE server answers on its own message endpoint, whatever the request's path, so its
 * runs, like the body readers', fall under the entry the request's path names.
 */
function serverEntry(
  server: string,
  mount: string,
  rawPath: string,
  pathEntry: string | undefined,
): string | undefined {
  switch (server) {
    case 'v1-express-streamable':
      return MOUNT_ENTRY[mount];
    case 'v2-node':
      return entryForServerPath(rawPath.split('?', 1)[0] ?? '');
    case 'v1-webstandard':
      return entryForServerPath(new URL(rawPath, 'http://server.test').pathname);
    default:
      return pathEntry;
  }
}

export interface Readers {
  readonly servers: SdkServers;
  /** Go and Python, where they could be started. */
  readonly bodyReaders: readonly ReferenceReader[];
  readonly snapshot: PolicySnapshot;
}

export interface Finding {
  readonly reader: string;
  readonly tool: string;
  readonly why: string;
}

export interface Judgement {
  readonly decision: Decision;
  readonly inspection: McpInspection;
  readonly findings: readonly Finding[];
  /** Readers asked, and tools they ran in all. */
  readonly consulted: number;
  readonly runs: number;
}

/** The snapshot the catalogue runs against, with the default 4 MiB body cap and batch limit. */
export function catalogueSnapshot(): PolicySnapshot {
  const parsed = parseAllowlist(ALLOWLIST, { fileName: 'catalogue.yaml', now: new Date(NOW) });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const known = parseKnownHosts(KNOWN_HOSTS, 'known.yaml');
  if (!known.ok) throw new Error(JSON.stringify(known.errors));
  return {
    policy: parsed.policy,
    knownHosts: known.knownHosts,
    limits: { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 },
    charsets: ICONV_CHARSETS,
  };
}

/** One request through mcp-gate and every reader. */
export async function judge(readers: Readers, request: GeneratedRequest): Promise<Judgement> {
  const facts = toRequestFacts(
    envoyCheckRequest({
      method: request.method,
      authority: request.authority,
      path: request.path,
      headers: request.headers,
      body: request.body,
      packAsBytes: true,
      maxRequestBytes: ENVOY_MAX_REQUEST_BYTES,
    }),
  );
  const { decision, inspection } = authorize(readers.snapshot, facts, NOW, 'differential');
  const approvedHost = request.authority === APPROVED_HOST;
  const pathEntry = approvedHost
    ? readers.snapshot.policy.matchRequest(facts.host, facts.port, facts.path)?.id
    : undefined;

  const runs: { reader: string; tool: string; entry: string | undefined }[] = [];
  const serverRuns = await readers.servers.send({
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.body,
  });
  for (const server of serverRuns) {
    for (const run of server.ran) {
      const entry = serverEntry(server.server, run.mount, request.path, pathEntry);
      runs.push({ reader: server.server, tool: run.tool, entry: approvedHost ? entry : undefined });
    }
  }
  const verdicts = await Promise.all(readers.bodyReaders.map((r) => r.read(request.body)));
  readers.bodyReaders.forEach((reader, i) => {
    for (const message of verdicts[i]?.messages ?? []) {
      // A server runs only tools it offers: any other name is an unknown-tool error.
      if (message.tool !== undefined && OFFERED.has(message.tool)) {
        runs.push({ reader: reader.name, tool: message.tool, entry: pathEntry });
      }
    }
  });

  const findings: Finding[] = [];
  const allowed = decision.verdict === 'allow';
  const seen = new Set(inspection.messages.flatMap((m) => (m.tool === undefined ? [] : [m.tool])));
  for (const run of runs) {
    if (!allowed) continue;
    const because = `mcp-gate answered allow ${decision.reason}`;
    if (run.entry === undefined) {
      findings.push({ ...run, why: `ran on a server no entry approves; ${because}` });
    } else if (!toolAllowed(run.entry, run.tool)) {
      findings.push({ ...run, why: `outside entry ${run.entry}'s tools; ${because}` });
    } else if (!seen.has(run.tool)) {
      findings.push({
        ...run,
        why: `a tool mcp-gate did not see (it saw ${JSON.stringify([...seen])}); ${because}`,
      });
    }
  }
  return {
    decision,
    inspection,
    findings,
    consulted: serverRuns.length + readers.bodyReaders.length,
    runs: runs.length,
  };
}

function toolAllowed(entry: string, tool: string): boolean {
  if (!Object.hasOwn(ENTRY_RULES, entry)) return false;
  const rules = ENTRY_RULES[entry];
  if (rules === undefined) return true;
  return rules.allow.some((r) => r.test(tool)) && !rules.deny.some((r) => r.test(tool));
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}
