/**
 * The review rules of the allowlist itself (src/config/review-rules.ts): required stamps,
 * exceptions, co-signers and the `governance` limits, each reported at its line and column.
 */
import { describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import type { ParseAllowlistOptions } from '../../../src/config/load-allowlist.js';
import { stamped } from '../../helpers/stamped.js';

const NOW = new Date('2026-11-21T12:00:00Z');

const HEADER = `version: 2026.11
review_url: https://mcp-review.corp.example/request
`;

/** One stdio entry (no host rules get in the way) with the given extra lines, reviewed on 2026-10-01. */
function entry(id: string, extra: string, expiresOn = '2027-03-01'): string {
  return `  - id: ${id}
    transport: stdio
    command: /opt/mcp/${id}
${extra}    review_ticket: SEC-1
    reviewed_by: security-platform
    reviewed_on: 2026-10-01
    expires_on: ${expiresOn}
`;
}

function errorsOf(text: string, options: Partial<ParseAllowlistOptions> = {}): string[] {
  const result = parseAllowlist(text, { fileName: 'a.yaml', now: NOW, ...options });
  return result.ok ? [] : result.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

describe('review stamps are required by default', () => {
  const unstamped = `${HEADER}approved:\n${entry('a', '')}`;

  test('an entry without review_sha256 is invalid, at the entry', () => {
    expect(errorsOf(unstamped)).toEqual([
      '4:5 approved[0]: missing required key "review_sha256": once the entry is reviewed, run "mcp-gate stamp FILE --id a" (or set require_review_stamp: false, the weaker mode in docs/allowlist.md)',
    ]);
    expect(errorsOf(stamped(unstamped))).toEqual([]);
  });

  test('require_review_stamp: false is the weaker mode: unstamped entries load', () => {
    expect(errorsOf(`require_review_stamp: false\n${unstamped}`)).toEqual([]);
  });

  test('validate --strict requires stamps even then', () => {
    expect(errorsOf(`require_review_stamp: false\n${unstamped}`, { strict: true })).toEqual([
      '5:5 approved[0]: missing required key "review_sha256": once the entry is reviewed, run "mcp-gate stamp FILE --id a" (validate --strict requires stamps even with require_review_stamp: false)',
    ]);
  });

  test('an entry invalid on its own gets its own errors first', () => {
    expect(errorsOf(`${HEADER}approved:\n${entry('a', '    scopes: [""]\n')}`)).toEqual([
      '7:14 approved[0].scopes[0]: must not be empty',
    ]);
  });

  test('require_review_stamp must be true or false', () => {
    expect(errorsOf(`require_review_stamp: no\n${stamped(unstamped)}`)).toEqual([
      '1:23 require_review_stamp: expected true or false, got "no"',
    ]);
  });
});

describe('exceptions', () => {
  test.each([
    {
      name: '30 days with an approver: valid',
      extra: '    exception: true\n    exception_approved_by: ciso\n',
      expiresOn: '2026-10-31',
      errors: [],
    },
    {
      name: '31 days: at expires_on',
      extra: '    exception: true\n    exception_approved_by: ciso\n',
      expiresOn: '2026-11-01',
      errors: [
        '12:17 approved[0].expires_on: an exception lasts at most 30 days from reviewed_on 2026-10-01; 2026-11-01 is 31 days after it',
      ],
    },
    {
      name: 'no approver: at the entry',
      extra: '    exception: true\n',
      expiresOn: '2026-10-15',
      errors: [
        '4:5 approved[0]: missing required key "exception_approved_by" (every exception names who granted it)',
      ],
    },
    {
      name: 'approved by its own reviewer',
      extra: '    exception: true\n    exception_approved_by: security-platform\n',
      expiresOn: '2026-10-15',
      errors: ['8:28 approved[0].exception_approved_by: must be someone other than reviewed_by'],
    },
    {
      name: 'an approver on an entry that is no exception',
      extra: '    exception_approved_by: ciso\n',
      expiresOn: '2026-10-15',
      errors: ['7:5 approved[0].exception_approved_by: only allowed with exception: true'],
    },
    {
      name: 'exception: false is an ordinary approval',
      extra: '    exception: false\n',
      expiresOn: '2027-03-01',
      errors: [],
    },
  ])('$name', ({ extra, expiresOn, errors }) => {
    expect(errorsOf(stamped(`${HEADER}approved:\n${entry('a', extra, expiresOn)}`))).toEqual(
      errors,
    );
  });

  test('governance.exception_max_days can shorten exceptions, never lengthen them', () => {
    const file = (days: string): string =>
      stamped(
        `${HEADER}governance:\n  exception_max_days: ${days}\napproved:\n` +
          entry('a', '    exception: true\n    exception_approved_by: ciso\n', '2026-10-20'),
      );
    expect(errorsOf(file('14'))).toEqual([
      '14:17 approved[0].expires_on: an exception lasts at most 14 days from reviewed_on 2026-10-01; 2026-10-20 is 19 days after it',
    ]);
    expect(errorsOf(file('31'))).toEqual([
      '4:23 governance.exception_max_days: must be at most 30: exceptions are short',
    ]);
  });

  test('turning an exception into an ordinary approval is a change the stamp sees', () => {
    const text = stamped(
      `${HEADER}approved:\n${entry('a', '    exception: true\n    exception_approved_by: ciso\n', '2026-10-20')}`,
    );
    const result = parseAllowlist(
      text.replace('exception: true', 'exception: false').replace('2026-10-20', '2027-03-01'),
      { fileName: 'a.yaml', now: NOW },
    );
    expect(result.ok ? [] : result.errors).toEqual([
      expect.objectContaining({
        message: 'approved[0].exception_approved_by: only allowed with exception: true',
      }),
    ]);
    const withoutApprover = parseAllowlist(
      text
        .replace('exception: true', 'exception: false')
        .replace('    exception_approved_by: ciso\n', '')
        .replace('2026-10-20', '2027-03-01'),
      { fileName: 'a.yaml', now: NOW },
    );
    expect(withoutApprover.ok && withoutApprover.policy.entries[0]?.stampMismatch).toBe(true);
  });
});

describe('governance', () => {
  const governed = (governance: string, entries: string): string =>
    stamped(`${HEADER}governance:\n${governance}approved:\n${entries}`);

  test.each([
    {
      name: 'the default limit is 183 days from reviewed_on',
      governance: '  cosign_scopes: []\n',
      expiresOn: '2027-04-03',
      errors: [
        '12:17 approved[0].expires_on: 2027-04-03 is 184 days after reviewed_on 2026-10-01; governance.max_approval_days allows 183 (a longer approval needs a new review: a new reviewed_on and stamp)',
      ],
    },
    {
      name: '183 days is within it',
      governance: '  cosign_scopes: []\n',
      expiresOn: '2027-04-02',
      errors: [],
    },
    {
      name: 'a stricter limit',
      governance: '  max_approval_days: 90\n',
      expiresOn: '2027-01-01',
      errors: [
        '12:17 approved[0].expires_on: 2027-01-01 is 92 days after reviewed_on 2026-10-01; governance.max_approval_days allows 90 (a longer approval needs a new review: a new reviewed_on and stamp)',
      ],
    },
    {
      name: 'an unknown key, with a hint',
      governance: '  max_approval_day: 90\n',
      expiresOn: '2027-01-01',
      errors: [
        '4:3 governance: unknown key "max_approval_day" (did you mean "max_approval_days"?)',
      ],
    },
    {
      name: 'not a whole number of days',
      governance: '  max_approval_days: 90.5\n',
      expiresOn: '2027-01-01',
      errors: ['4:22 governance.max_approval_days: expected a whole number, got 90.5'],
    },
    {
      name: 'a limit of zero',
      governance: '  max_approval_days: 0\n',
      expiresOn: '2027-01-01',
      errors: ['4:22 governance.max_approval_days: must be at least 1'],
    },
    {
      name: 'a bad glob in cosign_scopes',
      governance: '  cosign_scopes: ["db .*"]\n',
      expiresOn: '2027-01-01',
      errors: [
        '4:19 governance.cosign_scopes[0]: "db .*": a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
      ],
    },
  ])('$name', ({ governance, expiresOn, errors }) => {
    expect(errorsOf(governed(governance, entry('a', '', expiresOn)))).toEqual(errors);
  });

  test('governance: {} applies every default; governance without a value is an error', () => {
    const over = entry('a', '', '2027-04-03');
    expect(errorsOf(stamped(`${HEADER}governance: {}\napproved:\n${over}`))).toEqual([
      '11:17 approved[0].expires_on: 2027-04-03 is 184 days after reviewed_on 2026-10-01; governance.max_approval_days allows 183 (a longer approval needs a new review: a new reviewed_on and stamp)',
    ]);
    expect(errorsOf(stamped(`${HEADER}governance:\napproved:\n${over}`))).toEqual([
      '3:1 governance: expected a mapping, got an empty value',
    ]);
  });

  test('without governance no limit applies', () => {
    expect(errorsOf(stamped(`${HEADER}approved:\n${entry('a', '', '2099-01-01')}`))).toEqual([]);
  });

  describe('co-signing', () => {
    const rules = "  cosign_scopes: ['db.*', '*.write']\n";
    test.each([
      {
        name: 'a scope matching db.* without a co-signer',
        extra: '    scopes: [issues.read, db.admin]\n',
        errors: [
          '6:5 approved[0]: missing required key "cosigned_by": scope "db.admin" matches governance.cosign_scopes, so a second reviewer must approve the entry',
        ],
      },
      {
        name: 'a scope matching *.write without a co-signer',
        extra: '    scopes: [repo.write]\n',
        errors: [
          '6:5 approved[0]: missing required key "cosigned_by": scope "repo.write" matches governance.cosign_scopes, so a second reviewer must approve the entry',
        ],
      },
      {
        name: 'with a second reviewer',
        extra: '    scopes: [db.admin]\n    cosigned_by: data-platform\n',
        errors: [],
      },
      {
        name: 'the second reviewer is the first',
        extra: '    scopes: [db.admin]\n    cosigned_by: security-platform\n',
        errors: [
          '10:18 approved[0].cosigned_by: must name a second reviewer, not reviewed_by again',
        ],
      },
      {
        name: 'no matching scope: no co-signer needed',
        extra: '    scopes: [issues.read, dbx.read, write]\n',
        errors: [],
      },
    ])('$name', ({ extra, errors }) => {
      expect(errorsOf(governed(rules, entry('a', extra)))).toEqual(errors);
    });
  });

  test('every violation at once, each at its place', () => {
    const text = governed(
      "  max_approval_days: 30\n  cosign_scopes: ['db.*']\n",
      entry('a', '    scopes: [db.read]\n', '2026-11-15') +
        entry('b', '', '2026-10-31') +
        entry('c', '    exception: true\n    exception_approved_by: ciso\n', '2026-11-05'),
    );
    expect(errorsOf(text)).toEqual([
      '7:5 approved[0]: missing required key "cosigned_by": scope "db.read" matches governance.cosign_scopes, so a second reviewer must approve the entry',
      '14:17 approved[0].expires_on: 2026-11-15 is 45 days after reviewed_on 2026-10-01; governance.max_approval_days allows 30 (a longer approval needs a new review: a new reviewed_on and stamp)',
      '32:17 approved[2].expires_on: 2026-11-05 is 35 days after reviewed_on 2026-10-01; governance.max_approval_days allows 30 (a longer approval needs a new review: a new reviewed_on and stamp)',
      '32:17 approved[2].expires_on: an exception lasts at most 30 days from reviewed_on 2026-10-01; 2026-11-05 is 35 days after it',
    ]);
  });
});
