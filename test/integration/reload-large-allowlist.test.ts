/**
 * A reload of a 10,000-entry allowlist never blocks Checks: the same file that stalls the event
 * loop for far more than half a second when loaded on the main thread (at start-up, where that
 * is harmless) reloads while Checks keep being answered within a small bound, and every answer
 * comes from one whole allowlist, the old or the new, never a mix.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { stamped } from '../helpers/stamped.js';

const FILLER = 10_000;
/** Far above any slice of the reload; far below the main-thread parse it replaces. */
const MAX_STALL_MS = 100;
/**
 * On a loaded machine, scheduling alone stalls a thread for a long time, and the parse on the
 * main thread takes longer too: the bound is then a fraction of that parse, measured here.
 */
const PARSE_FRACTION = 8;
const MIN_PARSE_MS = 500;

/**
 * FILLER entries, then `entry-a` and `entry-b`, which both allow `${tools}_*`: v1 allows
 * alpha_*, v2 beta_*. A check that saw entry-a from one version and entry-b from the other
 * would break the version-to-verdict rule the test checks on every answer.
 */
function largeAllowlist(version: string, tools: string): string {
  const lines = [
    `version: ${version}`,
    'review_url: https://mcp-review.corp.example/request',
    'approved:',
  ];
  const entry = (id: string, host: string, allow: string): void => {
    lines.push(
      `  - id: ${id}`,
      `    host: ${host}`,
      '    transport: http',
      `    url: https://${host}/mcp/`,
      '    scopes: [repo.read]',
      '    tools:',
      `      allow: ["${allow}"]`,
      '      deny: ["*delete*"]',
      `    review_ticket: SEC-${id}`,
      '    reviewed_by: security-platform',
      '    reviewed_on: 2026-10-18',
      '    expires_on: 2027-04-18',
    );
  };
  for (let i = 0; i < FILLER; i++) entry(`filler-${i}`, `h${i}.filler.example`, 'get_*');
  entry('entry-a', 'a.mcp.example', `${tools}_*`);
  entry('entry-b', 'b.mcp.example', `${tools}_*`);
  return stamped(`${lines.join('\n')}\n`);
}

const V1 = largeAllowlist('large.1', 'alpha');
const V2 = largeAllowlist('large.2', 'beta');

let svc: TestService;
let client: AuthzClient;
let startupStallMs = 0;

beforeAll(async () => {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  svc = await startTestService({ allowlist: V1, now: () => Date.parse('2026-11-21T12:00:00Z') });
  delay.disable();
  startupStallMs = delay.max / 1e6;
  client = createAuthzClient(svc.grpcAddress);
}, 60_000);
afterAll(async () => {
  client.close();
  await svc.stop();
});

interface Answer {
  readonly host: string;
  readonly tool: string;
  readonly verdict: string | undefined;
  readonly version: string | undefined;
  readonly ms: number;
}

async function ask(host: string, tool: string): Promise<Answer> {
  const started = performance.now();
  const response = await client.check(
    envoyCheckRequest({
      authority: host,
      path: '/mcp/',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
      },
      body: rpc('tools/call', { name: tool, arguments: {} }, 1),
    }),
  );
  const fields = response.dynamic_metadata?.fields;
  return {
    host,
    tool,
    verdict: fields?.['verdict']?.stringValue,
    version: fields?.['allowlist_version']?.stringValue,
    ms: performance.now() - started,
  };
}

/** What a whole allowlist of `version` answers for `tool` on entry-a or entry-b. */
function expectedVerdict(version: string | undefined, tool: string): string {
  const allowed = version === 'large.1' ? 'alpha_' : version === 'large.2' ? 'beta_' : undefined;
  if (allowed === undefined) throw new Error(`answer from an unknown allowlist ${String(version)}`);
  return tool.startsWith(allowed) ? 'allow' : 'deny';
}

