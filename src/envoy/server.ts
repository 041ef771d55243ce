/**
 * The gRPC edge: `envoy.service.auth.v3.Authorization/Check` and `grpc.health.v1.Health`.
 *
 * The Check handler catches everything: whatever goes wrong becomes a deny with reason
 * `internal_error`, never a gRPC error (which Envoy would turn into `status_on_error`, and with a
 * misconfigured `failure_mode_allow: true` into an allow) and never a crash.
 * Health answers for `""` and `envoy.service.auth.v3.Authorization`: NOT_SERVING until an
 * allowlist is loaded and again once shutdown begins.
 *
 * A Check, in order: admission, where a bounded CheckQueue (check-queue.ts) answers `overloaded`
 * without reading the request beyond `maxPendingChecks` or past its deadline; then `checkBytes`:
 * decode, `answerCheck` (facts → authorize → response, answer-check.ts), telemetry, encode.
 */
import type { Decision, ServiceFaultReason } from '../core/decision.js';
import { attemptFromAudit } from '../discovery/attempt.js';
import type { DiscoveryTable } from '../discovery/table.js';
import { newDecisionId } from '../core/decision-id.js';
import type { RequestFacts } from '../core/facts.js';
import type { McpInspection } from '../core/mcp/inspection.js';
import type { PolicySnapshot } from '../core/pipeline.js';
import type { CompiledPolicy } from '../core/policy/policy.js';
import { GrpcServer } from '../grpc/server.js';
import type { GrpcCall } from '../grpc/server.js';
import { GrpcStatus } from '../grpc/status.js';
import type { TlsCredentials } from '../grpc/tls-credentials.js';
import { auditRecord } from '../telemetry/logger.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { CheckRequest, CheckResponse } from './check-types.js';
import { decodeCheckRequest } from './check-request-codec.js';
import { encodeCheckResponse } from './check-response-codec.js';
import { authorizationService, healthService } from './proto.js';
import { CheckQueue } from './check-queue.js';
import type { QueuedCheck } from './check-queue.js';
import { answerCheck } from './answer-check.js';
import { serviceFaultResponse } from './to-response.js';

/** Service names gRPC health answers for. */
export const HEALTH_SERVICES: ReadonlySet<string> = new Set([
  '',
  'envoy.service.auth.v3.Authorization',
]);

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/**
 * Where Checks read the policy: the snapshot in force (undefined before the first load) and a
 * signal when it is replaced. src/config/policy-store.ts's PolicyStore is one; the edge needs no
 * more of it.
 */
export interface SnapshotSource {
  readonly current: PolicySnapshot | undefined;
  onChange(listener: (snapshot: PolicySnapshot) => void): unknown;
}

export interface AuthzServerDeps {
  readonly store: SnapshotSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Wall clock (epoch ms); injected so tests can fix dates. */
  readonly now: () => number;
  /** Where shadow-MCP attempts are recorded (src/discovery/); absent, nowhere. */
  readonly discovery?: DiscoveryTable | undefined;
}

export interface AuthzServerOptions {
  /** The most checks admitted and not yet answered; beyond it a check is denied `overloaded`. */
  readonly maxPendingChecks: number;
  /** Serve gRPC over TLS (src/grpc/tls-credentials.ts); absent, cleartext HTTP/2. */
  readonly tls?: TlsCredentials;
  /** Told about each refused TLS handshake. */
  readonly onTlsClientError?: (err: Error) => void;
}

export interface AuthzServer {
  /** Binds `address` (`host:port` or `unix:/path`); resolves with the bound port (0 for unix). */
  listen(address: string): Promise<number>;
  /**
   * Turns health NOT_SERVING (and ends health Watch streams with that status), refuses new
   * calls, lets admitted checks finish for up to `graceMs`, then forces every connection closed.
   * Resolves with `forced: true` when the grace period ran out.
   */
  shutdown(graceMs: number): Promise<{ forced: boolean }>;
  /** Closes the listener and every connection at once (a failed start). */
  forceShutdown(): void;
  /** New TLS credentials for handshakes from now on (TLS servers only). */
  setTlsCredentials(credentials: TlsCredentials): void;
}

