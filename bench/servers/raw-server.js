/* global process, Buffer */
/**
 * Baseline (a) "raw": grpc-js with identity (de)serializers. It never decodes the CheckRequest
 * and answers every Check with the same pre-encoded OK CheckResponse: the floor of what any
 * grpc-js ext_authz server costs (HTTP/2, gRPC framing, one handler call).
 *
 * Prints `listening PORT` on stdout once bound to 127.0.0.1:0. Counts Checks for the benchmark
 * (asked over IPC), so it can prove every h2load request reached the handler.
 */
import * as grpc from '@grpc/grpc-js';

// CheckResponse{ status: Status{} }: field 1, length 0. An empty Status is code 0 (OK), the
// proto3 default; the benchmark decodes this with Envoy's protos before the first load.
const OK_RESPONSE = Buffer.from([0x0a, 0x00]);

const identity = (bytes) => bytes;
let checks = 0;

const server = new grpc.Server();
server.addService(
  {
    Check: {
      path: '/envoy.service.auth.v3.Authorization/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  {
    Check(_call, callback) {
      checks += 1;
      callback(null, OK_RESPONSE);
    },
  },
);

process.on('message', (message) => {
  if (message !== null && typeof message === 'object' && message.probe === 'checks') {
    process.send?.({ probe: 'checks', id: message.id, checks });
  }
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) {
    process.stderr.write(`raw-server: ${err.message}\n`);
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
