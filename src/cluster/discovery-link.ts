/**
 * GET /discovery under `serve --workers N`: each worker keeps its own discovery table (a
 * connection, and so its attempts, stays with one worker), and the primary, which serves the
 * telemetry port, asks every worker for its rows over the cluster channel and merges them into
 * one table of the same capacity, as Space-Saving summaries merge (DiscoveryTable.absorb).
 * A worker that does not answer within REPLY_MS fails the request (500) rather than serving a
 * table that silently lacks its rows.
 */
import type { Worker } from 'node:cluster';
import { DiscoveryTable } from '../discovery/table.js';
import type { DiscoverySnapshot } from '../discovery/table.js';

const REQUEST = 'mcp-gate:discovery-request';
const REPLY = 'mcp-gate:discovery-reply';
/** How long the primary waits for a worker's rows. */
const REPLY_MS = 5_000;

interface DiscoveryRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
}
interface DiscoveryReply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly snapshot: DiscoverySnapshot | undefined;
}

function isRequest(message: unknown): message is DiscoveryRequest {
  return hasTypeAndId(message, REQUEST);
}
function isReply(message: unknown): message is DiscoveryReply {
  return hasTypeAndId(message, REPLY);
}
function hasTypeAndId(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}

/** Worker side: answers the primary's requests with this worker's table. */
export function answerDiscoveryRequests(
  table: DiscoveryTable | undefined,
  now: () => number,
): void {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const reply: DiscoveryReply = { type: REPLY, id: message.id, snapshot: table?.snapshot(now()) };
    process.send?.(reply);
  });
}

let nextId = 0;

/** Primary side: every worker's rows, merged. */
export async function gatherDiscovery(
  workers: readonly Worker[],
  capacity: number,
  nowMs: number,
): Promise<DiscoverySnapshot> {
  const id = ++nextId;
  const replies = await Promise.all(workers.map((worker) => askWorker(worker, id)));
  const merged = new DiscoveryTable(capacity);
  let evictions = 0;
  let recorded = 0;
  for (const snapshot of replies) {
    if (snapshot === undefined) continue;
    evictions += snapshot.evictions;
    recorded += snapshot.attempts_recorded;
    for (const row of snapshot.rows) merged.absorb(row);
  }
  const own = merged.snapshot(nowMs);
  return { ...own, evictions: evictions + own.evictions, attempts_recorded: recorded };
}

function askWorker(worker: Worker, id: number): Promise<DiscoverySnapshot | undefined> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isReply(message) || message.id !== id) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(message.snapshot);
    };
    const timer = setTimeout(() => {
      worker.off('message', onMessage);
      reject(
        new Error(`worker ${worker.id} did not send its discovery table within ${REPLY_MS} ms`),
      );
    }, REPLY_MS);
    worker.on('message', onMessage);
    const request: DiscoveryRequest = { type: REQUEST, id };
    worker.send(request);
  });
}
