/**
 * Every request of every real-SDK capture in test/fixtures/mcp-traffic/, turned into the
 * CheckRequest Envoy would send (checkRequestFromRecorded) and sent to the running service over
 * gRPC with Envoy's own protos (createAuthzClient). Each request's decision is compared with a
 * table keyed by fixture and request note, so a change in recognition or policy shows up as the
 * exact request whose decision moved.
 *
 * - Approved host with tool rules: everything MCP-shaped is recognised and allowed (`approved`,
 *   which only MCP traffic gets: non-MCP is `not_mcp`), including the very first `initialize`
 *   that carries no MCP header, GET streams, DELETE, client-sent responses to server pings and
 *   2025-03-26 batches; `delete_repo` is `tool_not_allowed`.
 * - Host not approved: every request of every revision is `unapproved`, which proves each one was
 *   recognised as MCP (non-MCP traffic would pass).
 * - No `with_request_body`: a `tools/call` on a tool-restricted entry cannot be judged for
 *   2024/2025 revisions (`uninspectable`, `body_missing`) but is decided on `Mcp-Name` for
 *   2026-07-28.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import type { CheckRequestFromRecordedOptions } from '../helpers/envoy-emulator.js';
import { checkRequestFromRecorded } from '../helpers/envoy-emulator.js';
import { MCP_TRAFFIC_FIXTURE_DIR } from '../helpers/mcp-capture.js';
import type { McpTrafficFixture } from '../helpers/mcp-capture.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { stamped } from '../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const HOST = 'mcp.example.com';

/** The host is approved on every path (the legacy transport uses /sse and /messages). */
const APPROVING_ALLOWLIST = stamped(`version: captured.1
default_action: deny
review_url: https://mcp-review.corp.example/request
approved:
  - id: example-mcp
    host: ${HOST}
    transport: http
    tools:
      allow: ['get_*', 'list_*', 'r?sum?_*']
      deny: ['*delete*']
    review_ticket: SEC-2001
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);

/** Approves another host only: the fixtures' host is unlisted. */
const OTHER_HOST_ALLOWLIST = stamped(`version: captured.2
default_action: deny
review_url: https://mcp-review.corp.example/request
approved:
  - id: other-mcp
    host: mcp.other.example
    transport: http
    review_ticket: SEC-2002
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);

// ---------------------------------------------------------------------------------------------
// Fixtures and expectations
// ---------------------------------------------------------------------------------------------

interface Fixture {
  readonly file: string;
  readonly data: McpTrafficFixture;
}

/** Every committed capture, read from the directory so a new one cannot be skipped silently. */
const FIXTURES: readonly Fixture[] = readdirSync(MCP_TRAFFIC_FIXTURE_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    file,
    // Written by test/helpers/mcp-capture.ts from the McpTrafficFixture type.
    data: JSON.parse(
      readFileSync(path.join(MCP_TRAFFIC_FIXTURE_DIR, file), 'utf8'),
    ) as McpTrafficFixture,
  }));

type Reason = 'approved' | 'tool_not_allowed';

/** The session every 2025-era v1 capture goes through, after its `initialize`. */
const V1_SESSION: Readonly<Record<string, Reason>> = {
  'notifications/initialized': 'approved',
  'GET SSE stream': 'approved',
  'tools/list': 'approved',
  'tools/call get_issue': 'approved',
  'tools/call delete_repo': 'tool_not_allowed',
  // The client's answer to the delete_repo handler's server→client ping.
  'JSON-RPC result (id 0)': 'approved',
  'resources/read file:///acme/widgets/README.md': 'approved',
  'prompts/get summarize_issue': 'approved',
  ping: 'approved',
  'DELETE session': 'approved',
};

