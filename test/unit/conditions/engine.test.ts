import { describe, expect, test } from 'vitest';
import {
  COPY_UNITS_PER_ELEMENT,
  MATCH_UNITS_PER_CHAR_PER_INSTRUCTION,
  NODE_UNITS,
} from '../../../src/conditions/cost.js';
import { createCelConditionEngine } from '../../../src/conditions/engine.js';
import { compilePattern } from '../../../src/conditions/regex.js';
import type { JsonValue } from '../../../src/core/mcp/json-rpc-body.js';
import { CHECK_CONDITION_BUDGET } from '../../../src/core/policy/condition.js';
import type {
  ConditionOutcome,
  ConditionVariables,
  CostBudget,
} from '../../../src/core/policy/condition.js';

const engine = createCelConditionEngine();

function variables(
  args: Record<string, JsonValue> = {},
  extra: Partial<ConditionVariables> = {},
): ConditionVariables {
  return {
    user: 'alice@corp.example',
    groups: ['eng', 'payments'],
    client: 'claude-code',
    server: 'warehouse',
    host: 'warehouse.corp.example',
    path: '/mcp',
    method: 'tools/call',
    tool: 'run_query',
    args,
    headers: new Map([['x-team', 'payments']]),
    ...extra,
  };
}

/** Evaluates `expr` once with a fresh budget; returns the outcome and the units spent. */
function run(
  expr: string,
  args: Record<string, JsonValue> = {},
  remaining = CHECK_CONDITION_BUDGET,
): { outcome: ConditionOutcome; spent: number; budget: CostBudget } {
  const budget = { remaining };
  const outcome = engine.compile(expr).evaluate(engine.bind(variables(args)), budget);
  return { outcome, spent: remaining - budget.remaining, budget };
}

const SELECT_ONLY = 'args.query.matches("(?i)^\\\\s*select\\\\b")';
const ACME_ONLY = 'args.owner.lowerAscii() == "acme"';

describe('typical conditions', () => {
  test.each([
    {
      name: 'a SELECT',
      expr: SELECT_ONLY,
      args: { query: 'SELECT id FROM customers' },
      want: 'holds',
    },
    {
      name: 'a SELECT after whitespace',
      expr: SELECT_ONLY,
      args: { query: '\n  select 1' },
      want: 'holds',
    },
    { name: 'a DROP', expr: SELECT_ONLY, args: { query: 'DROP TABLE customers' }, want: 'fails' },
    {
      name: 'a word that starts with select',
      expr: SELECT_ONLY,
      args: { query: 'selections()' },
      want: 'fails',
    },
    {
      name: 'a CTE',
      expr: SELECT_ONLY,
      args: { query: 'WITH x AS (SELECT 1) DELETE FROM t' },
      want: 'fails',
    },
    { name: 'acme', expr: ACME_ONLY, args: { owner: 'acme' }, want: 'holds' },
    { name: 'acme in capitals', expr: ACME_ONLY, args: { owner: 'ACME' }, want: 'holds' },
    { name: 'another organisation', expr: ACME_ONLY, args: { owner: 'acme-evil' }, want: 'fails' },
    {
      name: 'a repository prefix',
      expr: 'args.repo.startsWith("acme/")',
      args: { repo: 'acme/payments' },
      want: 'holds',
    },
    {
      name: 'a JSON number under an int',
      expr: 'args.limit < 100',
      args: { limit: 5 },
      want: 'holds',
    },
    {
      name: 'a JSON number over an int',
      expr: 'args.limit < 100',
      args: { limit: 500 },
      want: 'fails',
    },
    {
      name: 'a JSON number equal to an int',
      expr: 'args.limit == 100',
      args: { limit: 100 },
      want: 'holds',
    },
    { name: 'a group', expr: '"payments" in groups', args: {}, want: 'holds' },
    { name: 'a header', expr: 'headers["x-team"] == "payments"', args: {}, want: 'holds' },
    {
      name: 'the request',
      expr: 'method == "tools/call" && tool == "run_query" && server == "warehouse"',
      args: {},
      want: 'holds',
    },
    {
      name: 'all paths inside',
      expr: 'args.paths.all(p, p.startsWith("/ws/"))',
      args: { paths: ['/ws/a', '/ws/b'] },
      want: 'holds',
    },
    {
      name: 'a path outside',
      expr: 'args.paths.all(p, p.startsWith("/ws/"))',
      args: { paths: ['/ws/a', '/etc/passwd'] },
      want: 'fails',
    },
    {
      name: 'exists_one',
      expr: 'args.l.exists_one(x, x == "a")',
      args: { l: ['a', 'b', 'a'] },
      want: 'fails',
    },
    {
      name: 'a counted filter',
      expr: 'size(args.l.filter(x, x > 1.0)) == 2',
      args: { l: [1, 2, 3] },
      want: 'holds',
    },
    {
      name: 'a counted map',
      expr: 'size(args.l.map(x, x + "!")) == 3',
      args: { l: ['a', 'b', 'c'] },
      want: 'holds',
    },
    {
      name: 'presence of a null',
      expr: 'has(args.x) && args.x == null',
      args: { x: null },
      want: 'holds',
    },
    {
      name: 'a nested object',
      expr: 'args.repo.owner.login == "acme"',
      args: { repo: { owner: { login: 'acme' } } },
      want: 'holds',
    },
    {
      name: 'a type test',
      expr: 'type(args.paths) == list && type(args.n) == double',
      args: { paths: [], n: 1 },
      want: 'holds',
    },
    { name: 'a converted number', expr: 'int(args.n) + 1 == 13', args: { n: 12.7 }, want: 'holds' },
  ])('$name: $want', ({ expr, args, want }) => {
    expect(run(expr, args).outcome).toEqual({ kind: want });
  });
});

