/**
 * Wires the running service: policy store (first load, watchers), gRPC server, telemetry HTTP
 * server. Used by `mcp-gate serve` and by the integration tests, which start the real thing
 * in-process on random ports.
 */
import type { Registry } from 'prom-client';
import type { StartPolicyWorker } from './config/policy-loader.js';
import { PolicyStore } from './config/policy-store.js';
import type { ServeConfig } from './config/service-config.js';
import { boundAddress, splitHostPort, unixSocketPath } from './net/listen-address.js';
import { readDiscoveryToken } from './discovery/endpoint.js';
import { registerDiscoveryGauge } from './discovery/gauge.js';
import { DiscoveryTable } from './discovery/table.js';
import { createEnvoyRenderer } from './envoy-render/keep-rendered.js';
import { createAuthzServer } from './envoy/server.js';
import type { AuthzServer } from './envoy/server.js';
import { AppError, ConfigError } from './errors.js';
import { loadTlsCredentials } from './grpc/tls-credentials.js';
import type { LoadedTlsCredentials } from './grpc/tls-credentials.js';
import { createTlsClientErrorLogger, TlsReloader } from './grpc/tls-reloader.js';
import {
  applySocketOwnership,
  claimUnixSocketPath,
  resolveGroup,
  UnixSocketError,
} from './grpc/unix-socket.js';
import { createTelemetryServer } from './telemetry/http.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';
import type { Metrics } from './telemetry/metrics.js';

export interface ServiceDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly now: () => number;
  /** Bind the telemetry HTTP listener (default true); a worker-mode primary serves it instead. */
  readonly telemetry?: boolean;
  /**
   * Before binding a unix socket, check its path and replace a stale socket (default true). A
   * worker-mode worker shares the socket its primary claimed before starting the workers: a
   * second worker would find the first one's live socket there.
   */
  readonly claimSocket?: boolean;
  /** Log lines the log output has dropped so far (log-output.ts), reported at every scrape. */
  readonly droppedLogLines?: () => number;
  /** How the allowlist reload thread starts (default: the compiled worker; see policy-loader.ts). */
  readonly startPolicyWorker?: StartPolicyWorker | undefined;
}

export interface RunningService {
  readonly store: PolicyStore;
  readonly metrics: Metrics;
  readonly authz: AuthzServer;
  /** Bound gRPC port (0 for a unix socket). */
  readonly grpcPort: number;
  /** Bound telemetry port (0 when `telemetry: false`). */
  readonly httpPort: number;
  /** Keeps the gRPC TLS credentials current; undefined for a cleartext listener. */
  readonly tls: TlsReloader | undefined;
  /** The shadow-MCP discovery table; undefined with --discovery-max-rows 0. */
  readonly discovery: DiscoveryTable | undefined;
  /** Stops accepting checks, lets in-flight ones finish within the grace period, closes all. */
  stop(): Promise<void>;
}

