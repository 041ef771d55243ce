/**
 * toCheckResponse / toDenyShape / serviceFaultResponse: what Envoy is told for every deny
 * reason and deny_style, and for every kind of allow.
 *
 * Decisions come from the real pipeline (`authorize`) against allowlists parsed with
 * `parseAllowlist`, except for `overloaded` and `internal_error`, which `decide` never returns
 * and are built by hand in the shape the pipeline uses.
 */
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../../src/config/load-known-hosts.js';
import type { Decision } from '../../../src/core/decision.js';
import type { RequestFacts } from '../../../src/core/facts.js';
import { inspectMcp } from '../../../src/core/mcp/inspect.js';
import { authorize } from '../../../src/core/pipeline.js';
import type { Authorization } from '../../../src/core/pipeline.js';
import { DEFAULT_DENY_TEXTS } from '../../../src/core/policy/deny-texts.js';
import { DENY_REASONS, DENY_STYLES } from '../../../src/core/policy/policy.js';
import type {
  CompiledPolicy,
  DenyReason,
  DenyStyle,
  KnownHosts,
  Mode,
} from '../../../src/core/policy/policy.js';
import type { CheckResponse, HeaderValueOption } from '../../../src/envoy/check-types.js';
import {
  POLICY_DENIED_JSONRPC_CODE,
  serviceFaultResponse,
  toCheckResponse,
  toDenyShape,
} from '../../../src/envoy/to-response.js';
import { STREAMABLE_POST, makeFacts, rpc } from '../../helpers/facts.js';
import { githubAllowlist, REVIEW_URL } from '../../helpers/github-allowlist.js';
import type { FactsInput } from '../../helpers/facts.js';
import { ICONV_CHARSETS } from '../../../src/text/iconv-charsets.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
/** A valid decision id (20 letters of the digit-free alphabet), fixed so texts are exact. */
const DECISION_ID = 'bcdfghjkmnpqrstvwxyz';
const LIMITS = { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 };

/** Statuses MCP clients react to by switching transport, re-initialising or starting OAuth. */
const FORBIDDEN_HTTP_STATUSES: readonly number[] = [302, 401, 404, 405];
/** Strings MCP clients read as protocol signals inside an error body. */
const FORBIDDEN_WORDS = /404|405|unauthorized|not found/i;

interface AllowlistOptions {
  readonly denyStyle?: DenyStyle;
  readonly mode?: Mode;
  readonly defaultAction?: 'allow' | 'deny';
  readonly denyReasons?: string;
}

/**
 * github-official (tool rules), plus an expired, a rotated and three scoped entries to deny
 * against.
 */
function allowlistText(options: AllowlistOptions = {}): string {
  return githubAllowlist({
    defaultAction: options.defaultAction ?? 'deny',
    mode: options.mode ?? 'enforce',
    denyStyle: options.denyStyle ?? 'auto',
    allow: ['get_*', 'list_*'],
    deny: ['*delete*'],
    expiresOn: '2027-04-18',
    extraEntries: `  - id: expired-server
    host: mcp.expired.example
    transport: http
    review_ticket: SEC-4903
    reviewed_by: security-platform
    reviewed_on: 2026-05-01
    expires_on: 2026-11-01
  - id: rotated-server
    host: mcp.rotated.example
    transport: http
    review_ticket: SEC-4904
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
    review_sha256: '${'0'.repeat(64)}'
  - id: scoped-users
    host: mcp.scoped.example
    transport: http
    access: { users: [ana@corp.example] }
    review_ticket: SEC-4905
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: claude-code-only
    host: mcp.claude-only.example
    transport: http
    access: { clients: [claude-code] }
    review_ticket: SEC-4906
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: conditioned
    host: mcp.conditioned.example
    transport: http
    tools:
      rules:
        - match: ['*']
          conditions: [{ expr: 'args.q == "y"', description: only the y query }]
    review_ticket: SEC-4907
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
${options.denyReasons ?? ''}`,
    sections: 'identity:\n  user: { header: x-forwarded-email }\n',
  });
}

