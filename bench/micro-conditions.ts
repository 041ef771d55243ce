/**
 * What conditions cost (src/conditions/), in-process:
 *
 *   npx tsx bench/micro-conditions.ts [--rounds 5] [--batch-ms 100] [--only typical|rates]
 *
 * 1. `typical`: CPU per evaluation of the two conditions of issue 13, bindings made once (as a
 *    Check makes them once per message), and of `bind` itself:
 *    - run_query, only SELECT statements: `args.query.matches("(?i)^\\s*select\\b")`;
 *    - create_issue, only repositories of acme: `args.owner.lowerAscii() == "acme"`.
 * 2. `rates`: for each kind of work the cost model prices (src/conditions/cost.ts), a workload
 *    built to be as slow as possible per unit charged (errors on every element, worst-case
 *    string searches, regex automata that explode, each pattern compiled afresh so its
 *    automaton starts empty…), run to completion with an unlimited budget, after a warm-up.
 *    It prints the CPU per unit charged; the largest, times CHECK_CONDITION_BUDGET, is the
 *    longest a Check's conditions can run, which docs/conditions.md records.
 * CPU time (user + system, GC included) over batches, median of the rounds; compare ratios
 * between runs, not absolute figures, on a shared machine.
 */
import { parseArgs } from 'node:util';
import { createCelConditionEngine } from '../src/conditions/engine.js';
import type { JsonValue } from '../src/core/mcp/json-rpc-body.js';
import { CHECK_CONDITION_BUDGET } from '../src/core/policy/condition.js';
import type { ConditionVariables } from '../src/core/policy/condition.js';
import { cpuNsPerCall, iterationsFor, median } from './stats.js';

const engine = createCelConditionEngine();

function variables(args: Record<string, JsonValue>): ConditionVariables {
  return {
    user: 'alice@corp.example',
    groups: ['eng', 'payments', 'oncall'],
    client: 'claude-code',
    server: 'warehouse',
    host: 'warehouse.corp.example',
    path: '/mcp',
    method: 'tools/call',
    tool: 'run_query',
    args,
    headers: new Map([
      ['content-type', 'application/json'],
      ['mcp-protocol-version', '2025-11-25'],
    ]),
  };
}

interface Workload {
  readonly name: string;
  /**
   * The condition. `VARIANT` in it is replaced by a new number for every evaluation, which is
   * then compiled afresh: a pattern with a never-matching `|^#VARIANT#` alternative is a new
   * pattern with an empty automaton, the state @bufbuild/re2 starts each pattern in.
   */
  readonly expr: string;
  /**
   * Argument sets used in turn, so caches (the regex automaton's) stay as cold as they can;
   * built when the workload runs, so that only its own data is on the heap.
   */
  readonly args: () => readonly Record<string, JsonValue>[];
}

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const randomText = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
const strings = (n: number, make: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => make(i));
const variants = (n: number, make: () => Record<string, JsonValue>) =>
  Array.from({ length: n }, make);

const TYPICAL: readonly Workload[] = [
  {
    name: 'run_query: only SELECT',
    expr: 'args.query.matches("(?i)^\\\\s*select\\\\b")',
    args: () => [
      { query: "SELECT id, name FROM customers WHERE region = 'emea' ORDER BY name LIMIT 50" },
    ],
  },
  {
    name: 'create_issue: only acme',
    expr: 'args.owner.lowerAscii() == "acme"',
    args: () => [
      { owner: 'acme', repo: 'payments-service', title: 'Flaky test', body: 'Seen twice.' },
    ],
  },
];

