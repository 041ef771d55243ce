/**
 * The node:http2 gRPC server (src/grpc/server.ts) on its own, speaking to a raw HTTP/2 client
 * (to see exact headers, trailers and odd framings) and to grpc-js (a real client's view:
 * deadlines, compression, percent-decoded messages, streaming).
 */
import http2 from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { GrpcServer } from '../../../src/grpc/server.js';
import type { GrpcCall, GrpcHandler } from '../../../src/grpc/server.js';
import { encodeGrpcMessage, GrpcStatus } from '../../../src/grpc/status.js';
import { parseGrpcTimeout } from '../../../src/grpc/timeout.js';

const ECHO = '/test.Echo/Unary';
const STREAM = '/test.Echo/Stream';
const HANG = '/test.Echo/Hang';
const THROW = '/test.Echo/Throw';

interface Harness {
  readonly server: GrpcServer;
  readonly address: string;
  readonly handlerErrors: unknown[];
  /** Calls the HANG handler has been given, in order. */
  readonly hanging: GrpcCall[];
  /** Resolves on the next call the HANG handler is given. */
  nextHanging(): Promise<GrpcCall>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(maxReceiveMessageBytes = 1024 * 1024): Promise<Harness> {
  const handlerErrors: unknown[] = [];
  const hanging: GrpcCall[] = [];
  let waiter: ((call: GrpcCall) => void) | undefined;
  const server = new GrpcServer({
    maxReceiveMessageBytes,
    onHandlerError: (err) => handlerErrors.push(err),
  });
  const echo: GrpcHandler = (message, call) => {
    call.respond(Buffer.concat([Buffer.from('echo:'), message]));
  };
  server.handle(ECHO, echo);
  server.handle(STREAM, (message, call) => {
    call.write(Buffer.from('one'));
    call.write(message);
    call.end(GrpcStatus.OK);
  });
  server.handle(HANG, (_message, call) => {
    hanging.push(call);
    waiter?.(call);
  });
  server.handle(THROW, () => {
    throw new Error('handler bug');
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => {
    server.forceShutdown();
  });
  return {
    server,
    address: `127.0.0.1:${String(port)}`,
    handlerErrors,
    hanging,
    nextHanging: () =>
      new Promise((resolve) => {
        waiter = resolve;
      }),
  };
}

function framed(message: Buffer, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

function session(address: string): ClientHttp2Session {
  const client = http2.connect(`http://${address}`);
  client.on('error', () => undefined);
  cleanups.push(() => {
    client.destroy();
  });
  return client;
}

interface RawReply {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
}

/** One request on a raw HTTP/2 stream; `body` chunks are written in order, then the stream ends. */
async function raw(
  address: string,
  headers: OutgoingHttpHeaders,
  body: readonly Buffer[] = [],
): Promise<RawReply> {
  const stream = session(address).request({
    ':method': 'POST',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  return new Promise((resolve, reject) => {
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      responseHeaders = h;
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    for (const chunk of body) stream.write(chunk);
    stream.end();
  });
}

/** grpc-status and grpc-message of a reply, from its trailers or (Trailers-Only) its headers. */
function statusOf(reply: RawReply): { code: number; message: string | undefined } {
  const source = reply.trailers ?? reply.headers;
  const message = source['grpc-message'];
  return {
    code: Number(source['grpc-status']),
    message: typeof message === 'string' ? decodeURIComponent(message) : undefined,
  };
}

function grpcClient(address: string, options: grpc.ChannelOptions = {}): grpc.Client {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), options);
  cleanups.push(() => {
    client.close();
  });
  return client;
}

function unary(
  client: grpc.Client,
  path: string,
  message: Buffer,
  options: grpc.CallOptions = {},
): Promise<Buffer> {
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      message,
      new grpc.Metadata(),
      options,
      (err, value) => {
        if (err !== null) reject(err);
        else if (value === undefined) reject(new Error('no value'));
        else resolve(value);
      },
    );
  });
}

describe('grpc-timeout', () => {
  test.each([
    ['200m', 200],
    ['1S', 1000],
    ['2M', 120_000],
    ['1H', 3_600_000],
    ['1500u', 1.5],
    ['99999999n', 99.999999],
  ])('%s is %d ms', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBeCloseTo(ms, 9);
  });

  test.each(['', 'm', '123456789m', '5x', ' 5m', '5m ', '-5m', '5 m', '1.5S', '5mm'])(
    '%j is rejected',
    (value) => {
      expect(parseGrpcTimeout(value)).toBeUndefined();
    },
  );
});

