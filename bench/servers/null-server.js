/* global process */
/**
 * Baseline (b) "null": grpc-js + @grpc/proto-loader over Envoy's own ext_authz protos (the copy
 * in @grpc/grpc-js-xds), decoding with the same options mcp-gate uses (keepCase, int64 as
 * strings, enums as names, no defaults, oneof discriminators) and answering OK without looking
 * at the request: what a generic Node ext_authz server spends doing nothing.
 *
 * Prints `listening PORT` on stdout once bound to 127.0.0.1:0. Counts Checks for the benchmark
 * (asked over IPC): a request that fails to decode never reaches the handler, so the count
 * proves every h2load request decoded.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
// The package has no "exports" map; build/src/index.js is two levels below its root.
const xdsRoot = path.resolve(path.dirname(require.resolve('@grpc/grpc-js-xds')), '../..');
const includeDirs = [
  'deps/envoy-api',
  'deps/xds',
  'deps/protoc-gen-validate',
  'deps/googleapis',
].map((dir) => path.join(xdsRoot, dir));

const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs,
});
const service = definition['envoy.service.auth.v3.Authorization'];
let checks = 0;

const server = new grpc.Server();
server.addService(service, {
  Check(_call, callback) {
    checks += 1;
    callback(null, { status: { code: 0 } });
  },
});

process.on('message', (message) => {
  if (message !== null && typeof message === 'object' && message.probe === 'checks') {
    process.send?.({ probe: 'checks', id: message.id, checks });
  }
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) {
    process.stderr.write(`null-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${port}\n`);
});

// The IPC channel keeps the event loop alive, so stopping means exiting.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.forceShutdown();
    process.exit(0);
  });
}