/** Expected reason per fixture file and request note, with an approving allowlist. */
const EXPECTED: Readonly<Record<string, Readonly<Record<string, Reason>>>> = {
  'v1-legacy-sse-2024-11-05.json': {
    'GET SSE stream': 'approved',
    'initialize 2024-11-05': 'approved',
    'notifications/initialized': 'approved',
    'tools/list': 'approved',
    'tools/call get_issue': 'approved',
    'tools/call delete_repo': 'tool_not_allowed',
    'JSON-RPC result (id 0)': 'approved',
    'resources/read file:///acme/widgets/README.md': 'approved',
    'prompts/get summarize_issue': 'approved',
    ping: 'approved',
  },
  'v1-streamable-http-2024-11-05.json': { 'initialize 2024-11-05': 'approved', ...V1_SESSION },
  'v1-streamable-http-2025-03-26.json': {
    'initialize 2025-03-26': 'approved',
    ...V1_SESSION,
    'batch [ping, tools/call get_issue]': 'approved',
  },
  'v1-streamable-http-2025-06-18.json': { 'initialize 2025-06-18': 'approved', ...V1_SESSION },
  'v1-streamable-http-2025-11-25.json': { 'initialize 2025-11-25': 'approved', ...V1_SESSION },
  'v2-auto-2026-07-28.json': {
    'server/discover': 'approved',
    'tools/list': 'approved',
    'tools/call get_issue': 'approved',
    'tools/call résumé_lookup': 'approved',
    'tools/call delete_repo': 'tool_not_allowed',
    'resources/read file:///acme/widgets/README.md': 'approved',
    'prompts/get summarize_issue': 'approved',
  },
  'v2-auto-fallback-to-v1-server.json': {
    // The refused 2026-07-28 probe is MCP to the gate whatever the server answered.
    'server/discover': 'approved',
    'initialize 2025-11-25': 'approved',
    ...V1_SESSION,
  },
  'v2-legacy-2025-11-25.json': {
    'initialize 2025-11-25': 'approved',
    'notifications/initialized': 'approved',
    // The stateless server answers 405; the gate still sees an MCP stream request.
    'GET SSE stream': 'approved',
    'tools/list': 'approved',
    'tools/call get_issue': 'approved',
    'tools/call delete_repo': 'tool_not_allowed',
    'resources/read file:///acme/widgets/README.md': 'approved',
    'prompts/get summarize_issue': 'approved',
    ping: 'approved',
  },
};

/** The decision as Envoy would read it from the CheckResponse. */
interface Outcome {
  readonly verdict: 'allow' | 'deny';
  /** Deny: `x-mcp-gate-reason`; allow: the `reason` in `dynamic_metadata` (absent for non-MCP). */
  readonly reason: string | undefined;
  /** Deny: `denied_response.status.code` (Envoy's HttpStatus enum name). */
  readonly status: string | undefined;
  /** Deny: `x-mcp-gate-detail`. */
  readonly detail: string | undefined;
}

function outcomeOf(response: EnvoyCheckResponse): Outcome {
  if ((response.status?.code ?? 0) === 0) {
    return {
      verdict: 'allow',
      reason: response.dynamic_metadata?.fields?.['reason']?.stringValue,
      status: undefined,
      detail: undefined,
    };
  }
  const headers = response.denied_response?.headers;
  return {
    verdict: 'deny',
    reason: headerOf(headers, 'x-mcp-gate-reason'),
    status: response.denied_response?.status?.code,
    detail: headerOf(headers, 'x-mcp-gate-detail'),
  };
}

const approved: Outcome = {
  verdict: 'allow',
  reason: 'approved',
  status: undefined,
  detail: undefined,
};

function deny(reason: string, status: 'OK' | 'Forbidden', detail?: string): Outcome {
  return { verdict: 'deny', reason, status, detail };
}

/** Sends every request of `fixture` and returns `note → outcome` in capture order. */
async function decideAll(
  client: AuthzClient,
  fixture: Fixture,
  options: CheckRequestFromRecordedOptions,
  only: (note: string) => boolean = () => true,
): Promise<[string, Outcome][]> {
  const results: [string, Outcome][] = [];
  for (const recorded of fixture.data.requests) {
    if (!only(recorded.note)) continue;
    const response = await client.check(checkRequestFromRecorded(recorded, options));
    results.push([recorded.note, outcomeOf(response)]);
  }
  return results;
}

const isLegacySse = (fixture: Fixture): boolean => fixture.file.startsWith('v1-legacy-sse-');
const is2026 = (fixture: Fixture): boolean => fixture.file === 'v2-auto-2026-07-28.json';

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

let approving: TestService | undefined;
let unlisted: TestService | undefined;
let approvingClient: AuthzClient;
let unlistedClient: AuthzClient;

beforeAll(async () => {
  approving = await startTestService({ allowlist: APPROVING_ALLOWLIST, now: () => NOW });
  unlisted = await startTestService({ allowlist: OTHER_HOST_ALLOWLIST, now: () => NOW });
  approvingClient = createAuthzClient(approving.grpcAddress);
  unlistedClient = createAuthzClient(unlisted.grpcAddress);
});
afterAll(async () => {
  approvingClient.close();
  unlistedClient.close();
  await approving?.stop();
  await unlisted?.stop();
});

