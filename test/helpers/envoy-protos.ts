/**
 * Envoy's own ext_authz protos (the copy shipped in @grpc/grpc-js-xds under deps/envoy-api),
 * loaded with protobufjs for tests that must prove our proto/ subset is wire-compatible.
 *
 * Note: grpc-js-xds 1.14.1 carries an older Envoy API snapshot. Its CheckResponse has no
 * `error_response` (field 5, Envoy 1.37+); everything else we use is there. Field names are kept
 * as in the .proto files (`keepCase`), like our own loader does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import protobuf from 'protobufjs';
import type { Root, Type } from 'protobufjs';

const require = createRequire(import.meta.url);

// The package has no "exports" map; its main file is build/src/index.js, two levels below the
// package root where deps/ lives.
const XDS_ROOT = path.resolve(path.dirname(require.resolve('@grpc/grpc-js-xds')), '../..');

/** Include paths for Envoy's protos and their imports (validate, udpa/xds annotations, google). */
export const ENVOY_INCLUDE_DIRS: readonly string[] = [
  'deps/envoy-api',
  'deps/xds',
  'deps/protoc-gen-validate',
  'deps/googleapis',
].map((dir) => path.join(XDS_ROOT, dir));

// Envoy's annotation protos import google/protobuf/descriptor.proto, which protobufjs does not
// bundle by default (proto-loader registers it the same way on import).
interface BundledDescriptor {
  readonly nested: {
    readonly google: { readonly nested: { readonly protobuf: protobuf.INamespace } };
  };
}
const descriptorJson = require('protobufjs/google/protobuf/descriptor.json') as BundledDescriptor;
protobuf.common('descriptor', descriptorJson.nested.google.nested.protobuf.nested ?? {});

/** An empty protobufjs root that finds imports in ENVOY_INCLUDE_DIRS; load files into it later. */
export function createEnvoyRoot(): Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    for (const dir of ENVOY_INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    throw new Error(`envoy-protos: ${target} not found in ${ENVOY_INCLUDE_DIRS.join(', ')}`);
  };
  return root;
}

/** A protobufjs root holding the given Envoy .proto files (paths under deps/envoy-api). */
export function loadEnvoyProtos(files: readonly string[]): Root {
  const root = createEnvoyRoot();
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}

/** Root holding Envoy's envoy.service.auth.v3 and everything it imports. */
export const envoyRoot: Root = loadEnvoyProtos(['envoy/service/auth/v3/external_auth.proto']);

/** Envoy's `envoy.service.auth.v3.CheckRequest`. */
export const envoyCheckRequestType: Type = envoyRoot.lookupType(
  'envoy.service.auth.v3.CheckRequest',
);

/** Envoy's `envoy.service.auth.v3.CheckResponse` (without field 5 in this snapshot). */
export const envoyCheckResponseType: Type = envoyRoot.lookupType(
  'envoy.service.auth.v3.CheckResponse',
);

/**
 * The toObject options of our server's decode path (keepCase is a load option), for reading
 * Envoy-decoded messages in the same shape.
 */
export const ENVOY_TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};
