/**
 * Request builders for the adversarial catalogue: the allowlist the catalogue runs against, and
 * short ways to say "this MCP message, to that host, with these headers", always through the
 * Envoy-faithful CheckRequest builder (pack_as_bytes and a 1 MiB max_request_bytes, as
 * envoy/egress-proxy.yaml configures Envoy, unless a case says otherwise).
 */
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import type {
  EnvoyCheckRequestOptions,
  JsonObject,
  JsonValue,
} from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { stamped } from '../helpers/stamped.js';

/** The catalogue's clock: every approval below is valid at this instant. */
export const NOW = Date.parse('2026-11-21T12:00:00Z');

/** Our cap on a (decoded) body, passed as `--max-body-bytes`; Envoy's max_request_bytes is 1 MiB. */
export const MAX_BODY_BYTES = 64 * 1024;

export const ALLOWLIST = stamped(`# adversarial catalogue allowlist
version: adversarial-1
default_action: deny
mode: enforce
review_url: https://mcp-review.corp.example/request
# Who a request is from: the user from a header a sign-in proxy sets, the groups from the token
# Envoy's jwt_authn verified (a list claim, never split).
identity:
  user: { header: x-forwarded-email }
  groups: { jwt_claim: groups }
  jwt: { metadata_namespace: envoy.filters.http.jwt_authn, payload_key: verified }
bundles:
  no-sudo:
    conditions:
      - expr: '!has(args.sudo)'
        description: never with sudo
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    tools:
      allow: ['get_*', 'list_*', 'search_*']
      deny: ['*delete*']
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: github-open
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/open
    review_ticket: SEC-4903
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: internal-tools
    host: tools.corp.example
    transport: http
    review_ticket: SEC-5001
    reviewed_by: security-platform
    reviewed_on: 2026-09-01
    expires_on: 2027-03-01
  - id: docs-search
    host: '*.docs.example.com'
    transport: http
    tools:
      allow: ['search_*']
    review_ticket: SEC-5002
    reviewed_by: security-platform
    reviewed_on: 2026-09-01
    expires_on: 2027-03-01
  - id: lab-server
    host: 10.20.30.40
    transport: http
    url: http://10.20.30.40:8443/mcp
    review_ticket: SEC-5003
    reviewed_by: security-platform
    reviewed_on: 2026-09-01
    expires_on: 2027-03-01
  - id: buecher
    host: xn--bcher-kva.example
    transport: http
    review_ticket: SEC-5004
    reviewed_by: security-platform
    reviewed_on: 2026-09-01
    expires_on: 2027-03-01
  - id: scoped-data
    host: data-mcp.corp.example
    transport: http
    access: { users: ['*@corp.example'] }
    tools:
      allow: [run_query, create_issue, list_rows, run_tasks, find_names, run_shell]
      rules:
        - match: [run_query]
          access: { groups: [data-eng] }
          conditions:
            - expr: 'args.query.matches("(?i)^\\\\s*select\\\\b")'
              description: only SELECT statements
        - match: [create_issue]
          conditions:
            - expr: 'args.owner == "acme"'
              description: only repositories of acme
        - match: [list_rows]
          conditions:
            - expr: 'args.limit <= 100'
              description: at most 100 rows
        - match: [run_tasks]
          conditions:
            - expr: 'args.tasks.all(t, t.startsWith("report-"))'
              description: only report tasks
        - match: [find_names]
          conditions:
            - expr: 'args.pattern.matches("^([a-z0-9]+[-_]?)*$")'
              description: plain names only
        - match: [run_shell]
          access: { clients: [claude-code] }
    review_ticket: SEC-5101
    reviewed_by: security-platform
    reviewed_on: 2026-11-01
    expires_on: 2027-05-01
  - id: scoped-notes
    host: notes-mcp.corp.example
    transport: http
    uses: [no-sudo]
    review_ticket: SEC-5102
    reviewed_by: security-platform
    reviewed_on: 2026-11-01
    expires_on: 2027-05-01
`);

export const KNOWN_HOSTS = 'hosts: [mcp.linear.app]\n';

