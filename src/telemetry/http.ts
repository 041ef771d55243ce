/**
 * The telemetry HTTP listener: `/metrics` (Prometheus text), `/healthz` (the process is up) and
 * `/readyz` (an allowlist is loaded and the service is not shutting down), and `/discovery` (the
 * shadow-MCP table, behind a bearer token: src/discovery/endpoint.ts). Kept off the gRPC port
 * so probes and scrapes never compete with Checks.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { serveDiscovery } from '../discovery/endpoint.js';
import type { DiscoveryEndpoint } from '../discovery/endpoint.js';

export interface TelemetryServerDeps {
  readonly registry: Registry;
  /** True when Checks can be answered against a loaded allowlist. */
  readonly isReady: () => boolean;
  /** GET /discovery (src/discovery/endpoint.ts); absent, the path answers 404. */
  readonly discovery?: DiscoveryEndpoint | undefined;
}

export interface TelemetryServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** Creates the telemetry server (not yet listening). */
export function createTelemetryServer(deps: TelemetryServerDeps): TelemetryServer {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('use GET\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = deps.isReady();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text);
        },
        (err: unknown) => {
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${String(err)}\n`);
        },
      );
    } else if (path === '/discovery') {
      serveDiscovery(deps.discovery, req, res).catch((err: unknown) => {
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`discovery failed: ${String(err)}\n`);
      });
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('paths: /metrics /healthz /readyz /discovery\n');
    }
  });
  return {
    server,
    listen(host, port) {
      return new Promise((resolvePort, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolvePort(typeof address === 'object' && address !== null ? address.port : port);
        });
      });
    },
    close() {
      return new Promise((resolveDone) => {
        server.close(() => {
          resolveDone();
        });
        server.closeAllConnections();
      });
    },
  };
}