/** One Check call waiting in the queue, still as the bytes Envoy sent: a shed one is never read. */
class PendingCheck implements QueuedCheck {
  readonly call: GrpcCall;
  readonly bytes: Buffer;
  readonly deadlineMs: number;
  constructor(call: GrpcCall, bytes: Buffer) {
    this.call = call;
    this.bytes = bytes;
    this.deadlineMs = call.deadlineMs;
  }
  isCancelled(): boolean {
    return this.call.cancelled;
  }
}

function encoded(response: CheckResponse): Buffer {
  return encodeCheckResponse(response, authorizationService.Check.responseSerialize);
}

/** A deny for a fault of ours, made without reading the request, and counted like any. */
function faultAnswer(deps: AuthzServerDeps, reason: ServiceFaultReason): Buffer {
  const { decision, response } = serviceFaultResponse(
    reason,
    newDecisionId(),
    deps.store.current?.policy,
  );
  deps.metrics.recordDecision(decision, 0);
  return encoded(response);
}

/** The service a HealthCheckRequest asks about; undefined for bytes that are not one. */
function healthServiceName(bytes: Buffer): string | undefined {
  try {
    return healthService.Check.requestDeserialize(bytes).service ?? '';
  } catch {
    return undefined;
  }
}

/** At most one overload warning per this many ms: the counter has the totals. */
const SHED_LOG_INTERVAL_MS = 10_000;

/** Creates the gRPC server with both services registered (not yet listening). */
export function createAuthzServer(deps: AuthzServerDeps, options: AuthzServerOptions): AuthzServer {
  const server = new GrpcServer({
    // Envoy sends one CheckRequest per message; bodies are bounded by its max_request_bytes.
    maxReceiveMessageBytes: 64 * 1024 * 1024,
    onHandlerError: (err, path) => {
      deps.metrics.recordError('ERR_CHECK_FAILED');
      deps.logger.error({ err, path }, 'gRPC handler failed; answered INTERNAL');
    },
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.onTlsClientError === undefined
      ? {}
      : { onTlsClientError: options.onTlsClientError }),
  });
  let shuttingDown = false;
  const watchers = new Set<() => void>();
  const watchStreams = new Set<GrpcCall>();
  let lastShedLogMs = Number.NEGATIVE_INFINITY;

  const queue = new CheckQueue<PendingCheck>(options.maxPendingChecks, {
    now: Date.now,
    work: (pending) => {
      pending.call.respond(checkBytes(deps, pending.bytes));
    },
    shed: (pending, cause) => {
      deps.metrics.recordShed(cause);
      const nowMs = Date.now();
      if (nowMs - lastShedLogMs >= SHED_LOG_INTERVAL_MS) {
        lastShedLogMs = nowMs;
        deps.logger.warn(
          { cause, max_pending_checks: options.maxPendingChecks },
          'check shed without inspection; denied as overloaded (further sheds are counted in mcp_gate_checks_shed_total)',
        );
      }
      // A cancelled call has nobody left to answer.
      if (cause === 'cancelled') return;
      pending.call.respond(faultAnswer(deps, 'overloaded'));
    },
    onError: (err) => {
      deps.metrics.recordError('ERR_CHECK_FAILED');
      deps.logger.error({ err }, 'answering a check failed');
    },
  });
  deps.metrics.observeQueue(() => queue.size);

  const servingStatus = (service: string): ServingStatus => {
    if (!HEALTH_SERVICES.has(service)) return 'SERVICE_UNKNOWN';
    return deps.store.current !== undefined && !shuttingDown ? 'SERVING' : 'NOT_SERVING';
  };
  const notifyWatchers = (): void => {
    for (const notify of watchers) notify();
  };
  deps.store.onChange(notifyWatchers);

  server.handle(authorizationService.Check.path, (message, call) => {
    queue.submit(new PendingCheck(call, message));
  });

  server.handle(healthService.Check.path, (message, call) => {
    const service = healthServiceName(message);
    if (service === undefined) {
      call.end(GrpcStatus.INTERNAL, 'Error deserializing request');
      return;
    }
    const status = servingStatus(service);
    if (status === 'SERVICE_UNKNOWN') {
      call.end(GrpcStatus.NOT_FOUND, 'unknown service');
      return;
    }
    call.respond(healthService.Check.responseSerialize({ status }));
  });

  server.handle(healthService.Watch.path, (message, call) => {
    const service = healthServiceName(message);
    if (service === undefined) {
      call.end(GrpcStatus.INTERNAL, 'Error deserializing request');
      return;
    }
    let last: ServingStatus | undefined;
    const send = (): void => {
      const status = servingStatus(service);
      if (status !== last) {
        last = status;
        call.write(healthService.Watch.responseSerialize({ status }));
      }
    };
    watchers.add(send);
    watchStreams.add(call);
    call.onClose(() => {
      watchers.delete(send);
      watchStreams.delete(call);
    });
    send();
  });

  return {
    listen(address) {
      return server.listen(address);
    },
    forceShutdown() {
      server.forceShutdown();
    },
    setTlsCredentials(credentials) {
      server.setTlsCredentials(credentials);
    },
    async shutdown(graceMs) {
      shuttingDown = true;
      notifyWatchers();
      // Watchers have been told NOT_SERVING; an open Watch stream would hold shutdown for the
      // whole grace period.
      for (const call of watchStreams) call.end(GrpcStatus.OK);
      watchStreams.clear();
      return server.shutdown(graceMs);
    },
  };
}

