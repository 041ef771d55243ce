/**
 * `mcp-gate serve`: loads the allowlist, serves Check and health over gRPC and telemetry over
 * HTTP until SIGTERM/SIGINT; SIGHUP reloads the allowlist.
 *
 * With `--workers N` (N > 1) this process becomes the supervisor of N such services sharing the
 * gRPC port (src/cluster/primary.ts); each of them runs this same function as a cluster worker,
 * which serves no telemetry port of its own and tells the primary when it is ready.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { runPrimary } from '../cluster/primary.js';
import { answerDiscoveryRequests } from '../cluster/discovery-link.js';
import { clusterWorkerId, createWorkerRegistry, reportReady } from '../cluster/worker-link.js';
import { resolveServeConfig, SERVE_OPTIONS } from '../config/service-config.js';
import type { ServeConfig } from '../config/service-config.js';
import { ConfigError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { describeError, FAULT_MESSAGES, setFaultReporter } from '../process-faults.js';
import type { FaultKind } from '../process-faults.js';
import { startService } from '../service.js';
import { createLogOutput } from '../telemetry/log-output.js';
import { createLogger } from '../telemetry/logger.js';
import type { CliIo } from './io.js';

export const SERVE_USAGE = `usage: mcp-gate serve --allowlist FILE [options]

${Object.values(SERVE_OPTIONS)
  .map((o) => {
    const flag = `  --${o.flag} ${/^(allowlist|known-hosts|reviewers|grpc-tls-.*)$/.test(o.flag) ? 'FILE' : 'VALUE'}`;
    const def = o.default === undefined ? '' : ` (default ${o.default})`;
    return `${flag.padEnd(30)} ${o.help}${def}\n${''.padEnd(31)}env ${o.env}`;
  })
  .join('\n')}

Signals: SIGHUP reloads the allowlist (with the known-host and reviewers files, and the gRPC TLS files); SIGTERM/SIGINT stop gracefully.`;

/** The `mcp_gate_errors_total{code}` each process-level fault is counted under. */
const FAULT_ERROR_CODES: Readonly<Record<FaultKind, ErrorCode>> = {
  unhandled_rejection: 'ERR_UNHANDLED_REJECTION',
  uncaught_exception: 'ERR_UNCAUGHT_EXCEPTION',
};

/** Runs the service; resolves with the exit code once it has stopped. */
export async function runServe(args: string[], io: CliIo): Promise<number> {
  let config: ServeConfig;
  try {
    const { values } = parseArgs({
      args,
      options: {
        ...Object.fromEntries(
          Object.values(SERVE_OPTIONS).map((o) => [o.flag, { type: 'string' as const }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      io.stdout(`${SERVE_USAGE}\n`);
      return 0;
    }
    config = resolveServeConfig(values, io.env);
  } catch (err: unknown) {
    io.stderr(`${(err as Error).message}\n\n${SERVE_USAGE}\n`);
    return 2;
  }

  // One per process: under --workers the primary and every worker each bound their own lines.
  const output = createLogOutput({ maxBufferedBytes: config.logBufferBytes });
  if (config.workers > 1 && cluster.isPrimary) {
    return runPrimary(config, {
      logger: createLogger({ level: config.logLevel, destination: output }),
      io,
    });
  }
  const workerId = clusterWorkerId();
  const rootLogger = createLogger({ level: config.logLevel, destination: output });
  // Workers share stdout: each line says which one wrote it.
  const logger = workerId === undefined ? rootLogger : rootLogger.child({ worker: workerId });
  const registry = workerId === undefined ? new Registry() : createWorkerRegistry();
  collectDefaultMetrics({ register: registry });
  // Listening from before the start: without a listener a SIGTERM kills at once, and one that
  // arrives just after the service announced itself would leave its unix socket behind. A signal
  // during the start is acted on once the service is up.
  let pendingSignal: string | undefined;
  let onSignal = (signal: string): void => {
    pendingSignal ??= signal;
  };
  const onTerm = (): void => {
    onSignal('SIGTERM');
  };
  const onInt = (): void => {
    onSignal('SIGINT');
  };
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  let service;
  try {
    service = await startService(config, {
      logger,
      registry,
      now: Date.now,
      telemetry: workerId === undefined,
      claimSocket: workerId === undefined,
      droppedLogLines: () => output.dropped(),
      startPolicyWorker: io.startPolicyWorker,
    });
  } catch (err: unknown) {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    if (err instanceof ConfigError && err.code === 'ERR_CONFIG_INVALID') {
      // A setting that only start-up can check (the socket's group or mode): a usage error as
      // any other invalid flag is.
      io.stderr(`mcp-gate: not starting: ${err.message}\n`);
      logger.flush();
      return 2;
    }
    if (err instanceof ConfigError) {
      // Problems go out one per line as FILE:LINE:COL message, for editors and CI matchers.
      io.stderr(`${err.message}\nmcp-gate: not starting: the allowlist is invalid\n`);
    } else {
      io.stderr(`mcp-gate: ${(err as Error).message}\n`);
    }
    logger.flush();
    return 1;
  }

  const restoreFaultReporter = setFaultReporter((kind, error) => {
    service.metrics.recordError(FAULT_ERROR_CODES[kind]);
    // pino's err serializer keeps an Error's type, message and stack; anything else thrown is
    // logged as its description.
    const fields =
      error instanceof Error
        ? { fault: kind, err: error }
        : { fault: kind, err: describeError(error) };
    if (kind === 'uncaught_exception') logger.fatal(fields, FAULT_MESSAGES[kind]);
    else logger.error(fields, FAULT_MESSAGES[kind]);
  });

  if (workerId !== undefined) {
    answerDiscoveryRequests(service.discovery, Date.now);
    reportReady(service.grpcPort);
  }

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      // The grace period bounds the whole stop: checks in flight, then the buffered log lines
      // (what is still buffered at the deadline is left to the exit flush in log-output.ts).
      const deadlineMs = Date.now() + config.shutdownGraceMs;
      const finish = (code: number): void => {
        void output.drain(deadlineMs).then(() => {
          restoreFaultReporter();
          resolveExit(code);
        });
      };
      logger.info({ signal }, 'shutting down');
      service.stop().then(
        () => {
          logger.info('stopped');
          finish(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          finish(1);
        },
      );
    };
    onSignal = stop;
    if (pendingSignal !== undefined) stop(pendingSignal);
    process.on('SIGHUP', () => {
      void service.store.reload('SIGHUP');
      void service.tls?.reload('SIGHUP');
    });
  });
}
