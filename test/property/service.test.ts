/**
 * The same generated requests through the real service (gRPC, Envoy's protos on the client
 * side): it never throws and always answers, every answer is a well-formed allow or deny, and it
 * is the answer the pure pipeline gives for the same request. Fewer runs than the pure
 * properties: each one is a network round trip.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { connectCaseArb, fuzzCaseArb } from './arbitraries.js';
import type { FuzzCase } from './arbitraries.js';
import { toLiteral } from './counterexample.js';
import { BASE_ALLOWLIST, KNOWN_HOSTS_TEXT, NOW_MS } from './fixtures.js';
import { checkRequestFor, describe as describeEvaluation, evaluate } from './oracle.js';
import { fuzzSettingsFromEnv } from './properties.js';

const settings = fuzzSettingsFromEnv();

let service: TestService;
let client: AuthzClient;

beforeAll(async () => {
  service = await startTestService({
    allowlist: BASE_ALLOWLIST,
    knownHosts: KNOWN_HOSTS_TEXT,
    now: () => NOW_MS,
  });
  client = createAuthzClient(service.grpcAddress);
});

afterAll(async () => {
  client.close();
  await service.stop();
});

/** Throws when the service's answer is not the pure pipeline's answer for the same request. */
function compare(c: FuzzCase, answer: EnvoyCheckResponse): void {
  const expected = evaluate(c);
  const decision = expected.authorization.decision;
  const code = answer.status?.code ?? 0;
  const metadata = answer.dynamic_metadata?.fields ?? {};
  const reason = metadata['reason']?.stringValue;
  const problems: string[] = [];
  if (code !== 0 && code !== 7) problems.push(`status code ${code}`);
  if ((code === 0) !== (decision.verdict === 'allow')) {
    problems.push(`service says ${code === 0 ? 'allow' : 'deny'}, pipeline ${decision.verdict}`);
  }
  if (decision.isMcp || decision.verdict === 'deny') {
    if (reason !== decision.reason) problems.push(`reason ${String(reason)} vs ${decision.reason}`);
    if (metadata['entry']?.stringValue !== decision.entry?.id) {
      problems.push(
        `entry ${String(metadata['entry']?.stringValue)} vs ${String(decision.entry?.id)}`,
      );
    }
  } else if (answer.dynamic_metadata !== undefined) {
    problems.push('a non-MCP allow carries decision metadata');
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('; ')}\npipeline: ${describeEvaluation(expected)}\ninput: ${toLiteral(c)}`,
    );
  }
}

describe('property – the real service', () => {
  test('never throws, always answers, and answers as the pure pipeline does', async () => {
    const cases = fc.oneof(
      { arbitrary: fuzzCaseArb(['base']), weight: 9 },
      { arbitrary: connectCaseArb(['base']), weight: 1 },
    );
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const answer = await client.check(checkRequestFor(c));
        answered++;
        compare(c, answer);
      }),
      {
        seed: settings.seed,
        numRuns: settings.runsPerWeight,
        interruptAfterTimeLimit: settings.timeLimitMs,
        markInterruptAsFailure: false,
      },
    );
    expect(answered).toBeGreaterThan(0);
    // An exception inside the Check path is answered internal_error and logged: there must be none.
    const faults = service.logs.filter(
      (line) => line['level'] === 'error' || line['level'] === 'fatal',
    );
    expect(faults).toEqual([]);
    expect(await client.health('')).toBe('SERVING');
  });
});
