/**
 * Loads mcp-gate's own .proto files (proto/, a wire-compatible subset of Envoy's ext_authz v3 API
 * plus grpc.health.v1) and exposes the service definitions (method paths and proto-loader codecs)
 * the server uses.
 *
 * Invariants:
 * - proto/ is found relative to this module (`import.meta.dirname`), never relative to the
 *   working directory: src/envoy/proto.ts and dist/envoy/proto.js both sit two levels below the
 *   package root, so `../../proto` is right for both the sources (vitest) and the build.
 * - The loader options are fixed here (LOADER_OPTIONS) and the hand-written types in
 *   check-types.ts describe exactly the objects they produce. Change both together.
 * - google/protobuf well-known types (struct, any, timestamp, wrappers) are not in proto/:
 *   protobufjs bundles them and resolves `google/protobuf/*.proto` imports before it consults
 *   the include path.
 * - Loading happens once, at import; a missing or broken proto file is a startup error (throws).
 */
import path from 'node:path';

import type {
  MethodDefinition,
  ServiceDefinition,
  handleServerStreamingCall,
  handleUnaryCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { Root } from 'protobufjs';

import type {
  CheckRequest,
  CheckResponse,
  HealthCheckRequest,
  HealthCheckResponse,
} from './check-types.js';

/** Absolute path of the package's proto/ directory. */
export const PROTO_DIR: string = path.resolve(import.meta.dirname, '../../proto');

/** The entry files, relative to PROTO_DIR; their imports pull in the rest. */
export const PROTO_FILES: readonly string[] = [
  'envoy/service/auth/v3/external_auth.proto',
  'grpc/health/v1/health.proto',
];

/**
 * The options every decode of a CheckRequest uses (server and CLI alike), matching the shapes in
 * check-types.ts.
 */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  bytes: Buffer,
  includeDirs: [PROTO_DIR],
} as const satisfies Options;

/** Fully qualified names of the services we serve. */
export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** The Authorization service with its one method typed. */
export interface AuthorizationServiceDefinition extends ServiceDefinition {
  readonly Check: MethodDefinition<CheckRequest, CheckResponse>;
}

/** Handlers for AuthorizationServiceDefinition, for `server.addService`. */
export interface AuthorizationHandlers extends UntypedServiceImplementation {
  Check: handleUnaryCall<CheckRequest, CheckResponse>;
}

/** The grpc.health.v1 Health service with its methods typed. */
export interface HealthServiceDefinition extends ServiceDefinition {
  readonly Check: MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
  readonly Watch: MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
}

/** Handlers for HealthServiceDefinition. */
export interface HealthHandlers extends UntypedServiceImplementation {
  Check: handleUnaryCall<HealthCheckRequest, HealthCheckResponse>;
  Watch: handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse>;
}

/** The proto-loader package definition for all of proto/ (service and message definitions). */
export const packageDefinition: PackageDefinition = loadSync([...PROTO_FILES], LOADER_OPTIONS);

/**
 * Looks a service up in the package definition and checks the methods we rely on are there with
 * the expected paths and streaming kinds. A mismatch means proto/ was edited wrongly: fail at
 * startup rather than on the first request.
 */
function requireService(
  name: string,
  methods: Readonly<Record<string, { readonly responseStream: boolean }>>,
): ServiceDefinition {
  const def = packageDefinition[name];
  if (def === undefined || 'format' in def) {
    throw new Error(`proto: service ${name} not found in ${PROTO_DIR}`);
  }
  for (const [method, { responseStream }] of Object.entries(methods)) {
    const m = def[method];
    if (
      m?.path !== `/${name}/${method}` ||
      m.requestStream ||
      m.responseStream !== responseStream
    ) {
      throw new Error(`proto: ${name}.${method} is missing or has the wrong shape`);
    }
  }
  return def;
}

/**
 * Definition of `envoy.service.auth.v3.Authorization`. Its `Check.requestDeserialize` is the
 * reference decode of a CheckRequest: the lean decoder the server uses (check-request-codec.ts)
 * is tested to give the same facts, and its `responseSerialize` encodes what the lean encoder
 * hands on.
 */
export const authorizationService = requireService(AUTHORIZATION_SERVICE_NAME, {
  Check: { responseStream: false },
}) as AuthorizationServiceDefinition;

/** Definition of `grpc.health.v1.Health` (Check and Watch); its codecs serve both methods. */
export const healthService = requireService(HEALTH_SERVICE_NAME, {
  Check: { responseStream: false },
  Watch: { responseStream: true },
}) as HealthServiceDefinition;

/**
 * Loads proto/ into a fresh protobufjs Root with the same field naming as the service
 * definitions (`keepCase`), for reflection-driven code such as check-request-json.ts. Throws if a
 * file is missing or invalid.
 */
export function loadProtoRoot(): Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string =>
    path.isAbsolute(target) ? target : path.join(PROTO_DIR, target);
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  return root;
}
