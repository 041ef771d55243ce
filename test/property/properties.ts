/**
 * The pipeline's invariants (issue 3; PROPERTIES lists them), defined once and run by both the
 * CI test (test/property/invariants.test.ts) and the long fuzzer (scripts/fuzz.ts), so the two
 * cannot drift. Each property is a generator plus a check that throws an explanation when the
 * invariant does not hold; `checkProperty(name, input)` replays one input (that is what a pasted
 * counterexample calls).
 *
 * Decisions are made on the pure pipeline (the Check handler's path without gRPC), which is fast
 * enough for thousands of runs; test/property/service.test.ts adds the real gRPC service.
 */
import fc from 'fast-check';
import { DENY_REASONS, ALLOW_REASONS } from '../../src/core/policy/policy.js';
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { toCheckResponse } from '../../src/envoy/to-response.js';
import { authorize } from '../../src/core/pipeline.js';
import {
  connectCaseArb,
  fuzzCaseArb,
  anyCaseArb,
  malformedCheckRequestArb,
} from './arbitraries.js';
import type { FuzzCase } from './arbitraries.js';
import { NOW_MS, entryModel, referenceToolAllowed, snapshotFor } from './fixtures.js';
import {
  DECISION_ID_A,
  DECISION_ID_B,
  carriesMcp,
  checkRequestFor,
  clientRequestOf,
  describe,
  documentedBlindSpot,
  evaluate,
} from './oracle.js';
import { toolsServerWouldCall } from './server-view.js';

export type Verdict = 'asserted' | 'vacuous';

export interface PropertyDefinition<T> {
  readonly name: string;
  /** The invariant in one sentence. */
  readonly statement: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /**
   * Throws an Error explaining the violation. Otherwise says whether the input was one the
   * invariant speaks about (`asserted`) or fell outside its premise (`vacuous`), so runs can
   * report how much they really tested.
   */
  readonly check: (input: T) => Verdict;
  /** Share of the run budget relative to the other properties. */
  readonly weight: number;
}

function fail(message: string): never {
  throw new Error(message);
}

const REASONS: ReadonlySet<string> = new Set<string>([...DENY_REASONS, ...ALLOW_REASONS]);

/** Everything a decision says except its id, for comparing two decisions on equal inputs. */
function withoutId(value: unknown, id: string): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return v.split(id).join('<decision-id>');
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (typeof v === 'object' && v !== null && 'expiresAtMs' in v && 'id' in v) {
      // A compiled entry: compare by what it is, not by object identity across snapshots.
      return { entry: (v as { id: string }).id };
    }
    return v;
  });
}

const neverThrows: PropertyDefinition<FuzzCase> = {
  name: 'never-throws',
  statement:
    'every generated request, under every policy variant, gets a well-formed decision and CheckResponse without an exception',
  arbitrary: anyCaseArb,
  weight: 2,
  check(c) {
    const { authorization, response } = evaluate(c);
    const d = authorization.decision;
    if (!REASONS.has(d.reason)) fail(`unknown reason ${d.reason}`);
    if (d.reason === 'internal_error') fail('the pure pipeline produced internal_error');
    if (d.detail !== undefined && d.reason !== 'uninspectable') {
      fail(`detail ${d.detail} on reason ${d.reason}`);
    }
    const code = response.status.code;
    if ((d.verdict === 'allow') !== (code === 0)) {
      fail(`verdict ${d.verdict} but CheckResponse status ${String(code)}`);
    }
    return 'asserted';
  },
};

const malformedNeverThrows: PropertyDefinition<unknown> = {
  name: 'malformed-check-request-never-throws',
  statement:
    'a CheckRequest of any shape is mapped to facts, decided and answered without an exception, and never approved',
  arbitrary: malformedCheckRequestArb,
  weight: 1,
  check(input) {
    const snapshot = snapshotFor('base');
    const facts = toRequestFacts(input as CheckRequest);
    const { decision, inspection } = authorize(snapshot, facts, NOW_MS, DECISION_ID_A);
    toCheckResponse(decision, facts, inspection, snapshot.policy);
    if (decision.reason === 'approved' && facts.host === '') {
      fail('approved a request without a host');
    }
    return 'asserted';
  },
};

