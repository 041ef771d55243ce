/**
 * Runs every catalogue case through the real service over gRPC (Envoy's own protos on the client
 * side) and checks the exact outcome, the audit line, and the invariants every answer keeps:
 * no CR/LF or lone surrogate in anything we send back, no fault logged.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { CATALOGUE, FAMILIES } from './catalogue.js';
import type { AdversarialCase } from './catalogue.js';
import { ALLOWLIST, KNOWN_HOSTS, MAX_BODY_BYTES, NOW } from './requests.js';

/** How Envoy's protos name the HTTP statuses a denial can carry. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  200: 'OK',
  403: 'Forbidden',
  503: 'ServiceUnavailable',
};

const UNSAFE = /[\r\n]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

let svc: TestService;
let client: AuthzClient;

beforeAll(async () => {
  svc = await startTestService({
    allowlist: ALLOWLIST,
    knownHosts: KNOWN_HOSTS,
    now: () => NOW,
    flags: { 'max-body-bytes': String(MAX_BODY_BYTES) },
  });
  client = createAuthzClient(svc.grpcAddress);
});
afterAll(async () => {
  client.close();
  await svc.stop();
});

function metadata(response: EnvoyCheckResponse, key: string): string | undefined {
  return response.dynamic_metadata?.fields?.[key]?.stringValue;
}

/** Every string we hand to Envoy: header names and values, the body, dynamic metadata. */
function everyString(response: EnvoyCheckResponse): string[] {
  const headers = [
    ...(response.denied_response?.headers ?? []),
    ...(response.ok_response?.headers ?? []),
  ].flatMap((h) => [h.header?.key ?? '', h.header?.value ?? '']);
  const meta = Object.values(response.dynamic_metadata?.fields ?? {}).map(
    (v) => v.stringValue ?? '',
  );
  return [
    ...headers,
    ...(response.ok_response?.headers_to_remove ?? []),
    response.denied_response?.body ?? '',
    ...meta,
  ];
}

async function run(c: AdversarialCase): Promise<void> {
  const logsBefore = svc.logs.length;
  const response = await client.check(c.request());
  const want = c.expect;
  const verdict = response.status?.code === 7 ? 'deny' : 'allow';
  expect(verdict).toBe(want.verdict);

  const body = response.denied_response?.body ?? '';
  if (verdict === 'deny') {
    const headers = response.denied_response?.headers;
    expect(response.status?.message).toBe(want.reason);
    expect(headerOf(headers, 'x-mcp-gate-reason')).toBe(want.reason);
    expect(headerOf(headers, 'x-mcp-gate-detail')).toBe(want.detail);
    expect(response.denied_response?.status?.code).toBe(STATUS_NAMES[want.http ?? 403]);
    expect(headers?.every((h) => h.append?.value === false)).toBe(true);
  } else if (want.reason === 'not_mcp') {
    expect(response.dynamic_metadata).toBeUndefined();
    expect(response.ok_response?.headers ?? []).toEqual([]);
  } else {
    expect(headerOf(response.ok_response?.headers, 'x-mcp-gate-server')).toBe(want.entry);
  }
  if (want.reason !== 'not_mcp') {
    expect(metadata(response, 'reason')).toBe(want.reason);
    expect(metadata(response, 'detail')).toBe(want.detail);
    expect(metadata(response, 'entry')).toBe(want.entry);
  }

  for (const text of everyString(response)) expect(text).not.toMatch(UNSAFE);

  let log: Record<string, unknown> | undefined;
  const decisionId = metadata(response, 'decision_id');
  if (want.reason === 'not_mcp') {
    const lines = svc.logs.slice(logsBefore).filter((l) => l['msg'] === 'decision');
    expect(lines).toEqual([]);
  } else {
    log = await svc.waitForLog((l) => l['msg'] === 'decision' && l['decision_id'] === decisionId);
    expect(log).toMatchObject({
      decision: want.verdict,
      reason: want.reason,
      allowlist_version: 'adversarial-1',
    });
    expect(log['detail']).toBe(want.detail);
    expect(log['entry']).toBe(want.entry);
  }
  // The audit line is the only log line a decision writes: no fault, no warning.
  const others = svc.logs.slice(logsBefore).filter((l) => l['msg'] !== 'decision');
  expect(others).toEqual([]);

  c.verify?.({ response, log, body });
}

describe('adversarial catalogue', () => {
  it('has at least 65 cases with unique ids of the form ADV-<FAMILY>-NN', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(65);
    const ids = CATALOGUE.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^ADV-[A-Z0-9]+-\d{2}$/);
  });

  it('covers every family, and uninspectable cases always name their detail', () => {
    expect(new Set(CATALOGUE.map((c) => c.family))).toEqual(new Set(FAMILIES));
    for (const c of CATALOGUE) {
      const { reason, detail } = c.expect;
      if (reason === 'uninspectable') expect(detail, c.id).toBeDefined();
      else if (reason === 'principal_not_allowed')
        expect([undefined, 'identity_missing']).toContain(detail);
      else expect(detail, c.id).toBeUndefined();
    }
  });

  it('SECURITY.md documents exactly the catalogue ids', async () => {
    const doc = await readFile(new URL('../../SECURITY.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/\bADV-[A-Z0-9]+-\d{2}\b/g)].map((m) => m[0]);
    expect(new Set(documented)).toEqual(new Set(CATALOGUE.map((c) => c.id)));
  });

  it.each(CATALOGUE)('$id $title', run);
});
