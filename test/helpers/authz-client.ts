/**
 * A gRPC client for mcp-gate that encodes requests and decodes responses with *Envoy's* protos
 * (from @grpc/grpc-js-xds), as Envoy itself would: every answer a test reads has crossed the wire
 * in Envoy's definitions.
 */
import * as grpc from '@grpc/grpc-js';
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { ENVOY_TO_OBJECT, envoyCheckRequestType, envoyCheckResponseType } from './envoy-protos.js';

/** A CheckResponse as Envoy's definitions decode it (snake_case, enums as names). */
export interface EnvoyCheckResponse {
  status?: { code?: number; message?: string };
  denied_response?: {
    status?: { code?: string };
    headers?: { header?: { key?: string; value?: string }; append?: { value?: boolean } }[];
    body?: string;
  };
  ok_response?: {
    headers?: { header?: { key?: string; value?: string }; append?: { value?: boolean } }[];
    headers_to_remove?: string[];
  };
  dynamic_metadata?: { fields?: Record<string, { stringValue?: string; boolValue?: boolean }> };
  http_response?: string;
}

export interface AuthzClient {
  check(request: CheckRequest, deadlineMs?: number): Promise<EnvoyCheckResponse>;
  health(service: string): Promise<string>;
  /** grpc.health.v1.Health/Watch: a stream of status names. */
  watchHealth(service: string): grpc.ClientReadableStream<string>;
  close(): void;
}

/** A client of `address`; cleartext unless given credentials (`grpc.credentials.createSsl`). */
export function createAuthzClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): AuthzClient {
  const client = new grpc.Client(address, credentials, options);
  return {
    check(request, deadlineMs = 5000) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          '/envoy.service.auth.v3.Authorization/Check',
          (value: CheckRequest) =>
            Buffer.from(
              envoyCheckRequestType.encode(envoyCheckRequestType.fromObject(value)).finish(),
            ),
          (bytes: Buffer) =>
            envoyCheckResponseType.toObject(
              envoyCheckResponseType.decode(bytes),
              ENVOY_TO_OBJECT,
            ) as EnvoyCheckResponse,
          request,
          { deadline: Date.now() + deadlineMs },
          (err, value) => {
            if (err !== null || value === undefined) reject(err ?? new Error('no response'));
            else resolve(value);
          },
        );
      });
    },
    health(service) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          '/grpc.health.v1.Health/Check',
          (value: string) => encodeHealthRequest(value),
          (bytes: Buffer) => decodeHealthStatus(bytes),
          service,
          (err, value) => {
            if (err !== null || value === undefined) reject(err ?? new Error('no response'));
            else resolve(value);
          },
        );
      });
    },
    watchHealth(service) {
      return client.makeServerStreamRequest(
        '/grpc.health.v1.Health/Watch',
        (value: string) => encodeHealthRequest(value),
        (bytes: Buffer) => decodeHealthStatus(bytes),
        service,
      );
    },
    close() {
      client.close();
    },
  };
}

/** HealthCheckRequest{service=1}: written by hand so the test does not use our own protos. */
function encodeHealthRequest(service: string): Buffer {
  const bytes = Buffer.from(service, 'utf8');
  if (bytes.length === 0) return Buffer.alloc(0);
  if (bytes.length > 127) throw new Error('service name too long for this test encoder');
  return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
}

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** HealthCheckResponse{status=1 (enum)}. */
function decodeHealthStatus(bytes: Buffer): string {
  if (bytes.length === 0) return 'UNKNOWN';
  if (bytes[0] !== 0x08) throw new Error(`unexpected health response ${bytes.toString('hex')}`);
  return SERVING_STATUS[bytes[1] ?? 0] ?? `status ${bytes[1] ?? 0}`;
}

/** A header value from a decoded denied/ok response. */
export function headerOf(
  headers: readonly { header?: { key?: string; value?: string } }[] | undefined,
  name: string,
): string | undefined {
  return headers?.find((h) => h.header?.key === name)?.header?.value;
}