function policyOf(options: AllowlistOptions = {}): CompiledPolicy {
  const parsed = parseAllowlist(allowlistText(options), {
    fileName: 'allowlist.yaml',
    now: new Date(NOW),
  });
  if (!parsed.ok) {
    throw new Error(parsed.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  }
  return parsed.policy;
}

function knownHostsOf(text: string): KnownHosts {
  const parsed = parseKnownHosts(text, 'known-mcp-hosts.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.knownHosts;
}
const KNOWN_HOSTS = knownHostsOf('hosts: [mcp.notion.com, unauthorized-404.example]\n');

interface Judged extends Authorization {
  readonly facts: RequestFacts;
  readonly policy: CompiledPolicy;
}

/** Runs one request through the real pipeline. */
function judge(policy: CompiledPolicy, input: FactsInput): Judged {
  const facts = makeFacts(input);
  const authorization = authorize(
    { policy, knownHosts: KNOWN_HOSTS, limits: LIMITS, charsets: ICONV_CHARSETS },
    facts,
    NOW,
    DECISION_ID,
  );
  return { ...authorization, facts, policy };
}

/** A decision the pipeline never makes (overloaded, internal_error), shaped like its own. */
function handMade(policy: CompiledPolicy, input: FactsInput, reason: DenyReason): Judged {
  const facts = makeFacts(input);
  const inspection = inspectMcp(facts, LIMITS, ICONV_CHARSETS);
  const decision: Decision = {
    id: DECISION_ID,
    verdict: 'deny',
    reason,
    detail: undefined,
    dryRun: false,
    entry: undefined,
    server: facts.host,
    tool: undefined,
    isMcp: inspection.isMcp,
    client: inspection.isMcp ? 'other' : 'none',
    principal: { user: undefined, groups: undefined, problem: undefined },
    rules: [],
    condition: undefined,
    toolLevel: false,
    allowlistVersion: policy.version,
    explanation: reason,
  };
  return { decision, inspection, facts, policy };
}

function respond(judged: Judged): CheckResponse {
  return toCheckResponse(judged.decision, judged.facts, judged.inspection, judged.policy);
}

function shapeOf(judged: Judged) {
  return toDenyShape(
    judged.decision,
    judged.decision.reason as DenyReason,
    judged.facts,
    judged.inspection,
    judged.policy,
  );
}

function headerValue(
  headers: readonly HeaderValueOption[] | undefined,
  key: string,
): string | undefined {
  return headers?.find((h) => h.header.key === key)?.header.value;
}

function headerKeys(headers: readonly HeaderValueOption[] | undefined): string[] {
  return (headers ?? []).map((h) => h.header.key);
}

/** Streamable HTTP session headers (2025-11-25) as the TS SDK sends them after initialize. */
const SESSION = {
  ...STREAMABLE_POST,
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
};
const GH = { authority: 'api.githubcopilot.com', path: '/mcp/' } as const;
const call = (tool: string, id: number | string | null = 7): string =>
  rpc('tools/call', { name: tool, arguments: { q: 'x' } }, id);

// ---------------------------------------------------------------------------------------------
// Every deny reason, as a single Streamable HTTP `tools/call` with id 7: the one request shape
// for which `auto` may answer with a tool result. Only tool_not_allowed does.

interface ReasonCase {
  readonly reason: DenyReason;
  readonly make: (policy: CompiledPolicy) => Judged;
  /** The filled-in built-in text. */
  readonly text: string;
  /** What the JSON-RPC error echoes as id. */
  readonly idJson: string;
  readonly detail?: string;
  /** The denial concerns the one call: `auto` answers it with a tool result. */
  readonly toolResult?: boolean;
}

const REASON_CASES: readonly ReasonCase[] = [
  {
    reason: 'unapproved',
    make: (p) =>
      judge(p, { authority: 'mcp.unknown.example', headers: SESSION, body: call('delete_repo') }),
    text: `MCP server mcp.unknown.example is not approved for use here. Request a security review: ${REVIEW_URL}?host=mcp.unknown.example&tool=delete_repo&decision=${DECISION_ID}`,
    idJson: '7',
  },
  {
    reason: 'expired',
    make: (p) =>
      judge(p, { authority: 'mcp.expired.example', headers: SESSION, body: call('delete_repo') }),
    text: `The approval for MCP server expired-server has expired. Ask for a renewal: ${REVIEW_URL}?host=mcp.expired.example&tool=delete_repo&entry=expired-server&decision=${DECISION_ID}`,
    idJson: '7',
  },
  {
    reason: 'rotation',
    make: (p) =>
      judge(p, { authority: 'mcp.rotated.example', headers: SESSION, body: call('delete_repo') }),
    text: `The approval for MCP server rotated-server changed since it was reviewed and must be reviewed again: ${REVIEW_URL}?host=mcp.rotated.example&tool=delete_repo&entry=rotated-server&decision=${DECISION_ID}`,
    idJson: '7',
  },
  {
    // Truncated by Envoy on an entry that restricts tools: no message can be read, so no id.
    reason: 'uninspectable',
    make: (p) =>
      judge(p, { ...GH, headers: SESSION, body: call('get_issue').slice(0, 40), truncated: true }),
    text: `This request to MCP server api.githubcopilot.com could not be inspected, so it was blocked. If you believe it should pass, report it: ${REVIEW_URL}?host=api.githubcopilot.com&entry=github-official&decision=${DECISION_ID}`,
    idJson: 'null',
    detail: 'truncated',
  },
  {
    reason: 'tool_not_allowed',
    make: (p) => judge(p, { ...GH, headers: SESSION, body: call('delete_repo') }),
    text: `Tool delete_repo on MCP server github-official is not approved. Request it: ${REVIEW_URL}?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${DECISION_ID}`,
    idJson: '7',
    toolResult: true,
  },
  {
    reason: 'principal_not_allowed',
    make: (p) =>
      judge(p, {
        authority: 'mcp.scoped.example',
        headers: { ...SESSION, 'x-forwarded-email': 'eve@elsewhere.example' },
        body: call('delete_repo'),
      }),
    text: `MCP server scoped-users is approved for other people or groups, not for you. Request access: ${REVIEW_URL}?host=mcp.scoped.example&tool=delete_repo&entry=scoped-users&decision=${DECISION_ID}`,
    idJson: '7',
  },
  {
    reason: 'client_not_allowed',
    make: (p) =>
      judge(p, {
        authority: 'mcp.claude-only.example',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    text: `MCP server claude-code-only is approved for use from other AI clients than this one. Request it: ${REVIEW_URL}?host=mcp.claude-only.example&tool=delete_repo&entry=claude-code-only&decision=${DECISION_ID}`,
    idJson: '7',
  },
  {
    reason: 'condition_failed',
    make: (p) =>
      judge(p, {
        authority: 'mcp.conditioned.example',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    text: `This call to MCP server conditioned does not meet its approval (only the y query), so it was blocked. Request a change: ${REVIEW_URL}?host=mcp.conditioned.example&tool=delete_repo&entry=conditioned&decision=${DECISION_ID}`,
    idJson: '7',
    toolResult: true,
  },
  {
    reason: 'overloaded',
    make: (p) => handMade(p, { ...GH, headers: SESSION, body: call('delete_repo') }, 'overloaded'),
    text: DEFAULT_DENY_TEXTS.overloaded,
    idJson: '7',
  },
];

const TEXT_PLAIN = 'text/plain; charset=utf-8';

describe('deny: every reason × every deny_style', () => {
  test('the table covers every deny reason (internal_error has its own response below)', () => {
    expect([...REASON_CASES.map((c) => c.reason), 'internal_error'].sort()).toEqual(
      [...DENY_REASONS].sort(),
    );
  });

  describe.each(REASON_CASES)('$reason', (row) => {
    test('the pipeline decides this reason (sanity check of the scenario)', () => {
      const { decision } = row.make(policyOf());
      expect(decision.verdict).toBe('deny');
      expect(decision.reason).toBe(row.reason);
      expect(decision.detail).toBe(row.detail);
    });

    // `overloaded` is mcp-gate's state, not the person's fault: a retryable 503.
    const textStatus = row.reason === 'overloaded' ? 503 : 403;

    test('auto: 403 text (503 for overloaded), except a 200 tool result for one call', () => {
      const judged = row.make(policyOf({ denyStyle: 'auto' }));
      const shape = shapeOf(judged);
      if (row.toolResult === true) {
        expect(shape).toEqual({
          httpStatus: 200,
          contentType: 'application/json',
          body: `{"jsonrpc":"2.0","id":7,"result":${JSON.stringify({
            content: [{ type: 'text', text: row.text }],
            isError: true,
            resultType: 'complete',
          })}}`,
        });
      } else {
        expect(shape).toEqual({ httpStatus: textStatus, contentType: TEXT_PLAIN, body: row.text });
      }
    });

    test('text: always text/plain, 403 (503 for overloaded)', () => {
      const judged = row.make(policyOf({ denyStyle: 'text' }));
      expect(shapeOf(judged)).toEqual({
        httpStatus: textStatus,
        contentType: TEXT_PLAIN,
        body: row.text,
      });
    });

    test('jsonrpc_error: 403 application/json, code -31001, the id echoed or null', () => {
      const judged = row.make(policyOf({ denyStyle: 'jsonrpc_error' }));
      const shape = shapeOf(judged);
      expect(shape.httpStatus).toBe(403);
      expect(shape.contentType).toBe('application/json');
      expect(POLICY_DENIED_JSONRPC_CODE).toBe(-31001);
      expect(shape.body).toBe(
        `{"jsonrpc":"2.0","id":${row.idJson},"error":${JSON.stringify({
          code: -31001,
          message: row.text,
          data: { reason: row.reason, decision_id: DECISION_ID, review_url: REVIEW_URL },
        })}}`,
      );
    });

    test.each(DENY_STYLES)(
      '%s: CheckResponse carries the shape, reason headers and metadata',
      (style) => {
        const judged = row.make(policyOf({ denyStyle: style }));
        const shape = shapeOf(judged);
        const response = respond(judged);
        expect(response.status).toEqual({ code: 7, message: row.reason });
        expect(response.ok_response).toBeUndefined();
        const denied = response.denied_response;
        expect(denied?.status).toEqual({ code: shape.httpStatus });
        expect(denied?.body).toBe(shape.body);
        const expectedHeaders: HeaderValueOption[] = [
          { header: { key: 'content-type', value: shape.contentType }, append: { value: false } },
          { header: { key: 'x-mcp-gate-reason', value: row.reason }, append: { value: false } },
          {
            header: { key: 'x-mcp-gate-decision-id', value: DECISION_ID },
            append: { value: false },
          },
        ];
        if (row.detail !== undefined) {
          expectedHeaders.push({
            header: { key: 'x-mcp-gate-detail', value: row.detail },
            append: { value: false },
          });
        }
        expect(denied?.headers).toEqual(expectedHeaders);
        const fields = response.dynamic_metadata?.fields;
        expect(fields?.['decision_id']).toEqual({ stringValue: DECISION_ID });
        expect(fields?.['verdict']).toEqual({ stringValue: 'deny' });
        expect(fields?.['reason']).toEqual({ stringValue: row.reason });
        expect(fields?.['dry_run']).toEqual({ boolValue: false });
        expect(fields?.['allowlist_version']).toEqual({ stringValue: '2026.11' });
        expect(fields?.['detail']).toEqual(
          row.detail === undefined ? undefined : { stringValue: row.detail },
        );
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// auto: the tool result is only for a single Streamable HTTP tools/call request with an id.

interface ShapeCase {
  readonly name: string;
  readonly input: FactsInput;
  /** The id a jsonrpc_error echoes. */
  readonly idJson: string;
}

const TOOL_RESULT_CASES: readonly ShapeCase[] = [
  {
    name: 'numeric id',
    input: { ...GH, headers: SESSION, body: call('delete_repo', 7) },
    idJson: '7',
  },
  {
    name: 'string id with quotes, echoed as written',
    input: { ...GH, headers: SESSION, body: call('delete_repo', 'req-"9"') },
    idJson: '"req-\\"9\\""',
  },
  {
    name: 'exponent id, echoed raw (not re-serialised as 1000)',
    input: {
      ...GH,
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1e3,"method":"tools/call","params":{"name":"delete_repo"}}',
    },
    idJson: '1e3',
  },
  {
    name: 'escaped string id, echoed raw',
    input: {
      ...GH,
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":"\\u0041b","method":"tools/call","params":{"name":"delete_repo"}}',
    },
    idJson: '"\\u0041b"',
  },
];

const TEXT_ONLY_CASES: readonly ShapeCase[] = [
  {
    name: 'legacy HTTP+SSE POST (accept */*)',
    input: {
      authority: 'api.githubcopilot.com',
      path: '/mcp/messages?sessionId=4a2f',
      headers: { 'content-type': 'application/json', accept: '*/*' },
      body: call('delete_repo', 7),
    },
    idJson: '7',
  },
  {
    name: 'a batch (2025-03-26, which still allows them)',
    input: {
      ...GH,
      headers: { ...STREAMABLE_POST, 'mcp-protocol-version': '2025-03-26' },
      body: `[${call('get_issue', 1)},${call('delete_repo', 2)}]`,
    },
    idJson: 'null',
  },
  {
    name: 'a batch of one',
    input: {
      ...GH,
      headers: { ...STREAMABLE_POST, 'mcp-protocol-version': '2025-03-26' },
      body: `[${call('delete_repo', 2)}]`,
    },
    idJson: 'null',
  },
  {
    name: 'a 2026-07-28 request judged on Mcp-Method/Mcp-Name headers (no body, no id)',
    input: {
      ...GH,
      headers: {
        ...STREAMABLE_POST,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'delete_repo',
      },
    },
    idJson: 'null',
  },
  {
    name: 'a tools/call notification (no id)',
    input: { ...GH, headers: SESSION, body: call('delete_repo', null) },
    idJson: 'null',
  },
];

describe('tool_not_allowed: which requests get a tool result', () => {
  test.each(TOOL_RESULT_CASES)('auto, $name: 200 result echoing the id', ({ input, idJson }) => {
    const judged = judge(policyOf({ denyStyle: 'auto' }), input);
    expect(judged.decision.reason).toBe('tool_not_allowed');
    expect(judged.inspection.transport).toBe('streamable_http');
    const shape = shapeOf(judged);
    expect(shape.httpStatus).toBe(200);
    expect(shape.contentType).toBe('application/json');
    expect(shape.body.startsWith(`{"jsonrpc":"2.0","id":${idJson},"result":{`)).toBe(true);
    const parsed = JSON.parse(shape.body) as {
      result: { content: { type: string; text: string }[]; isError: boolean; resultType: string };
    };
    expect(parsed.result.isError).toBe(true);
    expect(parsed.result.resultType).toBe('complete');
    expect(parsed.result.content).toEqual([
      {
        type: 'text',
        text: `Tool delete_repo on MCP server github-official is not approved. Request it: ${REVIEW_URL}?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${DECISION_ID}`,
      },
    ]);
  });

  test.each(TEXT_ONLY_CASES)('auto, $name: 403 text', ({ input }) => {
    const judged = judge(policyOf({ denyStyle: 'auto' }), input);
    expect(judged.decision.reason).toBe('tool_not_allowed');
    const shape = shapeOf(judged);
    expect(shape.httpStatus).toBe(403);
    expect(shape.contentType).toBe(TEXT_PLAIN);
    expect(shape.body).toMatch(/^Tool delete_repo on MCP server github-official is not approved/);
  });

  test.each([...TOOL_RESULT_CASES, ...TEXT_ONLY_CASES])('text, $name: 403 text', ({ input }) => {
    const shape = shapeOf(judge(policyOf({ denyStyle: 'text' }), input));
    expect(shape.httpStatus).toBe(403);
    expect(shape.contentType).toBe(TEXT_PLAIN);
  });

  test.each([...TOOL_RESULT_CASES, ...TEXT_ONLY_CASES])(
    'jsonrpc_error, $name: 403 error with id $idJson',
    ({ input, idJson }) => {
      const shape = shapeOf(judge(policyOf({ denyStyle: 'jsonrpc_error' }), input));
      expect(shape.httpStatus).toBe(403);
      expect(shape.contentType).toBe('application/json');
      expect(shape.body.startsWith(`{"jsonrpc":"2.0","id":${idJson},"error":{`)).toBe(true);
      const parsed = JSON.parse(shape.body) as {
        error: { code: number; message: string; data: Record<string, string> };
      };
      expect(parsed.error.code).toBe(-31001);
      expect(parsed.error.data).toEqual({
        reason: 'tool_not_allowed',
        decision_id: DECISION_ID,
        review_url: REVIEW_URL,
      });
    },
  );

  test('deny_reasons overrides are used in every style', () => {
    const denyReasons = `deny_reasons:
  tool_not_allowed: 'Blocked {tool} on {server} ({host}, {reason}): {review_url}'
`;
    const expected = `Blocked delete_repo on github-official (api.githubcopilot.com, tool_not_allowed): ${REVIEW_URL}?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${DECISION_ID}`;
    const input = { ...GH, headers: SESSION, body: call('delete_repo') };
    const auto = JSON.parse(shapeOf(judge(policyOf({ denyReasons }), input)).body) as {
      result: { content: { text: string }[] };
    };
    expect(auto.result.content[0]?.text).toBe(expected);
    expect(shapeOf(judge(policyOf({ denyStyle: 'text', denyReasons }), input)).body).toBe(expected);
    const error = JSON.parse(
      shapeOf(judge(policyOf({ denyStyle: 'jsonrpc_error', denyReasons }), input)).body,
    ) as { error: { message: string } };
    expect(error.error.message).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Allow shapes.

describe('allow', () => {
  test('non-MCP without forged headers: plain OK, nothing else', () => {
    const judged = judge(policyOf(), {
      method: 'GET',
      authority: 'api.github.com',
      path: '/repos/acme/payments',
      headers: { accept: 'application/json', authorization: 'Bearer x' },
    });
    expect(judged.decision.reason).toBe('not_mcp');
    expect(respond(judged)).toStrictEqual({ status: { code: 0 } });
  });

  test('non-MCP with forged x-mcp-gate-* headers: only headers_to_remove', () => {
    const judged = judge(policyOf(), {
      method: 'GET',
      authority: 'api.github.com',
      path: '/repos/acme/payments',
      headers: {
        'X-MCP-Gate-Server': 'github-official',
        accept: 'application/json',
        'x-mcp-gate-decision-id': 'forged',
      },
    });
    expect(judged.decision.reason).toBe('not_mcp');
    expect(respond(judged)).toStrictEqual({
      status: { code: 0 },
      ok_response: { headers_to_remove: ['x-mcp-gate-server', 'x-mcp-gate-decision-id'] },
    });
  });

  test('approved MCP: decision id and entry for the upstream, append false, metadata', () => {
    const judged = judge(policyOf(), { ...GH, headers: SESSION, body: call('get_issue') });
    expect(judged.decision.reason).toBe('approved');
    expect(respond(judged)).toStrictEqual({
      status: { code: 0 },
      ok_response: {
        headers: [
          {
            header: { key: 'x-mcp-gate-decision-id', value: DECISION_ID },
            append: { value: false },
          },
          {
            header: { key: 'x-mcp-gate-server', value: 'github-official' },
            append: { value: false },
          },
        ],
        headers_to_remove: [],
      },
      dynamic_metadata: {
        fields: {
          decision_id: { stringValue: DECISION_ID },
          verdict: { stringValue: 'allow' },
          reason: { stringValue: 'approved' },
          dry_run: { boolValue: false },
          allowlist_version: { stringValue: '2026.11' },
          server: { stringValue: 'github-official' },
          entry: { stringValue: 'github-official' },
          tool: { stringValue: 'get_issue' },
        },
      },
    });
  });

  test('approved MCP with forged headers: ours overwrite, the rest are removed', () => {
    const judged = judge(policyOf(), {
      ...GH,
      headers: {
        ...SESSION,
        'x-mcp-gate-server': 'forged',
        'x-mcp-gate-decision-id': 'forged',
        'x-mcp-gate-would-deny': 'forged',
        'x-mcp-gate-trusted': 'yes',
      },
      body: call('get_issue'),
    });
    const ok = respond(judged).ok_response;
    expect(headerValue(ok?.headers, 'x-mcp-gate-server')).toBe('github-official');
    expect(headerValue(ok?.headers, 'x-mcp-gate-decision-id')).toBe(DECISION_ID);
    // Not in dry-run, so a client-sent would-deny must not reach the upstream.
    expect(ok?.headers_to_remove).toEqual(['x-mcp-gate-would-deny', 'x-mcp-gate-trusted']);
  });

  test('dry-run (global): allowed, with x-mcp-gate-would-deny and dry_run metadata', () => {
    const judged = judge(policyOf({ mode: 'dry-run' }), {
      ...GH,
      headers: { ...SESSION, 'x-mcp-gate-would-deny': 'forged', 'x-mcp-gate-x': '1' },
      body: call('delete_repo'),
    });
    expect(judged.decision).toMatchObject({
      verdict: 'allow',
      reason: 'tool_not_allowed',
      dryRun: true,
    });
    const response = respond(judged);
    expect(response.status).toEqual({ code: 0 });
    expect(response.denied_response).toBeUndefined();
    expect(response.ok_response?.headers).toEqual([
      { header: { key: 'x-mcp-gate-decision-id', value: DECISION_ID }, append: { value: false } },
      { header: { key: 'x-mcp-gate-server', value: 'github-official' }, append: { value: false } },
      {
        header: { key: 'x-mcp-gate-would-deny', value: 'tool_not_allowed' },
        append: { value: false },
      },
    ]);
    expect(response.ok_response?.headers_to_remove).toEqual(['x-mcp-gate-x']);
    expect(response.dynamic_metadata?.fields?.['dry_run']).toEqual({ boolValue: true });
    expect(response.dynamic_metadata?.fields?.['verdict']).toEqual({ stringValue: 'allow' });
    expect(response.dynamic_metadata?.fields?.['reason']).toEqual({
      stringValue: 'tool_not_allowed',
    });
  });

  test('dry-run without a matching entry: would-deny, no server header, forged one removed', () => {
    const judged = judge(policyOf({ mode: 'dry-run' }), {
      authority: 'mcp.unknown.example',
      headers: { ...SESSION, 'x-mcp-gate-server': 'forged' },
      body: call('anything'),
    });
    const ok = respond(judged).ok_response;
    expect(headerKeys(ok?.headers)).toEqual(['x-mcp-gate-decision-id', 'x-mcp-gate-would-deny']);
    expect(headerValue(ok?.headers, 'x-mcp-gate-would-deny')).toBe('unapproved');
    expect(ok?.headers_to_remove).toEqual(['x-mcp-gate-server']);
  });

  test('CONNECT to a host not known to serve MCP: OK with decision headers', () => {
    const judged = judge(policyOf(), { method: 'CONNECT', authority: 'www.example.com:443' });
    expect(judged.decision.verdict).toBe('allow');
    const ok = respond(judged).ok_response;
    expect(headerValue(ok?.headers, 'x-mcp-gate-decision-id')).toBe(DECISION_ID);
    expect(headerValue(ok?.headers, 'x-mcp-gate-server')).toBeUndefined();
  });

  test('CONNECT to a host with tool rules: 403 telling the operator to intercept it', () => {
    const judged = judge(policyOf(), { method: 'CONNECT', authority: 'api.githubcopilot.com:443' });
    expect(judged.decision).toMatchObject({
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
    });
    const denied = respond(judged).denied_response;
    expect(denied?.status?.code).toBe(403);
    expect(denied?.body).toMatch(
      /^MCP server github-official is approved with rules that can only be checked on inspected TLS, .* add api\.githubcopilot\.com to the proxy's TLS inspection \(mcp-gate render-envoy\)\. Report it: https:\/\/mcp-review\.corp\.example\/request\?host=/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Invariants over everything above and hostile inputs.

/** Every scenario of this file, under every style and mode, with hostile variants. */
function everyResponse(): { name: string; response: CheckResponse }[] {
  const hostile = {
    hosts: ['unauthorized-404.example', 'not-found.405.example', 'x404x.example'],
    tools: ['404', '405', 'Not Found', 'Unauthorized', 'delete_Unauthorized_405_Not Found_404'],
  };
  const requests: { name: string; input: FactsInput }[] = [
    ...TOOL_RESULT_CASES,
    ...TEXT_ONLY_CASES,
    { name: 'approved', input: { ...GH, headers: SESSION, body: call('get_issue') } },
    {
      name: 'forged headers',
      input: { ...GH, headers: { ...SESSION, 'x-mcp-gate-a': '1' }, body: call('get_issue') },
    },
    { name: 'non-MCP', input: { method: 'GET', authority: 'api.github.com', path: '/' } },
    { name: 'CONNECT known', input: { method: 'CONNECT', authority: 'mcp.notion.com:443' } },
    { name: 'CONNECT approved', input: { method: 'CONNECT', authority: 'api.githubcopilot.com' } },
    ...hostile.hosts.flatMap((host) => [
      { name: `host ${host}`, input: { authority: host, headers: SESSION, body: call('x') } },
      { name: `CONNECT ${host}`, input: { method: 'CONNECT', authority: `${host}:443` } },
    ]),
    ...hostile.tools.flatMap((tool) => [
      { name: `tool ${tool}`, input: { ...GH, headers: SESSION, body: call(tool) } },
      {
        name: `tool ${tool} (truncated)`,
        input: { ...GH, headers: SESSION, body: call(tool).slice(0, 60), truncated: true },
      },
    ]),
  ];
  const out: { name: string; response: CheckResponse }[] = [];
  for (const style of DENY_STYLES) {
    for (const mode of ['enforce', 'dry-run'] as const) {
      const policy = policyOf({ denyStyle: style, mode });
      for (const { name, input } of requests) {
        out.push({ name: `${style}/${mode}/${name}`, response: respond(judge(policy, input)) });
      }
      for (const row of REASON_CASES) {
        out.push({ name: `${style}/${mode}/${row.reason}`, response: respond(row.make(policy)) });
      }
      for (const reason of ['overloaded', 'internal_error'] as const) {
        for (const host of hostile.hosts) {
          const judged = handMade(
            policy,
            { authority: host, headers: SESSION, body: call('x') },
            reason,
          );
          out.push({ name: `${style}/${mode}/${reason}/${host}`, response: respond(judged) });
        }
      }
      out.push({
        name: `${style}/${mode}/serviceFaultResponse`,
        response: serviceFaultResponse('internal_error', DECISION_ID, policy).response,
      });
    }
  }
  return out;
}

describe('invariants over every response', () => {
  const all = everyResponse();

  test('the sweep is not empty and has both denials and allows', () => {
    expect(all.some((r) => r.response.denied_response !== undefined)).toBe(true);
    expect(all.some((r) => r.response.ok_response !== undefined)).toBe(true);
  });

  test('hostile hosts and tools do reach deny texts (defanged with a zero-width space)', () => {
    const bodies = all.map((r) => r.response.denied_response?.body ?? '').join('\n');
    for (const defanged of ['4\u200b04', '4\u200b05', 'U\u200bnauthorized', 'N\u200bot Found']) {
      expect(bodies).toContain(defanged);
    }
    expect(bodies).toContain('u\u200bnauthorized-4\u200b04.example');
  });

  test('the HTTP status is never 302, 401, 404 or 405', () => {
    const bad = all.filter(({ response }) =>
      FORBIDDEN_HTTP_STATUSES.includes(response.denied_response?.status?.code ?? 0),
    );
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  test('no deny body or header spells 404, 405, Unauthorized or Not Found', () => {
    const bad = all.filter(({ response }) => {
      const denied = response.denied_response;
      if (denied === undefined) return false;
      const values = [denied.body ?? '', ...(denied.headers ?? []).map((h) => h.header.value)];
      return values.some((v) => FORBIDDEN_WORDS.test(v));
    });
    expect(bad.map((r) => `${r.name}: ${r.response.denied_response?.body ?? ''}`)).toEqual([]);
  });

  test('never a query-parameter mutation, never response headers', () => {
    const bad = all.filter(({ response }) => {
      const ok = response.ok_response;
      return (
        ok !== undefined &&
        (ok.query_parameters_to_set !== undefined ||
          ok.query_parameters_to_remove !== undefined ||
          ok.response_headers_to_add !== undefined)
      );
    });
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  test('every header is sent with append: {value: false}', () => {
    const bad = all.filter(({ response }) => {
      const headers = [
        ...(response.denied_response?.headers ?? []),
        ...(response.ok_response?.headers ?? []),
      ];
      return headers.some((h) => h.append?.value !== false || h.append_action !== undefined);
    });
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  test('a header we set is never also in headers_to_remove', () => {
    const bad = all.filter(({ response }) => {
      const ok = response.ok_response;
      const set = new Set(headerKeys(ok?.headers));
      return (ok?.headers_to_remove ?? []).some((name) => set.has(name));
    });
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  test('gRPC status is 0 exactly for ok responses and 7 with a denied_response otherwise', () => {
    const bad = all.filter(({ response }) =>
      response.status.code === 0
        ? response.denied_response !== undefined
        : response.status.code !== 7 || response.denied_response === undefined,
    );
    expect(bad.map((r) => r.name)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// internal_error: the answer when the Check path itself failed.

describe('serviceFaultResponse', () => {
  test.each([
    { name: 'enforce policy', policy: policyOf(), version: '2026.11' },
    { name: 'dry-run policy', policy: policyOf({ mode: 'dry-run' }), version: '2026.11' },
    {
      name: 'dry-run policy with jsonrpc_error style',
      policy: policyOf({ mode: 'dry-run', denyStyle: 'jsonrpc_error' }),
      version: '2026.11',
    },
    { name: 'no policy loaded', policy: undefined, version: '' },
  ])('$name: a 503 text deny, never an allow', ({ policy, version }) => {
    const { decision, response } = serviceFaultResponse('internal_error', DECISION_ID, policy);
    expect(decision).toMatchObject({
      id: DECISION_ID,
      verdict: 'deny',
      reason: 'internal_error',
      dryRun: false,
      allowlistVersion: version,
    });
    expect(response).toStrictEqual({
      status: { code: 7, message: 'internal_error' },
      denied_response: {
        status: { code: 503 },
        headers: [
          { header: { key: 'content-type', value: TEXT_PLAIN }, append: { value: false } },
          {
            header: { key: 'x-mcp-gate-reason', value: 'internal_error' },
            append: { value: false },
          },
          {
            header: { key: 'x-mcp-gate-decision-id', value: DECISION_ID },
            append: { value: false },
          },
        ],
        body: DEFAULT_DENY_TEXTS.internal_error,
      },
      dynamic_metadata: {
        fields: {
          decision_id: { stringValue: DECISION_ID },
          verdict: { stringValue: 'deny' },
          reason: { stringValue: 'internal_error' },
          dry_run: { boolValue: false },
          allowlist_version: { stringValue: version },
          server: { stringValue: '' },
        },
      },
    });
  });

  test('a deny_reasons override of internal_error is used', () => {
    const policy = policyOf({
      denyReasons: `deny_reasons:\n  internal_error: 'mcp-gate failed; this request was blocked. Retry.'\n`,
    });
    expect(
      serviceFaultResponse('internal_error', DECISION_ID, policy).response.denied_response?.body,
    ).toBe('mcp-gate failed; this request was blocked. Retry.');
  });
});

describe('follow-ups: statuses, placeholders and ids', () => {
  test('internal_error shaped through toDenyShape is a 503, like serviceFaultResponse', () => {
    const judged = handMade(
      policyOf(),
      { ...GH, headers: SESSION, body: call('get_x') },
      'internal_error',
    );
    expect(shapeOf(judged).httpStatus).toBe(503);
  });

  test('overloaded: a 503 text deny, never an allow, with reason header and no request data', () => {
    const { decision, response } = serviceFaultResponse('overloaded', DECISION_ID, policyOf());
    expect(decision).toMatchObject({ verdict: 'deny', reason: 'overloaded', dryRun: false });
    expect(response.status.code).toBe(7);
    expect(response.denied_response?.status?.code).toBe(503);
    expect(response.denied_response?.body).toBe(DEFAULT_DENY_TEXTS.overloaded);
    expect(response.denied_response?.headers).toContainEqual({
      header: { key: 'x-mcp-gate-reason', value: 'overloaded' },
      append: { value: false },
    });
  });

  test('an internal_error override gets its placeholders filled, not erased', () => {
    const policy = policyOf({
      denyReasons:
        'deny_reasons:\n  internal_error: "mcp-gate failed ({reason}); report it: {review_url}"\n',
    });
    const body =
      serviceFaultResponse('internal_error', DECISION_ID, policy).response.denied_response?.body ??
      '';
    expect(body).toBe(
      `mcp-gate failed (internal_error); report it: ${REVIEW_URL}?host=&decision=${DECISION_ID}`,
    );
  });

  test.each([
    { id: 404, want: 'null' },
    { id: 1405, want: 'null' },
    { id: '"a404"', want: 'null' },
    { id: 403, want: '403' },
    { id: 7, want: '7' },
  ])('jsonrpc_error body: id $id is echoed as $want', ({ id, want }) => {
    const idText = typeof id === 'number' ? String(id) : id;
    const body = `{"jsonrpc":"2.0","id":${idText},"method":"tools/call","params":{"name":"delete_x"}}`;
    const judged = judge(policyOf({ denyStyle: 'jsonrpc_error' }), {
      ...GH,
      headers: SESSION,
      body,
    });
    const shape = shapeOf(judged);
    expect(shape.httpStatus).toBe(403);
    expect(shape.body.startsWith(`{"jsonrpc":"2.0","id":${want},"error":`)).toBe(true);
    expect(shape.body).not.toMatch(FORBIDDEN_WORDS);
  });
});

describe('dynamic metadata: request-supplied values are escaped', () => {
  test('CR/LF and lone surrogates in the tool and host never reach the metadata raw', () => {
    const tool = 'delete_\r\nx\ud800';
    const denied = respond(judge(policyOf(), { ...GH, headers: SESSION, body: call(tool) }))
      .dynamic_metadata?.fields;
    expect(denied?.['tool']?.stringValue).toBe('delete_\\u000d\\u000ax\\ud800');
    const unlisted = respond(
      judge(policyOf(), {
        authority: 'evil.example\r\nx-injected: 1',
        path: '/mcp',
        headers: SESSION,
        body: call('x'),
      }),
    ).dynamic_metadata?.fields;
    expect(unlisted?.['server']?.stringValue).toBe('evil.example\\u000d\\u000ax-injected: 1');
  });
});
