/**
 * A gRPC server on node:http2 for the two call shapes mcp-gate serves: unary (Authorization/Check,
 * Health/Check) and server-streaming (Health/Watch). Messages are bytes; the handlers decode and
 * encode them.
 *
 * Why not grpc-js's server: it spends about 22 µs of CPU per call on its own machinery
 * (interceptor chain, metadata objects, per-call timers, promise-based decompression), as much
 * as our whole inspection and policy; a bare node:http2 responder answers twice as many calls
 * per second (docs/performance.md). grpc-js stays our client in tests and tools.
 *
 * Protocol (docs/wire/grpc.md), with grpc-js's status codes where the spec leaves a choice:
 * - POST only (405 otherwise); a content-type not starting with `application/grpc` gets HTTP 415;
 *   an unknown path UNIMPLEMENTED; a malformed `grpc-timeout` INTERNAL.
 * - Exactly one request message (request-message.ts), at most `maxReceiveMessageBytes`;
 *   gzip/deflate messages are inflated.
 * - Answers are `:status 200`, `content-type: application/grpc+proto`, the message, then the
 *   `grpc-status` trailer; errors before any message are Trailers-Only.
 * - A call whose deadline passes before it is answered gets DEADLINE_EXCEEDED from a sweep that
 *   runs every DEADLINE_SWEEP_MS. Clients (Envoy included) cancel at their own deadline; the
 *   sweep only frees calls from clients that do not.
 * - Shutdown: stop accepting, GOAWAY every connection, let open calls finish, and after the grace
 *   period destroy what is left.
 * - TLS (optional): HTTP/2 over TLS negotiated by ALPN `h2`, never HTTP/1.1. With a client CA,
 *   every connection must present a certificate it issued; others fail the handshake. New
 *   credentials (setTlsCredentials) apply to new handshakes; open connections keep theirs.
 */
import http2 from 'node:http2';
import type {
  Http2SecureServer,
  Http2Server,
  Http2Session,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { splitHostPort, unixSocketPath } from '../net/listen-address.js';
import {
  ACCEPTED_ENCODINGS,
  PREFIX_BYTES,
  exceedsLimit,
  oversizedBody,
  readRequestMessage,
} from './request-message.js';
import { encodeGrpcMessage, GrpcStatus } from './status.js';
import type { GrpcStatusCode } from './status.js';
import { parseGrpcTimeout } from './timeout.js';
import type { TlsCredentials } from './tls-credentials.js';

/** How often calls past their deadline are looked for. */
const DEADLINE_SWEEP_MS = 1000;
/** The code of the error onTlsClientError gets for a TLS client that did not negotiate h2. */
export const NO_ALPN_H2 = 'ERR_GRPC_TLS_NO_ALPN_H2';
/** A TLS client has this long to finish its handshake (node's default is 120 s per socket). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

const {
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_STATUS,
  NGHTTP2_CANCEL,
} = http2.constants;

// Shared header objects: node copies what it sends, so one object serves every call.
const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  [HTTP2_HEADER_STATUS]: 200,
  [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
  'grpc-accept-encoding': ACCEPTED_ENCODINGS,
  'grpc-encoding': 'identity',
});
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

/** One call; handlers answer through it. Answers after the first (or after a cancel) are dropped. */
export interface GrpcCall {
  /** Epoch ms by which the client wants an answer; Infinity without `grpc-timeout`. */
  readonly deadlineMs: number;
  /** The client went away (RST_STREAM or connection closed) before the call was answered. */
  readonly cancelled: boolean;
  /** Unary: answers OK with this message. */
  respond(message: Buffer): void;
  /** Streaming: sends one message (response headers first, once). */
  write(message: Buffer): void;
  /** Ends the call with a status (Trailers-Only when nothing was sent yet). */
  end(code: GrpcStatusCode, details?: string): void;
  /** Called once when the stream closes, answered or not. */
  onClose(listener: () => void): void;
}

/** Handles a call's decoded-to-bytes request message. May answer later; must not throw. */
export type GrpcHandler = (message: Buffer, call: GrpcCall) => void;

export interface GrpcServerOptions {
  readonly maxReceiveMessageBytes: number;
  /** Told about handler exceptions (the call is answered INTERNAL). */
  readonly onHandlerError: (err: unknown, path: string) => void;
  /** Serve TLS with these credentials; absent, cleartext HTTP/2 (h2c with prior knowledge). */
  readonly tls?: TlsCredentials;
  /** Told about each refused TLS handshake (no client certificate, wrong CA, not TLS at all). */
  readonly onTlsClientError?: (err: Error) => void;
}

/** Frames a message: flag 0 (not compressed), 4-byte big-endian length, the bytes. */
function frame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  sendTrailers(this, OK_TRAILERS);
}

