/**
 * Keeps the gRPC listener's TLS credentials current without a restart: cert-manager renews a
 * Secret, kubelet swaps the volume's `..data` symlink, and the next handshake presents the new
 * certificate. The reload plumbing is the allowlist's (fs/last-good-reloader.ts): directory
 * watchers plus the periodic re-read (fs/reload-triggers.ts) and SIGHUP, coalesced.
 *
 * - Content that is already in force (a poll, a touch) is told by hash and changes nothing.
 * - New content is checked as a whole (tls-credentials.ts) before it reaches the server; open
 *   connections keep the credentials they were made with.
 * - Content that fails may be half-written (a copy of the certificate, then of the key): it is
 *   read again after `settleMs`, up to `settleAttempts` reads, before it is rejected. A rejection
 *   is logged once per content (never quoting it) and counted in
 *   `mcp_gate_errors_total{code="ERR_TLS_INVALID"}`; the last good credentials keep serving, and
 *   the next good content is taken up as any change is.
 */
import { LastGoodReloader } from '../fs/last-good-reloader.js';
import type { JudgedContent, ReloadRead } from '../fs/last-good-reloader.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { NO_ALPN_H2 } from './server.js';
import { checkTlsFiles, readTlsFiles } from './tls-credentials.js';
import type {
  GrpcTlsFiles,
  LoadedTlsCredentials,
  ServingCertificateInfo,
  TlsCredentials,
  TlsFileContents,
} from './tls-credentials.js';

export const TLS_LOADED = 'gRPC TLS certificate loaded';
export const TLS_RELOADED = 'gRPC TLS certificate reloaded';
export const TLS_RELOAD_REJECTED =
  'gRPC TLS files rejected; the last good certificate stays in force';

export interface TlsReloaderOptions {
  readonly files: GrpcTlsFiles;
  /** What the server was started with. */
  readonly initial: LoadedTlsCredentials;
  /** Hands new credentials to the server (GrpcServer.setTlsCredentials). */
  readonly apply: (credentials: TlsCredentials) => void;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  readonly watch: boolean;
  /** Periodic re-read; 0 = none. */
  readonly pollMs: number;
  readonly settleMs?: number | undefined;
  readonly settleAttempts?: number | undefined;
}

export class TlsReloader {
  private readonly options: TlsReloaderOptions;
  private readonly reloader: LastGoodReloader<LoadedTlsCredentials, string>;
  private serving: ServingCertificateInfo;

  constructor(options: TlsReloaderOptions) {
    this.options = options;
    this.serving = options.initial.serving;
    this.reloader = new LastGoodReloader({
      inForce: options.initial.hash,
      settleMs: options.settleMs,
      settleAttempts: options.settleAttempts,
      read: (judged) => readTls(options.files, judged),
      take: (loaded, trigger) => {
        options.apply(loaded.credentials);
        this.swap(loaded, trigger);
      },
      retrying: (trigger, attempt, error) => {
        options.logger.debug(
          { trigger, attempt, error },
          'gRPC TLS files not usable yet; reading them again after a pause',
        );
      },
      reject: (trigger, problem, attempts) => {
        this.reject(trigger, problem, attempts);
      },
      fault: (trigger, err) => {
        this.reject(trigger, `reload failed: ${String(err)}`, 1);
      },
    });
  }

  /** The serving certificate in force. */
  get current(): ServingCertificateInfo {
    return this.serving;
  }

  /** Reports the initial certificate and starts watching. */
  start(): void {
    this.announce(TLS_LOADED, 'startup', undefined);
    const { files, watch, pollMs, logger } = this.options;
    this.reloader.watch({
      files: [files.certPath, files.keyPath, files.clientCaPath].filter(
        (path): path is string => path !== undefined,
      ),
      what: 'gRPC TLS',
      watch,
      pollMs,
      logger,
    });
  }

  stop(): void {
    this.reloader.stop();
  }