/** Loads the allowlist (throws ConfigError when invalid), then binds both listeners. */
export async function startService(
  config: ServeConfig,
  deps: ServiceDeps,
): Promise<RunningService> {
  const metrics = createMetrics(deps.registry);
  if (deps.droppedLogLines !== undefined) metrics.observeDroppedLogLines(deps.droppedLogLines);
  const store = new PolicyStore({
    allowlistPath: config.allowlistPath,
    knownHostsPath: config.knownHostsPath,
    reviewersPath: config.reviewersPath,
    limits: { maxBodyBytes: config.maxBodyBytes, maxBatchElements: config.maxBatchElements },
    logger: deps.logger,
    metrics,
    now: deps.now,
    watch: config.reloadWatch,
    startWorker: deps.startPolicyWorker,
  });
  await store.loadInitial();
  if (config.envoyRender !== undefined) {
    const renderer = createEnvoyRenderer(config.envoyRender, {
      logger: deps.logger,
      record: (result) => {
        metrics.recordEnvoyRender(result);
      },
    });
    store.onChange((snapshot) => void renderer.render(snapshot.policy));
    // Rendered before the listeners bind; a failure is logged and counted, never fatal.
    if (store.current !== undefined) await renderer.render(store.current.policy);
  }

  let tlsLoaded: LoadedTlsCredentials | undefined;
  if (config.grpcTls !== undefined) {
    try {
      tlsLoaded = await loadTlsCredentials(config.grpcTls);
    } catch (err: unknown) {
      // Not starting rather than serving cleartext: Envoy is configured for TLS, and a listener
      // it cannot use is the visible failure.
      throw new ConfigError('ERR_CONFIG_INVALID', `gRPC TLS: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  const discoveryConfig = config.discovery;
  if (discoveryConfig.tokenFile !== undefined) {
    try {
      // Checked now so a broken Secret mount stops the start instead of a first scrape.
      await readDiscoveryToken(discoveryConfig.tokenFile);
    } catch (err: unknown) {
      throw new ConfigError('ERR_CONFIG_INVALID', (err as Error).message, { cause: err });
    }
  }
  const discovery =
    discoveryConfig.maxRows > 0 ? new DiscoveryTable(discoveryConfig.maxRows) : undefined;
  if (discovery !== undefined) {
    registerDiscoveryGauge(deps.registry, discovery, discoveryConfig.gaugeTop);
  }

  const authz = createAuthzServer(
    { store, logger: deps.logger, metrics, now: deps.now, discovery },
    {
      maxPendingChecks: config.maxPendingChecks,
      ...(tlsLoaded === undefined
        ? {}
        : {
            tls: tlsLoaded.credentials,
            onTlsClientError: createTlsClientErrorLogger(deps.logger),
          }),
    },
  );
  let stopping = false;
  const telemetry = createTelemetryServer({
    registry: deps.registry,
    isReady: () => store.current !== undefined && !stopping,
    discovery:
      discoveryConfig.tokenFile === undefined || discovery === undefined
        ? undefined
        : {
            tokenFile: discoveryConfig.tokenFile,
            snapshot: () => Promise.resolve(discovery.snapshot(deps.now())),
          },
  });

  const socketPath = unixSocketPath(config.grpcListen);
  let gid: number | undefined;
  try {
    // An unknown group is a configuration mistake: found before anything is bound.
    if (config.grpcSocketGroup !== undefined) gid = await resolveGroup(config.grpcSocketGroup);
  } catch (err: unknown) {
    throw new ConfigError('ERR_CONFIG_INVALID', (err as Error).message, { cause: err });
  }

  let grpcPort: number;
  let httpPort = 0;
  try {
    if (socketPath !== undefined && deps.claimSocket !== false) {
      await claimUnixSocketPath(socketPath);
    }
    grpcPort = await authz.listen(config.grpcListen);
    if (socketPath !== undefined) {
      try {
        await applySocketOwnership(socketPath, { mode: config.grpcSocketMode, gid });
      } catch (err: unknown) {
        // Closing the listener removes the socket: none is left that Envoy cannot use.
        throw new ConfigError('ERR_CONFIG_INVALID', (err as Error).message, { cause: err });
      }
    }
    const http = splitHostPort(config.httpListen);
    if (http === undefined) throw new Error(`bad --http-listen ${config.httpListen}`);
    if (deps.telemetry !== false) httpPort = await telemetry.listen(http.host, http.port);
  } catch (err: unknown) {
    authz.forceShutdown();
    await telemetry.close();
    if (err instanceof ConfigError) throw err;
    const message = err instanceof UnixSocketError ? err.message : String(err);
    throw new AppError('ERR_LISTEN', `cannot listen: ${message}`, { cause: err });
  }
  store.startWatching(config.reloadPollMs);
  const tls =
    config.grpcTls === undefined || tlsLoaded === undefined
      ? undefined
      : new TlsReloader({
          files: config.grpcTls,
          initial: tlsLoaded,
          apply: (credentials) => {
            authz.setTlsCredentials(credentials);
          },
          logger: deps.logger,
          metrics,
          now: deps.now,
          watch: config.reloadWatch,
          pollMs: config.reloadPollMs,
        });
  tls?.start();
  deps.logger.info(
    {
      grpc: boundAddress(config.grpcListen, grpcPort),
      http: deps.telemetry === false ? undefined : boundAddress(config.httpListen, httpPort),
      allowlist: config.allowlistPath,
      known_hosts: config.knownHostsPath,
      reviewers: config.reviewersPath,
      grpc_tls: grpcTlsMode(config),
    },
    'mcp-gate listening',
  );

  return {
    store,
    metrics,
    authz,
    grpcPort,
    httpPort,
    tls,
    discovery,
    async stop() {
      stopping = true;
      store.stopWatching();
      tls?.stop();
      const { forced } = await authz.shutdown(config.shutdownGraceMs);
      if (forced) {
        deps.logger.warn(
          { grace_ms: config.shutdownGraceMs },
          'grace period over; remaining calls were cut off',
        );
      }
      await telemetry.close();
    },
  };
}

/** How the gRPC listener is secured, for the start-up line. */
export function grpcTlsMode(config: ServeConfig): 'off' | 'tls' | 'mtls' {
  if (config.grpcTls === undefined) return 'off';
  return config.grpcTls.clientCaPath === undefined ? 'tls' : 'mtls';
}
