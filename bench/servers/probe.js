/* global process, setImmediate */
/**
 * Preloaded into every server under test (`node --import`), so all three are measured the same
 * way: sums garbage-collection pauses with a perf_hooks observer and reports the running totals
 * when the benchmark asks over the IPC channel.
 *
 * It adds one observer callback per GC to each server alike; nothing else in the server changes.
 * Plain JavaScript because the servers run under plain `node` (as dist/main.js does), not tsx.
 */
import cluster from 'node:cluster';
import { PerformanceObserver } from 'node:perf_hooks';

let gcMs = 0;
let gcCount = 0;
let gcMaxMs = 0;

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount += 1;
    if (entry.duration > gcMaxMs) gcMaxMs = entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

// Not in the workers of `mcp-gate serve --workers N`: their channel belongs to node:cluster, and
// unref'ing it lets a worker exit while it waits for the primary to hand it the listening socket.
if (process.send !== undefined && process.channel !== undefined && !cluster.isWorker) {
  process.on('message', (message) => {
    if (message === null || typeof message !== 'object' || message.probe !== 'gc') return;
    // Entries are delivered asynchronously; let pending ones arrive before answering.
    setImmediate(() => {
      process.send?.({ probe: 'gc', id: message.id, gcMs, gcCount, gcMaxMs });
      gcMaxMs = 0;
    });
  });
  // The channel must not keep a server alive that wants to exit. Adding a 'message' listener
  // refs it, so this comes after.
  process.channel.unref();
}
