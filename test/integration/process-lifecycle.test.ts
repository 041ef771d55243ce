/**
 * The served process under shutdown, overload and stray faults (`node dist/main.js serve`):
 * - SIGTERM: health turns NOT_SERVING first (Watch streams are told and ended), /readyz fails,
 *   new calls are refused, a check already in flight still gets its real answer, and the
 *   process exits 0 well inside the grace period; a call that never completes is cut off when
 *   the grace period ends.
 * - Overload: checks beyond --max-pending-checks are answered at once with an `overloaded`
 *   deny (HTTP 503) and counted; the others get their real decision.
 * - An unhandled rejection is logged and counted and the service keeps deciding; an uncaught
 *   exception is logged as fatal and the process exits 70.
 *
 * Ordering is made deterministic with signals, not timing: SIGSTOP holds the process while
 * requests queue up in its socket, and a half-sent gRPC message keeps a call in flight for as
 * long as the test wants.
 */
import http2 from 'node:http2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

import type { CheckRequest } from '../../src/envoy/check-types.js';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import {
  ENVOY_TO_OBJECT,
  envoyCheckRequestType,
  envoyCheckResponseType,
} from '../helpers/envoy-protos.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';
import {
  killServeProcesses,
  listening,
  startServe,
  stopWith,
  WAIT_MS,
} from '../helpers/serve-process.js';
import type { ServeOptions, ServeProcess } from '../helpers/serve-process.js';

const ALLOWLIST = githubAllowlist({ allow: ['get_*'] });
const toolCall = githubToolCall;

const tempDirs: string[] = [];
const clients: AuthzClient[] = [];
const sessions: http2.ClientHttp2Session[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sessions.splice(0)) s.destroy();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Running {
  readonly serve: ServeProcess;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly authz: AuthzClient;
}

async function serveWith(flags: readonly string[], options: ServeOptions = {}): Promise<Running> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-lifecycle-'));
  tempDirs.push(dir);
  const allowlist = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlist, ALLOWLIST);
  const serve = startServe(
    [
      '--allowlist',
      allowlist,
      '--grpc-listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
      '--reload-poll-ms',
      '0',
      ...flags,
    ],
    options,
  );
  const line = await serve.waitForLog('mcp-gate listening', listening);
  const authz = createAuthzClient(String(line['grpc']));
  clients.push(authz);
  // Connects the client, so requests sent while the process is stopped sit in its socket.
  expect(await authz.health('')).toBe('SERVING');
  return { serve, grpcAddress: String(line['grpc']), httpAddress: String(line['http']), authz };
}

/** gRPC length-prefixed message framing (uncompressed). */
function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

interface RawCall {
  /** Sends the rest of the message and resolves with the decoded answer and grpc-status. */
  finish(): Promise<{ response: EnvoyCheckResponse | undefined; grpcStatus: string | undefined }>;
  /** Resolves when the stream ends for any reason (answered, reset, connection closed). */
  readonly closed: Promise<void>;
}

/**
 * A Check sent over a raw HTTP/2 stream with only half of its message written: the server has
 * the call but cannot answer it until `finish()`. Resolves once the server has read the half
 * (a health check on the same connection, answered after it, proves the frames were read).
 */
