/**
 * The alert rules of deploy/prometheus/: generated from scripts/prometheus-rules.ts without drift,
 * accepted by `promtool check rules`, and unit-tested by `promtool test rules` on
 * test/fixtures/prometheus/rules.test.yaml, where every alert has a case that fires and one that
 * must not. A mutation proves the restart case: the naive rule on mcp_gate_decisions_total fails
 * the test where the first unapproved attempt's series is born at 1. Every series an increase()
 * alert reads is exported by a freshly started mcp-gate at 0, and every runbook_url names a
 * section of docs/monitoring.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';

import {
  ALERTS,
  PROMETHEUS_RULE_FILE,
  RULES_FILE,
  staleRuleFiles,
} from '../../scripts/prometheus-rules.js';
import { ROOT } from '../../scripts/generated-files.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { validateObject } from '../helpers/kube-schema.js';
import type { KubeObject } from '../helpers/kustomize.js';

const RULE_TESTS = path.join(ROOT, 'test/fixtures/prometheus/rules.test.yaml');

interface RuleFile {
  groups: { name: string; rules: Record<string, unknown>[] }[];
}

interface RuleTestFile {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  }[];
}

/** `promtool --version`'s first line, or undefined when promtool is missing. */
function findPromtool(): string | undefined {
  try {
    return execFileSync('promtool', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const version = findPromtool();
// Under CI a missing promtool fails the suite instead of skipping it.
const withPromtool =
  version === undefined && process.env['CI'] !== 'true' ? describe.skip : describe;

describe('deploy/prometheus is generated from scripts/prometheus-rules.ts', () => {
  test('both files are up to date (npm run prometheus:rules)', async () => {
    expect(await staleRuleFiles()).toEqual([]);
  });

  test('the PrometheusRule holds exactly the rule groups, and is a valid PrometheusRule', async () => {
    const rules = parse(await readFile(path.join(ROOT, RULES_FILE), 'utf8')) as RuleFile;
    const operator = parse(
      await readFile(path.join(ROOT, PROMETHEUS_RULE_FILE), 'utf8'),
    ) as KubeObject & { spec: RuleFile };
    expect(operator.spec.groups).toEqual(rules.groups);
    await validateObject(operator);
  });

  test('mixin conventions: McpGate… names, severity, summary, description, runbook section', async () => {
    const runbook = await readFile(path.join(ROOT, 'docs/monitoring.md'), 'utf8');
    const headings = new Set(
      [...runbook.matchAll(/^#{2,4} (\S+)$/gm)].map((m) => (m[1] ?? '').toLowerCase()),
    );
    const rules = parse(await readFile(path.join(ROOT, RULES_FILE), 'utf8')) as RuleFile;
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r['alert'])).toEqual(ALERTS.map((a) => a.alert));
    for (const rule of all) {
      const name = String(rule['alert']);
      expect(name).toMatch(/^McpGate(?:[A-Z][a-z0-9]*)+$/);
      expect(rule['labels']).toEqual({ severity: expect.stringMatching(/^(critical|warning)$/) });
      const annotations = rule['annotations'] as Record<string, string>;
      expect(Object.keys(annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(annotations['runbook_url']).toBe(`docs/monitoring.md#${name.toLowerCase()}`);
      expect(headings, `docs/monitoring.md has no section ${name}`).toContain(name.toLowerCase());
    }
  });
});

describe('every series an increase() alert reads exists at start-up, at 0', () => {
  test('mcp-gate exports a zero-valued series for each selector', async () => {
    const registry = new Registry();
    createMetrics(registry);
    const samples = (await registry.metrics()).split('\n').filter((l) => l.startsWith('mcp_gate_'));
    const selectors = ALERTS.flatMap((a) => [
      ...a.expr.matchAll(/increase\((mcp_gate_\w+)\{([^}]*)\}/g),
    ]);
    expect(selectors.length).toBeGreaterThanOrEqual(6);
    for (const [, metric = '', matchers = ''] of selectors) {
      const wanted = [...matchers.matchAll(/(\w+)(=~?)"([^"]*)"/g)]
        .filter(([, label]) => label !== 'job')
        .map(([, label = '', op, value = '']) =>
          op === '=~' ? new RegExp(`${label}="(?:${value})"`) : new RegExp(`${label}="${value}"`),
        );
      const found = samples.filter(
        (l) =>
          (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) &&
          wanted.every((w) => w.test(l)),
      );
      expect(found.length, `${metric}{${matchers}} at start-up`).toBeGreaterThan(0);
      for (const line of found) expect(line.endsWith(' 0'), line).toBe(true);
    }
  });
});

withPromtool(`promtool (${version ?? 'missing'})`, () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-rules-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('promtool check rules accepts both the rules file and the PrometheusRule groups', async () => {
    const checked = promtool('check', 'rules', path.join(ROOT, RULES_FILE));
    expect(checked.output).toContain(`SUCCESS: ${String(ALERTS.length)} rules found`);
    expect(checked.status).toBe(0);
    const operator = parse(await readFile(path.join(ROOT, PROMETHEUS_RULE_FILE), 'utf8')) as {
      spec: RuleFile;
    };
    const extracted = path.join(dir, 'from-prometheus-rule.yaml');
    await writeFile(extracted, stringify(operator.spec));
    expect(promtool('check', 'rules', extracted).status).toBe(0);
  });

  test('every alert has a case where it fires and one where it must not', async () => {
    const tests = parse(await readFile(RULE_TESTS, 'utf8')) as RuleTestFile;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of ALERTS) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  test('promtool test rules passes', () => {
    const run = promtool('test', 'rules', RULE_TESTS);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  test('the naive rule on mcp_gate_decisions_total misses the first attempt after a restart', async () => {
    const rules = await readFile(path.join(ROOT, RULES_FILE), 'utf8');
    const naive = rules.replace(
      'increase(mcp_gate_denials_total{job="mcp-gate", reason="unapproved"}[15m])',
      'increase(mcp_gate_decisions_total{job="mcp-gate", reason="unapproved"}[15m])',
    );
    expect(naive).not.toBe(rules);
    await writeFile(path.join(dir, 'rules.yaml'), naive);
    const tests = parse(await readFile(RULE_TESTS, 'utf8')) as RuleTestFile;
    tests.rule_files = ['rules.yaml'];
    const testFile = path.join(dir, 'rules.test.yaml');
    await writeFile(testFile, stringify(tests));
    const run = promtool('test', 'rules', testFile);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('name: first unapproved attempt after a restart');
    expect(run.output).toMatch(/alertname: McpGateUnapprovedMcpAttempt, time: 3m/);
  });
});