describe('grpc-message encoding', () => {
  test('printable ASCII passes; %, control bytes and UTF-8 are percent-encoded', () => {
    expect(encodeGrpcMessage('unknown service')).toBe('unknown service');
    expect(encodeGrpcMessage('50% done\r\nnext: é')).toBe('50%25 done%0D%0Anext: %C3%A9');
  });

  test('grpc-js decodes what we send back to the original text', async () => {
    const server = new GrpcServer({
      maxReceiveMessageBytes: 1024,
      onHandlerError: () => undefined,
    });
    const text = 'denied: 100% sure\nline two – ✓';
    server.handle(ECHO, (_message, call) => {
      call.end(GrpcStatus.NOT_FOUND, text);
    });
    const port = await server.listen('127.0.0.1:0');
    cleanups.push(() => {
      server.forceShutdown();
    });
    const failure = unary(grpcClient(`127.0.0.1:${String(port)}`), ECHO, Buffer.from('x'));
    await expect(failure).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: text });
  });
});

describe('unary calls', () => {
  test('a message is answered with headers, one framed message and grpc-status 0', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': ECHO }, [framed(Buffer.from('hi'))]);
    expect(reply.headers[':status']).toBe(200);
    expect(reply.headers['content-type']).toBe('application/grpc+proto');
    expect(reply.headers['grpc-accept-encoding']).toBe('identity,deflate,gzip');
    expect(reply.body).toEqual(framed(Buffer.from('echo:hi')));
    expect(reply.trailers?.['grpc-status']).toBe('0');
  });

  test('a message split over many DATA frames is reassembled', async () => {
    const h = await start();
    const message = Buffer.alloc(200_000, 0x61);
    const whole = framed(message);
    const parts = [whole.subarray(0, 3), whole.subarray(3, 70_000), whole.subarray(70_000)];
    const reply = await raw(h.address, { ':path': ECHO }, parts);
    expect(statusOf(reply).code).toBe(0);
    expect(reply.body.subarray(5).toString()).toBe(`echo:${message.toString()}`);
  });

  test('grpc-js as the client, with a deadline', async () => {
    const h = await start();
    const answer = await unary(grpcClient(h.address), ECHO, Buffer.from('x'), {
      deadline: Date.now() + 5000,
    });
    expect(answer.toString()).toBe('echo:x');
  });

  test('a gzip-compressing grpc-js client is understood', async () => {
    const h = await start();
    const client = grpcClient(h.address, {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    const message = Buffer.alloc(4096, 0x62);
    const answer = await unary(client, ECHO, message);
    expect(answer.toString()).toBe(`echo:${message.toString()}`);
  });

  test.each([
    ['gzip', (b: Buffer) => framed(gzipSync(b), 1), 'gzip', 0],
    ['deflate', (b: Buffer) => framed(deflateSync(b), 1), 'deflate', 0],
    [
      'a compressed flag without grpc-encoding',
      (b: Buffer) => framed(gzipSync(b), 1),
      undefined,
      13,
    ],
    ['identity with the compressed flag', (b: Buffer) => framed(b, 1), 'identity', 13],
    ['an encoding we do not have', (b: Buffer) => framed(b, 1), 'snappy', 12],
    ['corrupt gzip', (b: Buffer) => framed(b, 1), 'gzip', 13],
  ])('%s', async (_name, build, encoding, code) => {
    const h = await start();
    const headers: OutgoingHttpHeaders = { ':path': ECHO };
    if (encoding !== undefined) headers['grpc-encoding'] = encoding;
    const reply = await raw(h.address, headers, [build(Buffer.from('payload'))]);
    expect(statusOf(reply).code).toBe(code);
    if (code === 0) expect(reply.body.subarray(5).toString()).toBe('echo:payload');
  });

  test('a gzip bomb is refused at the receive limit, not inflated', async () => {
    const h = await start(64 * 1024);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const reply = await raw(h.address, { ':path': ECHO, 'grpc-encoding': 'gzip' }, [
      framed(bomb, 1),
    ]);
    expect(statusOf(reply)).toMatchObject({ code: 8 });
    expect(statusOf(reply).message).toMatch(/decompresses to more than 65536 bytes/);
  });

  test.each([
    ['no message', [], 12, /no request message/],
    ['two messages', [framed(Buffer.from('a')), framed(Buffer.from('b'))], 12, /second/],
    ['a cut prefix', [Buffer.from([0, 0, 0])], 13, /prefix/],
    ['a cut message', [framed(Buffer.from('abcdef')).subarray(0, 8)], 13, /inside a message/],
    ['a flag byte of 2', [framed(Buffer.from('a'), 2)], 13, /compressed-flag/],
  ])('%s: a gRPC error, the handler never runs', async (_name, body, code, message) => {
    const h = await start();
    const reply = await raw(h.address, { ':path': HANG }, body);
    expect(statusOf(reply).code).toBe(code);
    expect(statusOf(reply).message).toMatch(message);
    expect(reply.headers['grpc-status']).toBe(String(code)); // Trailers-Only
    expect(h.hanging).toHaveLength(0);
  });

  test('a message over the limit is refused from its prefix, before the rest arrives', async () => {
    const h = await start(1000);
    const stream = session(h.address).request({
      ':method': 'POST',
      ':path': HANG,
      'content-type': 'application/grpc',
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(1_000_000_000, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(2000)]));
    // The stream is left open: only the limit can end it.
    const headers = await new Promise<IncomingHttpHeaders>((resolve) => {
      stream.once('response', resolve);
    });
    stream.destroy();
    expect(headers['grpc-status']).toBe('8');
    expect(decodeURIComponent(String(headers['grpc-message']))).toBe(
      'Received message larger than max (1000000000 vs. 1000)',
    );
  });

  test('a handler that throws: INTERNAL, and the error is reported', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': THROW }, [framed(Buffer.from('x'))]);
    expect(statusOf(reply)).toEqual({ code: 13, message: 'Internal error' });
    expect(h.handlerErrors).toEqual([new Error('handler bug')]);
  });
});