describe('the captures and the table agree', () => {
  test('every fixture file has a table, and every request note is in it exactly once', () => {
    expect(FIXTURES.map((f) => f.file)).toEqual(Object.keys(EXPECTED).sort());
    for (const fixture of FIXTURES) {
      const notes = fixture.data.requests.map((r) => r.note);
      expect(new Set(notes).size, `${fixture.file}: duplicate notes`).toBe(notes.length);
      expect([...notes].sort(), fixture.file).toEqual(Object.keys(EXPECTED[fixture.file]!).sort());
    }
  });
});

describe.each([
  { envoy: 'envoy/egress-proxy.yaml settings (headers map, raw_body)', options: {} },
  {
    envoy: 'encode_raw_headers, body as string',
    options: {
      encodeRawHeaders: true,
      withRequestBody: { maxRequestBytes: 65_536, allowPartialMessage: true, packAsBytes: false },
    },
  },
])('approved host with tool rules – $envoy', ({ options }) => {
  test.each(FIXTURES.map((fixture) => ({ name: fixture.file, fixture })))(
    '$name',
    async ({ fixture }) => {
      const results = await decideAll(approvingClient, fixture, { authority: HOST, ...options });
      const table = EXPECTED[fixture.file]!;
      const expected = results.map(([note]): [string, Outcome] => {
        const reason = table[note];
        if (reason === 'tool_not_allowed') {
          // In-band tool result on Streamable HTTP; legacy SSE answers on its GET stream, so it
          // gets the 403 text.
          return [note, deny('tool_not_allowed', isLegacySse(fixture) ? 'Forbidden' : 'OK')];
        }
        return [note, reason === 'approved' ? approved : deny(`missing in table: ${note}`, 'OK')];
      });
      expect(results).toEqual(expected);
    },
  );
});

test('the first initialize of every 2024/2025 capture carries no MCP header and is still MCP', async () => {
  let initializes = 0;
  for (const fixture of FIXTURES) {
    const first = fixture.data.requests.find((r) => r.note.startsWith('initialize '));
    if (first === undefined) {
      expect(is2026(fixture), fixture.file).toBe(true);
      continue;
    }
    initializes++;
    const request = checkRequestFromRecorded(first, { authority: HOST });
    const headers = request.attributes?.request?.http?.headers ?? {};
    expect(
      Object.keys(headers).filter((name) => name.startsWith('mcp-')),
      fixture.file,
    ).toEqual([]);
    expect(outcomeOf(await approvingClient.check(request)), fixture.file).toEqual(approved);
    const elsewhere = await unlistedClient.check(request);
    expect(outcomeOf(elsewhere), fixture.file).toEqual(deny('unapproved', 'Forbidden'));
  }
  expect(initializes).toBe(FIXTURES.length - 1);
});

describe('host not approved: every request of every revision is recognised and denied', () => {
  test.each(FIXTURES.map((fixture) => ({ name: fixture.file, fixture })))(
    '$name',
    async ({ fixture }) => {
      const results = await decideAll(unlistedClient, fixture, { authority: HOST });
      expect(results).toHaveLength(fixture.data.requests.length);
      expect(results).toEqual(
        fixture.data.requests.map((r): [string, Outcome] => [
          r.note,
          deny('unapproved', 'Forbidden'),
        ]),
      );
    },
  );
});

describe('no with_request_body: tools/call on a tool-restricted entry', () => {
  test.each(FIXTURES.map((fixture) => ({ name: fixture.file, fixture })))(
    '$name',
    async ({ fixture }) => {
      const results = await decideAll(
        approvingClient,
        fixture,
        { authority: HOST, withRequestBody: null },
        (note) => note.startsWith('tools/call '),
      );
      expect(results.length).toBeGreaterThanOrEqual(2);
      const expected = results.map(([note]): [string, Outcome] => {
        if (!is2026(fixture)) return [note, deny('uninspectable', 'Forbidden', 'body_missing')];
        // 2026-07-28 servers validate Mcp-Method/Mcp-Name, so the headers decide; no body means
        // no JSON-RPC id to echo, so the denial is the 403 text.
        return [
          note,
          EXPECTED[fixture.file]![note] === 'tool_not_allowed'
            ? deny('tool_not_allowed', 'Forbidden')
            : approved,
        ];
      });
      expect(results).toEqual(expected);
      if (is2026(fixture)) {
        expect(results.map(([note]) => note)).toEqual([
          'tools/call get_issue',
          'tools/call résumé_lookup',
          'tools/call delete_repo',
        ]);
      }
    },
  );
});
