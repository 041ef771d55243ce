import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Issue } from '../../../src/config/config-issues.js';
import {
  loadKnownHostsFile,
  looksLikeKnownHosts,
  parseKnownHosts,
} from '../../../src/config/load-known-hosts.js';

const DEPLOYED = join(import.meta.dirname, '../../../deploy/known-mcp-hosts.yaml');

function lines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => `${String(issue.line)}:${String(issue.col)} ${issue.message}`);
}

describe('parseKnownHosts', () => {
  const text = 'hosts:\n  - mcp.linear.app\n  - "*.mcp.cloudflare.com"\n';

  test('exact hosts and wildcards (any depth, never the apex)', () => {
    const result = parseKnownHosts(text, 'known.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { knownHosts } = result;
    expect(knownHosts.size).toBe(2);
    expect(knownHosts.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(knownHosts.isKnownMcpHost('mcp.linear.app')).toBe(true);
    expect(knownHosts.isKnownMcpHost('docs.mcp.cloudflare.com')).toBe(true);
    expect(knownHosts.isKnownMcpHost('a.b.mcp.cloudflare.com')).toBe(true);
    expect(knownHosts.isKnownMcpHost('mcp.cloudflare.com')).toBe(false);
    expect(knownHosts.isKnownMcpHost('evilmcp.cloudflare.com')).toBe(false);
    expect(knownHosts.isKnownMcpHost('linear.app')).toBe(false);
    expect(knownHosts.isKnownMcpHost('')).toBe(false);
    expect(Object.isFrozen(knownHosts)).toBe(true);
  });

  test('every error at once, with line and column', () => {
    const bad = [
      'hosts:',
      '  - MCP.Linear.app',
      '  - https://mcp.stripe.com',
      '  - 42',
      '  - "*.com"',
      'extra: true',
      '',
    ].join('\n');
    const result = parseKnownHosts(bad, 'known.yaml');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : lines(result.errors)).toEqual([
      '2:5 hosts[0]: "MCP.Linear.app" must be lower-case (write "mcp.linear.app")',
      '3:5 hosts[1]: "https://mcp.stripe.com" must be a host name without a scheme (write "mcp.stripe.com")',
      '4:5 hosts[2]: expected a string, got 42',
      '5:5 hosts[3]: "*.com" would match every host under a top-level domain; name at least two labels after "*." (as in "*.example.com")',
      '6:1 unknown key "extra"',
    ]);
  });

  test('missing hosts, empty file, YAML errors', () => {
    const missing = parseKnownHosts('host:\n  - a.example.com\n', 'k');
    expect(missing.ok ? [] : lines(missing.errors)).toEqual([
      '1:1 missing required key "hosts"',
      '1:1 unknown key "host" (did you mean "hosts"?)',
    ]);
    const alias = parseKnownHosts('hosts:\n  - *.example.com\n', 'k');
    expect(alias.ok ? [] : lines(alias.errors)).toEqual([
      '2:5 YAML aliases (*name) are not allowed: write each value out in full. To write a wildcard host, quote it: "*.example.com"',
    ]);
  });

  test('duplicates and names covered by a wildcard are warnings', () => {
    const text = [
      'hosts:',
      '  - "*.mcp.cloudflare.com"',
      '  - docs.mcp.cloudflare.com',
      '  - mcp.linear.app',
      '  - mcp.linear.app',
      '  - "*.eu.mcp.cloudflare.com"',
      '',
    ].join('\n');
    const result = parseKnownHosts(text, 'k');
    expect(result.ok).toBe(true);
    expect(lines(result.warnings)).toEqual([
      '3:5 hosts[1]: already covered by *.mcp.cloudflare.com (hosts[0])',
      '5:5 hosts[3]: duplicate of hosts[2]',
      '6:5 hosts[4]: already covered by *.mcp.cloudflare.com (hosts[0])',
    ]);
    if (result.ok) expect(result.knownHosts.size).toBe(4);
  });
});

describe('the bundled deploy/known-mcp-hosts.yaml', () => {
  test('is valid, without warnings, and keeps general-purpose API hosts out', async () => {
    const result = await loadKnownHostsFile(DEPLOYED);
    expect(result.ok ? [] : lines(result.errors)).toEqual([]);
    expect(lines(result.warnings)).toEqual([]);
    if (!result.ok) return;
    const { knownHosts } = result;
    for (const host of [
      'mcp.linear.app',
      'mcp.atlassian.com',
      'mcp.stripe.com',
      'bindings.mcp.cloudflare.com',
    ]) {
      expect(knownHosts.isKnownMcpHost(host), host).toBe(true);
    }
    for (const host of [
      'api.githubcopilot.com',
      'huggingface.co',
      'hf.co',
      'bigquery.googleapis.com',
      'app.hubspot.com',
      'api.fireflies.ai',
      'github.com',
    ]) {
      expect(knownHosts.isKnownMcpHost(host), host).toBe(false);
    }
  });

  test('is recognised as a known-host list; the allowlist is not', async () => {
    expect(looksLikeKnownHosts(await readFile(DEPLOYED, 'utf8'))).toBe(true);
    const allowlist = await readFile(
      join(import.meta.dirname, '../../../deploy/allowlist.yaml'),
      'utf8',
    );
    expect(looksLikeKnownHosts(allowlist)).toBe(false);
  });

  test('a missing file is an error at 1:1', async () => {
    const result = await loadKnownHostsFile(join(import.meta.dirname, 'nope.yaml'));
    expect(result.ok ? [] : lines(result.errors)).toEqual([
      '1:1 cannot read file: no such file (ENOENT)',
    ]);
  });
});
