/**
 * The one request message of a unary or server-streaming call, out of the request body's
 * length-prefixed gRPC frames (docs/wire/grpc.md, Message framing): a compressed-flag byte (0 or
 * 1), a 4-byte big-endian length, the message. Exactly one frame is allowed; a compressed one is
 * inflated with the request's `grpc-encoding` (gzip or deflate), never beyond the receive limit.
 *
 * The status codes for a missing or second message follow grpc-js, which served these calls
 * before and whose behaviour clients may have come to expect.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { GrpcStatus } from './status.js';
import type { GrpcStatusCode } from './status.js';

export const PREFIX_BYTES = 5;

/** The encodings we inflate, as announced in `grpc-accept-encoding`. */
export const ACCEPTED_ENCODINGS = 'identity,deflate,gzip';

export type RequestMessage =
  | { readonly ok: true; readonly message: Buffer }
  | { readonly ok: false; readonly code: GrpcStatusCode; readonly details: string };

type RequestFailure = Extract<RequestMessage, { ok: false }>;

function failure(code: GrpcStatusCode, details: string): RequestFailure {
  return { ok: false, code, details };
}

/**
 * Whether a body of `received` bytes can still turn out valid: beyond one frame of the largest
 * allowed message it cannot, so the caller stops buffering and answers at once.
 */
export function exceedsLimit(received: number, maxMessageBytes: number): boolean {
  return received > maxMessageBytes + PREFIX_BYTES;
}

/**
 * Why a body larger than one allowed frame is refused, from its first PREFIX_BYTES bytes: the
 * message is too large, or there is a second one.
 */
export function oversizedBody(prefix: Buffer, maxMessageBytes: number): RequestFailure {
  if (prefix.length >= PREFIX_BYTES && prefix.readUInt32BE(1) > maxMessageBytes) {
    return tooLarge(prefix.readUInt32BE(1), maxMessageBytes);
  }
  return failure(GrpcStatus.UNIMPLEMENTED, 'Received a second request message');
}

function tooLarge(length: number, maxMessageBytes: number): RequestFailure {
  return failure(
    GrpcStatus.RESOURCE_EXHAUSTED,
    `Received message larger than max (${length} vs. ${maxMessageBytes})`,
  );
}

/** Reads the single message of a complete request body. */
export function readRequestMessage(
  body: Buffer,
  encoding: string | undefined,
  maxMessageBytes: number,
): RequestMessage {
  if (body.length === 0) {
    return failure(GrpcStatus.UNIMPLEMENTED, 'Received no request message');
  }
  if (body.length < PREFIX_BYTES) {
    return failure(GrpcStatus.INTERNAL, 'Request ended inside a message prefix');
  }
  const flag = body[0];
  const length = body.readUInt32BE(1);
  if (flag !== 0 && flag !== 1) {
    return failure(GrpcStatus.INTERNAL, `Invalid compressed-flag byte ${String(flag)}`);
  }
  if (length > maxMessageBytes) return tooLarge(length, maxMessageBytes);
  const end = PREFIX_BYTES + length;
  if (body.length < end) return failure(GrpcStatus.INTERNAL, 'Request ended inside a message');
  if (body.length > end) {
    return failure(GrpcStatus.UNIMPLEMENTED, 'Received a second request message');
  }
  const payload = body.subarray(PREFIX_BYTES, end);
  if (flag === 0) return { ok: true, message: payload };
  return inflate(payload, encoding, maxMessageBytes);
}

function inflate(
  payload: Buffer,
  encoding: string | undefined,
  maxMessageBytes: number,
): RequestMessage {
  if (encoding === undefined || encoding === 'identity') {
    return failure(GrpcStatus.INTERNAL, 'Compressed message without a grpc-encoding');
  }
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    return failure(
      GrpcStatus.UNIMPLEMENTED,
      `Received message compressed with unsupported encoding "${encoding}"`,
    );
  }
  try {
    const options = { maxOutputLength: Math.max(1, maxMessageBytes) };
    const message =
      encoding === 'gzip' ? gunzipSync(payload, options) : inflateSync(payload, options);
    return { ok: true, message };
  } catch (err: unknown) {
    if (err instanceof RangeError) {
      return failure(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `Received message that decompresses to more than ${String(maxMessageBytes)} bytes`,
      );
    }
    return failure(GrpcStatus.INTERNAL, 'Failed to decompress message');
  }
}
