/**
 * The worker's side of worker mode (`mcp-gate serve --workers N`, see primary.ts): how a service
 * process started by the primary tells it that it is ready, and answers its metric scrapes.
 * Nothing here runs in a single-process `serve`.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { PrometheusContentType, Registry } from 'prom-client';

/** Sent once the allowlist is loaded and the gRPC listener is bound. */
export interface ReadyMessage {
  readonly type: 'mcp-gate:ready';
  /** The bound gRPC port, which the primary reports (0 for a unix socket). */
  readonly grpcPort: number;
}

export function isReadyMessage(message: unknown): message is ReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'mcp-gate:ready' &&
    typeof (message as { grpcPort?: unknown }).grpcPort === 'number'
  );
}

/** This process's worker id when a worker-mode primary started it, else undefined. */
export function clusterWorkerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

/**
 * The registry of a worker: prom-client answers the primary's scrape requests over the cluster
 * channel from it (constructing an AggregatorRegistry is what installs that listener).
 */
export function createWorkerRegistry(): Registry {
  const registry = new AggregatorRegistry<PrometheusContentType>();
  AggregatorRegistry.setRegistries([registry]);
  return registry;
}

export function reportReady(grpcPort: number): void {
  const message: ReadyMessage = { type: 'mcp-gate:ready', grpcPort };
  process.send?.(message);
}
