/**
 * Worker mode, `mcp-gate serve --workers N`: this process supervises N service processes that
 * share the gRPC port through node:cluster. It loads no allowlist and answers no Check; each
 * worker is a complete service (its own policy store, watchers and metrics).
 *
 * - Start: the first worker starts alone, so an invalid allowlist or a gRPC port in use is
 *   reported once (on the worker's stderr, which is this process's) and this process exits with
 *   the worker's code. The other workers start once the first is ready.
 * - Balance: cluster's round-robin policy, the default on Linux (this process accepts each
 *   connection and hands it to the next worker). It balances connections, not requests: a worker
 *   keeps every request of the connections it was given.
 * - Telemetry: this process serves --http-listen. /metrics merges the workers' registries
 *   (counters and histograms summed; what every worker holds alike, such as the allowlist in
 *   force, reported once), then adds `mcp_gate_worker_restarts_total`. /readyz is 200 only while
 *   all N workers are ready; /healthz while this process runs. /discovery merges the ready
 *   workers' tables (discovery-link.ts).
 * - Signals: SIGHUP goes to every ready worker, and each reloads (a worker still starting reads
 *   the files anyway). SIGTERM/SIGINT: /readyz fails, every worker gets SIGTERM and shuts down as
 *   a single process does; this process exits once all have exited, 0 when all exited cleanly.
 * - A worker that exits is logged at error level and replaced; until the replacement is ready,
 *   /readyz fails. Replacements that die before they are ready are retried after a growing
 *   delay (up to 10 s), so a broken allowlist on disk cannot become a fork storm. If this process
 *   dies, cluster ends the workers (they exit when their channel to the primary closes).
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Counter } from 'prom-client';
import type { PrometheusContentType } from 'prom-client';
import { boundAddress, splitHostPort, unixSocketPath } from '../net/listen-address.js';
import { claimUnixSocketPath, UnixSocketError } from '../grpc/unix-socket.js';
import { createTelemetryServer } from '../telemetry/http.js';
import type { Logger } from '../telemetry/logger.js';
import { gatherDiscovery } from './discovery-link.js';
import { isReadyMessage } from './worker-link.js';

/** First retry delay after a worker died before it was ready; doubles per failure in a row. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;
/** Beyond the workers' own grace period, how long a stop waits before SIGKILL. */
const FORCE_MARGIN_MS = 5_000;

/**
 * What the primary reads of the service configuration, declared here so that cluster/ does not
 * import config/: config/service-config.ts's ServeConfig fits it unchanged.
 */
export interface PrimaryConfig {
  readonly workers: number;
  readonly grpcListen: string;
  readonly httpListen: string;
  readonly allowlistPath: string;
  readonly knownHostsPath: string | undefined;
  readonly shutdownGraceMs: number;
  readonly discovery: { readonly tokenFile: string | undefined; readonly maxRows: number };
}

export interface PrimaryDeps {
  readonly logger: Logger;
  /** Where a failed start is reported (the CLI's stderr). */
  readonly io: { readonly stderr: (text: string) => void };
  /** Node flags for the workers (default: this process's own). */
  readonly execArgv?: readonly string[];
}

/** The workers' merged metrics, then this process's own. */
class ClusterRegistry extends AggregatorRegistry<PrometheusContentType> {
  override async metrics(): Promise<string> {
    const [workers, own] = await Promise.all([this.clusterMetrics(), super.metrics()]);
    return `${workers.trimEnd()}\n${own}`;
  }
}

type FirstOutcome = 'ready' | 'stopping' | { readonly code: number };

