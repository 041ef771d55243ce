/**
 * The MCP part of `mcp-gate vet`: a real handshake with the MCP SDK's own client
 * (@modelcontextprotocol/client, the v2 line), as an AI client would make it, then tools/list.
 *
 * The client negotiates in the SDK's `auto` mode: it probes with `server/discover` (2026-07-28)
 * and falls back to the 2025 `initialize` handshake when the server does not speak the new
 * era, so a server of either era is vetted with the revision real clients end up on.
 *
 * What it records: the revisions offered (the list the client is configured with), the one
 * negotiated, the era, serverInfo, capabilities, the tools with their annotations, and the
 * `mcp-protocol-version` header of every response (seen by the HTTP client's onResponse, before
 * the SDK reads the body). Bounds: the handshake and the whole tools/list walk each finish
 * within `timeoutMs` (as does every single request, in http-client.ts); tools/list stops after
 * MAX_TOOL_PAGES pages, and at most MAX_TOOLS tools are kept.
 * Never throws: a failure is returned as `error`, with what was learnt before it.
 *
 * The SDK writes a few notes straight to the console (console.warn when it drops a tool whose
 * x-mcp-header declaration is invalid, console.debug when a list verb has no capability).
 * While the handshake runs they are collected into `sdkMessages` instead: they name what the
 * server sent, so they belong in the report, which is redacted and keeps --json output JSON.
 */
import { format } from 'node:util';

import {
  Client,
  StreamableHTTPClientTransport,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/client';
import type { Tool } from '@modelcontextprotocol/client';

import { errorText, isTimeoutError } from './error-text.js';
import { createHttpClient } from './http-client.js';
import type { SeenResponse } from './http-client.js';

/**
 * The 2026-era revision the SDK's `auto` negotiation speaks. The SDK does not export its list
 * of modern revisions, so it is named here and given to the client explicitly, which also
 * makes the offered list exactly what the report says it is.
 */
const MODERN_REVISIONS = ['2026-07-28'] as const;

/** Every revision vet offers, newest first: the 2026 era, then the SDK's 2025-era list. */
export const OFFERED_REVISIONS: readonly string[] = [
  ...MODERN_REVISIONS,
  ...SUPPORTED_PROTOCOL_VERSIONS,
];

/** tools/list pages read before giving up on a server whose cursor never ends. */
export const MAX_TOOL_PAGES = 20;
/** Tools kept for the report and the draft. */
export const MAX_TOOLS = 1000;
/** Largest response body accepted from the server (the SDK servers' own request limit). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Responses whose headers are kept for the report. */
const MAX_SEEN_RESPONSES = 50;
/** SDK console messages kept, and the length each is cut to. */
const MAX_SDK_MESSAGES = 20;
const MAX_SDK_MESSAGE_LENGTH = 300;

/** A tool as the report shows it. */
export interface ToolSummary {
  readonly name: string;
  readonly title?: string;
  /** The server's own hints (MCP `ToolAnnotations`); claims, not guarantees. */
  readonly annotations: {
    readonly readOnlyHint?: boolean;
    readonly destructiveHint?: boolean;
    readonly idempotentHint?: boolean;
    readonly openWorldHint?: boolean;
  };
}

/** The `mcp-protocol-version` header of one response, absent or as sent. */
export interface ProtocolHeaderSeen {
  /** The JSON-RPC method the request carried, or the HTTP method when it carried none. */
  readonly request: string;
  readonly status: number;
  readonly value: string | null;
}

export interface HandshakeResult {
  readonly offered: readonly string[];
  readonly negotiated?: string;
  readonly era?: 'modern' | 'legacy';
  readonly server?: { readonly name: string; readonly version: string; readonly title?: string };
  readonly capabilities?: Readonly<Record<string, unknown>>;
  readonly tools?: readonly ToolSummary[];
  /** More tools than MAX_TOOLS were listed; the rest are not in `tools`. */
  readonly toolsTruncated: boolean;
  readonly protocolHeaders: readonly ProtocolHeaderSeen[];
  /** What the SDK wrote to the console during the handshake (see the header comment). */
  readonly sdkMessages: readonly string[];
  readonly error?: HandshakeError;
}

/** Why the handshake or tools/list did not complete. */
export interface HandshakeError {
  readonly kind: 'timeout' | 'failed';
  /** Which part failed: the handshake or tools/list. */
  readonly step: 'handshake' | 'tools/list';
  readonly message: string;
}

export interface HandshakeOptions {
  readonly url: URL;
  readonly ca?: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  /** Extra request headers (the `--header` credential). */
  readonly headers: Readonly<Record<string, string>>;
  /** mcp-gate's version, sent as the client's version in clientInfo. */
  readonly clientVersion: string;
}

/** Connects, lists the tools and closes; never throws. */
export async function runHandshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const sdkMessages: string[] = [];
  const restore = captureConsole(sdkMessages);
  try {
    return await handshake(options, sdkMessages);
  } finally {
    restore();
  }
}

