/**
 * Where loadPolicyData runs: in-process (start-up, when nothing waits on the event loop) or in
 * the policy worker thread (reloads, so that parsing a large allowlist never blocks a Check).
 *
 * The worker is bounded: one thread, started on first use and reused, one load at a time (later
 * loads queue behind it), ended after `idleMs` without a load and on close. A worker that
 * throws, exits or does not answer within `timeoutMs` is terminated and its load resolves to a
 * `fault`; the next load starts a fresh thread. A load never rejects, so a fault can only ever be a failed reload, never a
 * crash of the service or a lost policy.
 *
 * The service starts the compiled policy-worker.js next to this module, and nothing else. Code
 * run from the TypeScript sources (tests, the benchmarks) passes its own `startWorker`
 * (test/helpers/policy-worker.ts boots the `.ts` module through tsx, which Node 20 does not do
 * in a worker by itself). One that passes none finds no policy-worker.js beside the sources:
 * every reload is then a fault, logged and counted, and the last good allowlist stays.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import type { CompiledEntry } from '../core/policy/policy.js';
import { loadPolicyData } from './policy-data.js';
import type { PolicyData, PolicyLoadRequest, PolicyLoadResult } from './policy-data.js';
import type { FromWorker, ResultHead, ToWorker } from './policy-worker-protocol.js';

/** A load's outcome: the files' verdict, or a fault of the machinery that loads them. */
export type LoaderResult = PolicyLoadResult | { readonly kind: 'fault'; readonly message: string };

export interface PolicyLoader {
  /** Never rejects. */
  load(request: PolicyLoadRequest): Promise<LoaderResult>;
  /** Ends any load in progress (as a fault) and releases the thread, if any. */
  close(): Promise<void>;
}

/** Runs loadPolicyData on the calling thread. */
export function createInProcessPolicyLoader(): PolicyLoader {
  return {
    async load(request) {
      try {
        return await loadPolicyData(request);
      } catch (err: unknown) {
        return { kind: 'fault', message: `allowlist loader failed: ${describe(err)}` };
      }
    },
    close: () => Promise.resolve(),
  };
}

/** Starts the policy worker thread with the loader's options (its heap limit). */
export type StartPolicyWorker = (options: WorkerOptions) => Worker;

/** The service's worker: the compiled policy-worker.js beside this module. */
export const startPolicyWorker: StartPolicyWorker = (options) =>
  new Worker(new URL('./policy-worker.js', import.meta.url), options);

export interface WorkerPolicyLoaderOptions {
  /** How long one load may take, from request to last entry, before the thread is killed. */
  readonly timeoutMs: number;
  /**
   * Starts the thread (default startPolicyWorker); tests substitute one that boots the sources,
   * or a crashing or hanging one.
   */
  readonly startWorker?: StartPolicyWorker | undefined;
  /**
   * How long the thread may sit idle after a load before it is ended (default
   * DEFAULT_IDLE_MS). A live thread holds its own V8 heap, about 20 MB of resident memory, for
   * reloads that are rare; the next load starts a fresh one.
   */
  readonly idleMs?: number;
}

export const DEFAULT_IDLE_MS = 10_000;

/** Worker heap cap: a 10,000-entry allowlist needs well under a tenth of it. */
const WORKER_HEAP_MB = 512;

interface Job {
  readonly id: number;
  readonly worker: Worker;
  readonly timer: NodeJS.Timeout;
  readonly finish: (result: LoaderResult) => void;
  head: Extract<ResultHead, { kind: 'loaded' }> | undefined;
  readonly entries: CompiledEntry[];
}

/** Runs loadPolicyData in a worker thread. */
export function createWorkerPolicyLoader(options: WorkerPolicyLoaderOptions): PolicyLoader {
  const startWorker = options.startWorker ?? startPolicyWorker;
  let worker: Worker | undefined;
  let job: Job | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let nextId = 1;
  let closed = false;
  let idle: NodeJS.Timeout | undefined;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;

  /** Ends the thread once it has had no load for idleMs. */
  const endWhenIdle = (from: Worker): void => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (worker !== from || job !== undefined) return;
      worker = undefined;
      from.removeAllListeners();
      void from.terminate();
    }, idleMs);
    idle.unref();
  };

  /** Ends the current job (if it belongs to `from`) and, when asked, the thread. */
  const end = (from: Worker, result: LoaderResult, kill: boolean): void => {
    if (kill && worker === from) {
      worker = undefined;
      from.removeAllListeners('message');
      void from.terminate();
    }
    if (job?.worker !== from) return;
    const { timer, finish } = job;
    job = undefined;
    clearTimeout(timer);
    // Idle threads must not keep the process alive.
    from.unref();
    if (worker === from) endWhenIdle(from);
    finish(result);
  };

  const onMessage = (from: Worker, message: FromWorker): void => {
    const current = job;
    if (current?.worker !== from || message.id !== current.id) return;
    if (message.type === 'result') {
      if (message.head.kind !== 'loaded') {
        end(from, message.head, false);
        return;
      }
      current.head = message.head;
    } else {
      current.entries.push(...message.entries);
    }
    const head = current.head;
    if (head === undefined) return;
    if (current.entries.length < head.entryCount) {
      const next: ToWorker = { type: 'next', id: current.id };
      from.postMessage(next);
      return;
    }
    const data: PolicyData = { ...head.data, entries: current.entries };
    end(from, { kind: 'loaded', data }, false);
  };

  const start = (): Worker => {
    const started = startWorker({ resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    started.on('message', (message: FromWorker) => {
      try {
        onMessage(started, message);
      } catch (err: unknown) {
        // A malformed message must fail the load, not throw on the request thread.
        end(started, fault(`sent a malformed message: ${describe(err)}`), true);
      }
    });
    started.on('messageerror', (err: unknown) => {
      end(started, fault(`sent an unreadable message: ${describe(err)}`), true);
    });
    started.on('error', (err: unknown) => {
      end(started, fault(`crashed: ${describe(err)}`), true);
    });
    started.on('exit', (code: number) => {
      end(started, fault(`exited with code ${code}`), true);
    });
    started.unref();
    return started;
  };

  const run = (request: PolicyLoadRequest): Promise<LoaderResult> =>
    new Promise<LoaderResult>((finish) => {
      if (closed) {
        finish(fault('stopped'));
        return;
      }
      clearTimeout(idle);
      let current: Worker;
      try {
        current = worker ?? start();
      } catch (err: unknown) {
        finish(fault(`could not start: ${describe(err)}`));
        return;
      }
      worker = current;
      const id = nextId++;
      const timer = setTimeout(() => {
        end(current, fault(`did not finish within ${options.timeoutMs} ms`), true);
      }, options.timeoutMs);
      timer.unref();
      job = { id, worker: current, timer, finish, head: undefined, entries: [] };
      // A load in progress keeps the process alive, like any other pending I/O.
      current.ref();
      const message: ToWorker = { type: 'load', id, request };
      current.postMessage(message);
    });

  return {
    load(request) {
      const result = queue.then(() => run(request));
      queue = result;
      return result;
    },
    async close() {
      closed = true;
      clearTimeout(idle);
      const current = worker;
      if (current === undefined) return;
      end(current, fault('stopped'), true);
      await current.terminate();
    },
  };
}

function fault(what: string): LoaderResult {
  return { kind: 'fault', message: `the allowlist loader thread ${what}` };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
