/**
 * The one HTTP client of `mcp-gate vet`: a fetch over node:http and node:https that the HSTS
 * probe, the plaintext probe and the MCP SDK's transport all use, so every request vet makes
 * has the same trust, the same bounds and the same record of what came back.
 *
 * Why not the global fetch: Node's fetch cannot be given extra trusted CAs (`--ca`), a TLS
 * server name or a per-request deadline that covers connect and TLS, and it hides which
 * connection a response came from.
 *
 * Contract:
 * - Certificates are verified against Node's roots plus `ca`; an unverified certificate (or a
 *   host name it does not cover) ends the connection before a byte of HTTP is written, unless
 *   `insecure` is set.
 * - Every request is bounded: connect, TLS and the response headers within `timeoutMs` (then it
 *   fails with VetTimeoutError), and at most `maxBodyBytes` of body (then the body errors).
 *   The body itself may stream for longer (an SSE stream does); its reader bounds it.
 * - Redirects are not followed: the response is returned as it came.
 * - `onResponse` sees the status and headers of every response, before the body is read.
 * - close() destroys every socket still open, so nothing outlives the command.
 */
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

/** The fetch signature the MCP SDK's transports accept. */
export type VetFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** What a response looked like, for the report. */
export interface SeenResponse {
  readonly method: string;
  readonly url: URL;
  /** The request body as sent (the SDK's JSON-RPC text), to tell which message it answered. */
  readonly requestBody: string | undefined;
  readonly status: number;
  readonly headers: Headers;
}

export interface HttpClientOptions {
  /** Extra trusted CA certificates (PEM), added to Node's roots. */
  readonly ca?: string | undefined;
  /** Accept certificates that do not verify. */
  readonly insecure: boolean;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly onResponse?: (response: SeenResponse) => void;
}

export interface HttpClient {
  readonly fetch: VetFetch;
  /** Destroys every connection still open. */
  close(): void;
}

/** A step that did not finish within its deadline. */
export class VetTimeoutError extends Error {
  readonly step: string;

  constructor(step: string, timeoutMs: number) {
    super(`${step}: no answer within ${timeoutMs} ms`);
    this.name = 'VetTimeoutError';
    this.step = step;
  }
}

/** Statuses whose Response must have no body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** The TLS options of every verified connection vet opens, the probe's included. */
export function trustOptions(
  host: string,
  options: Pick<HttpClientOptions, 'ca' | 'insecure'>,
): { ca: string[]; rejectUnauthorized: boolean; servername?: string } {
  return {
    ca: options.ca === undefined ? [...rootCertificates] : [...rootCertificates, options.ca],
    rejectUnauthorized: !options.insecure,
    // SNI carries names only (RFC 6066 3); Node warns when given an address.
    ...(isIP(host) === 0 ? { servername: host } : {}),
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const sockets = new Set<{ destroy(): void }>();
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });

  const fetch: VetFetch = (input, init = {}) => {
    const url = new URL(input);
    const method = (init.method ?? 'GET').toUpperCase();
    const body = requestBody(init.body);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      return Promise.reject(new TypeError(`unsupported scheme ${url.protocol}`));
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const headers: OutgoingHttpHeaders = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);

    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      const request = (secure ? https : http).request({
        protocol: url.protocol,
        host,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        agent: secure ? httpsAgent : httpAgent,
        ...(secure ? trustOptions(host, options) : {}),
      });
      sockets.add(request);
      const deadline = setTimeout(() => {
        request.destroy(
          new VetTimeoutError(`${method} ${url.origin}${url.pathname}`, options.timeoutMs),
        );
      }, options.timeoutMs);
      const onAbort = (): void => {
        request.destroy(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(deadline);
      };
      request.once('error', (err) => {
        settle();
        signal?.removeEventListener('abort', onAbort);
        sockets.delete(request);
        reject(err);
      });
      request.once('response', (res) => {
        settle();
        sockets.add(res);
        const responseHeaders = toHeaders(res);
        options.onResponse?.({
          method,
          url,
          requestBody: body,
          status: res.statusCode ?? 0,
          headers: responseHeaders,
        });
        const status = res.statusCode ?? 502;
        const stream = NULL_BODY_STATUSES.has(status)
          ? null
          : boundedBody(res, options.maxBodyBytes, () => {
              sockets.delete(res);
              signal?.removeEventListener('abort', onAbort);
            });
        if (stream === null) {
          res.resume();
          sockets.delete(res);
        }
        resolve(
          new Response(stream, {
            status,
            statusText: res.statusMessage ?? '',
            headers: responseHeaders,
          }),
        );
      });
      request.end(body);
    });
  };

  return {
    fetch,
    close() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The request body as text: the SDK sends JSON strings; nothing else is needed. */
function requestBody(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  throw new TypeError('vet sends only text request bodies');
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('the request was aborted');
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** The response body as a web stream that errors once it passes `maxBytes`. */
function boundedBody(
  res: IncomingMessage,
  maxBytes: number,
  done: () => void,
): ReadableStream<Uint8Array> {
  let total = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) {
          res.destroy();
          done();
          controller.error(new Error(`the response body is larger than ${maxBytes} bytes`));
          return;
        }
        controller.enqueue(new Uint8Array(chunk));
      });
      res.once('end', () => {
        done();
        controller.close();
      });
      res.once('error', (err) => {
        done();
        controller.error(err);
      });
      // 'close' without 'end': the socket went away mid-body.
      res.once('close', () => {
        if (!res.complete) {
          done();
          try {
            controller.error(new Error('the connection closed before the response ended'));
          } catch {
            // Already closed or errored by one of the handlers above.
          }
        }
      });
    },
    cancel() {
      res.destroy();
      done();
    },
  });
}
