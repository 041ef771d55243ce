/**
 * Errors for startup, configuration and programmer faults. Policy outcomes are never exceptions:
 * they are Decisions. Every code is listed here and in the README.
 */

export const ERROR_CODES = {
  /** Flags or environment variables of `serve` are invalid. */
  ERR_CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  /** The allowlist or known-host file is missing, unreadable or invalid. */
  ERR_ALLOWLIST_INVALID: 'ERR_ALLOWLIST_INVALID',
  /** A CheckRequest given to `explain` is not valid proto3 JSON. */
  ERR_REQUEST_INVALID: 'ERR_REQUEST_INVALID',
  /** A listener could not be bound. */
  ERR_LISTEN: 'ERR_LISTEN',
  /** The Check handler failed unexpectedly (answered with a deny, reason internal_error). */
  ERR_CHECK_FAILED: 'ERR_CHECK_FAILED',
  /** Command-line usage error. */
  ERR_USAGE: 'ERR_USAGE',
  /** A promise rejection nothing handled; logged, and the service keeps running. */
  ERR_UNHANDLED_REJECTION: 'ERR_UNHANDLED_REJECTION',
  /** An exception nothing caught; logged, and the process exits with code 70. */
  ERR_UNCAUGHT_EXCEPTION: 'ERR_UNCAUGHT_EXCEPTION',
  /** A CA or certificate given to `issue-certs` is unusable or unsafe (the message says why). */
  ERR_CERT_INVALID: 'ERR_CERT_INVALID',
  /**
   * The gRPC TLS certificate, key or client CA cannot be used: at start-up mcp-gate does not
   * start; on a reload the last good certificate keeps serving (counted in mcp_gate_errors_total).
   */
  ERR_TLS_INVALID: 'ERR_TLS_INVALID',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class: a stable `code` plus an optional ES2022 `cause`. */
export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

/** Invalid configuration: flags, env vars, the allowlist. */
export class ConfigError extends AppError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}
