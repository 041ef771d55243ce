/**
 * What `mcp-gate vet` saw (run.ts fills it in; findings.ts, report.ts and draft.ts read it), in
 * a module of its own that imports only types, so the command's judging and printing do not
 * load the MCP SDK. Pure.
 */
import type { HstsResult, PlaintextResult } from './http-probes.js';
import type { HandshakeResult } from './mcp-handshake.js';
import type { TlsReport } from './tls-probe.js';

export interface VetOptions {
  /** The server's https:// URL. */
  readonly url: URL;
  readonly ca?: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  /** Request headers for the MCP handshake only (`--header`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The port the plaintext probe tries (80 by default). */
  readonly plainPort: number;
  readonly now: Date;
  readonly clientVersion: string;
}

/** A step that was not run, and why. */
export interface Skipped {
  readonly skipped: string;
}

export interface VetResult {
  readonly url: URL;
  readonly plainUrl: URL;
  readonly checkedAt: Date;
  readonly insecure: boolean;
  readonly tls: TlsReport;
  readonly hsts: HstsResult | Skipped;
  readonly plaintext: PlaintextResult;
  readonly mcp: HandshakeResult | Skipped;
}

/** Whether a step was skipped. */
export function isSkipped(step: object): step is Skipped {
  return 'skipped' in step;
}