const RATES: readonly Workload[] = [
  {
    name: 'nodes: ok path',
    expr: 'args.l.all(x, x != "zz")',
    args: () => [{ l: strings(500, (i) => `x${i}`) }],
  },
  {
    name: 'nodes: overload fails',
    expr: 'args.l.all(x, x > 1)',
    args: () => [{ l: strings(500, (i) => `x${i}`) }],
  },
  {
    name: 'nodes: int() throws',
    expr: 'args.l.all(x, int(x) > 0)',
    args: () => [{ l: strings(400, (i) => `x${i}`) }],
  },
  {
    name: 'nodes: missing key',
    expr: 'args.l.exists(x, args.m[x] == 1)',
    args: () => [{ l: strings(400, (i) => `k${i}`), m: {} }],
  },
  {
    name: 'nodes: 128-node expression',
    expr: Array.from({ length: 25 }, () => 'args.s > 1').join(' || ') + ' || true',
    args: () => [{ s: 'text' }],
  },
  {
    name: 'scan: contains',
    expr: 'args.s.contains(args.t)',
    args: () => [{ s: 'a'.repeat(1_500_000), t: `${'a'.repeat(999)}b` }],
  },
  {
    name: 'scan: lastIndexOf',
    expr: 'args.s.lastIndexOf(args.t) >= 0',
    args: () => [{ s: 'a'.repeat(1_500_000), t: `b${'a'.repeat(999)}` }],
  },
  { name: 'scan: trim', expr: 'args.s.trim() == ""', args: () => [{ s: ' '.repeat(600_000) }] },
  {
    name: 'scan: startsWith',
    expr: 'args.s.startsWith(args.t)',
    args: () => [{ s: 'a'.repeat(1_500_000), t: `${'a'.repeat(1_499_999)}b` }],
  },
  { name: 'size(string)', expr: 'size(args.s) > 0', args: () => [{ s: '😀'.repeat(1_600_000) }] },
  {
    name: 'lowerAscii',
    expr: 'args.s.lowerAscii() == ""',
    args: () => [{ s: 'aB'.repeat(100_000) }],
  },
  {
    name: 'concat + scan',
    expr: '(args.s + args.s + args.s).contains("b")',
    args: () => [{ s: 'a'.repeat(500_000) }],
  },
  {
    name: 'compare strings',
    expr: 'args.s < args.t',
    args: () => [{ s: 'a'.repeat(4_000_000), t: `${'a'.repeat(3_999_999)}b` }],
  },
  {
    name: 'matches: (a|b)*a(a|b){20}$',
    expr: 'args.s.matches("(a|b)*a(a|b){20}$|^#VARIANT#")',
    args: () => variants(8, () => ({ s: randomText('ab', 240) })),
  },
  {
    name: 'matches: [ab]*a[ab]{16}$',
    expr: `args.s.matches("[ab]*a${'[ab]'.repeat(16)}$|^#VARIANT#")`,
    args: () => variants(8, () => ({ s: randomText('ab', 690) })),
  },
  {
    name: 'matches: (.*a){20}$',
    expr: 'args.s.matches("(.*a){20}$|^#VARIANT#")',
    args: () => variants(8, () => ({ s: randomText('ab', 160) })),
  },
  {
    name: 'matches: (a+)+$',
    expr: 'args.s.matches("(a+)+$|^#VARIANT#")',
    args: () => [{ s: `${'a'.repeat(2_000)}b` }],
  },
  {
    name: 'matches: ^acme/[a-z0-9-]+$',
    expr: 'args.s.matches("^acme/[a-z0-9-]+$|^#VARIANT#")',
    args: () => [{ s: `acme/${'a'.repeat(1_500)}` }],
  },
  {
    name: 'matches: (?i)^\\s*select\\b',
    expr: 'args.s.matches("(?i)^\\\\s*select\\\\b|^#VARIANT#")',
    args: () => [{ s: ' '.repeat(1_300) }],
  },
  {
    name: 'matches: [a-q][^u-z]{100}x',
    expr: 'args.s.matches("[a-q][^u-z]{100}x|^#VARIANT#")',
    args: () => variants(4, () => ({ s: randomText('abcdefghijklmnopx', 160) })),
  },
  {
    name: '== lists',
    expr: 'args.l == args.m',
    args: () => [{ l: strings(50_000, (i) => `x${i}`), m: strings(50_000, (i) => `x${i}`) }],
  },
  {
    name: '== maps',
    expr: 'args.o == args.p',
    args: () => [
      {
        o: Object.fromEntries(strings(25_000, (i) => `k${i}`).map((k) => [k, 1])),
        p: Object.fromEntries(strings(25_000, (i) => `k${i}`).map((k) => [k, 1])),
      },
    ],
  },
  {
    name: 'in list',
    expr: '"zz" in args.l',
    args: () => [{ l: strings(100_000, (i) => `x${i}`) }],
  },
  {
    name: 'in list of maps',
    expr: 'args.x in args.l',
    args: () => [
      { x: { a: 1, b: 'z' }, l: Array.from({ length: 20_000 }, () => ({ a: 1, b: 'y' })) },
    ],
  },
  {
    name: 'list +',
    expr: 'size(args.l + args.l + args.l) > 0',
    args: () => [{ l: strings(50_000, (i) => `x${i}`) }],
  },
  {
    name: 'map()',
    expr: 'size(args.l.map(x, x)) > 0',
    args: () => [{ l: strings(500, (i) => `x${i}`) }],
  },
];

