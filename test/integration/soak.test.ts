/**
 * The soak (scripts/soak.ts), twice over:
 * - its verifier, fed real answers from the real service, must catch every kind of wrong answer
 *   (a soak whose checker cannot fail proves nothing);
 * - a 20-second soak run as a subprocess, against `dist/main.js` (built by `npm test`) or the
 *   entry in SOAK_ENTRY, must end with no wrong answer, no error, a living service, and the
 *   churn it promises: reloads, SIGHUPs, one corruption rejected and restored.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  KNOWN_HOSTS_YAML,
  renderAllowlist,
  versionLabel,
} from '../../scripts/soak/allowlist-versions.js';
import type { SoakReport } from '../../scripts/soak/run.js';
import { SCENARIOS } from '../../scripts/soak/scenarios.js';
import type { Scenario } from '../../scripts/soak/scenarios.js';
import { judge } from '../../scripts/soak/verify.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOAK_SECONDS = 20;

function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
}

/** A copy of `response` with one metadata string replaced (an answer that lies about itself). */
function withMetadata(
  response: EnvoyCheckResponse,
  name: string,
  value: string,
): EnvoyCheckResponse {
  const copy = structuredClone(response);
  const fields = copy.dynamic_metadata?.fields;
  if (fields === undefined) throw new Error('answer has no metadata');
  fields[name] = { stringValue: value };
  return copy;
}

describe('soak verifier – real answers from generation 1 (create_issue allowed, linear not)', () => {
  let svc: TestService;
  let client: AuthzClient;
  const flipTool = scenario('tools/call flipping with the allowlist');
  const denied = scenario('denied tool');
  const flipHost = scenario('CONNECT to a known MCP host flipping with the allowlist');
  const nonMcp = scenario('non-MCP API call');

  beforeAll(async () => {
    svc = await startTestService({
      allowlist: renderAllowlist(1, new Date()),
      knownHosts: KNOWN_HOSTS_YAML,
    });
    client = createAuthzClient(svc.grpcAddress);
  });
  afterAll(async () => {
    client.close();
    await svc.stop();
  });

  test('every scenario is answered as its generation-1 expectation says', async () => {
    for (const [i, s] of SCENARIOS.entries()) {
      const { request, probe } = s.build(1000 + i);
      const verdict = judge(s, probe, await client.check(request), { lo: 1, hi: 1 });
      expect({ scenario: s.name, ...verdict }).toEqual({
        scenario: s.name,
        wrong: undefined,
        inTransition: false,
        ambiguous: false,
      });
    }
  });

  test('an answer naming a generation outside the window is wrong, whatever it says', async () => {
    const { request, probe } = flipTool.build(7);
    const response = await client.check(request);
    expect(judge(flipTool, probe, response, { lo: 2, hi: 3 }).wrong).toMatch(
      /decided by allowlist "soak-1", but only soak-2\.\.soak-3/,
    );
    const corrupt = withMetadata(response, 'allowlist_version', 'soak-corrupt-schema');
    expect(judge(flipTool, probe, corrupt, { lo: 1, hi: 1 }).wrong).toMatch(/soak-corrupt-schema/);
  });

  test('a window spanning a flip tolerates either answer and says so', async () => {
    const { request, probe } = flipTool.build(8);
    const response = await client.check(request);
    expect(judge(flipTool, probe, response, { lo: 0, hi: 1 })).toEqual({
      wrong: undefined,
      inTransition: true,
      ambiguous: true,
    });
  });

  test('a window over generations that decide alike is a transition, not an ambiguity', async () => {
    // Generations 0 and 1 both leave mcp.linear.app unapproved.
    const { request, probe } = flipHost.build(16);
    expect(judge(flipHost, probe, await client.check(request), { lo: 0, hi: 1 })).toEqual({
      wrong: undefined,
      inTransition: true,
      ambiguous: false,
    });
  });

  test('an allow claimed by a generation that denies it is wrong', async () => {
    const { request, probe } = flipTool.build(9);
    const allowed = await client.check(request);
    expect(allowed.status?.code ?? 0).toBe(0);
    // Same answer, but attributed to generation 0, under which create_issue is not allowed.
    const lying = withMetadata(allowed, 'allowlist_version', versionLabel(0));
    expect(judge(flipTool, probe, lying, { lo: 0, hi: 1 }).wrong).toMatch(
      /under soak-0: expected deny \(tool_not_allowed\), got gRPC status 0/,
    );
  });

  test('a deny where the generation approves the host is wrong', async () => {
    const { request, probe } = flipHost.build(10);
    const deniedTunnel = await client.check(request);
    expect(deniedTunnel.status?.code).toBe(7);
    const lying = withMetadata(deniedTunnel, 'allowlist_version', versionLabel(2));
    expect(judge(flipHost, probe, lying, { lo: 2, hi: 2 }).wrong).toMatch(
      /expected allow \(approved\), got gRPC status 7 \(unapproved\)/,
    );
  });

  test('a tool denial that answers another call, or names another entry, is wrong', async () => {
    const { request, probe } = denied.build(11);
    const response = await client.check(request);
    expect(judge(denied, probe, response, { lo: 1, hi: 1 }).wrong).toBeUndefined();
    expect(judge(denied, { ...probe, jsonRpcId: 12 }, response, { lo: 1, hi: 1 }).wrong).toMatch(
      /answers id 11, the call had id 12/,
    );
    expect(
      judge(denied, probe, withMetadata(response, 'entry', 'linear'), { lo: 1, hi: 1 }).wrong,
    ).toMatch(/expected entry github-official, metadata says linear/);
  });

  test('a 403 naming another host is wrong', async () => {
    const { request, probe } = flipHost.build(13);
    const response = await client.check(request);
    expect(judge(flipHost, { host: 'mcp.notion.com' }, response, { lo: 1, hi: 1 }).wrong).toMatch(
      /403 text does not name mcp\.notion\.com/,
    );
    expect(judge(flipHost, probe, response, { lo: 1, hi: 1 }).wrong).toBeUndefined();
  });

  test('non-MCP traffic must pass untouched; an MCP answer in its place is wrong', async () => {
    const plain = nonMcp.build(14);
    const untouched = await client.check(plain.request);
    expect(judge(nonMcp, plain.probe, untouched, { lo: 0, hi: 3 }).wrong).toBeUndefined();
    const approvedCall = scenario('approved tools/call').build(15);
    const mcpAnswer = await client.check(approvedCall.request);
    expect(judge(nonMcp, plain.probe, mcpAnswer, { lo: 1, hi: 1 }).wrong).toMatch(
      /non-MCP answer carries decision metadata/,
    );
  });
});