  /** Reads the files again now (coalescing concurrent requests); never rejects. */
  reload(trigger: string): Promise<void> {
    return this.reloader.reload(trigger);
  }

  private swap(loaded: LoadedTlsCredentials, trigger: string): void {
    const previous = this.serving;
    this.serving = loaded.serving;
    this.announce(TLS_RELOADED, trigger, previous);
  }

  private announce(
    message: string,
    trigger: string,
    previous: ServingCertificateInfo | undefined,
  ): void {
    const { logger, metrics, now, files } = this.options;
    const serving = this.serving;
    metrics.recordTlsCertificate(serving.notAfterMs);
    logger.info(
      {
        trigger,
        cert: files.certPath,
        subject: serving.subject,
        serial: serving.serialNumber,
        sha256_fingerprint: serving.fingerprint256,
        not_after: new Date(serving.notAfterMs).toISOString(),
        previous_serial: previous?.serialNumber,
        client_certificates: files.clientCaPath === undefined ? 'not requested' : 'required',
      },
      message,
    );
    const nowMs = now();
    if (nowMs > serving.notAfterMs || nowMs < serving.notBeforeMs) {
      // Served all the same: refusing it would not make Envoy's handshakes succeed either.
      logger.warn(
        {
          cert: files.certPath,
          serial: serving.serialNumber,
          not_before: new Date(serving.notBeforeMs).toISOString(),
          not_after: new Date(serving.notAfterMs).toISOString(),
        },
        'the gRPC TLS certificate is not valid now; clients that verify it will refuse it',
      );
    }
  }

  private reject(trigger: string, problem: string, attempts: number): void {
    this.options.metrics.recordError('ERR_TLS_INVALID');
    this.options.logger.error(
      {
        trigger,
        attempts,
        error: problem,
        serving_serial: this.serving.serialNumber,
      },
      TLS_RELOAD_REJECTED,
    );
  }
}

/**
 * Reads the TLS files once and checks them as a whole (tls-credentials.ts). Files that were read
 * are known by their hash; unreadable ones by what went wrong.
 */
async function readTls(
  files: GrpcTlsFiles,
  judged: JudgedContent,
): Promise<ReloadRead<LoadedTlsCredentials, string>> {
  let contents: TlsFileContents | undefined;
  try {
    contents = await readTlsFiles(files);
    if (contents.hash === judged.inForce || contents.hash === judged.rejected) {
      return { kind: 'unchanged', hash: contents.hash };
    }
    const loaded = checkTlsFiles(files, contents);
    return { kind: 'good', value: loaded, hash: loaded.hash };
  } catch (err: unknown) {
    const problem = (err as Error).message;
    return { kind: 'bad', fingerprint: contents?.hash ?? problem, problem };
  }
}

/** At most one refused-handshake warning per this many ms; the rest go to debug. */
const HANDSHAKE_LOG_INTERVAL_MS = 10_000;

/**
 * Logs refused TLS handshakes for GrpcServer's onTlsClientError. Failures of TLS itself (no
 * client certificate, an unknown CA, a cleartext client, no ALPN h2) are what an operator needs to see when
 * Envoy cannot connect: a warning, rate-limited. Sockets that close mid-handshake (TCP probes,
 * port scans) are only debug lines.
 */
export function createTlsClientErrorLogger(logger: Logger): (err: Error) => void {
  let lastWarnMs = Number.NEGATIVE_INFINITY;
  return (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    const fields = { code, error: err.message };
    const nowMs = Date.now();
    const tlsItself = code === NO_ALPN_H2 || code?.startsWith('ERR_SSL_') === true;
    if (tlsItself && nowMs - lastWarnMs >= HANDSHAKE_LOG_INTERVAL_MS) {
      lastWarnMs = nowMs;
      logger.warn(fields, 'gRPC TLS handshake refused (further ones within 10 s are debug lines)');
      return;
    }
    logger.debug(fields, 'gRPC TLS handshake refused');
  };
}