interface Measured {
  readonly name: string;
  readonly units: number;
  readonly nsPerEvaluation: number;
  readonly outcome: string;
}

function measure(workload: Workload, rounds: number, batchMs: number): Measured {
  const fresh = workload.expr.includes('VARIANT');
  let program = engine.compile(workload.expr);
  const bindings = workload.args().map((args) => engine.bind(variables(args)));
  let turn = 0;
  let units = 0;
  let outcome = '';
  const evaluate = () => {
    turn++;
    if (fresh) program = engine.compile(workload.expr.replace('VARIANT', String(turn)));
    const budget = { remaining: Number.MAX_SAFE_INTEGER };
    const result = program.evaluate(bindings[turn % bindings.length]!, budget);
    units = Number.MAX_SAFE_INTEGER - budget.remaining;
    outcome = result.kind === 'error' ? `error: ${result.message.slice(0, 40)}` : result.kind;
    return result;
  };
  // Warm up first: a workload that runs a few times per batch would otherwise be measured in
  // the interpreter, before V8 compiled the paths it takes.
  for (let i = 0, start = Date.now(); i < 50 || Date.now() - start < 200; i++) evaluate();
  const iterations = iterationsFor(evaluate, batchMs);
  const samples = Array.from({ length: rounds }, () => cpuNsPerCall(evaluate, iterations));
  return { name: workload.name, units, nsPerEvaluation: median(samples), outcome };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'batch-ms': { type: 'string', default: '100' },
      only: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const batchMs = Number(values['batch-ms']);
  if (values.only !== 'rates') {
    console.log('typical conditions (µs per evaluation)');
    for (const workload of TYPICAL) {
      const m = measure(workload, rounds, batchMs);
      console.log(
        `  ${m.name.padEnd(28)} ${(m.nsPerEvaluation / 1000).toFixed(2).padStart(7)} µs   ${String(m.units).padStart(6)} units   ${m.outcome}`,
      );
    }
    const vars = variables(TYPICAL[0]!.args()[0]!);
    const bind = () => engine.bind(vars);
    const bindNs = median(
      Array.from({ length: rounds }, () => cpuNsPerCall(bind, iterationsFor(bind, batchMs))),
    );
    console.log(
      `  ${'bind (once per message)'.padEnd(28)} ${(bindNs / 1000).toFixed(2).padStart(7)} µs`,
    );
  }
  if (values.only !== 'typical') {
    console.log('worst-case rates (CPU per unit charged)');
    let worst = { name: '', nsPerUnit: 0 };
    for (const workload of RATES) {
      const m = measure(workload, rounds, batchMs);
      const nsPerUnit = m.nsPerEvaluation / m.units;
      if (nsPerUnit > worst.nsPerUnit) worst = { name: m.name, nsPerUnit };
      console.log(
        `  ${m.name.padEnd(30)} ${String(m.units).padStart(8)} units ${(m.nsPerEvaluation / 1e6).toFixed(2).padStart(7)} ms ${nsPerUnit.toFixed(1).padStart(7)} ns/unit   ${m.outcome}`,
      );
    }
    const ms = (worst.nsPerUnit * CHECK_CONDITION_BUDGET) / 1e6;
    console.log(
      `worst: ${worst.nsPerUnit.toFixed(1)} ns/unit (${worst.name}): CHECK_CONDITION_BUDGET ${CHECK_CONDITION_BUDGET} units ≈ ${ms.toFixed(1)} ms`,
    );
  }
}

main();
