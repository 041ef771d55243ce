/**
 * PolicyStore's reload decisions, with the parse in-process (the worker has its own tests in
 * policy-store-worker.test.ts): a half-written file is read again before it is judged, a
 * failure is reported once per content, and the last good snapshot never goes away. A spy
 * around the loader counts reads and acts at exact points, so no test depends on timing.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { PolicyLoadRequest } from '../../../src/config/policy-data.js';
import { policyContentHash } from '../../../src/config/content-hash.js';
import { createInProcessPolicyLoader } from '../../../src/config/policy-loader.js';
import type { LoaderResult, PolicyLoader } from '../../../src/config/policy-loader.js';
import { PolicyStore, RELOAD_REJECTED } from '../../../src/config/policy-store.js';
import type { PolicyStoreOptions } from '../../../src/config/policy-store.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { startPolicyWorkerFromSources } from '../../helpers/policy-worker.js';
import { stamped } from '../../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

function allowlist(version: string): string {
  return stamped(`version: ${version}
review_url: https://mcp-review.corp.example/request
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    scopes: [repo.read]
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);
}
const V1 = allowlist('v1');
const V2 = allowlist('v2');
/** Two schema errors: an unknown key and an impossible date. */
const BROKEN = V2.replace('scopes: [repo.read]', 'scopes: [repo.read]\n    colour: blue').replace(
  'expires_on: 2027-04-18',
  'expires_on: 2027-02-30',
);

let dir: string;
let file: string;
let logs: Record<string, unknown>[];
let registry: Registry;
let store: PolicyStore;

/** The in-process loader, counting loads and running `after(n)` once the n-th has read. */
function spyLoader(after: (n: number) => Promise<void> = () => Promise.resolve()) {
  const inner = createInProcessPolicyLoader();
  const requests: PolicyLoadRequest[] = [];
  const results: LoaderResult[] = [];
  const loader: PolicyLoader = {
    async load(request) {
      requests.push(request);
      const result = await inner.load(request);
      results.push(result);
      await after(requests.length);
      return result;
    },
    close: () => inner.close(),
  };
  return { loader, requests, results };
}

function makeStore(options: Partial<PolicyStoreOptions> = {}): PolicyStore {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return new PolicyStore({
    allowlistPath: file,
    knownHostsPath: undefined,
    limits: { maxBodyBytes: 1 << 20, maxBatchElements: 100 },
    logger: createLogger({ level: 'debug', destination: sink }),
    metrics: createMetrics(registry),
    now: () => NOW,
    settleMs: 10,
    startWorker: startPolicyWorkerFromSources,
    ...options,
  });
}