function sendTrailers(stream: ServerHttp2Stream, trailers: OutgoingHttpHeaders): void {
  try {
    stream.sendTrailers(trailers);
  } catch {
    // Runs inside a node event: a throw here would end the process. A reset tells the client.
    stream.destroy();
  }
}

/**
 * Runs a stream operation; if node refuses it (the stream died in between), resets the stream
 * instead of throwing into whoever answered: the client sees a failed call, never a crash here.
 */
function attempt(stream: ServerHttp2Stream, operation: () => void): void {
  try {
    operation();
  } catch {
    stream.destroy();
  }
}

function ignore(): void {
  // Stream and session errors are followed by 'close', which is where calls are cleaned up.
}

class Call implements GrpcCall {
  readonly deadlineMs: number;
  private readonly stream: ServerHttp2Stream;
  private readonly encoding: string | undefined;
  private readonly handler: GrpcHandler;
  private readonly server: GrpcServer;
  private readonly path: string;
  private chunks: Buffer[] = [];
  private received = 0;
  private headersSent = false;
  /** A status (or the unary answer) has been sent; nothing more will be. */
  private finished = false;
  private closeListener: (() => void) | undefined;

  constructor(
    server: GrpcServer,
    stream: ServerHttp2Stream,
    path: string,
    handler: GrpcHandler,
    deadlineMs: number,
    encoding: string | undefined,
  ) {
    this.server = server;
    this.stream = stream;
    this.path = path;
    this.handler = handler;
    this.deadlineMs = deadlineMs;
    this.encoding = encoding;
    stream.on('data', (chunk: Buffer) => {
      this.receive(chunk);
    });
    stream.on('end', () => {
      this.requestEnded();
    });
    stream.once('close', () => {
      this.closed();
    });
  }

  get cancelled(): boolean {
    return !this.finished && (this.stream.destroyed || this.stream.closed);
  }

  private receive(chunk: Buffer): void {
    if (this.finished) return;
    this.received += chunk.length;
    this.chunks.push(chunk);
    if (exceedsLimit(this.received, this.server.options.maxReceiveMessageBytes)) {
      // Only the prefix decides why: copy those bytes, not the whole body.
      const prefix = Buffer.concat(this.chunks, PREFIX_BYTES);
      this.chunks = [];
      const refused = oversizedBody(prefix, this.server.options.maxReceiveMessageBytes);
      this.end(refused.code, refused.details);
    }
  }

  private requestEnded(): void {
    if (this.finished) return;
    const [first] = this.chunks;
    const body =
      this.chunks.length === 1 && first !== undefined ? first : Buffer.concat(this.chunks);
    this.chunks = [];
    const read = readRequestMessage(
      body,
      this.encoding,
      this.server.options.maxReceiveMessageBytes,
    );
    if (!read.ok) {
      this.end(read.code, read.details);
      return;
    }
    try {
      this.handler(read.message, this);
    } catch (err: unknown) {
      this.server.options.onHandlerError(err, this.path);
      this.end(GrpcStatus.INTERNAL, 'Internal error');
    }
  }

  private closed(): void {
    this.server.forget(this);
    const listener = this.closeListener;
    this.closeListener = undefined;
    listener?.();
  }

  respond(message: Buffer): void {
    if (this.finished || this.stream.closed || this.stream.destroyed) return;
    this.finished = true;
    const stream = this.stream;
    attempt(stream, () => {
      stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      stream.once('wantTrailers', sendOkTrailers);
      stream.end(frame(message));
    });
  }