/** Streamable HTTP POST headers without any MCP header (a session's first `initialize`). */
export const STREAM = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

/** A 2025-11-25 session (batches forbidden, headers optional). */
export const SESSION = {
  ...STREAM,
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  'mcp-protocol-version': '2025-11-25',
} as const;

/** A 2025-03-26 session: the one revision that allowed batches. */
export const SESSION_0326 = { ...SESSION, 'mcp-protocol-version': '2025-03-26' } as const;

/** A 2026-07-28 request (Mcp-Method/Mcp-Name required and validated by servers). */
export const V2026 = { ...STREAM, 'mcp-protocol-version': '2026-07-28' } as const;

export const GITHUB = { authority: 'api.githubcopilot.com', path: '/mcp/' } as const;
export const EVIL = { authority: 'mcp.evil.example', path: '/mcp' } as const;
export const OPEN = { authority: 'tools.corp.example', path: '/mcp' } as const;
export const DATA = { authority: 'data-mcp.corp.example', path: '/mcp' } as const;
export const NOTES = { authority: 'notes-mcp.corp.example', path: '/mcp' } as const;

/** A 2025-11-25 session of ana, as the sign-in proxy names her to `scoped-data`. */
export const ANA = { ...SESSION, 'x-forwarded-email': 'ana@corp.example' } as const;

/** Where Envoy's jwt_authn filter puts a verified payload (`payload_in_metadata: verified`). */
export const JWT_NAMESPACE = 'envoy.filters.http.jwt_authn';

/** `metadata_context` of a request whose verified token names these groups. */
export const jwtGroups = (
  groups: JsonValue,
  namespace: string = JWT_NAMESPACE,
): Readonly<Record<string, JsonObject>> => ({ [namespace]: { verified: { groups } } });

/** ana's verified token: she is in data-eng. */
export const DATA_ENG = jwtGroups(['eng', 'data-eng']);

/** A `tools/call` with its `arguments` written as raw JSON text (for keys JSON.stringify cannot write). */
export function callWith(tool: string, argumentsJson: string, id = 7): string {
  return `{"jsonrpc":"2.0","id":${String(id)},"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":${argumentsJson}}}`;
}

/** A `tools/call` as the TS SDK writes it. */
export function call(tool: string, id: number | string | null = 7): string {
  return rpc('tools/call', { name: tool, arguments: { q: 'x' } }, id);
}

/** The first `initialize` of a 2025-era session. */
export function init(): string {
  return rpc(
    'initialize',
    {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'adversary', version: '1.0.0' },
    },
    0,
  );
}

/** A body padded inside `params` so that `jsonrpc` and `id` (written last) lie far behind. */
export function padded(method: string, params: Record<string, unknown>, pad: number): string {
  return rpc(method, { ...params, _meta: { pad: 'A'.repeat(pad) } }, 1);
}

/** One check as Envoy sends it (pack_as_bytes, 1 MiB max_request_bytes by default). */
export function check(options: EnvoyCheckRequestOptions): CheckRequest {
  return envoyCheckRequest({ packAsBytes: true, maxRequestBytes: 1024 * 1024, ...options });
}

/** Adds a header straight into the `headers` map, past the HCM model (what a forgery would need). */
export function withMapHeader(request: CheckRequest, name: string, value: string): CheckRequest {
  const attributes = request.attributes ?? {};
  const attrRequest = attributes.request ?? {};
  const http = attrRequest.http ?? {};
  return {
    attributes: {
      ...attributes,
      request: { ...attrRequest, http: { ...http, headers: { ...http.headers, [name]: value } } },
    },
  };
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
export const gz = (data: string | Uint8Array): Buffer => gzipSync(data);
export const zlibDeflate = (data: string | Uint8Array): Buffer => deflateSync(data);
export const rawDeflate = (data: string | Uint8Array): Buffer => deflateRawSync(data);
export const br = (data: string | Uint8Array): Buffer => brotliCompressSync(data);

/** `=?base64?…?=`, the 2026-07-28 wrapping of header values that are not plain ASCII. */
export const b64Header = (text: string): string =>
  `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