interface Window {
  readonly answers: Answer[][];
  /** Longest event-loop stall in the window, ms. */
  readonly stallMs: number;
  readonly ms: number;
}

/**
 * Two callers ask, each alternating entries and tools, until `until` settles; the event loop's
 * longest stall meanwhile is measured. A millisecond's pause between asks leaves the thread
 * idle part of the time, as a real service is, so a stall shows as one.
 */
async function askThroughout(until: () => Promise<unknown>): Promise<Window> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let asking = true;
  const caller = async (offset: number): Promise<Answer[]> => {
    const answers: Answer[] = [];
    for (let i = offset; asking; i++) {
      const host = i % 2 === 0 ? 'a.mcp.example' : 'b.mcp.example';
      const tool = Math.floor(i / 2) % 2 === 0 ? 'alpha_x' : 'beta_x';
      answers.push(await ask(host, tool));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return answers;
  };
  const started = performance.now();
  delay.enable();
  const callers = [caller(0), caller(1)];
  await until();
  asking = false;
  const answers = await Promise.all(callers);
  delay.disable();
  return { answers, stallMs: delay.max / 1e6, ms: performance.now() - started };
}

test('a 10,000-entry reload: Checks answered throughout, each from the old or the new allowlist', async () => {
  // The yardstick: loading this allowlist on the main thread, as start-up does.
  expect(startupStallMs).toBeGreaterThan(MIN_PARSE_MS);
  expect(await ask('a.mcp.example', 'alpha_x')).toMatchObject({
    verdict: 'allow',
    version: 'large.1',
  });
  const reload = await askThroughout(async () => {
    const reloaded = svc.waitForLog(
      (l) => l['msg'] === 'allowlist reloaded' && l['version'] === 'large.2',
    );
    const temp = path.join(svc.dir, '.allowlist.yaml.new');
    await writeFile(temp, V2);
    await rename(temp, svc.allowlistPath);
    await reloaded;
  });

  const all = reload.answers.flat();
  // Enough answers inside the window for the bounds below to mean something.
  expect(all.length).toBeGreaterThan(50);
  for (const answer of all) {
    expect(answer.verdict, JSON.stringify(answer)).toBe(
      expectedVerdict(answer.version, answer.tool),
    );
  }
  for (const perCaller of reload.answers) {
    // Once a caller has seen the new allowlist, it never sees the old one again.
    const firstNew = perCaller.findIndex((a) => a.version === 'large.2');
    const afterSwitch = firstNew === -1 ? [] : perCaller.slice(firstNew);
    expect(afterSwitch.filter((a) => a.version !== 'large.2')).toEqual([]);
  }
  const slowest = Math.max(...all.map((a) => a.ms));
  const bound = Math.max(MAX_STALL_MS, startupStallMs / PARSE_FRACTION);
  const summary = JSON.stringify({
    startupStallMs,
    reloadMs: reload.ms,
    checks: all.length,
    slowestCheckMs: slowest,
    reloadStallMs: reload.stallMs,
    boundMs: bound,
  });
  console.info(`reload-large-allowlist: ${summary}`);
  expect(reload.ms, summary).toBeGreaterThan(MIN_PARSE_MS);
  expect(reload.stallMs, summary).toBeLessThan(bound);
  expect(slowest, summary).toBeLessThan(bound);

  expect(await ask('b.mcp.example', 'beta_x')).toMatchObject({
    verdict: 'allow',
    version: 'large.2',
  });
  const metrics = await (await fetch(`${svc.httpUrl}/metrics`)).text();
  expect(metrics).toContain('mcp_gate_allowlist_reloads_total{result="success"} 2');
  expect(metrics).toContain('mcp_gate_allowlist_reloads_total{result="failure"} 0');
  expect(metrics).toContain('mcp_gate_allowlist_info{version="large.2"');
  expect(metrics).toContain(`mcp_gate_allowlist_entries ${FILLER + 2}`);
}, 120_000);
