/**
 * Property: scoping only narrows. Adding an `access` rule, a tool rule, a condition or a bundle to
 * the base allowlist never turns a deny into an allow, for any request the property generators
 * make, with or without an identity the restrictions admit.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../src/config/load-allowlist.js';
import { authorize } from '../../src/core/pipeline.js';
import type { PolicySnapshot } from '../../src/core/pipeline.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { anyCaseArb } from './arbitraries.js';
import { BASE_ALLOWLIST, NOW_MS, snapshotFor } from './fixtures.js';

const IDENTITY = `identity:
  user: { header: x-forwarded-email }
  groups: { header: x-forwarded-groups }
bundles:
  writers:
    rules:
      - match: ["*"]
        access: { groups: [writers] }
`;

/** Inserts scoping keys after an entry's `transport: http` line (its first one). */
function scope(entryHost: string, keys: string): string {
  const at = BASE_ALLOWLIST.indexOf(`host: ${entryHost}`);
  if (at < 0) throw new Error(`no entry for ${entryHost}`);
  const transport = BASE_ALLOWLIST.indexOf('transport: http\n', at) + 'transport: http\n'.length;
  const withKeys = BASE_ALLOWLIST.slice(0, transport) + keys + BASE_ALLOWLIST.slice(transport);
  return withKeys.replace('approved:\n', `${IDENTITY}approved:\n`);
}

const RESTRICTED = {
  'entry users': scope('api.githubcopilot.com', '    access: { users: ["*@corp.example"] }\n'),
  'entry groups and clients': scope(
    'mcp.internal.test',
    '    access: { groups: [eng], clients: [claude-code, cursor] }\n',
  ),
  'tool rule with a condition': scope(
    'api.githubcopilot.com',
    '    tools:\n' +
      '      allow: ["get_*", "list_*", "search_*"]\n' +
      '      deny: ["*delete*"]\n' +
      '      rules:\n' +
      '        - match: ["search_*"]\n' +
      '          conditions:\n' +
      "            - { expr: 'size(args) > 5', description: many arguments }\n",
  ).replace(
    '    tools:\n      allow: ["get_*", "list_*", "search_*"]\n      deny: ["*delete*"]\n    review',
    '    review',
  ),
  'entry condition': scope(
    '10.20.30.40',
    '    conditions:\n      - { expr: \'method != "tools/call" || tool.startsWith("get")\', description: reads }\n',
  ),
  bundle: scope('10.20.30.40', '    uses: [writers]\n'),
} as const;

function compile(text: string): PolicySnapshot {
  const parsed = parseAllowlist(text, { fileName: 'restricted.yaml', now: new Date(NOW_MS) });
  if (!parsed.ok) {
    throw new Error(parsed.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  }
  const base = snapshotFor('base');
  return { ...base, policy: parsed.policy };
}

const identityArb = fc.record({
  email: fc.option(
    fc.constantFrom('ana@corp.example', 'eve@elsewhere.example', 'a,b@corp.example'),
  ),
  groups: fc.option(fc.constantFrom('eng', 'writers', 'eng,writers', '')),
});

describe('restrictions never turn a deny into an allow', () => {
  const base = snapshotFor('base');
  test.each(Object.entries(RESTRICTED))('%s', (_name, text) => {
    expect(text).not.toBe(BASE_ALLOWLIST);
    const restricted = compile(text);
    let allowedByBoth = 0;
    let narrowed = 0;
    fc.assert(
      fc.property(anyCaseArb, identityArb, (fuzzCase, who) => {
        const headers = [...fuzzCase.request.headers];
        if (who.email !== null) headers.push(['x-forwarded-email', who.email]);
        if (who.groups !== null) headers.push(['x-forwarded-groups', who.groups]);
        const request = envoyCheckRequest({
          ...fuzzCase.request,
          headers,
          ...(fuzzCase.bodyBuffered ? {} : { body: new Uint8Array(0) }),
        });
        const facts = toRequestFacts(request);
        const before = authorize(base, facts, NOW_MS, 'abcdefghjkmnpqrstuvw').decision;
        const after = authorize(restricted, facts, NOW_MS, 'abcdefghjkmnpqrstuvw').decision;
        if (before.verdict === 'deny') expect(after.verdict).toBe('deny');
        if (after.verdict === 'allow' && after.isMcp) allowedByBoth++;
        if (before.verdict === 'allow' && after.verdict === 'deny') narrowed++;
      }),
      { seed: 20261203, numRuns: 300 },
    );
    // Not vacuous: the restriction refuses some requests the base allows, and some MCP
    // requests still pass it.
    expect(narrowed).toBeGreaterThan(0);
    expect(allowedByBoth).toBeGreaterThan(0);
  });
});
