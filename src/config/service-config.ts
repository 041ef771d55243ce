/**
 * The service configuration of `mcp-gate serve`: flags, each mirrored by an environment variable
 * `MCP_GATE_<FLAG>` (flag wins), with defaults that fit a pod beside Envoy. Parsed once, frozen,
 * passed down; nothing else reads process.env.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseIssuer } from '../envoy-render/certificates.js';
import type { EnvoyRenderConfig } from '../envoy-render/keep-rendered.js';
import {
  DEFAULT_CA_BUNDLE,
  DEFAULT_CERTS_DIR,
  DEFAULT_DYNAMIC_DIR,
  DEFAULT_MCP_GATE_CLIENT_DIR,
} from '../envoy-render/layout.js';
import { ConfigError } from '../errors.js';
import type { GrpcTlsFiles } from '../grpc/tls-credentials.js';
import { isListenAddress, unixSocketPath } from '../net/listen-address.js';
import { DEFAULT_LOG_BUFFER_BYTES } from '../telemetry/log-output.js';

/**
 * The known-MCP-host list shipped in the package, found relative to this module (src/config or
 * dist/config) so that `node dist/main.js` works from any directory.
 */
export const BUNDLED_KNOWN_HOSTS: string = path.resolve(
  import.meta.dirname,
  '../../deploy/known-mcp-hosts.yaml',
);

/** `--known-hosts none`: run with no known-MCP-host list at all. */
export const NO_KNOWN_HOSTS = 'none';

export interface ServeConfig {
  readonly allowlistPath: string;
  /** undefined only with `--known-hosts none`; the default is BUNDLED_KNOWN_HOSTS. */
  readonly knownHostsPath: string | undefined;
  /**
   * The reviewers' trust file: with it an entry approves only with a valid signature by its
   * listed reviewer (src/config/review-signature.ts). Undefined: signatures are not checked.
   */
  readonly reviewersPath: string | undefined;
  /** `host:port`, `[v6]:port`, or `unix:/path` (grpc-js syntax). */
  readonly grpcListen: string;
  /** Mode set on the unix socket after bind; undefined leaves what the umask gave it. */
  readonly grpcSocketMode: number | undefined;
  /** Group (name or numeric gid) set on the unix socket after bind; undefined leaves it. */
  readonly grpcSocketGroup: string | undefined;
  /** gRPC over TLS (TCP listeners only); undefined serves cleartext HTTP/2. */
  readonly grpcTls: GrpcTlsFiles | undefined;
  /** `host:port` for /metrics, /healthz, /readyz. */
  readonly httpListen: string;
  readonly maxBodyBytes: number;
  readonly maxBatchElements: number;
  readonly logLevel: string;
  /** Bytes of log lines that may wait for stdout; beyond it lines are dropped and counted. */
  readonly logBufferBytes: number;
  /** How long in-flight checks may take to finish on SIGTERM before the server is forced down. */
  readonly shutdownGraceMs: number;
  /** Interval of the periodic re-read that backs up the file watcher. */
  readonly reloadPollMs: number;
  /** Watch the allowlist's directory; off, only the periodic re-read and SIGHUP reload. */
  readonly reloadWatch: boolean;
  /** Checks admitted and not yet answered; beyond it a check is denied `overloaded`. */
  readonly maxPendingChecks: number;
  /** Service processes sharing the gRPC port (src/cluster/primary.ts); 1 = no supervisor. */
  readonly workers: number;
  /** Re-render Envoy's interception config here after every load; undefined = never. */
  readonly envoyRender: EnvoyRenderConfig | undefined;
  /** Shadow-MCP discovery (src/discovery/, docs/discovery.md). */
  readonly discovery: DiscoveryConfig;
}

/** The discovery table's bounds and who may read it. */
export interface DiscoveryConfig {
  /** Bearer token file of GET /discovery; undefined = the endpoint answers 404. */
  readonly tokenFile: string | undefined;
  /** Rows the table keeps (Space-Saving); 0 records nothing. */
  readonly maxRows: number;
  /** Rows reported by mcp_gate_discovered_attempts. */
  readonly gaugeTop: number;
}