describe('type confusion in arguments is an error, never a pass', () => {
  test.each([
    {
      name: 'a number as a string',
      expr: 'args.limit < 100',
      args: { limit: '5' },
      message: "found no matching overload for '_<_' applied to '(string, int)'",
    },
    {
      name: 'a number where a string is read',
      expr: ACME_ONLY,
      args: { owner: 123 },
      message: "found no matching overload for 'lowerAscii' applied to 'double.()'",
    },
    {
      name: 'null where a string is read',
      expr: ACME_ONLY,
      args: { owner: null },
      message: "found no matching overload for 'lowerAscii' applied to 'null_type.()'",
    },
    {
      name: 'an object where a string is read',
      expr: ACME_ONLY,
      args: { owner: { login: 'acme' } },
      message: /no matching overload for 'lowerAscii'/,
    },
    {
      name: 'a list where a string is read',
      expr: SELECT_ONLY,
      args: { query: ['SELECT 1'] },
      message: /no matching overload for 'matches'/,
    },
    {
      name: 'a string where an object is read',
      expr: 'args.repo.owner.login == "acme"',
      args: { repo: 'acme/x' },
      message: /owner/,
    },
    {
      name: 'a missing argument',
      expr: 'args.owner == "acme"',
      args: {},
      message: 'field not found: owner',
    },
    {
      name: 'an inherited name',
      expr: 'args.constructor == "x"',
      args: {},
      message: 'field not found: constructor',
    },
    {
      name: 'a number too long to parse',
      expr: 'int(args.n) > 0',
      args: { n: '1'.repeat(70) },
      message: 'int(): a string of more than 64 characters is no number',
    },
    {
      name: 'a string result',
      expr: 'args.enabled',
      args: { enabled: 'true' },
      message: 'the condition gave a string, not a bool',
    },
    {
      name: 'a number result',
      expr: 'args.enabled',
      args: { enabled: 1 },
      message: 'the condition gave a double, not a bool',
    },
  ])('$name', ({ expr, args, message }) => {
    const { outcome } = run(expr, args);
    expect(outcome.kind).toBe('error');
    if (outcome.kind !== 'error') return;
    if (typeof message === 'string') expect(outcome.message).toBe(message);
    else expect(outcome.message).toMatch(message);
  });

  test('a list is never equal to its only element', () => {
    expect(run('args.owner == "acme"', { owner: ['acme'] }).outcome).toEqual({ kind: 'fails' });
  });

  test('__proto__ is an ordinary key', () => {
    const args = JSON.parse('{"__proto__": "x"}') as Record<string, JsonValue>;
    expect(run('args["__proto__"] == "x"', args).outcome).toEqual({ kind: 'holds' });
  });

  test('a number key on an object is absent, whatever the object holds', () => {
    expect(run('args.m[1] == 1', { m: { '1': 1 } }).outcome.kind).toBe('error');
  });
});

