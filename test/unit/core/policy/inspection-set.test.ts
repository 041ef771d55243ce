import { describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../../src/config/load-allowlist.js';
import { stampAllowlistText } from '../../../../src/config/stamp-file.js';
import { inspectionSet } from '../../../../src/core/policy/inspection-set.js';
import type { CompiledPolicy } from '../../../../src/core/policy/policy.js';
import { stamped } from '../../../helpers/stamped.js';

const HEADER = `
version: t
review_url: https://review.corp.example/r
approved:
`;

function entry(id: string, lines: string): string {
  return `  - id: ${id}
    transport: http
${lines
  .trim()
  .split('\n')
  .map((line) => `    ${line.trim()}`)
  .join('\n')}
    review_ticket: SEC-1
    reviewed_by: security
    reviewed_on: 2026-10-01
    expires_on: 2027-10-01
`;
}

function policyOf(entries: string): CompiledPolicy {
  const parsed = parseAllowlist(stamped(HEADER + entries), {
    fileName: 'allowlist.yaml',
    now: new Date('2026-11-01T00:00:00Z'),
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
  return parsed.policy;
}

describe('inspectionSet', () => {
  test('hosts of entries with tool, path or port rules; host-only approvals stay out', () => {
    const policy = policyOf(
      entry('tools', 'host: mcp.tools.example\ntools: { allow: ["get_*"] }') +
        entry('path', 'host: api.path.example\nurl: https://api.path.example/mcp') +
        entry('root-url', 'host: mcp.root.example\nurl: https://mcp.root.example/') +
        entry('port', 'host: mcp.port.example\nurl: https://mcp.port.example:8443/') +
        entry('plain', 'host: mcp.plain.example') +
        entry(
          'opt-out',
          'host: mcp.optout.example\ninspection: host_only\ntools: { deny: ["x"] }',
        ) +
        entry('wild', 'host: "*.mcp.example.net"\ntools: { deny: ["*delete*"] }'),
    );
    expect(inspectionSet(policy)).toEqual([
      {
        host: '*.mcp.example.net',
        ports: [443],
        name: 'wildcard.mcp.example.net',
        entryIds: ['wild'],
      },
      { host: 'api.path.example', ports: [443], name: 'api.path.example', entryIds: ['path'] },
      {
        host: 'mcp.port.example',
        ports: [443, 8443],
        name: 'mcp.port.example',
        entryIds: ['port'],
      },
      { host: 'mcp.tools.example', ports: [443], name: 'mcp.tools.example', entryIds: ['tools'] },
    ]);
  });

  test('entries sharing a host pattern are one host, ids in file order', () => {
    const policy = policyOf(
      entry('b', 'host: api.shared.example\nurl: https://api.shared.example/v2/mcp') +
        entry('plain', 'host: api.shared.example') +
        entry('a', 'host: api.shared.example\nurl: https://api.shared.example:9443/mcp'),
    );
    expect(inspectionSet(policy)).toEqual([
      {
        host: 'api.shared.example',
        ports: [443, 9443],
        name: 'api.shared.example',
        entryIds: ['b', 'a'],
      },
    ]);
  });

  test('an allowlist without such entries needs no interception', () => {
    expect(inspectionSet(policyOf(entry('plain', 'host: mcp.plain.example')))).toEqual([]);
  });

  test('adding inspection: host_only after the review is a rotation', () => {
    const reviewed = stampAllowlistText(
      HEADER + entry('e', 'host: mcp.tools.example\ntools: { allow: ["get_*"] }'),
    ).text;
    const optedOut = reviewed.replace(
      'transport: http',
      'transport: http\n    inspection: host_only',
    );
    const parsed = parseAllowlist(optedOut, { fileName: 'a.yaml', now: new Date('2026-11-01') });
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
    expect(parsed.policy.entries[0]).toMatchObject({ hostOnly: true, stampMismatch: true });
    expect(inspectionSet(parsed.policy)).toEqual([]);
  });
});
