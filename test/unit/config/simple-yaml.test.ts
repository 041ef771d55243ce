/**
 * The strict subset reader (src/config/simple-yaml.ts) against the `yaml` package as the
 * loader's precise path uses it: whenever the reader accepts a text, the precise path must
 * accept it too and yield the same data, with every value at the same line and column. The
 * rows say which texts the reader must accept (so the fast path stays useful) and which it
 * must refuse (everything the precise path rejects, and what it would read differently).
 */
import fc from 'fast-check';
import { isScalar } from 'yaml';
import { describe, expect, test } from 'vitest';
import { issueAt, parseYamlSource } from '../../../src/config/load-allowlist.js';
import type { DocPath } from '../../../src/config/allowlist-schema.js';
import { parseSimpleYaml } from '../../../src/config/simple-yaml.js';

const OPTIONS = { numbersAsWritten: ['version'] };

/** What the precise path reads: the data (version kept as written), or undefined on errors. */
function precise(
  text: string,
): { value: unknown; position: (path: DocPath) => string } | undefined {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) return undefined;
  const { source, value } = yaml;
  const version = source.doc.get('version', true);
  if (isScalar(version) && typeof version.value === 'number') {
    (value as Record<string, unknown>)['version'] = version.source;
  }
  return {
    value,
    position: (path) => {
      const { line, col } = issueAt(source, path, 'value', '');
      return `${String(line)}:${String(col)}`;
    },
  };
}

/** Every path to a value in plain data, containers included. */
function pathsOf(value: unknown, prefix: DocPath = []): DocPath[] {
  if (typeof value !== 'object' || value === null) return [];
  const steps: (string | number)[] = Array.isArray(value)
    ? value.map((_, index) => index)
    : Object.keys(value);
  return steps.flatMap((step) => {
    const path = [...prefix, step];
    return [path, ...pathsOf((value as Record<string | number, unknown>)[step], path)];
  });
}

/** The reader's verdict on `text`, checked against the precise path. */
function judge(text: string): 'accepts' | 'refuses' {
  const simple = parseSimpleYaml(text, OPTIONS);
  if (simple === undefined) return 'refuses';
  const reference = precise(text);
  expect(reference, 'the reader accepted a text the yaml package rejects').toBeDefined();
  if (reference === undefined) return 'accepts';
  expect(simple.value).toStrictEqual(reference.value);
  for (const path of pathsOf(simple.value)) {
    const at = simple.positionOf(path);
    expect(at === undefined ? 'none' : `${String(at.line)}:${String(at.col)}`, path.join('.')).toBe(
      reference.position(path),
    );
  }
  return 'accepts';
}

const ENTRY = [
  'approved:',
  '  - id: github-official',
  '    host: api.githubcopilot.com',
  '    transport: http',
  '    url: https://api.githubcopilot.com/mcp/',
  '    scopes: [repo.read, issues.read]',
  '    tools:',
  '      allow: [get_*, list_*]',
  "      deny: ['*delete*']",
  '    review_ticket: SEC-4902',
  '    reviewed_by: security-platform',
  '    reviewed_on: 2026-10-18',
  '    expires_on: 2027-04-18',
].join('\n');
const BASE = `version: 2026.11\nreview_url: https://mcp-review.corp.example/request\n${ENTRY}\n`;

/** BASE with its line `from` (exact text, indentation included) replaced by `to`. */
function withLine(from: string, to: string): string {
  expect(BASE).toContain(`${from}\n`);
  return BASE.replace(`${from}\n`, `${to}\n`);
}

const SEC = '    reviewed_by: security-platform';

