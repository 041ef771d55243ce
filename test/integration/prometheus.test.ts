/**
 * A real Prometheus (the Debian package's binary) scraping a running mcp-gate every second, with
 * the shipped alert rules loaded, while the test sends Checks of every kind as Envoy would. Then,
 * through Prometheus' HTTP API:
 *
 * - the unapproved-attempt alert is quiet after start-up although its series exist (at 0), and
 *   goes pending, then firing, after the first unapproved attempt;
 * - every query of the Grafana dashboard (deploy/grafana/mcp-gate.json) parses and returns data;
 *   the Envoy panel's queries parse and may be empty, since no Envoy runs here;
 * - the dashboard's job and instance variables find this mcp-gate.
 *
 * deploy/prometheus/rules.yaml is loaded unchanged, so it must load in a real Prometheus and its
 * unapproved-attempt alert must see the first attempt. That alert may wait a `for:` that a test
 * cannot sit through (today it has none and fires on the first evaluation, which this test then
 * expects), so beside it runs a copy of that one alert that differs only in a short `for:` and a
 * label that tells it apart: it shows the pending state, then firing, on the same expression and
 * the same scraped data. Timing with the shipped `for:` and the 15-minute window is promtool's
 * part (test/integration/prometheus-rules.test.ts), on a simulated clock.
 *
 * Skipped when the prometheus binary is missing, except under CI=true, where that fails.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';

import { dashboard, isRow, PANELS } from '../../scripts/grafana-dashboard.js';
import type { PanelSpec } from '../../scripts/grafana-dashboard.js';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { findPrometheus, pollUntil, startPrometheus } from '../helpers/prometheus.js';
import type { PrometheusAlert, RunningPrometheus } from '../helpers/prometheus.js';
import { ROOT } from '../helpers/serve-process.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';

const RULES = path.join(ROOT, 'deploy/prometheus/rules.yaml');
const JOB = 'mcp-gate';
/** The label the short-`for:` copy of the unapproved-attempt alert carries. */
const COPY_LABEL = 'mcp_gate_test_copy';
/** The copy's `for:`: long enough that a poll sees it pending on a loaded machine. */
const COPY_FOR = '4s';

const version = findPrometheus();
const suite = version === undefined && process.env['CI'] !== 'true' ? describe.skip : describe;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

const SESSION = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  'mcp-protocol-version': '2025-11-25',
  'user-agent': 'claude-code/2.1.221 (cli)',
};
const call = (tool: string): string => rpc('tools/call', { name: tool, arguments: {} }, 7);
const UNAPPROVED_HOST = 'mcp.shadow.example';

/** The first MCP request of a client to a server nobody approved. */
const unapprovedAttempt = envoyCheckRequest({
  authority: UNAPPROVED_HOST,
  path: '/mcp',
  headers: {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'user-agent': 'Cursor/2.3.1',
  },
  body: rpc('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'cursor-vscode', version: '2.3.1' },
  }),
  packAsBytes: true,
});

/** One Check of each kind the bundled allowlist decides, with the reason each must get. */
const CHECKS = [
  {
    kind: 'approved tool',
    reason: undefined,
    request: envoyCheckRequest({
      authority: 'api.githubcopilot.com',
      path: '/mcp/',
      headers: SESSION,
      body: call('get_issue'),
      packAsBytes: true,
    }),
  },
  {
    kind: 'tool outside the entry',
    reason: 'tool_not_allowed',
    request: envoyCheckRequest({
      authority: 'api.githubcopilot.com',
      path: '/mcp/',
      headers: SESSION,
      body: call('delete_repo'),
      packAsBytes: true,
    }),
  },
  {
    kind: 'dry-run entry (sentry): would deny, allowed',
    reason: undefined,
    request: envoyCheckRequest({
      authority: 'mcp.sentry.dev',
      path: '/mcp',
      headers: SESSION,
      body: call('delete_project'),
      packAsBytes: true,
    }),
  },
  {
    kind: 'CONNECT to a known MCP host nobody approved',
    reason: 'unapproved',
    request: envoyCheckRequest({ method: 'CONNECT', authority: 'mcp.asana.com:443' }),
  },
  {
    kind: 'not MCP',
    reason: undefined,
    request: envoyCheckRequest({
      authority: 'api.github.com',
      path: '/repos/a/b',
      method: 'GET',
      headers: { accept: 'application/json' },
    }),
  },
] as const;

/** Grafana's variables as Prometheus sees them with "All" selected and a wide range. */
function expand(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$job', '.+')
    .replaceAll('$instance', '.+');
}

const panels = PANELS.filter((p): p is PanelSpec => !isRow(p));