async function counts(): Promise<{ success: number; failure: number }> {
  const text = await registry.metrics();
  const value = (result: string): number =>
    Number(
      new RegExp(`^mcp_gate_allowlist_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1],
    );
  return { success: value('success'), failure: value('failure') };
}

const messages = (msg: string) => logs.filter((l) => l['msg'] === msg);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-store-'));
  file = path.join(dir, 'allowlist.yaml');
  await writeFile(file, V1);
  logs = [];
  registry = new Registry();
});
afterEach(async () => {
  await store.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('PolicyStore: half-written files', () => {
  test('invalid at the first read, complete at the second: loaded, and no failure is recorded', async () => {
    const spy = spyLoader(async (n) => {
      // The writer finishes while the store pauses after the first read.
      if (n === 1) await writeFile(file, V2);
    });
    store = makeStore({ loader: spy.loader });
    await store.loadInitial();
    await writeFile(file, V2.slice(0, V2.indexOf('  - id:') + 9));
    await store.reload('test');

    expect(spy.results.map((r) => r.kind)).toEqual(['invalid', 'loaded']);
    expect(store.current?.policy.version).toBe('v2');
    expect(await counts()).toEqual({ success: 2, failure: 0 });
    expect(messages('allowlist not valid yet; reading it again after a pause')).toHaveLength(1);
    expect(messages(RELOAD_REJECTED)).toEqual([]);
  });

  test('still invalid after settleAttempts reads: rejected with every error, last good kept', async () => {
    const spy = spyLoader();
    store = makeStore({ loader: spy.loader, settleAttempts: 4 });
    const initial = await store.loadInitial();
    await writeFile(file, BROKEN);
    await store.reload('test');

    expect(spy.requests).toHaveLength(4);
    expect(store.current).toBe(initial);
    expect(await counts()).toEqual({ success: 1, failure: 1 });
    const [rejected, ...more] = messages(RELOAD_REJECTED);
    expect(more).toEqual([]);
    expect(rejected).toMatchObject({ level: 'error', trigger: 'test', attempts: 4 });
    expect(rejected?.['errors']).toEqual([
      `${file}:8:5 approved[0]: unknown key "colour"`,
      expect.stringMatching(new RegExp(`^${file}:12:17 approved\\[0\\]\\.expires_on: `)),
    ]);
  });
});

describe('PolicyStore: each broken content is reported once', () => {
  test('the same invalid content again is skipped; back to the good content, it is news again', async () => {
    const spy = spyLoader();
    store = makeStore({ loader: spy.loader, settleAttempts: 2 });
    await store.loadInitial();
    await writeFile(file, BROKEN);
    await store.reload('first');
    expect(await counts()).toEqual({ success: 1, failure: 1 });

    // A poll or a touch: the content was judged already, by hash, on the store's own thread;
    // the loader is not even asked.
    const before = spy.requests.length;
    await store.reload('poll');
    expect(spy.requests.length).toBe(before);
    expect(await counts()).toEqual({ success: 1, failure: 1 });

    // The file goes back to what is in force (nothing to reload), then breaks the same way.
    await writeFile(file, V1);
    await store.reload('restored');
    expect(spy.requests.length).toBe(before);
    await writeFile(file, BROKEN);
    await store.reload('broken again');
    expect(await counts()).toEqual({ success: 1, failure: 2 });
    expect(messages(RELOAD_REJECTED).map((l) => l['trigger'])).toEqual(['first', 'broken again']);
    expect(store.current?.policy.version).toBe('v1');
  });

  test('a missing file is reported once, not at every poll; recreated unchanged, nothing reloads', async () => {
    const spy = spyLoader();
    store = makeStore({ loader: spy.loader, settleAttempts: 2 });
    const initial = await store.loadInitial();
    await unlink(file);
    await store.reload('poll');
    await store.reload('poll');
    await store.reload('poll');
    expect(await counts()).toEqual({ success: 1, failure: 1 });
    expect(messages(RELOAD_REJECTED)).toHaveLength(1);
    // Two reads for the first (one pause), one for each later poll.
    expect(spy.requests).toHaveLength(4);

    await writeFile(file, V1);
    await store.reload('poll');
    expect(spy.requests).toHaveLength(4);
    expect(store.current).toBe(initial);
    expect(await counts()).toEqual({ success: 1, failure: 1 });
  });
});

describe('PolicyStore: requests and lifecycle', () => {
  test('content already judged is told by hash without the loader; other loads name those hashes', async () => {
    const spy = spyLoader();
    store = makeStore({ loader: spy.loader, settleAttempts: 1 });
    await store.loadInitial();
    const inForce = await policyContentHash(file, undefined);
    await store.reload('unchanged');
    expect(spy.requests).toEqual([]);

    await writeFile(file, BROKEN);
    await store.reload('broken');
    expect(spy.requests[0]).toEqual({
      allowlistPath: file,
      knownHostsPath: undefined,
      nowMs: NOW,
      skipHashes: [inForce],
    });
    const rejected = spy.results[0];
    const rejectedHash = rejected?.kind === 'invalid' ? rejected.hash : 'none';
    expect(rejectedHash).toBe(await policyContentHash(file, undefined));
    await store.reload('broken, unchanged');
    expect(spy.requests).toHaveLength(1);

    await writeFile(file, V2);
    await store.reload('fixed');
    expect(spy.requests[1]?.skipHashes).toEqual([inForce, rejectedHash]);
    expect(store.current?.policy.version).toBe('v2');
  });

  test('loadInitial on an invalid file throws every error and records a failure', async () => {
    await writeFile(file, BROKEN);
    store = makeStore();
    const error = await store.loadInitial().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'ERR_ALLOWLIST_INVALID' });
    expect((error as Error).message.split('\n')).toHaveLength(2);
    expect(store.current).toBeUndefined();
    expect(await counts()).toEqual({ success: 0, failure: 1 });
  });

  test('after stop, a reload does nothing', async () => {
    const spy = spyLoader();
    store = makeStore({ loader: spy.loader });
    await store.loadInitial();
    await store.stop();
    await writeFile(file, V2);
    await store.reload('late');
    expect(spy.requests).toEqual([]);
    expect(store.current?.policy.version).toBe('v1');
  });

  test('the poll alone (watch off) picks a change up', async () => {
    store = makeStore({ watch: false });
    await store.loadInitial();
    const reloaded = new Promise<void>((resolve) => {
      store.onChange(() => {
        resolve();
      });
    });
    store.startWatching(20);
    await writeFile(file, V2);
    await reloaded;
    expect(store.current?.policy.version).toBe('v2');
    expect(messages('allowlist reloaded')).toEqual([
      expect.objectContaining({ trigger: 'poll', version: 'v2', previous_version: 'v1' }),
    ]);
  });
});