const ROWS: { name: string; text: string; want: 'accepts' | 'refuses' }[] = [
  { name: 'the base allowlist', text: BASE, want: 'accepts' },
  // Core-schema scalars: strings stay strings; anything else is refused, since no allowlist
  // field but `version` takes it, and the precise path words the error.
  {
    name: 'yes (a string in YAML 1.2)',
    text: withLine(SEC, '    reviewed_by: yes'),
    want: 'accepts',
  },
  { name: 'on / off / y / n', text: withLine(SEC, '    reviewed_by: on off y n'), want: 'accepts' },
  { name: 'On', text: withLine(SEC, '    reviewed_by: On'), want: 'accepts' },
  { name: 'true', text: withLine(SEC, '    reviewed_by: true'), want: 'refuses' },
  { name: 'True', text: withLine(SEC, '    reviewed_by: True'), want: 'refuses' },
  { name: 'FALSE', text: withLine(SEC, '    reviewed_by: FALSE'), want: 'refuses' },
  { name: 'tRUE (a string)', text: withLine(SEC, '    reviewed_by: tRUE'), want: 'accepts' },
  { name: 'null', text: withLine(SEC, '    reviewed_by: null'), want: 'refuses' },
  { name: 'NULL', text: withLine(SEC, '    reviewed_by: NULL'), want: 'refuses' },
  { name: '~', text: withLine(SEC, '    reviewed_by: ~'), want: 'refuses' },
  { name: 'nulls (a string)', text: withLine(SEC, '    reviewed_by: nulls'), want: 'accepts' },
  { name: '0x10', text: withLine(SEC, '    reviewed_by: 0x10'), want: 'refuses' },
  { name: '0o17', text: withLine(SEC, '    reviewed_by: 0o17'), want: 'refuses' },
  {
    name: '0b101 (a string in 1.2)',
    text: withLine(SEC, '    reviewed_by: 0b101'),
    want: 'accepts',
  },
  { name: '1e3', text: withLine(SEC, '    reviewed_by: 1e3'), want: 'refuses' },
  { name: '-.5', text: withLine(SEC, '    reviewed_by: -.5'), want: 'refuses' },
  { name: '+12', text: withLine(SEC, '    reviewed_by: +12'), want: 'refuses' },
  { name: '.inf', text: withLine(SEC, '    reviewed_by: .inf'), want: 'refuses' },
  { name: '.NaN', text: withLine(SEC, '    reviewed_by: .NaN'), want: 'refuses' },
  {
    name: '1_000 (a string in 1.2)',
    text: withLine(SEC, '    reviewed_by: 1_000'),
    want: 'accepts',
  },
  {
    name: '12:30 (a string in 1.2)',
    text: withLine(SEC, '    reviewed_by: 12:30'),
    want: 'accepts',
  },
  {
    name: 'a date-time (a string)',
    text: withLine('    expires_on: 2027-04-18', '    expires_on: 2027-04-18T00:00:00Z'),
    want: 'accepts',
  },
  {
    name: 'a bare number where a date belongs',
    text: withLine('    expires_on: 2027-04-18', '    expires_on: 20270418'),
    want: 'refuses',
  },
  {
    name: 'version 2026.10 kept as written',
    text: BASE.replace('2026.11', '2026.10'),
    want: 'accepts',
  },
  { name: 'version 0x1F kept as written', text: BASE.replace('2026.11', '0x1F'), want: 'accepts' },
  { name: 'version 1e3 kept as written', text: BASE.replace('2026.11', '1e3'), want: 'accepts' },
  { name: 'version .inf kept as written', text: BASE.replace('2026.11', '.inf'), want: 'accepts' },
  { name: 'version true', text: BASE.replace('2026.11', 'true'), want: 'refuses' },
  { name: 'version quoted', text: BASE.replace('2026.11', '"2026.10"'), want: 'accepts' },
  // Quoted scalars.
  { name: 'double-quoted', text: withLine(SEC, '    reviewed_by: "sec # team"'), want: 'accepts' },
  {
    name: 'double-quoted escapes',
    text: withLine(SEC, String.raw`    reviewed_by: "a\"b\\c\/d\te\nf\rg\bh\fi\0j\x41\u00e9"`),
    want: 'accepts',
  },
  {
    name: 'escaped surrogate',
    text: withLine(SEC, String.raw`    reviewed_by: "\ud83d"`),
    want: 'refuses',
  },
  {
    name: '\\U escape',
    text: withLine(SEC, String.raw`    reviewed_by: "\U0001F600"`),
    want: 'refuses',
  },
  { name: '\\N escape', text: withLine(SEC, String.raw`    reviewed_by: "\N"`), want: 'refuses' },
  {
    name: 'short \\x escape',
    text: withLine(SEC, String.raw`    reviewed_by: "\x4"`),
    want: 'refuses',
  },
  { name: 'single-quoted', text: withLine(SEC, "    reviewed_by: 'it''s #1'"), want: 'accepts' },
  { name: "single-quoted ''", text: withLine(SEC, "    reviewed_by: ''''"), want: 'accepts' },
  { name: 'empty quoted', text: withLine(SEC, '    reviewed_by: ""'), want: 'accepts' },
  {
    name: 'double-quoted over two lines',
    text: withLine(SEC, '    reviewed_by: "security\n      platform"'),
    want: 'refuses',
  },
  {
    name: 'text after a quoted scalar',
    text: withLine(SEC, '    reviewed_by: "a" b'),
    want: 'refuses',
  },
  {
    name: 'comment glued to a quote',
    text: withLine(SEC, '    reviewed_by: "a"#b'),
    want: 'refuses',
  },
  // Plain scalars.
  { name: 'a comment after a value', text: withLine(SEC, `${SEC}   # who`), want: 'accepts' },
  { name: '# inside a word', text: withLine(SEC, '    reviewed_by: sec#team'), want: 'accepts' },
  { name: 'trailing spaces', text: withLine(SEC, `${SEC}   `), want: 'accepts' },
  { name: 'inner spaces', text: withLine(SEC, '    reviewed_by: sec   team'), want: 'accepts' },
  { name: 'braces inside', text: withLine(SEC, '    reviewed_by: a {b} [c], d'), want: 'accepts' },
  { name: 'a colon inside', text: withLine(SEC, '    reviewed_by: a:b'), want: 'accepts' },
  { name: 'a pair inside a value', text: withLine(SEC, '    reviewed_by: a: b'), want: 'refuses' },
  { name: 'ends with a colon', text: withLine(SEC, '    reviewed_by: team:'), want: 'refuses' },
  { name: 'non-ASCII', text: withLine(SEC, '    reviewed_by: équipe sécurité'), want: 'accepts' },
  { name: 'non-BMP', text: withLine(SEC, '    reviewed_by: team 😀'), want: 'refuses' },
  { name: 'leading dash', text: withLine(SEC, '    reviewed_by: -team'), want: 'accepts' },
  { name: 'leading ?', text: withLine(SEC, '    reviewed_by: ?team'), want: 'refuses' },
  { name: 'leading :', text: withLine(SEC, '    reviewed_by: :team'), want: 'refuses' },
  {
    name: 'continued on the next line',
    text: withLine(SEC, `${SEC}\n      on-call`),
    want: 'refuses',
  },
  {
    name: 'a deeper comment line after',
    text: withLine(SEC, `${SEC}\n        # x`),
    want: 'accepts',
  },
  {
    name: 'block scalar |',
    text: withLine(SEC, '    reviewed_by: |\n      team'),
    want: 'refuses',
  },
  {
    name: 'block scalar >-',
    text: withLine(SEC, '    reviewed_by: >-\n      team'),
    want: 'refuses',
  },
  { name: 'empty value', text: withLine(SEC, '    reviewed_by:'), want: 'refuses' },
  {
    name: 'empty value with a comment',
    text: withLine(SEC, '    reviewed_by: # x'),
    want: 'refuses',
  },
  // YAML features a security file must not use.
  { name: 'an anchor', text: withLine(SEC, '    reviewed_by: &who team'), want: 'refuses' },
  { name: 'an alias', text: withLine(SEC, '    reviewed_by: *who'), want: 'refuses' },
  {
    name: 'an unquoted * glob',
    text: withLine("      deny: ['*delete*']", '      deny: [*delete*]'),
    want: 'refuses',
  },
  { name: 'a tag', text: withLine(SEC, '    reviewed_by: !!str team'), want: 'refuses' },
  { name: 'a custom tag', text: withLine(SEC, '    reviewed_by: !who team'), want: 'refuses' },
  { name: '@ and `', text: withLine(SEC, '    reviewed_by: @team'), want: 'refuses' },
  { name: 'a flow mapping', text: withLine(SEC, '    reviewed_by: {a: b}'), want: 'refuses' },
  { name: 'an empty flow mapping', text: withLine('    tools:', '    tools: {}'), want: 'refuses' },
  { name: 'a duplicate key in an entry', text: withLine(SEC, `${SEC}\n${SEC}`), want: 'refuses' },
  { name: 'a duplicate top-level key', text: `${BASE}version: 2\n`, want: 'refuses' },
  { name: 'a document start', text: `---\n${BASE}`, want: 'refuses' },
  { name: 'a second document', text: `${BASE}---\nversion: 2\n`, want: 'refuses' },
  { name: 'a document end', text: `${BASE}...\n`, want: 'refuses' },
  { name: 'a directive', text: `%YAML 1.2\n---\n${BASE}`, want: 'refuses' },
  { name: 'a ? key', text: `? version\n: 1\n`, want: 'refuses' },
  { name: 'a quoted key', text: withLine(SEC, '    "reviewed_by": team'), want: 'refuses' },
  { name: 'an upper-case key', text: withLine(SEC, '    Reviewed_by: team'), want: 'refuses' },
  { name: 'a __proto__ key', text: withLine(SEC, `${SEC}\n    __proto__: x`), want: 'accepts' },
  {
    name: 'a space before the colon',
    text: withLine(SEC, '    reviewed_by : team'),
    want: 'refuses',
  },
  {
    name: 'no space after the colon',
    text: withLine(SEC, '    reviewed_by:team'),
    want: 'refuses',
  },
  // Layout.
  {
    name: 'comments everywhere',
    text: `# top\n${BASE.replace('\n  - id', '\n# between\n  - id')}# end`,
    want: 'accepts',
  },
  { name: 'blank lines', text: BASE.replace('\n    tools:', '\n\n\n    tools:'), want: 'accepts' },
  { name: 'no final newline', text: BASE.slice(0, -1), want: 'accepts' },
  {
    name: 'a sequence at its key’s indentation',
    text: BASE.replace(/\n {2}/g, '\n'),
    want: 'accepts',
  },
  {
    name: '-   (extra spaces)',
    text: BASE.replace('  - id:', '  -   id:').replace(/\n {4}(?=[ \w])/g, '\n      '),
    want: 'accepts',
  },
  {
    name: 'block lists',
    text: withLine(
      '    scopes: [repo.read, issues.read]',
      '    scopes:\n      - repo.read\n      - "issues.read"',
    ),
    want: 'accepts',
  },
  {
    name: 'block list at the key’s indentation',
    text: withLine(
      '    scopes: [repo.read, issues.read]',
      '    scopes:\n    - repo.read\n    - issues.read',
    ),
    want: 'accepts',
  },
  {
    name: 'an empty flow list',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: []'),
    want: 'accepts',
  },
  {
    name: 'a flow list with spaces',
    text: withLine(
      '    scopes: [repo.read, issues.read]',
      "    scopes: [  repo.read ,'issues.read'  ]  # x",
    ),
    want: 'accepts',
  },
  {
    name: 'a trailing comma',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [repo.read, ]'),
    want: 'refuses',
  },
  {
    name: 'an empty flow item',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [a,,b]'),
    want: 'refuses',
  },
  {
    name: 'a nested flow list',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [[a]]'),
    want: 'refuses',
  },
  {
    name: 'a flow list over two lines',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [a,\n      b]'),
    want: 'refuses',
  },
  {
    name: 'a pair in a flow list',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [a: b]'),
    want: 'refuses',
  },
  {
    name: 'a url in a flow list',
    text: withLine(
      '    scopes: [repo.read, issues.read]',
      '    scopes: [https://a.example/x, read:org]',
    ),
    want: 'accepts',
  },
  {
    name: 'a comment in a flow list',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes: [a #b\n ]'),
    want: 'refuses',
  },
  {
    name: 'a dash item alone',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes:\n      -\n        a'),
    want: 'refuses',
  },
  {
    name: 'a nested sequence',
    text: withLine('    scopes: [repo.read, issues.read]', '    scopes:\n      - - a'),
    want: 'refuses',
  },
  {
    name: 'an option as an item',
    text: withLine(
      '    scopes: [repo.read, issues.read]',
      '    scopes:\n      - --readonly\n      - -x',
    ),
    want: 'accepts',
  },
  { name: 'a misaligned key', text: withLine(SEC, '     reviewed_by: team'), want: 'refuses' },
  { name: 'a less indented key', text: withLine(SEC, '   reviewed_by: team'), want: 'refuses' },
  { name: 'an indented top level', text: BASE.replace(/^/gm, ' '), want: 'refuses' },
  { name: 'a top-level list', text: '- a\n- b\n', want: 'refuses' },
  { name: 'a bare scalar', text: 'hello\n', want: 'refuses' },
  { name: 'an empty file', text: '', want: 'refuses' },
  { name: 'only comments', text: '# nothing\n', want: 'refuses' },
  {
    name: 'deep nesting',
    text: `a:\n${Array.from({ length: 12 }, (_, i) => `${' '.repeat(2 * i + 2)}k${String(i)}:`).join('\n')} x\n`,
    want: 'refuses',
  },
  // Characters.
  { name: 'a tab', text: withLine(SEC, '    reviewed_by:\tteam'), want: 'refuses' },
  { name: 'CRLF line ends', text: BASE.replace(/\n/g, '\r\n'), want: 'accepts' },
  { name: 'CRLF and comments', text: withLine(SEC, `${SEC} # x\r\n\r\n  # y\r`), want: 'accepts' },
  { name: 'a lone CR', text: withLine(SEC, '    reviewed_by: a\rb'), want: 'refuses' },
  { name: 'a CR before the end', text: `${BASE}\r`, want: 'refuses' },
  { name: 'a BOM', text: `\uFEFF${BASE}`, want: 'refuses' },
  { name: 'NEL', text: withLine(SEC, '    reviewed_by: a\u0085b'), want: 'refuses' },
  { name: 'a line separator', text: withLine(SEC, '    reviewed_by: a\u2028b'), want: 'refuses' },
  { name: 'a NUL', text: withLine(SEC, '    reviewed_by: a\u0000b'), want: 'refuses' },
];

describe('the reader accepts exactly what it can vouch for', () => {
  test.each(ROWS)('$name: $want', ({ text, want }) => {
    expect(judge(text)).toBe(want);
  });
});

describe('whatever the reader accepts, the yaml package reads the same', () => {
  // Characters that mean something to YAML somewhere, and a few that do not.
  const CHAR = fc.constantFrom(
    ...' #:-?,[]{}"\'\\*&!|>%@`.~+0189eExXoaTtrRuUfFlLsNnyé\t/_'.split(''),
  );
  const scalar = fc.array(CHAR, { maxLength: 8 }).map((chars) => chars.join(''));

  test('in every value position', () => {
    fc.assert(
      fc.property(scalar, (text) => {
        for (const doc of [
          `version: ${text}\n`,
          `key: ${text}\n`,
          `key: ${text} # c\n`,
          `key: [${text}]\n`,
          `key: [a, ${text}, b]\n`,
          `key:\n  - ${text}\n`,
          `key: "${text}"\n`,
          `key: '${text}'\n`,
          `list:\n- ${text}: x\n`,
        ]) {
          judge(doc);
        }
      }),
      { numRuns: 3000 },
    );
  });

  // Lines of random indentation and shape: mostly nonsense, sometimes a document.
  const line = fc.tuple(
    fc.constantFrom(0, 0, 0, 2, 2, 2, 4, 4, 1, 3, 6),
    fc.constantFrom(
      'a: x',
      'b: y',
      'c: z',
      'a:',
      'b:',
      'c:',
      '- a: x',
      '- b: y',
      '- x',
      '- y',
      '-',
      '- - x',
      '# c',
      '',
      'c: [x, "y"]',
      "c: 'q'",
      '---',
      'x',
      'd: a # b',
      '- [x]',
    ),
  );

  test('in every layout', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const text = lines.map(([indent, body]) => `${' '.repeat(indent)}${body}`).join('\n');
        if (judge(text) === 'accepts') accepted++;
        judge(text.replace(/\n/g, '\r\n'));
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach the accepting side often enough for the property to mean much.
    expect(accepted).toBeGreaterThan(300);
  });
});
