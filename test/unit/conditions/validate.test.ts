import { describe, expect, test } from 'vitest';
import {
  MAX_EXPRESSION_LENGTH,
  MAX_EXPRESSION_NODES,
  validateCondition,
} from '../../../src/conditions/validate.js';

describe('validateCondition accepts', () => {
  test.each([
    { name: 'only SELECT in run_query', expr: 'args.query.matches("(?i)^\\\\s*select\\\\b")' },
    { name: 'only acme repositories', expr: 'args.owner.lowerAscii() == "acme"' },
    { name: 'a path prefix', expr: 'args.repo.startsWith("acme/")' },
    { name: 'a JSON number against an int', expr: 'args.limit < 100' },
    { name: 'a number converted', expr: 'int(args.limit) + 1 <= 100' },
    { name: 'double arithmetic', expr: 'args.limit + 1.0 <= 100.0' },
    { name: 'presence', expr: 'has(args.dry_run) && args.dry_run == true' },
    { name: 'a type test', expr: 'type(args.paths) == list' },
    { name: 'membership in groups', expr: '"admins" in groups || user.endsWith("@corp.example")' },
    { name: 'a header', expr: 'headers["x-team"] == "payments"' },
    { name: 'a list literal', expr: 'args.owner in ["acme", "acme-labs"]' },
    { name: 'all over an argument', expr: 'args.paths.all(p, p.startsWith("/workspace/"))' },
    { name: 'exists over an index path', expr: 'args["files"].exists(f, f.endsWith(".sql"))' },
    { name: 'exists_one over groups', expr: 'groups.exists_one(g, g == "oncall")' },
    { name: 'over a nested path', expr: 'args.items[0].tags.all(t, t != "")' },
    { name: 'over header names', expr: '!headers.exists(h, h.startsWith("x-debug"))' },
    { name: 'a counted filter', expr: 'size(args.paths.filter(p, p.contains(".."))) == 0' },
    { name: 'a counted map', expr: 'size(args.paths.map(p, p.trim())) < 10' },
    {
      name: 'string functions',
      expr: 'args.q.indexOf("x", 2) >= 0 && args.q.substring(0, 3) != "abc"',
    },
    { name: 'a conditional', expr: 'tool == "run_query" ? args.query.size() < 4096 : true' },
    { name: 'a dyn result', expr: 'args.enabled' },
    {
      name: 'over several lines',
      expr: 'method == "tools/call"\n  && tool == "create_issue"\n  && args.owner == "acme"',
    },
    { name: 'exactly the length limit', expr: `${' '.repeat(MAX_EXPRESSION_LENGTH - 4)}true` },
  ])('$name', ({ expr }) => {
    expect(validateCondition(expr)).toEqual({ ok: true });
  });
});

/** One refused expression: the message and its 1-based position within the expression. */
interface Row {
  readonly name: string;
  readonly expr: string;
  readonly message: string | RegExp;
  readonly line: number;
  readonly column: number;
}

const VARIABLES = 'user, groups, client, server, host, path, method, tool, args, headers';