/** Bytes that are no CheckRequest: mcp-gate answers them with a deny and counts an error. */
async function sendGarbage(address: string): Promise<void> {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      raw.makeUnaryRequest(
        '/envoy.service.auth.v3.Authorization/Check',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        Buffer.from([0x0a, 0xff, 0x01, 0x00]),
        (err) => {
          if (err === null) resolve();
          else reject(err);
        },
      );
    });
  } finally {
    raw.close();
  }
}

const title =
  version === undefined
    ? 'a real Prometheus scraping mcp-gate (no prometheus binary on PATH; under CI=true this fails)'
    : `a real Prometheus (${version}) scraping mcp-gate`;

suite(title, () => {
  let svc: TestService | undefined;
  let client: AuthzClient | undefined;
  let prometheus: RunningPrometheus | undefined;
  let unapprovedAlert: Rule;

  const prom = (): RunningPrometheus => {
    if (prometheus === undefined) throw new Error('prometheus did not start');
    return prometheus;
  };
  const authz = (): AuthzClient => {
    if (client === undefined) throw new Error('mcp-gate did not start');
    return client;
  };

  beforeAll(async () => {
    if (version === undefined) {
      throw new Error(
        'no prometheus binary: install Debian prometheus (scripts/ensure-test-tools.sh)',
      );
    }
    const shipped = parse(await readFile(RULES, 'utf8')) as RuleFile;
    const found = shipped.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert !== undefined && r.expr.includes('reason="unapproved"'));
    if (found === undefined) throw new Error(`${RULES} has no alert on reason="unapproved"`);
    unapprovedAlert = found;
    const copy: RuleFile = {
      groups: [
        {
          name: 'unapproved-attempt-short-for',
          rules: [
            {
              ...found,
              for: COPY_FOR,
              labels: { ...found.labels, [COPY_LABEL]: 'short_for' },
            },
          ],
        },
      ],
    };

    svc = await startTestService({
      allowlist: await readFile(path.join(ROOT, 'deploy/allowlist.yaml'), 'utf8'),
      knownHosts: await readFile(path.join(ROOT, 'deploy/known-mcp-hosts.yaml'), 'utf8'),
    });
    client = createAuthzClient(svc.grpcAddress);
    prometheus = await startPrometheus({
      job: JOB,
      targets: [new URL(svc.httpUrl).host],
      ruleFiles: [RULES, ['unapproved-short-for.yaml', stringify(copy)]],
    });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await prometheus?.stop();
    await svc?.stop();
  });

  test('the unapproved-attempt alert: quiet at start, pending then firing on the first attempt', async () => {
    const name = unapprovedAlert.alert ?? '';
    const ours = (alerts: PrometheusAlert[]): PrometheusAlert[] =>
      alerts.filter((a) => a.labels['alertname'] === name);

    // The restart case: the series the alert reads were scraped before anything happened, at 0,
    // so the first attempt is an increase Prometheus can see.
    const read = [...new Set(unapprovedAlert.expr.match(/mcp_gate_\w+/g))].join('|');
    const series = `{__name__=~"${read}", reason="unapproved"}`;
    const before = await prom().query(series);
    expect(before.length, 'unapproved series exported from start-up').toBeGreaterThan(0);
    expect(before.every((s) => Number(s.value[1]) === 0)).toBe(true);
    const zeroScrapeMs = Math.max(
      ...(await prom().query(`timestamp(${series})`)).map((s) => Number(s.value[1]) * 1000),
    );
    await pollUntil('both copies of the alert evaluated after the zero-valued scrape', async () => {
      const rules = await fetch(`${prom().url}/api/v1/rules?type=alert`);
      const body = (await rules.json()) as {
        data: { groups: { rules: { name: string; lastEvaluation: string }[] }[] };
      };
      const evaluated = body.data.groups
        .flatMap((g) => g.rules)
        .filter((r) => r.name === name)
        .map((r) => Date.parse(r.lastEvaluation));
      return evaluated.length === 2 && evaluated.every((t) => t > zeroScrapeMs);
    });
    expect(ours(await prom().alerts())).toEqual([]);

    const answer = await authz().check(unapprovedAttempt);
    expect(headerOf(answer.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');

    const seen: string[] = [];
    await pollUntil(
      'the short-for copy firing',
      async () => {
        const copy = ours(await prom().alerts()).find((a) => a.labels[COPY_LABEL] !== undefined);
        if (copy !== undefined && seen.at(-1) !== copy.state) seen.push(copy.state);
        return copy?.state === 'firing';
      },
      () => `states seen: ${seen.join(' → ')}`,
    );
    expect(seen).toEqual(['pending', 'firing']);

    // The shipped rule, unchanged, saw the same attempt; it fires once its own for: has passed.
    const shipped = ours(await prom().alerts()).filter((a) => a.labels[COPY_LABEL] === undefined);
    expect(shipped.length).toBeGreaterThan(0);
    // A `for:` of 0 (or none) fires at once; any other is still pending this early.
    const waits = !/^0[a-z]*$/.test(unapprovedAlert.for ?? '0');
    expect(shipped.map((a) => a.state)).toEqual(shipped.map(() => (waits ? 'pending' : 'firing')));
    for (const alert of ours(await prom().alerts())) {
      expect(alert.labels['severity']).toBeDefined();
      expect(alert.annotations['summary']).toBeTruthy();
    }
  });

  test("every dashboard query parses and returns data (Envoy's: parses)", async () => {
    for (const check of CHECKS) {
      const answer = await authz().check(check.request);
      const reason = headerOf(answer.denied_response?.headers, 'x-mcp-gate-reason');
      expect(reason, check.kind).toBe(check.reason);
    }
    await sendGarbage(svc?.grpcAddress ?? '');
    // Two scrapes that began after the last Check: every rate() has samples on both sides.
    const done = Date.now() / 1000;
    await pollUntil('two scrapes after the last Check', async () => {
      const [up] = await prom().query(`timestamp(up{job="${JOB}"})`);
      return Number(up?.value[1] ?? 0) > done + 1;
    });

    const empty: string[] = [];
    for (const panel of panels) {
      for (const query of panel.queries) {
        const result = await prom().query(expand(query.expr));
        if (panel.source === 'envoy') continue;
        if (result.length === 0) empty.push(`${panel.title}: ${query.expr}`);
      }
    }
    expect(empty, 'dashboard queries without data').toEqual([]);

    // What the panels show is what happened.
    const values = async (expr: string, label: string): Promise<string[]> =>
      (await prom().query(expand(expr))).map((s) => s.metric[label] ?? '').sort();
    const byTitle = (title: string): string => {
      const found = panels.find((p) => p.title === title);
      if (found?.queries[0] === undefined) throw new Error(`no panel ${title}`);
      return found.queries[0].expr;
    };
    expect(await values(byTitle('Blocked MCP attempts by reason'), 'reason')).toEqual(
      expect.arrayContaining(['internal_error', 'tool_not_allowed', 'unapproved']),
    );
    expect(await values(byTitle('Allowed vs denied MCP requests'), 'decision')).toEqual([
      'allow',
      'deny',
      'would_deny',
    ]);
    expect(await values(byTitle('Dry-run: would deny'), 'server')).toEqual(['sentry']);
    // clientInfo cursor-vscode (initialize) and User-Agent claude-code, mapped onto the fixed list.
    expect(await values(byTitle('Blocked attempts by AI client'), 'client')).toEqual(
      expect.arrayContaining(['claude-code', 'cursor']),
    );
    // delete_repo matches github-official's deny glob, not a literal name: counted as "other".
    expect(await values(byTitle('Top blocked tools'), 'server')).toContain('github-official');
    expect(await values(byTitle('Top shadow servers'), 'host')).toEqual(
      expect.arrayContaining([UNAPPROVED_HOST, 'mcp.asana.com']),
    );
    const expiry = await prom().query(expand(byTitle('Approvals by days to expiry')));
    const github = expiry.find((s) => s.metric['server'] === 'github-official');
    // expires_on 2027-04-18: days ahead of today, whatever today is before then.
    expect(Number(github?.value[1])).toBeGreaterThan(0);

    // Nothing else in the shipped rules fires on this traffic.
    const firing = (await prom().alerts()).filter((a) => a.state === 'firing');
    expect([...new Set(firing.map((a) => a.labels['alertname']))]).toEqual([unapprovedAlert.alert]);
  });

  test('the dashboard variables find this job and its instance', async () => {
    const variables = dashboard().templating?.list ?? [];
    const [job, instance] = ['job', 'instance'].map((n) => variables.find((v) => v.name === n));
    // The variable's query, label_values(SERIES, LABEL), asked of Prometheus as Grafana does.
    const match = (variable: (typeof variables)[number] | undefined): string => {
      const query = (variable?.query as { query?: string } | undefined)?.query ?? '';
      return expand(/^label_values\((.+), \w+\)$/.exec(query)?.[1] ?? 'missing');
    };
    expect(await prom().labelValues('job', match(job))).toEqual([JOB]);
    expect(await prom().labelValues('instance', match(instance))).toEqual([
      new URL(svc?.httpUrl ?? 'http://missing').host,
    ]);
  });
});