  write(message: Buffer): void {
    if (this.finished || this.stream.closed || this.stream.destroyed) return;
    const stream = this.stream;
    attempt(stream, () => {
      if (!this.headersSent) {
        this.headersSent = true;
        stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      }
      stream.write(frame(message));
    });
  }

  end(code: GrpcStatusCode, details = ''): void {
    if (this.finished || this.stream.closed || this.stream.destroyed) return;
    this.finished = true;
    const trailers: OutgoingHttpHeaders = { 'grpc-status': String(code) };
    if (details !== '') trailers['grpc-message'] = encodeGrpcMessage(details);
    const stream = this.stream;
    attempt(stream, () => {
      if (this.headersSent) {
        stream.once('wantTrailers', () => {
          sendTrailers(stream, trailers);
        });
        stream.end();
        return;
      }
      stream.respond({ ...RESPONSE_HEADERS, ...trailers }, { endStream: true });
    });
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
  }

  /** True when past its deadline and still unanswered (the caller ends it). */
  expired(nowMs: number): boolean {
    return !this.finished && nowMs >= this.deadlineMs;
  }
}

/** Answers a stream that is not a gRPC call we serve, without reading its body. */
function refuse(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders): void {
  stream.respond(headers, { endStream: true });
  // Anything the client still sends is discarded; the stream closes once both sides ended.
  stream.resume();
}