/** One serve option: flag name, env var, default, and how to parse it. */
interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly default: string | undefined;
}

export const SERVE_OPTIONS = {
  allowlist: {
    flag: 'allowlist',
    env: 'MCP_GATE_ALLOWLIST',
    help: 'allowlist YAML file (required)',
    default: undefined,
  },
  knownHosts: {
    flag: 'known-hosts',
    env: 'MCP_GATE_KNOWN_HOSTS',
    help: 'known-MCP-host list YAML file, or "none" for no list',
    default: BUNDLED_KNOWN_HOSTS,
  },
  reviewers: {
    flag: 'reviewers',
    env: 'MCP_GATE_REVIEWERS',
    help: "reviewers' trust file (names and ssh-ed25519 keys): entries need their reviewer's signature",
    default: undefined,
  },
  grpcListen: {
    flag: 'grpc-listen',
    env: 'MCP_GATE_GRPC_LISTEN',
    help: 'gRPC listener: HOST:PORT or unix:/path/to.sock',
    default: '127.0.0.1:9191',
  },
  grpcSocketMode: {
    flag: 'grpc-socket-mode',
    env: 'MCP_GATE_GRPC_SOCKET_MODE',
    help: 'mode of the unix:/path socket, octal like 0660 (default: as the umask makes it)',
    default: undefined,
  },
  grpcSocketGroup: {
    flag: 'grpc-socket-group',
    env: 'MCP_GATE_GRPC_SOCKET_GROUP',
    help: 'group of the unix:/path socket: a name from /etc/group or a numeric gid',
    default: undefined,
  },
  grpcTlsCert: {
    flag: 'grpc-tls-cert',
    env: 'MCP_GATE_GRPC_TLS_CERT',
    help: 'serve gRPC over TLS with this PEM certificate chain (needs --grpc-tls-key; re-read on change)',
    default: undefined,
  },
  grpcTlsKey: {
    flag: 'grpc-tls-key',
    env: 'MCP_GATE_GRPC_TLS_KEY',
    help: 'PEM private key of --grpc-tls-cert',
    default: undefined,
  },
  grpcTlsClientCa: {
    flag: 'grpc-tls-client-ca',
    env: 'MCP_GATE_GRPC_TLS_CLIENT_CA',
    help: 'PEM CA bundle: require client certificates it issued (mTLS); needs --grpc-tls-cert',
    default: undefined,
  },
  httpListen: {
    flag: 'http-listen',
    env: 'MCP_GATE_HTTP_LISTEN',
    help: 'HTTP listener for /metrics, /healthz, /readyz (and /discovery with a token file)',
    default: '0.0.0.0:9192',
  },
  maxBodyBytes: {
    flag: 'max-body-bytes',
    env: 'MCP_GATE_MAX_BODY_BYTES',
    help: 'largest decoded body inspected, in bytes',
    default: String(4 * 1024 * 1024),
  },
  maxBatch: {
    flag: 'max-batch',
    env: 'MCP_GATE_MAX_BATCH',
    help: 'largest JSON-RPC batch inspected, in messages',
    default: '1000',
  },
  logLevel: {
    flag: 'log-level',
    env: 'MCP_GATE_LOG_LEVEL',
    help: 'trace|debug|info|warn|error',
    default: 'info',
  },
  logBufferBytes: {
    flag: 'log-buffer-bytes',
    env: 'MCP_GATE_LOG_BUFFER_BYTES',
    help: 'log lines waiting for a slow stdout reader, in bytes; beyond it lines are dropped and counted',
    default: String(DEFAULT_LOG_BUFFER_BYTES),
  },
  shutdownGrace: {
    flag: 'shutdown-grace-ms',
    env: 'MCP_GATE_SHUTDOWN_GRACE_MS',
    help: 'grace period for in-flight checks on SIGTERM',
    default: '10000',
  },
  maxPendingChecks: {
    flag: 'max-pending-checks',
    env: 'MCP_GATE_MAX_PENDING_CHECKS',
    help: 'checks waiting at once; beyond it answer "overloaded"',
    default: '1000',
  },
  reloadPoll: {
    flag: 'reload-poll-ms',
    env: 'MCP_GATE_RELOAD_POLL_MS',
    help: 'periodic allowlist re-read (0 = off)',
    default: '30000',
  },
  reloadWatch: {
    flag: 'reload-watch',
    env: 'MCP_GATE_RELOAD_WATCH',
    help: 'watch the allowlist directory: on|off (off = re-read and SIGHUP only)',
    default: 'on',
  },
  workers: {
    flag: 'workers',
    env: 'MCP_GATE_WORKERS',
    help: 'service processes sharing the gRPC port: N or auto (one per CPU)',
    default: '1',
  },
  envoyRenderDir: {
    flag: 'envoy-render-dir',
    env: 'MCP_GATE_ENVOY_RENDER_DIR',
    help: "after every allowlist load, write Envoy's interception config here (as render-envoy --out)",
    default: undefined,
  },
  envoyDynamicDir: {
    flag: 'envoy-dynamic-dir',
    env: 'MCP_GATE_ENVOY_DYNAMIC_DIR',
    help: 'where Envoy reads the rendered files (render-envoy --dynamic-dir)',
    default: DEFAULT_DYNAMIC_DIR,
  },
  envoyCertsDir: {
    flag: 'envoy-certs-dir',
    env: 'MCP_GATE_ENVOY_CERTS_DIR',
    help: 'where Envoy finds <name>/tls.crt and tls.key (render-envoy --certs-dir)',
    default: DEFAULT_CERTS_DIR,
  },
  envoyCaBundle: {
    flag: 'envoy-ca-bundle',
    env: 'MCP_GATE_ENVOY_CA_BUNDLE',
    help: 'CAs Envoy verifies the real servers against (render-envoy --ca-bundle)',
    default: DEFAULT_CA_BUNDLE,
  },
  envoyMcpGateClientDir: {
    flag: 'envoy-mcp-gate-client-dir',
    env: 'MCP_GATE_ENVOY_MCP_GATE_CLIENT_DIR',
    help: "Envoy's client certificate for mcp-gate (render-envoy --mcp-gate-client-dir)",
    default: DEFAULT_MCP_GATE_CLIENT_DIR,
  },
  certManagerIssuer: {
    flag: 'cert-manager-issuer',
    env: 'MCP_GATE_CERT_MANAGER_ISSUER',
    help: 'also render certificates.yaml, cert-manager Certificates from this issuer',
    default: undefined,
  },
  certManagerIssuerKind: {
    flag: 'cert-manager-issuer-kind',
    env: 'MCP_GATE_CERT_MANAGER_ISSUER_KIND',
    help: 'Issuer or ClusterIssuer (default Issuer)',
    default: undefined,
  },
  discoveryTokenFile: {
    flag: 'discovery-token-file',
    env: 'MCP_GATE_DISCOVERY_TOKEN_FILE',
    help: 'serve GET /discovery to callers with the bearer token in this file (default: off, 404)',
    default: undefined,
  },
  discoveryMaxRows: {
    flag: 'discovery-max-rows',
    env: 'MCP_GATE_DISCOVERY_MAX_ROWS',
    help: 'servers the discovery table keeps (most-tried kept; 0 = record nothing)',
    default: '1000',
  },
  discoveryGaugeTop: {
    flag: 'discovery-gauge-top',
    env: 'MCP_GATE_DISCOVERY_GAUGE_TOP',
    help: 'most-tried servers reported in mcp_gate_discovered_attempts',
    default: '50',
  },
} as const satisfies Record<string, OptionSpec>;

