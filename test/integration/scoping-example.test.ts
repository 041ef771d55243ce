/**
 * The README's "Scoping approvals" walk-through, run: the example allowlist validates, and
 * `mcp-gate explain` gives, for each request beside it, the reason and the rules the README shows.
 */
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runCli } from '../../src/cli.js';

const DIR = path.resolve(import.meta.dirname, '../../docs/examples/scoping');
const ALLOWLIST = path.join(DIR, 'allowlist.yaml');
const NOW = '2026-12-03';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    now: new Date(`${NOW}T12:00:00Z`),
    env: {},
  });
  return { code, out, err };
}

describe('docs/examples/scoping', () => {
  it('validates without warnings', async () => {
    const { code, out, err } = await cli(['validate', ALLOWLIST, '--now', NOW]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/valid allowlist, version scoping-example-1, 3 entries, 0 warnings/);
  });

  it.each([
    {
      request: 'run-query-drop',
      want: {
        decision: 'deny',
        reason: 'condition_failed',
        entry: 'warehouse',
        user: 'ana@corp.example',
        groups: ['eng', 'data-eng'],
        rules: ['tool rule 1 condition "only SELECT statements"'],
        condition: { description: 'only SELECT statements' },
      },
    },
    {
      request: 'run-query-select',
      want: {
        decision: 'allow',
        reason: 'approved',
        rules: ['tool rule 1 access', 'tool rule 1 condition "only SELECT statements"'],
      },
    },
    {
      request: 'create-issue-no-group',
      want: {
        decision: 'deny',
        reason: 'principal_not_allowed',
        entry: 'github',
        rules: ['bundle eng-write tool rule 1 access'],
        explanation:
          'groups ["eng"] include none of bundle eng-write tool rule 1 access groups ["eng-write"]',
      },
    },
    {
      request: 'shell-from-cursor',
      want: {
        decision: 'deny',
        reason: 'client_not_allowed',
        client: 'cursor',
        rules: ['entry access'],
      },
    },
  ])('explain $request', async ({ request, want }) => {
    const { code, out } = await cli([
      'explain',
      '--allowlist',
      ALLOWLIST,
      '--request',
      path.join(DIR, `${request}.json`),
      '--now',
      NOW,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject(want);
  });

  it('the denied call gets a tool result naming the condition', async () => {
    const { out } = await cli([
      'explain',
      '--allowlist',
      ALLOWLIST,
      '--request',
      path.join(DIR, 'run-query-drop.json'),
      '--now',
      NOW,
    ]);
    const body = JSON.stringify(JSON.parse(out).check_response);
    expect(body).toContain('does not meet its approval (only SELECT statements)');
    expect(body).toContain('\\"isError\\":true');
  });
});