describe(`soak – ${SOAK_SECONDS} s against the built service`, () => {
  const entry = process.env['SOAK_ENTRY'] ?? 'dist/main.js';
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // Only reached with the child alive when the test failed or timed out; SIGTERM lets the
    // soak stop its own service and remove its temp dir.
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  test(
    'no wrong answer, no error, the service survives the churn',
    async () => {
      expect(existsSync(path.resolve(ROOT, entry)), `${entry} missing: run npm run build`).toBe(
        true,
      );
      const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
      const soak = spawn(
        tsx,
        ['scripts/soak.ts', '--seconds', String(SOAK_SECONDS), '--json', '--entry', entry],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = soak;
      let stdout = '';
      let stderr = '';
      soak.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      soak.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => soak.once('exit', resolve));

      const lines = stdout.trim().split('\n');
      const last = lines.at(-1) ?? '';
      expect(last.startsWith('{'), `no JSON report; stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(
        true,
      );
      const report = JSON.parse(last) as SoakReport;
      const context = `${stdout}\n${stderr}`;
      expect(report.wrong, context).toBe(0);
      expect(report.errors, context).toBe(0);
      expect(report.serviceDied, context).toBe(false);
      expect(report.foreignLoads, context).toEqual([]);
      expect(report.problems, context).toEqual([]);
      expect(code, context).toBe(0);
      // Even a slow shared CI box answers far more than 20 checks a second.
      expect(report.checks, context).toBeGreaterThan(SOAK_SECONDS * 20);
      // Every scenario took part.
      expect(Object.keys(report.byScenario).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
      expect(report.corruptRestores, context).toBeGreaterThanOrEqual(1);
      expect(report.corruptRejections, context).toBe(2);
      expect(report.reloads, context).toBeGreaterThanOrEqual(SOAK_SECONDS / 2);
      expect(report.sighups, context).toBeGreaterThanOrEqual(5);
      // The tolerance for reload races must not have swallowed the run.
      expect(report.ambiguous, context).toBeLessThan(report.checks / 4);
      expect(report.rssStartKb, context).not.toBeNull();
      expect(report.rssEndKb, context).not.toBeNull();
      expect(report.serviceExit, context).toEqual({ code: 0, signal: null });
    },
    (SOAK_SECONDS + 60) * 1000,
  );
});
