/**
 * The two plain HTTP checks of `mcp-gate vet`, each one bounded request through http-client.ts:
 *
 * - probeHsts: a GET of the server's URL over HTTPS, for its `Strict-Transport-Security`
 *   header. Sent without the `--header` credential: an answer such as 401 carries the header
 *   as well, and the credential then goes nowhere but the MCP handshake.
 * - probePlaintext: the MCP `initialize` request POSTed to the same host and path over
 *   http:// (port 80 unless told otherwise). It carries no credential and nothing about the
 *   caller. A server that answers it with a JSON-RPC message speaks MCP in plaintext; refusing
 *   the connection, not answering, or redirecting to https:// are the good answers.
 *
 * Never throw: every outcome is a value.
 */
import { errorText, isTimeoutError } from './error-text.js';
import type { VetFetch } from './http-client.js';
import { parseHsts } from './hsts.js';
import type { Hsts } from './hsts.js';

export type HstsResult =
  | { readonly kind: 'present'; readonly value: string; readonly hsts: Hsts }
  | { readonly kind: 'invalid'; readonly value: string; readonly problem: string }
  | { readonly kind: 'missing'; readonly status: number }
  | { readonly kind: 'error'; readonly timeout: boolean; readonly message: string };

export type PlaintextResult =
  /** Nothing listens (connection refused or reset). */
  | { readonly kind: 'refused'; readonly message: string }
  /** Connected, but no response within the timeout (a filtering firewall looks the same). */
  | { readonly kind: 'no_answer'; readonly message: string }
  | { readonly kind: 'redirect_https'; readonly status: number; readonly location: string }
  /** An HTTP answer that is neither MCP nor a redirect to https. */
  | { readonly kind: 'http_answer'; readonly status: number; readonly location?: string }
  /** The initialize was answered with a JSON-RPC message: MCP over plaintext. */
  | { readonly kind: 'mcp_answer'; readonly status: number };

/** What the plaintext probe reads of a body before deciding it is not MCP. */
const PLAINTEXT_READ_BYTES = 64 * 1024;

/** GET url; the HSTS header of the answer. */
export async function probeHsts(fetch: VetFetch, url: URL): Promise<HstsResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json, text/event-stream' },
    });
  } catch (err: unknown) {
    return { kind: 'error', timeout: isTimeoutError(err), message: errorText(err) };
  }
  await response.body?.cancel();
  const value = response.headers.get('strict-transport-security');
  if (value === null) return { kind: 'missing', status: response.status };
  const parsed = parseHsts(value);
  return parsed.ok
    ? { kind: 'present', value, hsts: parsed.hsts }
    : { kind: 'invalid', value, problem: parsed.problem };
}

/** POSTs an initialize to `plainUrl` (an http:// URL); what came back. */
export async function probePlaintext(
  fetch: VetFetch,
  plainUrl: URL,
  timeoutMs: number,
  clientVersion: string,
): Promise<PlaintextResult> {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'mcp-gate-vet', version: clientVersion },
    },
  };
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(plainUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(initialize),
      signal,
    });
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') {
      return { kind: 'refused', message: errorText(err) };
    }
    return { kind: 'no_answer', message: errorText(err) };
  }
  const location = response.headers.get('location') ?? undefined;
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    if (location !== undefined && isHttpsTo(location, plainUrl)) {
      return { kind: 'redirect_https', status: response.status, location };
    }
    return {
      kind: 'http_answer',
      status: response.status,
      ...(location === undefined ? {} : { location }),
    };
  }
  const text = await readSome(response);
  return hasJsonRpcMessage(text)
    ? { kind: 'mcp_answer', status: response.status }
    : { kind: 'http_answer', status: response.status };
}

/** A redirect target that is https:// on the same host: where plaintext should send clients. */
function isHttpsTo(location: string, from: URL): boolean {
  try {
    const target = new URL(location, from);
    return target.protocol === 'https:' && target.hostname === from.hostname;
  } catch {
    return false;
  }
}

/**
 * Up to PLAINTEXT_READ_BYTES of the body, until it ends or holds a message. The probe's signal
 * ends a body that stalls (http-client.ts destroys the connection on abort).
 */
async function readSome(response: Response): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < PLAINTEXT_READ_BYTES && !hasJsonRpcMessage(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } catch {
    // A body that breaks off (or is cut by the deadline) is judged on what arrived.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return text;
}

/**
 * Whether the text holds a JSON-RPC response: the whole body as JSON, or one SSE `data:` line
 * (the two ways a Streamable HTTP server answers a POST).
 */
export function hasJsonRpcMessage(text: string): boolean {
  const candidates = [
    text,
    ...text
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5)),
  ];
  return candidates.some((candidate) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate);
    } catch {
      return false;
    }
    return (Array.isArray(parsed) ? parsed : [parsed]).some(
      (message: unknown) =>
        typeof message === 'object' &&
        message !== null &&
        'jsonrpc' in message &&
        message.jsonrpc === '2.0' &&
        ('result' in message || 'error' in message),
    );
  });
}