const REFUSED: readonly Row[] = [
  // Syntax: the parser's message and position.
  {
    name: 'a dangling operator',
    expr: 'user +',
    message: /^found \+ but expecting/,
    line: 1,
    column: 6,
  },
  {
    name: 'an error on line 2',
    expr: 'a &&\n  b +',
    message: /^found \+ but expecting/,
    line: 2,
    column: 5,
  },
  {
    name: 'CRLF lines',
    expr: 'a &&\r\n  b +',
    message: /^found \+ but expecting/,
    line: 2,
    column: 5,
  },
  {
    name: 'optional syntax',
    expr: 'args.a.?b',
    message: /^found \. but expecting/,
    line: 1,
    column: 7,
  },
  // Identifiers.
  {
    name: 'an unknown identifier',
    expr: 'usr == "a"',
    message: `unknown identifier usr (the variables are ${VARIABLES})`,
    line: 1,
    column: 1,
  },
  {
    name: 'an unknown identifier on line 2',
    expr: 'user == "a" &&\n  grups.size() > 0',
    message: `unknown identifier grups (the variables are ${VARIABLES})`,
    line: 2,
    column: 3,
  },
  {
    name: 'a comprehension variable hiding a variable',
    expr: 'groups.all(user, true)',
    message: 'the comprehension variable user hides the identifier of that name',
    line: 1,
    column: 7,
  },
  // Functions outside the whitelist, named.
  {
    name: 'replace',
    expr: 'args.q.replace("a", "b") == ""',
    message: 'function replace is not allowed in conditions: its output can outgrow its input',
    line: 1,
    column: 7,
  },
  {
    name: 'split',
    expr: 'args.q.split(",") == []',
    message: 'function split is not allowed in conditions: it builds a list from a string',
    line: 1,
    column: 7,
  },
  {
    name: 'join',
    expr: 'groups.join(",") == ""',
    message: 'function join is not allowed in conditions: its output can outgrow its input',
    line: 1,
    column: 7,
  },
  {
    name: 'format',
    expr: '"%s".format([user]) == ""',
    message: 'function format is not allowed in conditions: its output can outgrow its input',
    line: 1,
    column: 5,
  },
  {
    name: 'quote, qualified',
    expr: 'strings.quote(user) == ""',
    message: 'function quote is not allowed in conditions: its output can outgrow its input',
    line: 1,
    column: 8,
  },
  {
    name: 'charAt',
    expr: 'user.charAt(0) == "a"',
    message: 'function charAt is not allowed in conditions',
    line: 1,
    column: 5,
  },
  {
    name: 'timestamp',
    expr: 'timestamp("2020-01-01T00:00:00Z") < timestamp("2021-01-01T00:00:00Z")',
    message: 'function timestamp is not allowed in conditions',
    line: 1,
    column: 1,
  },
  {
    name: 'has on a variable',
    expr: 'has(user)',
    message: 'function has is not allowed in conditions',
    line: 1,
    column: 1,
  },
  // Arity and form.
  {
    name: 'too many arguments',
    expr: 'size(user, user) > 0',
    message: 'size takes 1 argument, not 2',
    line: 1,
    column: 1,
  },
  {
    name: 'a method given an argument',
    expr: 'user.size(1) > 0',
    message: 'size takes 0 arguments, not 1',
    line: 1,
    column: 5,
  },
  {
    name: 'a method called as a function',
    expr: 'lowerAscii(user) == ""',
    message: 'lowerAscii is a method: write x.lowerAscii(…)',
    line: 1,
    column: 1,
  },
  {
    name: 'a function called as a method',
    expr: 'user.int() == 1',
    message: 'int is a function: write int(x), not x.int()',
    line: 1,
    column: 5,
  },
  // Types known on both sides.
  {
    name: 'string plus int',
    expr: 'user + 1',
    message: 'no overload of + takes (string, int)',
    line: 1,
    column: 6,
  },
  {
    name: 'int against string',
    expr: 'size(user) > "a"',
    message: 'no overload of > takes (int, string)',
    line: 1,
    column: 12,
  },
  {
    name: 'a string method on a list',
    expr: 'groups.startsWith("x")',
    message: 'no overload of startsWith takes list(string).startsWith(string)',
    line: 1,
    column: 7,
  },
  {
    name: 'a wrong argument type',
    expr: 'user.indexOf("a", "b") == 1',
    message: 'no overload of indexOf takes string.indexOf(string, string)',
    line: 1,
    column: 5,
  },
  {
    name: 'a conversion of a list',
    expr: 'int(groups) == 1',
    message: 'no overload of int takes (list(string))',
    line: 1,
    column: 1,
  },
  {
    name: 'never-equal types',
    expr: 'user == 1',
    message: '== compares a string with an int: they are never equal',
    line: 1,
    column: 6,
  },
  {
    name: 'a string against null',
    expr: 'user == null',
    message: '== compares a string with null: they are never equal',
    line: 1,
    column: 6,
  },
  {
    name: 'in with a wrong element type',
    expr: '1 in groups',
    message: 'in looks for an int among string elements: never found',
    line: 1,
    column: 3,
  },
  {
    name: 'in over a string',
    expr: '"x" in user',
    message: 'in needs a list or a map, not a string',
    line: 1,
    column: 5,
  },
  {
    name: 'indexing a string',
    expr: 'user[0] == "a"',
    message: 'a string cannot be indexed',
    line: 1,
    column: 5,
  },
  {
    name: 'a list indexed by a string',
    expr: 'groups["a"] == "x"',
    message: 'a list index is an int, not a string',
    line: 1,
    column: 7,
  },
  {
    name: 'headers indexed by an int',
    expr: 'headers[1] == "x"',
    message: 'a map(string, string) has string keys, not int',
    line: 1,
    column: 8,
  },
  {
    name: 'a field of a list',
    expr: 'groups.foo == 1',
    message: 'a list(string) has no fields (.foo)',
    line: 1,
    column: 7,
  },
  {
    name: 'a string in &&',
    expr: 'user && true',
    message: 'expected a bool, got string',
    line: 1,
    column: 1,
  },
  {
    name: 'a string negated',
    expr: '!user',
    message: 'expected a bool, got string',
    line: 1,
    column: 2,
  },
  {
    name: 'a string as a condition of ?:',
    expr: 'user ? true : false',
    message: 'expected a bool, got string',
    line: 1,
    column: 1,
  },
  {
    name: 'a predicate that is not a bool',
    expr: 'groups.all(g, g)',
    message: 'expected a bool, got string',
    line: 1,
    column: 15,
  },
  {
    name: 'a type error inside a predicate',
    expr: 'groups.exists(g, g + 1 == 2)',
    message: 'no overload of + takes (string, int)',
    line: 1,
    column: 20,
  },
  {
    name: 'a string result',
    expr: 'user',
    message: 'a condition must be a bool, this one is a string',
    line: 1,
    column: 1,
  },
  {
    name: 'an int result',
    expr: 'size(groups)',
    message: 'a condition must be a bool, this one is an int',
    line: 1,
    column: 1,
  },
  // Literals.
  {
    name: 'a map literal',
    expr: '{"a": 1} == args',
    message: 'map and message literals are not supported in conditions',
    line: 1,
    column: 1,
  },
  {
    name: 'a message literal',
    expr: 'google.protobuf.Int32Value{value: 1} == 1',
    message: 'map and message literals are not supported in conditions',
    line: 1,
    column: 1,
  },
  {
    name: 'a bytes literal',
    expr: 'b"x" == b"x"',
    message: 'bytes literals are not supported in conditions',
    line: 1,
    column: 1,
  },
  // matches: literal patterns only, compiled by RE2 at load.
  {
    name: 'a pattern from a variable',
    expr: 'user.matches(args.p)',
    message: 'matches takes a string literal pattern',
    line: 1,
    column: 18,
  },
  {
    name: 'a pattern from a variable, second',
    expr: 'args.x.matches("a") && user.matches(user)',
    message: 'matches takes a string literal pattern',
    line: 1,
    column: 37,
  },
  {
    name: 'a pattern RE2 refuses',
    expr: 'user.matches("(")',
    message: 'invalid pattern: error parsing regexp: missing closing ): `(`',
    line: 1,
    column: 14,
  },
  {
    name: 'a backreference',
    expr: 'user.matches("(a)\\\\1")',
    message: /^invalid pattern: /,
    line: 1,
    column: 14,
  },
  {
    name: 'a pattern too big',
    expr: 'user.matches("[a-z]{200}")',
    message: 'the pattern compiles to 202 RE2 instructions, at most 128',
    line: 1,
    column: 14,
  },
  // Comprehensions: not nested, over a range of known size.
  {
    name: 'a nested comprehension',
    expr: 'groups.all(g, groups.exists(h, h == g))',
    message: 'a comprehension (all, exists, exists_one, map, filter) may not contain another',
    line: 1,
    column: 21,
  },
  {
    name: 'a comprehension over a comprehension',
    expr: 'args.list.map(x, x).all(y, y)',
    message:
      'a comprehension ranges over a variable or a constant path into one (args.paths, args["files"], groups, headers)',
    line: 1,
    column: 10,
  },
  {
    name: 'a comprehension over a list literal',
    expr: '[1, 2].exists(x, x == 2)',
    message:
      'a comprehension ranges over a variable or a constant path into one (args.paths, args["files"], groups, headers)',
    line: 1,
    column: 1,
  },
  {
    name: 'a comprehension over a computed key',
    expr: 'args[user].all(x, x)',
    message:
      'a comprehension ranges over a variable or a constant path into one (args.paths, args["files"], groups, headers)',
    line: 1,
    column: 5,
  },
  {
    name: 'a comprehension over a string',
    expr: 'user.all(c, true)',
    message: 'cannot iterate over a string',
    line: 1,
    column: 1,
  },
  // Limits.
  {
    name: 'one character too long',
    expr: 'x'.repeat(MAX_EXPRESSION_LENGTH + 1),
    message: 'the expression is 2049 characters long, at most 2048',
    line: 1,
    column: 2049,
  },
  {
    name: 'a long && chain',
    expr: `true${' && true'.repeat(64)}`,
    message: `the expression has 129 nodes, at most ${MAX_EXPRESSION_NODES}`,
    line: 1,
    column: 1,
  },
  {
    name: 'a long + chain',
    expr: `user${' + user'.repeat(64)} == ""`,
    message: 'the expression has 131 nodes, at most 128',
    line: 1,
    column: 1,
  },
  {
    name: 'deep parentheses',
    expr: `${'('.repeat(1000)}true${')'.repeat(1000)}`,
    message: 'the expression nests too deeply',
    line: 1,
    column: 1,
  },
];

describe('validateCondition refuses, at the offending position', () => {
  test('row names are unique', () => {
    expect(new Set(REFUSED.map((row) => row.name)).size).toBe(REFUSED.length);
  });

  test.each(REFUSED)('$name', ({ expr, message, line, column }) => {
    const result = validateCondition(expr);
    expect(result).toMatchObject({ ok: false, line, column });
    if (result.ok) return;
    if (typeof message === 'string') expect(result.message).toBe(message);
    else expect(result.message).toMatch(message);
  });
});
