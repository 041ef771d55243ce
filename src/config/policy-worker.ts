/**
 * Thread entry of the policy worker: runs loadPolicyData off the request thread and hands the
 * result over as described in policy-worker-protocol.ts. It keeps the entries of the last load
 * only until the request thread has pulled them. Any fault here ends the thread, which the
 * loader reports as a failed reload.
 *
 * The thread lowers its own scheduling priority first: on a busy machine a parse that takes
 * seconds must not take CPU time from the thread that answers Checks.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { CompiledEntry } from '../core/policy/policy.js';
import { loadPolicyData } from './policy-data.js';
import { ENTRY_SLICE } from './policy-worker-protocol.js';
import type { FromWorker, ToWorker } from './policy-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('policy-worker runs only as a worker thread');

/** Nice value of this thread; the request thread keeps its own. */
const WORKER_NICE = 10;

lowerThreadPriority();

let unsent: { id: number; entries: readonly CompiledEntry[]; next: number } | undefined;

const send = (message: FromWorker): void => {
  port.postMessage(message);
};

port.on('message', (message: ToWorker) => {
  if (message.type === 'load') {
    unsent = undefined;
    void loadPolicyData(message.request).then((result) => {
      if (result.kind !== 'loaded') {
        send({ type: 'result', id: message.id, head: result });
        return;
      }
      const { entries, ...rest } = result.data;
      unsent = { id: message.id, entries, next: 0 };
      send({
        type: 'result',
        id: message.id,
        head: { kind: 'loaded', data: rest, entryCount: entries.length },
      });
    });
    return;
  }
  if (unsent?.id !== message.id) return;
  const slice = unsent.entries.slice(unsent.next, unsent.next + ENTRY_SLICE);
  unsent.next += slice.length;
  if (unsent.next >= unsent.entries.length) unsent = undefined;
  send({ type: 'entries', id: message.id, entries: slice });
});

/**
 * Best effort, Linux only: `setpriority` on a thread id changes that thread alone, and
 * /proc/thread-self names it. Elsewhere (or if refused) the thread keeps the process priority.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, WORKER_NICE);
  } catch {
    // Not Linux, or not permitted: a normal-priority parse is still off the request thread.
  }
}