/** The discovery table's largest size: under 8 KB a row at worst (docs/discovery.md). */
const MAX_DISCOVERY_ROWS = 20_000;

/** More worker processes than this is a typo, not a deployment. */
const MAX_WORKERS = 64;

export type ServeOptionName = keyof typeof SERVE_OPTIONS;

/** Resolves flags (as parsed by node:util parseArgs) and env vars into a frozen ServeConfig. */
export function resolveServeConfig(
  flags: Readonly<Partial<Record<string, string | boolean | undefined>>>,
  env: Readonly<Record<string, string | undefined>>,
): ServeConfig {
  const problems: string[] = [];
  const pick = (name: ServeOptionName): string | undefined => {
    const spec = SERVE_OPTIONS[name];
    const flag = flags[spec.flag];
    if (typeof flag === 'string') return flag;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return spec.default;
  };
  const integer = (name: ServeOptionName, min: number): number => {
    const raw = pick(name) ?? '';
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) {
      const spec = SERVE_OPTIONS[name];
      problems.push(
        `--${spec.flag} / ${spec.env} must be an integer >= ${min}, got ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };

  const allowlistPath = pick('allowlist');
  if (allowlistPath === undefined) {
    problems.push(`--allowlist / ${SERVE_OPTIONS.allowlist.env} is required`);
  }
  const grpcListen = pick('grpcListen') ?? '';
  if (!isListenAddress(grpcListen, true)) {
    problems.push(
      `--grpc-listen must be HOST:PORT or unix:/path, got ${JSON.stringify(grpcListen)}`,
    );
  }
  const isUnix = unixSocketPath(grpcListen) !== undefined;
  const socketModeRaw = pick('grpcSocketMode');
  let grpcSocketMode: number | undefined;
  if (socketModeRaw !== undefined) {
    // Permission bits only: setuid/setgid/sticky mean nothing on a socket.
    if (/^0?[0-7]{3}$/.test(socketModeRaw)) grpcSocketMode = Number.parseInt(socketModeRaw, 8);
    else {
      problems.push(
        `--grpc-socket-mode / ${SERVE_OPTIONS.grpcSocketMode.env} must be an octal mode like 0660, got ${JSON.stringify(socketModeRaw)}`,
      );
    }
  }
  const grpcSocketGroup = pick('grpcSocketGroup');
  if (
    grpcSocketGroup !== undefined &&
    !/^(\d{1,10}|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/.test(grpcSocketGroup)
  ) {
    problems.push(
      `--grpc-socket-group / ${SERVE_OPTIONS.grpcSocketGroup.env} must be a group name or a numeric gid, got ${JSON.stringify(grpcSocketGroup)}`,
    );
  }
  if (!isUnix && (socketModeRaw !== undefined || grpcSocketGroup !== undefined)) {
    // Silently ignoring them would leave an operator believing the socket is restricted.
    problems.push('--grpc-socket-mode and --grpc-socket-group need --grpc-listen unix:/path');
  }
  const grpcTls = resolveGrpcTls(pick, isUnix, problems);
  const knownHosts = pick('knownHosts');
  const httpListen = pick('httpListen') ?? '';
  if (!isListenAddress(httpListen, false)) {
    problems.push(`--http-listen must be HOST:PORT, got ${JSON.stringify(httpListen)}`);
  }
  const logLevel = pick('logLevel') ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    problems.push(
      `--log-level must be one of trace, debug, info, warn, error; got ${JSON.stringify(logLevel)}`,
    );
  }
  const reloadWatch = pick('reloadWatch') ?? 'on';
  if (reloadWatch !== 'on' && reloadWatch !== 'off') {
    problems.push(`--reload-watch must be on or off, got ${JSON.stringify(reloadWatch)}`);
  }
  const workersRaw = pick('workers') ?? '1';
  const workers =
    workersRaw === 'auto'
      ? Math.min(availableParallelism(), MAX_WORKERS)
      : /^\d+$/.test(workersRaw)
        ? Number(workersRaw)
        : Number.NaN;
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    problems.push(
      `--workers / ${SERVE_OPTIONS.workers.env} must be auto or an integer from 1 to ${MAX_WORKERS}, got ${JSON.stringify(workersRaw)}`,
    );
  }
  const envoyRender = resolveEnvoyRender(pick, problems);
  const discovery: DiscoveryConfig = Object.freeze({
    tokenFile: pick('discoveryTokenFile'),
    maxRows: integer('discoveryMaxRows', 0),
    gaugeTop: integer('discoveryGaugeTop', 0),
  });
  if (discovery.maxRows === 0 && discovery.tokenFile !== undefined) {
    // A token for a table that records nothing would serve an empty table as if all were well.
    problems.push('--discovery-token-file needs a discovery table: --discovery-max-rows is 0');
  }
  if (discovery.maxRows > MAX_DISCOVERY_ROWS) {
    problems.push(
      `--discovery-max-rows / ${SERVE_OPTIONS.discoveryMaxRows.env} must be at most ${MAX_DISCOVERY_ROWS}, got ${discovery.maxRows}`,
    );
  }
  const config: ServeConfig = {
    allowlistPath: allowlistPath ?? '',
    knownHostsPath: knownHosts === NO_KNOWN_HOSTS ? undefined : knownHosts,
    reviewersPath: pick('reviewers'),
    grpcListen,
    grpcSocketMode,
    grpcSocketGroup,
    grpcTls,
    httpListen,
    maxBodyBytes: integer('maxBodyBytes', 1),
    maxBatchElements: integer('maxBatch', 1),
    logLevel,
    // Below 64 KiB a burst of ordinary lines could be dropped with the reader keeping up.
    logBufferBytes: integer('logBufferBytes', 64 * 1024),
    shutdownGraceMs: integer('shutdownGrace', 0),
    reloadPollMs: integer('reloadPoll', 0),
    reloadWatch: reloadWatch === 'on',
    maxPendingChecks: integer('maxPendingChecks', 1),
    workers,
    envoyRender,
    discovery,
  };
  if (problems.length > 0) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `invalid serve configuration:\n  ${problems.join('\n  ')}`,
    );
  }
  return Object.freeze(config);
}

/** The TLS flags, which only make sense together and on a TCP listener. */
function resolveGrpcTls(
  pick: (name: ServeOptionName) => string | undefined,
  isUnix: boolean,
  problems: string[],
): GrpcTlsFiles | undefined {
  const certPath = pick('grpcTlsCert');
  const keyPath = pick('grpcTlsKey');
  const clientCaPath = pick('grpcTlsClientCa');
  const { grpcTlsCert: cert, grpcTlsKey: key, grpcTlsClientCa: ca } = SERVE_OPTIONS;
  if (certPath === undefined && keyPath === undefined) {
    if (clientCaPath !== undefined) {
      // Verifying clients needs a TLS listener: cleartext with a CA would verify nobody.
      problems.push(`--${ca.flag} / ${ca.env} needs --${cert.flag} and --${key.flag}`);
    }
    return undefined;
  }
  if (certPath === undefined) problems.push(`--${key.flag} / ${key.env} needs --${cert.flag}`);
  if (keyPath === undefined) problems.push(`--${cert.flag} / ${cert.env} needs --${key.flag}`);
  if (isUnix) {
    // The socket's mode and group decide who connects (--grpc-socket-mode/-group), and nothing
    // crosses a network: TLS there is a misplaced flag, most likely meant for a TCP address.
    problems.push(
      `--${cert.flag} serves TLS on a TCP listener; --grpc-listen unix:/path is guarded by --grpc-socket-mode and --grpc-socket-group instead`,
    );
  }
  if (certPath === undefined || keyPath === undefined) return undefined;
  return Object.freeze({ certPath, keyPath, clientCaPath });
}

/** `--envoy-render-dir` and the render options that go with it. */
function resolveEnvoyRender(
  pick: (name: ServeOptionName) => string | undefined,
  problems: string[],
): EnvoyRenderConfig | undefined {
  const issuer = parseIssuer(pick('certManagerIssuer'), pick('certManagerIssuerKind'));
  if (typeof issuer === 'string') problems.push(issuer);
  const outDir = pick('envoyRenderDir');
  if (outDir === undefined) {
    if (issuer !== undefined) problems.push('--cert-manager-issuer needs --envoy-render-dir');
    return undefined;
  }
  return Object.freeze({
    outDir,
    options: Object.freeze({
      dynamicDir: pick('envoyDynamicDir') ?? DEFAULT_DYNAMIC_DIR,
      certsDir: pick('envoyCertsDir') ?? DEFAULT_CERTS_DIR,
      caBundle: pick('envoyCaBundle') ?? DEFAULT_CA_BUNDLE,
      mcpGateClientDir: pick('envoyMcpGateClientDir') ?? DEFAULT_MCP_GATE_CLIENT_DIR,
      issuer: typeof issuer === 'string' ? undefined : issuer,
    }),
  });
}