describe('requests that are not calls we serve', () => {
  test('an unknown method: UNIMPLEMENTED, Trailers-Only', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': '/test.Echo/Nope' }, [framed(Buffer.from('x'))]);
    expect(reply.headers[':status']).toBe(200);
    expect(reply.headers['grpc-status']).toBe('12');
    expect(statusOf(reply).message).toBe(
      'The server does not implement the method /test.Echo/Nope',
    );
  });

  test('a content-type that is not gRPC: HTTP 415', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': ECHO, 'content-type': 'application/json' }, [
      Buffer.from('{}'),
    ]);
    expect(reply.headers[':status']).toBe(415);
    expect(reply.headers['grpc-status']).toBeUndefined();
  });

  test('a method other than POST: HTTP 405', async () => {
    const stream = session((await start()).address).request({
      ':method': 'GET',
      ':path': ECHO,
      'content-type': 'application/grpc',
    });
    const headers = await new Promise<IncomingHttpHeaders>((resolve) => {
      stream.once('response', resolve);
    });
    stream.destroy();
    expect(headers[':status']).toBe(405);
    expect(headers.allow).toBe('POST');
  });

  test('a malformed grpc-timeout: INTERNAL, the handler never runs', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': HANG, 'grpc-timeout': '5 seconds' }, [
      framed(Buffer.from('x')),
    ]);
    expect(statusOf(reply)).toEqual({
      code: 13,
      message: 'Invalid grpc-timeout value "5 seconds"',
    });
    expect(h.hanging).toHaveLength(0);
  });

  test('bytes that are not HTTP/2 close that connection only', async () => {
    const h = await start();
    const [host, port] = h.address.split(':');
    const socket = connect(Number(port), host);
    await new Promise<void>((resolve) => {
      socket.on('error', () => undefined);
      // Read what the server sends (its GOAWAY), or the socket never sees the end.
      socket.resume();
      socket.once('close', () => {
        resolve();
      });
      socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    const reply = await raw(h.address, { ':path': ECHO }, [framed(Buffer.from('ok'))]);
    expect(statusOf(reply).code).toBe(0);
  });
});

describe('deadlines and cancellation', () => {
  test('the deadline is grpc-timeout from arrival', async () => {
    const h = await start();
    const next = h.nextHanging();
    const before = Date.now();
    void raw(h.address, { ':path': HANG, 'grpc-timeout': '30S' }, [framed(Buffer.from('x'))]);
    const call = await next;
    expect(call.deadlineMs).toBeGreaterThanOrEqual(before + 30_000);
    expect(call.deadlineMs).toBeLessThanOrEqual(Date.now() + 30_000);
    call.respond(Buffer.from('late'));
  });

  test('without grpc-timeout there is no deadline', async () => {
    const h = await start();
    const next = h.nextHanging();
    void raw(h.address, { ':path': HANG }, [framed(Buffer.from('x'))]);
    const call = await next;
    expect(call.deadlineMs).toBe(Number.POSITIVE_INFINITY);
    call.respond(Buffer.from('done'));
  });

  test('an unanswered call past its deadline gets DEADLINE_EXCEEDED from the sweep', async () => {
    const h = await start();
    const reply = await raw(h.address, { ':path': HANG, 'grpc-timeout': '20m' }, [
      framed(Buffer.from('x')),
    ]);
    expect(statusOf(reply)).toEqual({ code: 4, message: 'Deadline exceeded' });
    // A late answer from the handler is dropped, not an error.
    h.hanging[0]?.respond(Buffer.from('too late'));
  });

  test('a client that resets the stream cancels the call, and onClose fires once', async () => {
    const h = await start();
    const next = h.nextHanging();
    const stream = session(h.address).request({
      ':method': 'POST',
      ':path': HANG,
      'content-type': 'application/grpc',
    });
    stream.on('error', () => undefined);
    stream.end(framed(Buffer.from('x')));
    const call = await next;
    expect(call.cancelled).toBe(false);
    let closes = 0;
    const closed = new Promise<void>((resolve) => {
      call.onClose(() => {
        closes += 1;
        resolve();
      });
    });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    expect(call.cancelled).toBe(true);
    call.respond(Buffer.from('nobody listens'));
    expect(closes).toBe(1);
  });
});