const unmatchedNeverAllowed: PropertyDefinition<FuzzCase> = {
  name: 'unmatched-host-never-allowed',
  statement:
    'in enforce mode with default deny, a request carrying MCP (MCP headers, or a body a real server reads as MCP) to a host, port and path no entry matches is denied',
  arbitrary: fuzzCaseArb(['base'], 'unmatched'),
  weight: 4,
  check(c) {
    if (c.intent.kind !== 'unmatched' || !carriesMcp(c)) return 'vacuous';
    if (documentedBlindSpot(c) !== undefined) return 'vacuous';
    const evaluation = evaluate(c);
    if (evaluation.authorization.decision.verdict !== 'deny') {
      fail(`MCP traffic to an unmatched target was allowed: ${describe(evaluation)}`);
    }
    return 'asserted';
  },
};

const toolOutsideGlobsNeverAllowed: PropertyDefinition<FuzzCase> = {
  name: 'tool-outside-globs-never-allowed',
  statement:
    "in enforce mode, a request aimed at an entry is denied when a real server would execute a tools/call for a tool outside that entry's globs",
  arbitrary: fuzzCaseArb(['base'], 'entry-with-tools'),
  weight: 4,
  check(c) {
    if (c.intent.kind !== 'entry') return 'vacuous';
    const entry = entryModel(c.intent.id);
    const forbidden = toolsServerWouldCall(clientRequestOf(c)).filter(
      (tool) => !referenceToolAllowed(entry, tool),
    );
    if (forbidden.length === 0 || documentedBlindSpot(c) !== undefined) return 'vacuous';
    const evaluation = evaluate(c);
    if (evaluation.authorization.decision.verdict !== 'deny') {
      fail(
        `a server would call ${JSON.stringify(forbidden)} on entry ${entry.id}, outside its globs, and it was allowed: ${describe(evaluation)}`,
      );
    }
    return 'asserted';
  },
};

const deterministic: PropertyDefinition<FuzzCase> = {
  name: 'deterministic',
  statement:
    'equal requests under equal allowlists (compiled separately) get equal decisions, inspections and CheckResponses, except for the decision id',
  arbitrary: anyCaseArb,
  weight: 2,
  check(c) {
    const first = evaluate(c, DECISION_ID_A, snapshotFor(c.policy), checkRequestFor(c));
    const second = evaluate(c, DECISION_ID_B, snapshotFor(c.policy, 1), checkRequestFor(c));
    const a = withoutId({ ...first, facts: undefined }, DECISION_ID_A);
    const b = withoutId({ ...second, facts: undefined }, DECISION_ID_B);
    if (a !== b) fail(`two evaluations differ:\n${a}\n${b}`);
    return 'asserted';
  },
};

const allowNamesEntry: PropertyDefinition<FuzzCase> = {
  name: 'allow-names-entry',
  statement:
    'every allow names the entry that allowed it (decision, x-mcp-gate-server header and metadata), or says why no entry was needed (not MCP, default allow, unknown tunnel host, dry-run)',
  arbitrary: anyCaseArb,
  weight: 2,
  check(c) {
    const { authorization, response } = evaluate(c);
    const d = authorization.decision;
    if (d.verdict !== 'allow') return 'vacuous';
    const policy = snapshotFor(c.policy).policy;
    const metadata = response.dynamic_metadata?.fields ?? {};
    const serverHeader = response.ok_response?.headers?.find(
      (h) => h.header.key === 'x-mcp-gate-server',
    );
    if (d.dryRun) {
      const mode = d.entry?.mode ?? policy.mode;
      if (mode !== 'dry-run') fail(`dry-run allow under mode ${mode}`);
      if (!DENY_REASONS.includes(d.reason)) fail(`dry-run allow with reason ${d.reason}`);
      return 'asserted';
    }
    // Read as a plain string: the check holds whatever the types say.
    const reason: string = d.reason;
    if (reason === 'approved') {
      const id = d.entry?.id;
      if (id === undefined) fail('approved without an entry');
      if (serverHeader?.header.value !== id) fail(`x-mcp-gate-server is not ${id}`);
      if (metadata['entry']?.stringValue !== id) fail(`metadata entry is not ${id}`);
      if (c.intent.kind === 'entry' && c.intent.id !== id) {
        fail(`aimed at entry ${c.intent.id} but approved by ${id}`);
      }
      if (c.intent.kind === 'unmatched' && c.request.method !== 'CONNECT') {
        fail(`approved by ${id} although no entry matches: ${describe(evaluate(c))}`);
      }
    } else if (reason === 'not_mcp') {
      if (d.isMcp || d.entry !== undefined) fail('not_mcp but MCP or with an entry');
      if (response.dynamic_metadata !== undefined) fail('not_mcp allow carries decision metadata');
    } else if (reason === 'default_allow') {
      if (policy.defaultAction !== 'allow') fail('default_allow under default_action deny');
      if (d.entry !== undefined) fail('default_allow with an entry');
    } else if (reason === 'unknown_host') {
      if (c.request.method !== 'CONNECT') fail(`unknown_host on a ${c.request.method}`);
    } else {
      fail(`allow with reason ${reason}`);
    }
    return 'asserted';
  },
};