/**
 * One admitted Check, from the bytes Envoy sent to the bytes it gets back: decode (the lean
 * decoder reads only what the decision needs, check-request-codec.ts), judge and record
 * (`check`), encode. Bytes that are not a CheckRequest are never reachable from Envoy; they get a
 * deny, as a gRPC error could become an allow under `failure_mode_allow: true`.
 */
export function checkBytes(deps: AuthzServerDeps, bytes: Buffer): Buffer {
  let request: CheckRequest;
  try {
    request = decodeCheckRequest(bytes);
  } catch {
    deps.metrics.recordError('ERR_CHECK_FAILED');
    deps.logger.error('CheckRequest bytes could not be decoded; denied');
    return faultAnswer(deps, 'internal_error');
  }
  return encoded(check(deps, request));
}

/** One decoded Check: judged, then counted and logged. Exported for the in-process benchmarks and tests. */
export function check(deps: AuthzServerDeps, request: CheckRequest): CheckResponse {
  const started = process.hrtime.bigint();
  const decisionId = newDecisionId();
  let facts: RequestFacts | undefined;
  let decision: Decision;
  let inspection: McpInspection | undefined;
  let response: CheckResponse;
  let policy: CompiledPolicy | undefined;
  try {
    const snapshot = deps.store.current;
    if (snapshot === undefined) throw new Error('no allowlist loaded');
    policy = snapshot.policy;
    const answer = answerCheck(snapshot, request, deps.now(), decisionId);
    ({ facts, decision, inspection, response } = answer);
  } catch (err: unknown) {
    // Fail closed: a fault anywhere in the path is a deny, logged with the decision id.
    deps.metrics.recordError('ERR_CHECK_FAILED');
    deps.logger.error({ err, decision_id: decisionId }, 'check failed; denied');
    // Never touch the store again here: reading it may be what failed.
    const failed = serviceFaultResponse('internal_error', decisionId, policy);
    decision = failed.decision;
    response = failed.response;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    deps.metrics.recordDecision(decision, seconds);
    if (decision.isMcp && facts !== undefined && inspection !== undefined) {
      const record = auditRecord(decision, facts, inspection, seconds * 1000);
      deps.logger.info(record, 'decision');
      // Read back from the audit record, as `mcp-gate discover` reads audit lines: one rule.
      if (deps.discovery !== undefined) {
        const attempt = attemptFromAudit(record, deps.now(), facts.host !== '');
        if (attempt !== undefined) deps.discovery.record(attempt);
      }
    }
  } catch (err: unknown) {
    deps.logger.error({ err, decision_id: decisionId }, 'recording the decision failed');
  }
  return response;
}