async function handshake(
  options: HandshakeOptions,
  sdkMessages: readonly string[],
): Promise<HandshakeResult> {
  const protocolHeaders: ProtocolHeaderSeen[] = [];
  const http = createHttpClient({
    ca: options.ca,
    insecure: options.insecure,
    timeoutMs: options.timeoutMs,
    maxBodyBytes: MAX_BODY_BYTES,
    onResponse: (seen) => {
      if (protocolHeaders.length < MAX_SEEN_RESPONSES) protocolHeaders.push(headerSeen(seen));
    },
  });
  const client = new Client(
    { name: 'mcp-gate-vet', version: options.clientVersion },
    {
      supportedProtocolVersions: [...OFFERED_REVISIONS],
      versionNegotiation: { mode: 'auto' },
      listMaxPages: MAX_TOOL_PAGES,
    },
  );
  const transport = new StreamableHTTPClientTransport(options.url, {
    fetch: http.fetch,
    requestInit: { headers: { ...options.headers } },
  });
  const base = { offered: OFFERED_REVISIONS, toolsTruncated: false, protocolHeaders, sdkMessages };
  try {
    try {
      await client.connect(transport, {
        timeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err: unknown) {
      return { ...base, error: failure('handshake', err) };
    }
    const negotiated = client.getNegotiatedProtocolVersion();
    const era = client.getProtocolEra();
    const info = client.getServerVersion();
    const capabilities = client.getServerCapabilities();
    const learnt = {
      ...base,
      ...(negotiated === undefined ? {} : { negotiated }),
      ...(era === undefined ? {} : { era }),
      ...(info === undefined
        ? {}
        : {
            server: {
              name: info.name,
              version: info.version,
              ...(info.title === undefined ? {} : { title: info.title }),
            },
          }),
      ...(capabilities === undefined ? {} : { capabilities: { ...capabilities } }),
    };
    // Without the tools capability there is nothing to list (and the SDK would log to stdout).
    if (capabilities?.tools === undefined) return { ...learnt, tools: [] };
    let listed: Tool[];
    try {
      const result = await client.listTools(undefined, {
        timeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
        cacheMode: 'bypass',
      });
      listed = result.tools;
    } catch (err: unknown) {
      return { ...learnt, error: failure('tools/list', err) };
    }
    return {
      ...learnt,
      tools: listed.slice(0, MAX_TOOLS).map(toSummary),
      toolsTruncated: listed.length > MAX_TOOLS,
    };
  } finally {
    await closeQuietly(client, transport);
    http.close();
  }
}

/** Ends the session (a DELETE, when the server made one) and the client; errors are moot now. */
async function closeQuietly(
  client: Client,
  transport: StreamableHTTPClientTransport,
): Promise<void> {
  try {
    if (transport.sessionId !== undefined) await transport.terminateSession();
  } catch {
    // The server may not support ending sessions (405); the session then times out there.
  }
  try {
    await client.close();
  } catch {
    // Closing a transport whose connection already failed.
  }
}

/** Routes console.warn and console.debug into `into` until the returned function is called. */
function captureConsole(into: string[]): () => void {
  /* eslint-disable no-console -- the SDK's console notes are redirected, not written */
  const { warn, debug } = console;
  const collect = (...args: unknown[]): void => {
    if (into.length < MAX_SDK_MESSAGES) {
      into.push(format(...args).slice(0, MAX_SDK_MESSAGE_LENGTH));
    }
  };
  console.warn = collect;
  console.debug = collect;
  return () => {
    console.warn = warn;
    console.debug = debug;
  };
  /* eslint-enable no-console */
}

function headerSeen(seen: SeenResponse): ProtocolHeaderSeen {
  return {
    request: jsonRpcMethods(seen.requestBody) ?? seen.method,
    status: seen.status,
    value: seen.headers.get('mcp-protocol-version'),
  };
}

/** The method names in a JSON-RPC request body, or undefined when it has none. */
function jsonRpcMethods(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const methods = (Array.isArray(parsed) ? parsed : [parsed])
    .map((message: unknown) =>
      typeof message === 'object' && message !== null && 'method' in message
        ? message.method
        : undefined,
    )
    .filter((method): method is string => typeof method === 'string');
  return methods.length === 0 ? undefined : methods.join(',');
}

function toSummary(tool: Tool): ToolSummary {
  const hints = tool.annotations ?? {};
  const annotations: Record<string, boolean> = {};
  for (const key of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
    const value = (hints as Record<string, unknown>)[key];
    if (typeof value === 'boolean') annotations[key] = value;
  }
  return {
    name: tool.name,
    ...(typeof tool.title === 'string' ? { title: tool.title } : {}),
    annotations,
  };
}

function failure(step: HandshakeError['step'], err: unknown): HandshakeError {
  return { kind: isTimeoutError(err) ? 'timeout' : 'failed', step, message: errorText(err) };
}