describe('answers to calls whose connection is gone', () => {
  test('respond, write and end after the client destroyed its connection: no throw, the server serves on', async () => {
    const h = await start();
    const calls = [h.nextHanging()];
    const client = session(h.address);
    const stream = client.request({
      ':method': 'POST',
      ':path': HANG,
      'content-type': 'application/grpc',
    });
    stream.on('error', () => undefined);
    stream.end(framed(Buffer.from('x')));
    const [call] = await Promise.all(calls);
    const closed = new Promise<void>((resolve) => {
      call?.onClose(resolve);
    });
    client.destroy();
    await closed;
    expect(() => {
      call?.write(Buffer.from('a'));
      call?.respond(Buffer.from('b'));
      call?.end(GrpcStatus.INTERNAL, 'c');
    }).not.toThrow();
    const reply = await raw(h.address, { ':path': ECHO }, [framed(Buffer.from('still here'))]);
    expect(reply.body.subarray(5).toString()).toBe('echo:still here');
  });
});

describe('server streaming', () => {
  test('messages then an OK status, seen by grpc-js', async () => {
    const h = await start();
    const identity = (bytes: Buffer): Buffer => bytes;
    const received: string[] = [];
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const call = grpcClient(h.address).makeServerStreamRequest(
        STREAM,
        identity,
        identity,
        Buffer.from('two'),
      );
      call.on('data', (message: Buffer) => received.push(message.toString()));
      call.on('status', resolve);
      call.on('error', () => undefined);
    });
    expect(received).toEqual(['one', 'two']);
    expect(status.code).toBe(grpc.status.OK);
  });
});

describe('shutdown', () => {
  test('an open call is answered within the grace period; new calls are refused', async () => {
    const h = await start();
    const next = h.nextHanging();
    const client = session(h.address);
    const pending = new Promise<RawReply>((resolve) => {
      const stream = client.request({
        ':method': 'POST',
        ':path': HANG,
        'content-type': 'application/grpc',
      });
      const chunks: Buffer[] = [];
      let trailers: IncomingHttpHeaders | undefined;
      stream.on('trailers', (t) => {
        trailers = t;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        resolve({ headers: {}, trailers, body: Buffer.concat(chunks) });
      });
      stream.end(framed(Buffer.from('x')));
    });
    const call = await next;
    const goaway = new Promise<void>((resolve) =>
      client.once('goaway', () => {
        resolve();
      }),
    );
    const stopped = h.server.shutdown(10_000);
    await goaway;
    // After GOAWAY the client cannot open streams on this connection, nor connect anew.
    await expect(raw(h.address, { ':path': ECHO }, [framed(Buffer.from('y'))])).rejects.toThrow();
    call.respond(Buffer.from('answered'));
    const reply = await pending;
    expect(reply.body.subarray(5).toString()).toBe('answered');
    expect(reply.trailers?.['grpc-status']).toBe('0');
    await expect(stopped).resolves.toEqual({ forced: false });
  });

  test('a call still open when the grace period ends is cut, and shutdown says so', async () => {
    const h = await start();
    const next = h.nextHanging();
    const closed = raw(h.address, { ':path': HANG }, [framed(Buffer.from('x'))]).catch(
      (err: unknown) => err,
    );
    await next;
    await expect(h.server.shutdown(50)).resolves.toEqual({ forced: true });
    await closed;
  });

  test('a server that never listened shuts down at once', async () => {
    const server = new GrpcServer({ maxReceiveMessageBytes: 10, onHandlerError: () => undefined });
    await expect(server.shutdown(10_000)).resolves.toEqual({ forced: false });
  });
});