async function halfSentCheck(grpcAddress: string, request: CheckRequest): Promise<RawCall> {
  const session = http2.connect(`http://${grpcAddress}`);
  // A forced shutdown ends the session with GOAWAY(CANCEL): expected here, asserted elsewhere.
  session.on('error', () => undefined);
  sessions.push(session);
  const stream = session.request({
    ':method': 'POST',
    ':path': '/envoy.service.auth.v3.Authorization/Check',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const frame = grpcFrame(envoyCheckRequestType.encode(request).finish());
  const half = Math.floor(frame.length / 2);
  stream.write(frame.subarray(0, half));

  const chunks: Buffer[] = [];
  let grpcStatus: string | undefined;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('trailers', (trailers) => {
    grpcStatus = String(trailers['grpc-status']);
  });
  stream.on('error', () => undefined);
  const closed = new Promise<void>((resolveClosed) => stream.once('close', resolveClosed));

  const probe = session.request({
    ':method': 'POST',
    ':path': '/grpc.health.v1.Health/Check',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  probe.end(grpcFrame(new Uint8Array(0)));
  probe.resume();
  await new Promise<void>((resolveProbe) => probe.once('close', resolveProbe));

  return {
    closed,
    async finish() {
      stream.end(frame.subarray(half));
      await closed;
      const body = Buffer.concat(chunks);
      const response =
        body.length >= 5
          ? (envoyCheckResponseType.toObject(
              envoyCheckResponseType.decode(body.subarray(5, 5 + body.readUInt32BE(1))),
              ENVOY_TO_OBJECT,
            ) as EnvoyCheckResponse)
          : undefined;
      return { response, grpcStatus };
    },
  };
}

function reasonOf(response: EnvoyCheckResponse): string | undefined {
  return headerOf(response.denied_response?.headers, 'x-mcp-gate-reason');
}

async function metric(httpAddress: string, series: string): Promise<number> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('SIGTERM', () => {
  test('health NOT_SERVING first, new calls refused, the check in flight answered, exit 0 in grace', async () => {
    const graceMs = 8000;
    const { serve, grpcAddress, httpAddress, authz } = await serveWith([
      '--shutdown-grace-ms',
      String(graceMs),
    ]);
    const statuses: string[] = [];
    const watch = authz.watchHealth('');
    watch.on('data', (status: string) => statuses.push(status));
    watch.on('error', () => undefined);
    const watchEnded = new Promise<void>((resolveEnd) => watch.once('end', resolveEnd));
    await new Promise<void>((resolveFirst) => {
      watch.once('data', () => {
        resolveFirst();
      });
    });
    const inFlight = await halfSentCheck(grpcAddress, toolCall('delete_repo'));
    expect(statuses).toEqual(['SERVING']);

    const started = Date.now();
    serve.child.kill('SIGTERM');
    await serve.waitForLog('shutting down', (l) => l['msg'] === 'shutting down');
    // Watchers hear NOT_SERVING and their streams end, so they cannot hold shutdown.
    await watchEnded;
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    expect((await fetch(`http://${httpAddress}/readyz`)).status).toBe(503);

    // A new connection is refused while the admitted call is still open.
    const late = createAuthzClient(grpcAddress);
    clients.push(late);
    await expect(late.check(toolCall('get_issue'), 2000)).rejects.toMatchObject({ code: 14 });

    const { response, grpcStatus } = await inFlight.finish();
    expect(grpcStatus).toBe('0');
    expect(response?.status?.code).toBe(7);
    expect(reasonOf(response ?? {})).toBe('tool_not_allowed');

    const exit = await serve.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(graceMs);
    expect(serve.logs).not.toContainEqual(
      expect.objectContaining({ msg: 'grace period over; remaining calls were cut off' }),
    );
    expect(serve.logs).toContainEqual(expect.objectContaining({ msg: 'stopped' }));
  });

  test('a call that never completes is cut off when the grace period ends', async () => {
    const graceMs = 500;
    const { serve, grpcAddress } = await serveWith(['--shutdown-grace-ms', String(graceMs)]);
    const stuck = await halfSentCheck(grpcAddress, toolCall('get_issue'));
    const exit = await stopWith(serve, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeGreaterThanOrEqual(graceMs - 50);
    expect(exit.ms).toBeLessThan(WAIT_MS);
    await stuck.closed;
    expect(serve.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'grace period over; remaining calls were cut off',
        grace_ms: graceMs,
      }),
    );
  });
});

describe('overload', () => {
  test('beyond --max-pending-checks: an immediate overloaded deny (503), counted; the rest decided', async () => {
    const limit = 3;
    const sent = 40;
    const { serve, httpAddress, authz } = await serveWith(['--max-pending-checks', String(limit)]);
    // Stopped, the process cannot read; the burst waits in its socket and arrives at once.
    serve.child.kill('SIGSTOP');
    const answers = Array.from({ length: sent }, () => authz.check(toolCall('delete_repo')));
    serve.child.kill('SIGCONT');
    const responses = await Promise.all(answers);

    const reasons = responses.map(reasonOf);
    const overloaded = responses.filter((r) => reasonOf(r) === 'overloaded');
    expect(overloaded.length).toBeGreaterThan(0);
    expect(overloaded.length).toBeLessThanOrEqual(sent - limit);
    expect(new Set(reasons)).toEqual(new Set(['overloaded', 'tool_not_allowed']));
    for (const response of overloaded) {
      expect(response.status?.code).toBe(7);
      expect(response.denied_response?.status?.code).toBe('ServiceUnavailable');
      expect(response.denied_response?.body).toContain('busy');
    }
    expect(await metric(httpAddress, 'mcp_gate_checks_shed_total{cause="queue_full"}')).toBe(
      overloaded.length,
    );
    expect(
      await metric(
        httpAddress,
        'mcp_gate_decisions_total{decision="deny",reason="overloaded",server="none",tool="none",client="none"}',
      ),
    ).toBe(overloaded.length);
    await serve.waitForLog(
      'shed warning',
      (l) => l['level'] === 'warn' && l['cause'] === 'queue_full',
    );
    // Once the burst is worked off there is room again.
    expect(reasonOf(await authz.check(toolCall('delete_repo')))).toBe('tool_not_allowed');
  });
});

/**
 * Loaded with `node --import` before the service: on SIGUSR2 it makes the process reject a
 * promise nobody handles, or throw where nobody catches, as a bug anywhere in it would.
 */
function faultInjector(kind: 'rejection' | 'exception'): string {
  const fault =
    kind === 'rejection'
      ? `void Promise.reject(new Error('injected rejection'));`
      : `setImmediate(() => { throw new Error('injected exception'); });`;
  return `data:text/javascript,${encodeURIComponent(`process.on('SIGUSR2', () => { ${fault} });`)}`;
}

describe('faults nothing caught', () => {
  test('an unhandled rejection is logged and counted; the service keeps deciding', async () => {
    const { serve, httpAddress, authz } = await serveWith([], {
      nodeArgs: ['--import', faultInjector('rejection')],
    });
    serve.child.kill('SIGUSR2');
    const line = await serve.waitForLog('fault', (l) => l['fault'] === 'unhandled_rejection');
    expect(line).toMatchObject({
      level: 'error',
      msg: 'unhandled promise rejection; the service keeps running',
      err: expect.objectContaining({ type: 'Error', message: 'injected rejection' }),
    });
    expect(await metric(httpAddress, 'mcp_gate_errors_total{code="ERR_UNHANDLED_REJECTION"}')).toBe(
      1,
    );
    expect(reasonOf(await authz.check(toolCall('delete_repo')))).toBe('tool_not_allowed');
    const exit = await stopWith(serve, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  test('an uncaught exception is logged as fatal and the process exits 70', async () => {
    const { serve } = await serveWith([], { nodeArgs: ['--import', faultInjector('exception')] });
    serve.child.kill('SIGUSR2');
    const exit = await serve.exited;
    expect(exit).toEqual({ code: 70, signal: null });
    const line = await serve.waitForLog('fault', (l) => l['fault'] === 'uncaught_exception');
    expect(line).toMatchObject({
      level: 'fatal',
      msg: 'uncaught exception; exiting with code 70 so the service is restarted',
      err: expect.objectContaining({ message: 'injected exception' }),
    });
  });
});
