/**
 * Before any load: sends each payload's exact bytes (the message h2load will send) once with a
 * grpc-js client, decodes the answer with Envoy's own CheckResponse definition, and checks it.
 * The baselines must answer OK to everything; mcp-gate must give the payload's expected verdict
 * and reason. A mismatch stops the benchmark: measuring a misconfigured path proves nothing.
 */
import * as grpc from '@grpc/grpc-js';
import { ENVOY_TO_OBJECT, envoyCheckResponseType } from '../test/helpers/envoy-protos.js';
import type { Payload } from './payloads.js';
import type { RunningServer } from './servers.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const GRPC_OK = 0;
const DEADLINE_MS = 10_000;

interface DecodedResponse {
  status?: { code?: number; message?: string };
  denied_response?: unknown;
  ok_response?: unknown;
  dynamic_metadata?: { fields?: Record<string, { stringValue?: string }> };
}

/** What a CheckResponse says, in mcp-gate's terms. */
export interface Answer {
  readonly verdict: 'allow' | 'deny';
  /** mcp-gate's reason: the status message of a deny, the decision metadata of an MCP allow. */
  readonly reason: string | undefined;
}

/** Reads verdict and reason from a decoded CheckResponse. */
export function toAnswer(response: DecodedResponse): Answer {
  const code = response.status?.code ?? GRPC_OK;
  if (code !== GRPC_OK) return { verdict: 'deny', reason: response.status?.message };
  // mcp-gate sends decision metadata with every MCP allow and nothing at all for non-MCP.
  const reason = response.dynamic_metadata?.fields?.['reason']?.stringValue;
  return {
    verdict: 'allow',
    reason: reason ?? (response.ok_response === undefined ? 'not_mcp' : undefined),
  };
}

function checkOnce(client: grpc.Client, message: Buffer): Promise<DecodedResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      CHECK_PATH,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) =>
        envoyCheckResponseType.toObject(
          envoyCheckResponseType.decode(bytes),
          ENVOY_TO_OBJECT,
        ) as DecodedResponse,
      message,
      { deadline: Date.now() + DEADLINE_MS },
      (err, value) => {
        if (err !== null || value === undefined) reject(err ?? new Error('no response'));
        else resolve(value);
      },
    );
  });
}

/** Verifies every payload against one server; throws listing every mismatch. */
export async function verifyPayloads(
  server: RunningServer,
  payloads: readonly Payload[],
): Promise<void> {
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  const problems: string[] = [];
  try {
    for (const payload of payloads) {
      let answer: Answer;
      try {
        answer = toAnswer(await checkOnce(client, payload.message));
      } catch (err: unknown) {
        problems.push(`${payload.name}: the Check failed: ${String(err)}`);
        continue;
      }
      // The baselines know no reasons: an OK status is all they can be asked for.
      const ours = server.name === 'ours';
      const want = ours ? payload.expected : { verdict: 'allow' as const, reason: undefined };
      if (answer.verdict !== want.verdict || (ours && answer.reason !== want.reason)) {
        problems.push(
          `${payload.name}: ${server.name} answered ${answer.verdict}/${String(answer.reason)}, ` +
            `expected ${want.verdict}${ours ? `/${String(want.reason)}` : ''}`,
        );
      }
    }
  } finally {
    client.close();
  }
  if (problems.length > 0) {
    throw new Error(`payload check against ${server.name} failed:\n  ${problems.join('\n  ')}`);
  }
}