/** Runs the primary until SIGTERM/SIGINT (or a failed start); resolves with the exit code. */
export async function runPrimary(config: PrimaryConfig, deps: PrimaryDeps): Promise<number> {
  const { logger } = deps;
  const registry = new ClusterRegistry();
  const restarts = new Counter({
    name: 'mcp_gate_worker_restarts_total',
    help: 'Worker processes started to replace one that exited (--workers).',
    registers: [registry],
  });
  restarts.inc(0);

  const workers = new Map<number, { readonly worker: Worker; ready: boolean }>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let failuresInRow = 0;
  let exitCode = 0;
  let grpcPort = 0;
  let announced = false;
  let settleFirst: (outcome: FirstOutcome) => void = () => undefined;
  const first = new Promise<FirstOutcome>((resolve) => {
    settleFirst = resolve;
  });
  let settleStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    settleStopped = resolve;
  });

  const allReady = (): boolean =>
    workers.size === config.workers && [...workers.values()].every((w) => w.ready);

  const { tokenFile, maxRows } = config.discovery;
  const telemetry = createTelemetryServer({
    registry,
    isReady: () => phase === 'running' && allReady(),
    discovery:
      tokenFile === undefined || maxRows === 0
        ? undefined
        : {
            tokenFile,
            snapshot: () =>
              gatherDiscovery(
                [...workers.values()].filter((w) => w.ready).map((w) => w.worker),
                maxRows,
                Date.now(),
              ),
          },
  });
  const http = splitHostPort(config.httpListen);
  let httpPort: number;
  const socketPath = unixSocketPath(config.grpcListen);
  try {
    // Once, here: cluster binds the socket in this process for all workers, so a worker that
    // looked for a stale socket would find the live one of the workers before it.
    if (socketPath !== undefined) await claimUnixSocketPath(socketPath);
    if (http === undefined) throw new Error(`bad --http-listen ${config.httpListen}`);
    httpPort = await telemetry.listen(http.host, http.port);
  } catch (err: unknown) {
    const message = err instanceof UnixSocketError ? err.message : String(err);
    deps.io.stderr(`mcp-gate: cannot listen: ${message}\n`);
    return 1;
  }

  cluster.setupPrimary({ execArgv: [...(deps.execArgv ?? process.execArgv)] });

  const announceWhenReady = (): void => {
    if (announced || phase !== 'running' || !allReady()) return;
    announced = true;
    logger.info(
      {
        grpc: boundAddress(config.grpcListen, grpcPort),
        http: boundAddress(config.httpListen, httpPort),
        workers: config.workers,
        allowlist: config.allowlistPath,
        known_hosts: config.knownHostsPath,
      },
      'mcp-gate listening',
    );
  };

  const onExit = (
    worker: Worker,
    wasReady: boolean,
    code: number | null,
    signal: string | null,
  ) => {
    const fields = { worker: worker.id, pid: worker.process.pid, code, signal };
    if (phase === 'stopping') {
      // SIGTERM before a worker installed its handlers ends it by the signal: still a clean stop.
      if (code !== 0 && signal !== 'SIGTERM') {
        exitCode = 1;
        logger.error(fields, 'worker failed while stopping');
      }
      if (workers.size === 0) settleStopped();
      return;
    }
    if (phase === 'starting') {
      logger.error(fields, 'first worker exited before it was ready; not starting');
      settleFirst({ code: code === null || code === 0 ? 1 : code });
      return;
    }
    if (!wasReady) failuresInRow += 1;
    const delayMs =
      failuresInRow === 0
        ? 0
        : Math.min(RESTART_BASE_MS * 2 ** (failuresInRow - 1), RESTART_MAX_MS);
    logger.error(
      { ...fields, was_ready: wasReady, restart_in_ms: delayMs },
      'worker exited; starting a replacement',
    );
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (phase !== 'running') return;
      restarts.inc();
      fork();
    }, delayMs);
    restartTimers.add(timer);
  };

  const fork = (): void => {
    const worker = cluster.fork();
    const entry = { worker, ready: false };
    workers.set(worker.id, entry);
    // A send to a worker that is going away (a scrape, a handle) fails with EPIPE; unheard, that
    // error would end the primary and every worker with it. Its exit follows and is handled.
    worker.on('error', (err: unknown) => {
      logger.warn({ worker: worker.id, err }, 'cannot reach worker');
    });
    worker.on('message', (message: unknown) => {
      if (!isReadyMessage(message) || entry.ready) return;
      entry.ready = true;
      failuresInRow = 0;
      grpcPort = message.grpcPort;
      logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker ready');
      if (phase === 'starting') settleFirst('ready');
      announceWhenReady();
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      workers.delete(worker.id);
      onExit(worker, entry.ready, code, signal);
    });
  };

  const stop = (signal: string): void => {
    if (phase === 'stopping') return;
    const wasStarting = phase === 'starting';
    phase = 'stopping';
    logger.info({ signal, workers: workers.size }, 'shutting down');
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    for (const { worker } of workers.values()) worker.process.kill('SIGTERM');
    // A worker that ignores SIGTERM past its own grace period is ended.
    setTimeout(() => {
      for (const { worker } of workers.values()) {
        logger.warn({ worker: worker.id, pid: worker.process.pid }, 'worker did not stop; killed');
        worker.process.kill('SIGKILL');
      }
    }, config.shutdownGraceMs + FORCE_MARGIN_MS).unref();
    if (wasStarting) settleFirst('stopping');
    if (workers.size === 0) settleStopped();
  };
  const onTerm = (): void => {
    stop('SIGTERM');
  };
  const onInt = (): void => {
    stop('SIGINT');
  };
  const onHup = (): void => {
    for (const { worker, ready } of workers.values()) {
      if (ready) worker.process.kill('SIGHUP');
    }
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);

  try {
    fork();
    const outcome = await first;
    if (typeof outcome === 'object') return outcome.code;
    if (outcome === 'ready') {
      phase = 'running';
      for (let i = 1; i < config.workers; i++) fork();
    }
    await stopped;
    logger.info('stopped');
    return exitCode;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
    await telemetry.close();
    logger.flush();
  }
}