export class GrpcServer {
  readonly options: GrpcServerOptions;
  private readonly http: Http2Server | Http2SecureServer;
  private readonly routes = new Map<string, GrpcHandler>();
  private readonly sessions = new Set<Http2Session>();
  /** Calls that are open and carry a deadline, for the sweep. */
  private readonly timed = new Set<Call>();
  private sweep: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: GrpcServerOptions) {
    this.options = options;
    const settings = {
      // As grpc-js does: node's default 10 MB per-connection budget refuses streams under load
      // with large bodies; the check queue bounds the work we accept instead.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
    };
    const tls = options.tls;
    if (tls === undefined) {
      this.http = http2.createServer(settings);
    } else {
      const secure = http2.createSecureServer({
        ...settings,
        ...tls,
        allowHTTP1: false,
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1.2',
        requestCert: tls.ca !== undefined,
        rejectUnauthorized: true,
        handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      });
      // A TLS client that did not negotiate h2 is not a gRPC client: close it now rather than
      // after node's unknownProtocolTimeout, and say why (an Envoy cluster without
      // `alpn_protocols: [h2]` looks just like this).
      secure.on('unknownProtocol', (socket) => {
        socket.destroy();
        const err: NodeJS.ErrnoException = new Error(
          'the TLS client did not negotiate ALPN h2 (gRPC needs it)',
        );
        err.code = NO_ALPN_H2;
        options.onTlsClientError?.(err);
      });
      secure.on('tlsClientError', (err: Error) => {
        options.onTlsClientError?.(err);
      });
      this.http = secure;
    }
    this.http.on('session', (session) => {
      this.sessions.add(session);
      session.on('error', ignore);
      session.once('close', () => {
        this.sessions.delete(session);
      });
      if (this.closing) session.close();
    });
    this.http.on('sessionError', ignore);
    this.http.on('stream', (stream, headers) => {
      attempt(stream, () => {
        this.onStream(stream, headers);
      });
    });
  }

  /**
   * Replaces the TLS credentials for handshakes from now on; open connections keep theirs.
   * Whether client certificates are required is fixed when the server is created.
   */
  setTlsCredentials(credentials: TlsCredentials): void {
    if (!('setSecureContext' in this.http)) throw new Error('this gRPC server serves no TLS');
    this.http.setSecureContext(credentials);
  }

  /** Registers the handler for `/package.Service/Method`. */
  handle(path: string, handler: GrpcHandler): void {
    this.routes.set(path, handler);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', ignore);
    if (headers[HTTP2_HEADER_METHOD] !== 'POST') {
      refuse(stream, { [HTTP2_HEADER_STATUS]: 405, allow: 'POST' });
      return;
    }
    const contentType = headers[HTTP2_HEADER_CONTENT_TYPE];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      refuse(stream, { [HTTP2_HEADER_STATUS]: 415 });
      return;
    }
    const pathHeader = headers[HTTP2_HEADER_PATH];
    const path = typeof pathHeader === 'string' ? pathHeader : '';
    const handler = this.routes.get(path);
    if (handler === undefined) {
      refuse(stream, {
        ...RESPONSE_HEADERS,
        'grpc-status': String(GrpcStatus.UNIMPLEMENTED),
        'grpc-message': encodeGrpcMessage(`The server does not implement the method ${path}`),
      });
      return;
    }
    if (this.closing) {
      refuse(stream, {
        ...RESPONSE_HEADERS,
        'grpc-status': String(GrpcStatus.UNAVAILABLE),
        'grpc-message': 'server is shutting down',
      });
      return;
    }
    let deadlineMs = Number.POSITIVE_INFINITY;
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) {
      const ms = typeof timeout === 'string' ? parseGrpcTimeout(timeout) : undefined;
      if (ms === undefined) {
        refuse(stream, {
          ...RESPONSE_HEADERS,
          'grpc-status': String(GrpcStatus.INTERNAL),
          'grpc-message': encodeGrpcMessage(`Invalid grpc-timeout value "${String(timeout)}"`),
        });
        return;
      }
      deadlineMs = Date.now() + ms;
    }
    const encoding = headers['grpc-encoding'];
    const call = new Call(
      this,
      stream,
      path,
      handler,
      deadlineMs,
      typeof encoding === 'string' ? encoding : undefined,
    );
    if (deadlineMs !== Number.POSITIVE_INFINITY) this.timed.add(call);
  }

  /** @internal A call's stream closed. */
  forget(call: Call): void {
    this.timed.delete(call);
  }

  private sweepDeadlines(): void {
    const nowMs = Date.now();
    for (const call of this.timed) {
      if (call.expired(nowMs)) call.end(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded');
    }
  }

  /** Binds `host:port` or `unix:/path`; resolves with the bound port (0 for a unix socket). */
  listen(address: string): Promise<number> {
    return new Promise((resolvePort, reject) => {
      const onError = (err: Error): void => {
        reject(err);
      };
      this.http.once('error', onError);
      const bound = (): void => {
        this.http.off('error', onError);
        this.sweep = setInterval(() => {
          this.sweepDeadlines();
        }, DEADLINE_SWEEP_MS);
        this.sweep.unref();
        const address = this.http.address();
        resolvePort(typeof address === 'object' && address !== null ? address.port : 0);
      };
      const socketPath = unixSocketPath(address);
      if (socketPath !== undefined) {
        this.http.listen(socketPath, bound);
        return;
      }
      const hostPort = splitHostPort(address);
      if (hostPort === undefined) {
        reject(new Error(`bad gRPC listen address ${address}`));
        return;
      }
      this.http.listen(hostPort.port, hostPort.host, bound);
    });
  }

  /**
   * Stops accepting, sends GOAWAY on every connection and waits for open calls, at most
   * `graceMs`; then destroys what is left. Resolves with `forced: true` in that case.
   */
  shutdown(graceMs: number): Promise<{ forced: boolean }> {
    this.closing = true;
    return new Promise((resolveDone) => {
      let done = false;
      const force = setTimeout(() => {
        done = true;
        this.forceShutdown();
        resolveDone({ forced: true });
      }, graceMs);
      force.unref();
      this.stopListening(() => {
        if (done) return;
        clearTimeout(force);
        resolveDone({ forced: false });
      });
      for (const session of this.sessions) session.close();
    });
  }

  /** Closes the listener and every connection now, cancelling open calls. */
  forceShutdown(): void {
    this.closing = true;
    this.stopListening(ignore);
    for (const session of this.sessions) session.destroy(undefined, NGHTTP2_CANCEL);
  }

  private stopListening(callback: () => void): void {
    clearInterval(this.sweep);
    if (!this.http.listening) {
      // Never bound, or already closed: wait only for the connections still open.
      if (this.sessions.size === 0) {
        queueMicrotask(callback);
        return;
      }
      let left = this.sessions.size;
      for (const session of this.sessions) {
        session.once('close', () => {
          left -= 1;
          if (left === 0) callback();
        });
      }
      return;
    }
    this.http.close(() => {
      callback();
    });
  }
}