describe('the budget', () => {
  test('a condition without functions costs its nodes', () => {
    // args, .limit, 100, < : four nodes.
    expect(run('args.limit < 100', { limit: 5 }).spent).toBe(4 * NODE_UNITS);
  });

  test('a comprehension costs linearly in the size of its range', () => {
    const cost = (n: number) =>
      run('args.l.all(x, x > 0.0)', { l: Array.from({ length: n }, () => 1) }).spent;
    const perElement = cost(2) - cost(1);
    expect(perElement).toBeGreaterThanOrEqual(NODE_UNITS);
    expect(cost(10)).toBe(cost(1) + 9 * perElement);
    expect(cost(0)).toBe(cost(1) - perElement);
  });

  test('a 100,000-element list is over budget before anything runs', () => {
    const paths = Array.from({ length: 100_000 }, () => '/ws/a');
    const { outcome, spent } = run('args.paths.all(p, p.startsWith("/ws/"))', { paths });
    expect(outcome).toEqual({ kind: 'over_budget' });
    expect(spent).toBe(0);
  });

  test('a 100,000-element list read by `in` runs out mid-way, within the budget', () => {
    const { outcome, budget } = run('"x" in args.l', {
      l: Array.from({ length: 100_000 }, () => 'y'),
    });
    expect(outcome).toEqual({ kind: 'over_budget' });
    expect(budget.remaining).toBeGreaterThanOrEqual(0);
  });

  test('one budget is shared by the conditions of a Check', () => {
    const bindings = engine.bind(variables({ l: Array.from({ length: 300 }, () => 'a') }));
    const program = engine.compile('args.l.all(x, x == "a")');
    const budget = { remaining: CHECK_CONDITION_BUDGET };
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) outcomes.push(program.evaluate(bindings, budget).kind);
    expect(outcomes[0]).toBe('holds');
    expect(outcomes.at(-1)).toBe('over_budget');
    expect(budget.remaining).toBeGreaterThanOrEqual(0);
  });

  test('a budget that is not a number admits nothing', () => {
    expect(run('true', {}, Number.NaN).outcome).toEqual({ kind: 'over_budget' });
  });

  test('running out inside `||` is over budget, not the other side of the `||`', () => {
    // The evaluator turns the charge that did not fit into an error value, and `error || true`
    // is true: the meter's own flag must decide.
    const { outcome } = run('args.s.contains("b") || true', { s: 'a'.repeat(3_000_000) });
    expect(outcome).toEqual({ kind: 'over_budget' });
    const matched = run('args.s.matches("(a+)+$") || true', { s: 'a'.repeat(100_000) });
    expect(matched.outcome).toEqual({ kind: 'over_budget' });
  });
});

