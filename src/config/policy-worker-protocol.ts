/**
 * Messages between the policy store's thread (policy-loader.ts) and the policy worker
 * (policy-worker.ts).
 *
 * The request thread asks `load`; the worker answers `result`. A loaded result arrives without
 * its entries, which the request thread then pulls with `next`, one slice per message: a
 * message is deserialised in one go on arrival, and Node delivers queued messages back to back,
 * so slices that were pushed unasked could still pile up into one long stall.
 */
import type { CompiledEntry } from '../core/policy/policy.js';
import type { PolicyData, PolicyLoadRequest, PolicyLoadResult } from './policy-data.js';

/** Entries per `entries` message. */
export const ENTRY_SLICE = 250;

export type ToWorker =
  | { readonly type: 'load'; readonly id: number; readonly request: PolicyLoadRequest }
  | { readonly type: 'next'; readonly id: number };

/** A PolicyLoadResult whose loaded data carries `entryCount` instead of its entries. */
export type ResultHead =
  | Exclude<PolicyLoadResult, { kind: 'loaded' }>
  | {
      readonly kind: 'loaded';
      readonly data: Omit<PolicyData, 'entries'>;
      readonly entryCount: number;
    };

export type FromWorker =
  | { readonly type: 'result'; readonly id: number; readonly head: ResultHead }
  | { readonly type: 'entries'; readonly id: number; readonly entries: readonly CompiledEntry[] };