const knownHostTunnelDenied: PropertyDefinition<FuzzCase> = {
  name: 'known-host-tunnel-denied',
  statement:
    'in enforce mode with default deny, a CONNECT to a known MCP host that no entry approves is denied, whatever its spelling',
  arbitrary: connectCaseArb(['base']),
  weight: 1,
  check(c) {
    if (c.intent.kind !== 'connect-known') return 'vacuous';
    const evaluation = evaluate(c);
    if (evaluation.authorization.decision.verdict !== 'deny') {
      fail(`tunnel to a known MCP host allowed: ${describe(evaluation)}`);
    }
    return 'asserted';
  },
};

/**
 * A property with its input type erased, so different properties share one list. Sound because
 * a property only ever receives values from its own arbitrary (or a pasted copy of one).
 */
function erase<T>(definition: PropertyDefinition<T>): PropertyDefinition<unknown> {
  return {
    ...definition,
    arbitrary: definition.arbitrary,
    check: (input) => definition.check(input as T),
  };
}

/** Every property, in the order they are run and reported. */
export const PROPERTIES: readonly PropertyDefinition<unknown>[] = [
  erase(neverThrows),
  erase(malformedNeverThrows),
  erase(unmatchedNeverAllowed),
  erase(toolOutsideGlobsNeverAllowed),
  erase(deterministic),
  erase(allowNamesEntry),
  erase(knownHostTunnelDenied),
];

/** Replays one input of a property: throws when the invariant does not hold for it. */
export function checkProperty(name: string, input: unknown): Verdict {
  const property = PROPERTIES.find((p) => p.name === name);
  if (property === undefined) throw new Error(`no property ${name}`);
  return property.check(input);
}

/**
 * Counts of asserted and vacuous runs, filled in by the property built by toFcProperty. Runs
 * after the first failure are fast-check shrinking, and are not counted.
 */
export interface RunTally {
  asserted: number;
  vacuous: number;
  failed?: boolean;
}

/** The fast-check property for a definition; `tally` counts what each run really checked. */
export function toFcProperty<T>(
  definition: PropertyDefinition<T>,
  tally: RunTally = { asserted: 0, vacuous: 0 },
): fc.IProperty<[T]> {
  return fc.property(definition.arbitrary, (input) => {
    let verdict: Verdict;
    try {
      verdict = definition.check(input);
    } catch (error: unknown) {
      tally.failed = true;
      throw error;
    }
    if (tally.failed !== true) tally[verdict]++;
  });
}

/** Seed, runs and time budget for a run; env overrides for CI and local runs. */
export interface FuzzSettings {
  readonly seed: number;
  /** Runs for a property of weight 1. */
  readonly runsPerWeight: number;
  /** Time cap per property, in ms. */
  readonly timeLimitMs: number;
}

export const DEFAULT_SEED = 20261121;

export function fuzzSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  return {
    seed: number('FUZZ_SEED', DEFAULT_SEED),
    runsPerWeight: number('FUZZ_RUNS', 100),
    timeLimitMs: number('FUZZ_MS', 4000),
  };
}