describe('expressions that try to run long', () => {
  test('a catastrophic pattern costs what its text and program size say, and runs to the end', () => {
    const pattern = compilePattern('(a+)+$');
    if ('error' in pattern) throw new Error(pattern.error);
    const text = `${'a'.repeat(1000)}b`;
    const { outcome, spent } = run('args.s.matches("(a+)+$")', { s: text });
    expect(outcome).toEqual({ kind: 'fails' });
    // args, .s, the pattern, matches: four nodes; then the text, one step per character and one
    // at its end, times the program's rate.
    expect(pattern.unitsPerChar % MATCH_UNITS_PER_CHAR_PER_INSTRUCTION).toBe(0);
    expect(spent).toBe(4 * NODE_UNITS + (text.length + 1) * pattern.unitsPerChar);
  });

  test('a catastrophic pattern on a long text is over budget', () => {
    expect(run('args.s.matches("(a+)+$")', { s: `${'a'.repeat(100_000)}b` }).outcome).toEqual({
      kind: 'over_budget',
    });
  });

  test.each([
    { name: 'a nested comprehension', expr: 'groups.all(g, groups.exists(h, h == g))', at: '1:21' },
    { name: 'a long && chain', expr: `true${' && true'.repeat(64)}`, at: '1:1' },
    { name: 'a long + chain', expr: `user${' + user'.repeat(64)} == ""`, at: '1:1' },
  ])('$name does not compile: every evaluation is an error', ({ expr, at }) => {
    const { outcome, spent } = run(expr);
    expect(outcome.kind).toBe('error');
    if (outcome.kind === 'error')
      expect(outcome.message).toMatch(new RegExp(`^the condition does not compile \\(${at}\\): `));
    expect(spent).toBe(0);
  });

  test('strings doubled by + are over budget before they are read', () => {
    const doubled = `(${Array.from({ length: 8 }, () => 'args.s').join(' + ')}).size() > 0`;
    expect(run(doubled, { s: 'a'.repeat(300_000) }).outcome).toEqual({ kind: 'over_budget' });
  });

  test('lists concatenated by + pay for every element they copy', () => {
    const l = Array.from({ length: 1000 }, () => 1);
    const once = run('size(args.l + args.l) == 2000', { l });
    expect(once.outcome).toEqual({ kind: 'holds' });
    // args.l + args.l copies both into a new list; size, ==, 2000 and the two reads are 8 nodes.
    expect(once.spent).toBe(8 * NODE_UNITS + 2000 * COPY_UNITS_PER_ELEMENT + 1);
    const many = run(`size(${Array.from({ length: 8 }, () => 'args.l').join(' + ')}) > 0`, {
      l: Array.from({ length: 30_000 }, () => 1),
    });
    expect(many.outcome).toEqual({ kind: 'over_budget' });
  });

  test('map() builds its result in linear time: the accumulator appends in place', () => {
    const cost = (n: number) =>
      run('size(args.l.map(x, x)) > 0', { l: Array.from({ length: n }, () => 1) }).spent;
    expect(cost(200) - cost(100)).toBe(cost(101) - cost(1));
  });

  test('`in` on an object is a lookup: only the static estimate is charged', () => {
    const m = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1]));
    const l = Array.from({ length: 200 }, (_, i) => i);
    const { outcome, spent } = run('args.l.exists(x, x in args.m)', { l, m });
    expect(outcome).toEqual({ kind: 'fails' });
    expect(spent % NODE_UNITS).toBe(0);
  });

  test('deeply nested equal arrays compare within the budget', () => {
    const nested = JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`) as JsonValue;
    expect(run('args.x == args.y', { x: nested, y: structuredClone(nested) }).outcome).toEqual({
      kind: 'holds',
    });
  });
});

describe('what the program tells the policy', () => {
  test.each([
    { expr: SELECT_ONLY, names: ['query'], readsArgs: true },
    {
      expr: 'args["repo"].startsWith("acme/") && headers["x-team"] == "a"',
      names: ['repo', 'x-team'],
      readsArgs: true,
    },
    { expr: 'has(args.dry_run) && !args.dry_run', names: ['dry_run'], readsArgs: true },
    { expr: '"force" in args', names: ['force'], readsArgs: true },
    { expr: 'args.owner in ["acme", "acme-labs"]', names: ['owner'], readsArgs: true },
    { expr: 'args.items[0].name == "a"', names: ['items', 'name'], readsArgs: true },
    { expr: 'args.repo.owner.login == "acme"', names: ['repo', 'owner', 'login'], readsArgs: true },
    { expr: 'args.paths.all(p, p.path != "")', names: ['paths', 'path'], readsArgs: true },
    { expr: 'groups.exists(g, g == "admins")', names: [], readsArgs: false },
    { expr: 'user.endsWith("@corp.example")', names: [], readsArgs: false },
  ])('$expr', ({ expr, names, readsArgs }) => {
    const program = engine.compile(expr);
    expect([...program.memberNames].sort()).toEqual([...names].sort());
    expect(program.readsArgs).toBe(readsArgs);
  });
});

describe('bindings', () => {
  test('bindings not made by bind are converted, not trusted', () => {
    const program = engine.compile('args.owner == "acme" && "eng" in groups');
    expect(
      program.evaluate(
        { variables: variables({ owner: 'acme' }) },
        { remaining: CHECK_CONDITION_BUDGET },
      ),
    ).toEqual({
      kind: 'holds',
    });
  });

  test('one binding serves every condition of a message', () => {
    const bindings = engine.bind(variables({ owner: 'acme', query: 'select 1' }));
    const budget = { remaining: CHECK_CONDITION_BUDGET };
    expect(engine.compile(ACME_ONLY).evaluate(bindings, budget)).toEqual({ kind: 'holds' });
    expect(engine.compile(SELECT_ONLY).evaluate(bindings, budget)).toEqual({ kind: 'holds' });
  });

  test('empty variables: a request with no identity and no tool', () => {
    const empty = variables({}, { user: '', groups: [], tool: '', method: '', headers: new Map() });
    const program = engine.compile(
      'user == "" && size(groups) == 0 && !has(args.x) && size(headers) == 0',
    );
    expect(program.evaluate(engine.bind(empty), { remaining: CHECK_CONDITION_BUDGET })).toEqual({
      kind: 'holds',
    });
  });
});
