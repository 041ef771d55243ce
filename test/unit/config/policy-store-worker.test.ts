/**
 * The policy worker and its loader: the worker's result is the policy an in-process parse
 * gives; loads run one at a time; a worker that crashes, exits or hangs becomes a failed reload
 * (never a crash, never a lost policy) and the next load gets a fresh worker; stop ends a load
 * in progress without effect.
 *
 * Faulty workers are small `.mjs` scripts written to a temp dir. They misbehave once (a marker
 * file remembers) and then boot the real worker through tsx, so a test can also show recovery.
 * Being `.js`, they start the way the service starts the real worker, without tsx.
 */
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { buildSnapshot, loadPolicyData } from '../../../src/config/policy-data.js';
import type { PolicyLoadRequest } from '../../../src/config/policy-data.js';
import { createWorkerPolicyLoader } from '../../../src/config/policy-loader.js';
import type { PolicyLoader, StartPolicyWorker } from '../../../src/config/policy-loader.js';
import { PolicyStore, RELOAD_REJECTED } from '../../../src/config/policy-store.js';
import type { PolicyStoreOptions } from '../../../src/config/policy-store.js';
import type { FromWorker } from '../../../src/config/policy-worker-protocol.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import {
  BOOT_POLICY_WORKER_SOURCE,
  startPolicyWorkerFromSources,
} from '../../helpers/policy-worker.js';
import { stamped } from '../../helpers/stamped.js';
import { turnTally } from '../../helpers/turn-tally.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/allowlists');

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

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-worker-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A worker loader. The thread runs `entry` (a stand-in script) if given, else what
 * `startWorker` starts, else the real worker from its source.
 */
function loaderFor(
  options: {
    timeoutMs?: number;
    entry?: URL;
    idleMs?: number;
    startWorker?: StartPolicyWorker;
  } = {},
): PolicyLoader {
  const { entry, ...rest } = options;
  const loader = createWorkerPolicyLoader({
    timeoutMs: 60_000,
    startWorker:
      entry === undefined
        ? startPolicyWorkerFromSources
        : (workerOptions) => new Worker(entry, workerOptions),
    ...rest,
  });
  cleanups.push(() => loader.close());
  return loader;
}

/** A store on `file` whose log lines land parsed in `logs`; stopped after the test. */
function loggingStore(file: string, options: Partial<PolicyStoreOptions>) {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const registry = new Registry();
  const store = new PolicyStore({
    allowlistPath: file,
    knownHostsPath: undefined,
    limits: { maxBodyBytes: 1, maxBatchElements: 1 },
    logger: createLogger({ level: 'debug', destination: sink }),
    metrics: createMetrics(registry),
    now: () => NOW,
    ...options,
  });
  cleanups.push(() => store.stop());
  return { store, logs, registry };
}

const request = (allowlistPath: string, knownHostsPath?: string): PolicyLoadRequest => ({
  allowlistPath,
  knownHostsPath,
  nowMs: NOW,
  skipHashes: [],
});

/**
 * A worker entry that runs `fault` the first time a thread starts it, and `then` (by default
 * the real worker) in every later thread.
 */
async function faultyOnce(
  name: string,
  fault: string,
  then = BOOT_POLICY_WORKER_SOURCE,
): Promise<URL> {
  const marker = path.join(dir, `${name}.started`);
  const script = path.join(dir, `${name}.mjs`);
  await writeFile(
    script,
    `import { existsSync, writeFileSync } from 'node:fs';
if (!existsSync(${JSON.stringify(marker)})) {
  writeFileSync(${JSON.stringify(marker)}, '');
  ${fault}
}
${then}
`,
  );
  return pathToFileURL(script);
}

/** Resolves once `file` exists (an event, not a poll). */
async function fileAppears(file: string): Promise<void> {
  const watcher = watch(path.dirname(file));
  try {
    const appeared = new Promise<void>((resolve) => {
      watcher.on('change', (_event, name) => {
        if (name === path.basename(file)) resolve();
      });
    });
    if (!existsSync(file)) await appeared;
  } finally {
    watcher.close();
  }
}

/** An allowlist of `count` entries e0, e1, … in a file of the test's directory. */
async function writeManyEntries(count: number): Promise<string> {
  const file = path.join(dir, 'many.yaml');
  const entries = Array.from(
    { length: count },
    (_, i) => `  - id: e${i}
    host: h${i}.example.com
    transport: http
    scopes: []
    review_ticket: SEC-${i}
    reviewed_by: sec
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`,
  );
  await writeFile(
    file,
    stamped(`version: many\nreview_url: https://r.example/\napproved:\n${entries.join('')}`),
  );
  return file;
}

describe('policy worker: the result', () => {
  test('equals the in-process parse: same entries, header and lookups, all frozen', async () => {
    const file = path.join(FIXTURES, 'valid-full.yaml');
    const knownHosts = path.join(dir, 'known.yaml');
    await writeFile(knownHosts, 'hosts: [mcp.notion.com, "*.mcp.example"]\n');
    const result = await loaderFor().load(request(file, knownHosts));
    if (result.kind !== 'loaded') throw new Error(JSON.stringify(result));
    const snapshot = await buildSnapshot(result.data, { maxBodyBytes: 1, maxBatchElements: 1 });

    const text = await readFile(file, 'utf8');
    const direct = parseAllowlist(text, { fileName: file, now: new Date(NOW) });
    if (!direct.ok) throw new Error('fixture is invalid');
    const { policy } = snapshot;
    expect(policy.entries).toEqual(direct.policy.entries);
    for (const key of ['version', 'sha256', 'defaultAction', 'mode', 'reviewUrl'] as const) {
      expect(policy[key]).toBe(direct.policy[key]);
    }
    expect(policy.denyTexts).toEqual(direct.policy.denyTexts);
    for (const [host, port, urlPath] of [
      ['api.githubcopilot.com', undefined, '/mcp/x'],
      ['api.githubcopilot.com', undefined, '/other'],
      ['localhost', undefined, '/'],
    ] as const) {
      expect(policy.matchRequest(host, port, urlPath)?.id).toBe(
        direct.policy.matchRequest(host, port, urlPath)?.id,
      );
    }
    const github = policy.matchHost('api.githubcopilot.com');
    expect(github?.id).toBe('github-official');
    if (github === undefined) return;
    for (const tool of ['get_issue', 'delete_repo', 'list_x', 'push']) {
      expect(policy.isToolAllowed(github, tool)).toBe(direct.policy.isToolAllowed(github, tool));
    }
    expect(snapshot.knownHosts.isKnownMcpHost('a.mcp.example')).toBe(true);
    expect(snapshot.knownHosts.isKnownMcpHost('mcp.example')).toBe(false);
    expect(snapshot.knownHosts.size).toBe(2);
    // Structured cloning drops freezing; the snapshot must be immutable all the same.
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.entries)).toBe(true);
    expect(Object.isFrozen(github)).toBe(true);
    expect(Object.isFrozen(github.tools?.allow)).toBe(true);
    expect(Object.isFrozen(github.host)).toBe(true);
    expect(Object.isFrozen(policy.denyTexts)).toBe(true);
  });

  test('invalid files: every error of both files, FILE:LINE:COL; a hash already judged: unchanged', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    const known = path.join(dir, 'known.yaml');
    await writeFile(file, allowlist('v1').replace('expires_on: 2027-04-18', 'expires_on: soon'));
    await writeFile(known, 'hosts: [UPPER.example]\n');
    const loader = loaderFor();
    const result = await loader.load(request(file, known));
    expect(result).toEqual({
      kind: 'invalid',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      errors: [
        expect.stringMatching(new RegExp(`^${file}:11:17 approved\\[0\\]\\.expires_on: `)),
        expect.stringMatching(new RegExp(`^${known}:1:9 hosts\\[0\\]: `)),
      ],
    });
    const hash = result.kind === 'invalid' ? (result.hash ?? '') : '';
    expect(await loader.load({ ...request(file, known), skipHashes: [hash] })).toEqual({
      kind: 'unchanged',
      hash,
    });
  });

  test('one load at a time: concurrent loads queue and each gets its own answer', async () => {
    const loader = loaderFor();
    const files = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const file = path.join(dir, `${name}.yaml`);
        await writeFile(file, allowlist(`version-${name}`));
        return file;
      }),
    );
    const results = await Promise.all(files.map((file) => loader.load(request(file))));
    expect(results.map((r) => (r.kind === 'loaded' ? r.data.header.version : r.kind))).toEqual([
      'version-a',
      'version-b',
      'version-c',
    ]);
  });

  test('entries cross in slices: 1,001 entries arrive whole and in order', async () => {
    const file = await writeManyEntries(1001);
    const result = await loaderFor().load(request(file));
    if (result.kind !== 'loaded') throw new Error(JSON.stringify(result));
    expect(result.data.entries.map((e) => e.id)).toEqual(
      Array.from({ length: 1001 }, (_, i) => `e${i}`),
    );
  });
});

/**
 * The most entries the request thread may take up in one turn of the event loop: a slice of a
 * few milliseconds at most, so no Check waits longer (docs/performance.md, "Allowlist reload").
 */
const MOST_ENTRIES_PER_TURN = 250;

describe('policy worker: the request thread takes the result in bounded slices', () => {
  test('entries arrive in messages of at most 250 entries', async () => {
    const file = await writeManyEntries(1001);
    const sizes: number[] = [];
    const loader = loaderFor({
      startWorker: (options) => {
        const worker = startPolicyWorkerFromSources(options);
        worker.on('message', (message: FromWorker) => {
          if (message.type === 'entries') sizes.push(message.entries.length);
        });
        return worker;
      },
    });
    expect((await loader.load(request(file))).kind).toBe('loaded');
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(1001);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MOST_ENTRIES_PER_TURN);
  });

  test('the snapshot is built from at most 250 entries per turn of the event loop', async () => {
    const file = await writeManyEntries(1001);
    const loaded = await loadPolicyData(request(file));
    if (loaded.kind !== 'loaded') throw new Error(JSON.stringify(loaded));
    const tally = turnTally();
    const entries = loaded.data.entries.map((entry) => tally.watch(entry, 'id'));
    const { result, perTurn } = await tally.during(() =>
      buildSnapshot({ ...loaded.data, entries }, { maxBodyBytes: 1, maxBatchElements: 1 }),
    );
    expect(result.policy.entries.map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect(perTurn.length).toBeGreaterThanOrEqual(Math.ceil(1001 / MOST_ENTRIES_PER_TURN));
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(MOST_ENTRIES_PER_TURN);
  });
});

describe('policy worker: its lifetime', () => {
  /** A worker entry that appends a line to `starts` each time a thread boots, then runs the real worker. */
  async function countingEntry(): Promise<{ entry: URL; starts: () => Promise<number> }> {
    const starts = path.join(dir, 'starts');
    const script = path.join(dir, 'counting.mjs');
    await writeFile(
      script,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(starts)}, 'x');\n${BOOT_POLICY_WORKER_SOURCE}\n`,
    );
    return {
      entry: pathToFileURL(script),
      starts: async () => (existsSync(starts) ? (await readFile(starts, 'utf8')).length : 0),
    };
  }

  test('a thread idle for idleMs is ended; the next load starts a fresh one', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const { entry, starts } = await countingEntry();
    const loader = loaderFor({ entry, idleMs: 30 });
    expect((await loader.load(request(file))).kind).toBe('loaded');
    expect((await loader.load(request(file))).kind).toBe('loaded');
    expect(await starts()).toBe(1);
    // The idle period is a timer: waiting it out is the behaviour under test.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await loader.load(request(file))).kind).toBe('loaded');
    expect(await starts()).toBe(2);
  });

  test('within idleMs the thread is reused', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const { entry, starts } = await countingEntry();
    const loader = loaderFor({ entry, idleMs: 60_000 });
    expect((await loader.load(request(file))).kind).toBe('loaded');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await loader.load(request(file))).kind).toBe('loaded');
    expect(await starts()).toBe(1);
  });
});

describe('policy worker: faults', () => {
  test('a worker that throws: a fault naming the error; the next load gets a fresh worker', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const loader = loaderFor({ entry: await faultyOnce('throws', "throw new Error('boom');") });
    expect(await loader.load(request(file))).toEqual({
      kind: 'fault',
      message: 'the allowlist loader thread crashed: boom',
    });
    expect(await loader.load(request(file))).toMatchObject({
      kind: 'loaded',
      data: { header: { version: 'v1' } },
    });
  });

  test('a worker that exits: a fault with the exit code', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const loader = loaderFor({ entry: await faultyOnce('exits', 'process.exit(3);') });
    expect(await loader.load(request(file))).toEqual({
      kind: 'fault',
      message: 'the allowlist loader thread exited with code 3',
    });
    expect(await loader.load(request(file))).toMatchObject({ kind: 'loaded' });
  });

  test('a worker that answers nonsense: a fault, not an exception on this thread', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const nonsense = `const { parentPort } = await import('node:worker_threads');
parentPort.on('message', () => parentPort.postMessage(null));`;
    const loader = loaderFor({ entry: await faultyOnce('nonsense', nonsense, '') });
    expect(await loader.load(request(file))).toEqual({
      kind: 'fault',
      message: expect.stringMatching(/^the allowlist loader thread sent a malformed message: /),
    });
  });

  test('a worker that spins forever: killed after the time limit; a fresh one answers next', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    // Booting the real worker through tsx takes longer than this time limit, so the next
    // thread is a stand-in that answers at once, in the protocol's terms.
    const answers = `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => parentPort.postMessage({ type: 'result', id: m.id, head: { kind: 'unchanged', hash: 'fresh' } }));`;
    const loader = loaderFor({
      timeoutMs: 400,
      entry: await faultyOnce('spins', 'for (;;) {}', answers),
    });
    // The time limit is a timer on this thread: it fires only because the spin is elsewhere.
    expect(await loader.load(request(file))).toEqual({
      kind: 'fault',
      message: 'the allowlist loader thread did not finish within 400 ms',
    });
    expect(await loader.load(request(file))).toEqual({ kind: 'unchanged', hash: 'fresh' });
  });

  test('in the store: a crash is a failed reload, logged and counted; the last good policy stays', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const { store, logs, registry } = loggingStore(file, {
      loader: loaderFor({ entry: await faultyOnce('store', "throw new Error('boom');") }),
    });
    const initial = await store.loadInitial();
    await writeFile(file, allowlist('v2'));
    await store.reload('test');
    expect(store.current).toBe(initial);
    expect(logs.filter((l) => l['msg'] === RELOAD_REJECTED)).toEqual([
      expect.objectContaining({
        level: 'error',
        trigger: 'test',
        errors: ['the allowlist loader thread crashed: boom'],
      }),
    ]);
    expect(await registry.metrics()).toContain(
      'mcp_gate_allowlist_reloads_total{result="failure"} 1',
    );
    // A fault is not the file's verdict: the same content is tried again, and now loads.
    await store.reload('test');
    expect(store.current?.policy.version).toBe('v2');
  });

  test('from the sources without a worker start of their own: every reload is a fault naming policy-worker.js; the last good policy stays', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    // The service's own start looks for the compiled policy-worker.js, which is not beside the
    // sources: a test that forgets startPolicyWorkerFromSources must fail, not pass unawares.
    const { store, logs } = loggingStore(file, {});
    const initial = await store.loadInitial();
    await writeFile(file, allowlist('v2'));
    await store.reload('test');
    expect(store.current).toBe(initial);
    expect(logs.filter((l) => l['msg'] === RELOAD_REJECTED)).toEqual([
      expect.objectContaining({
        errors: [
          expect.stringMatching(/^the allowlist loader thread crashed: .*policy-worker\.js/),
        ],
      }),
    ]);
  });

  test('stop during a load: the load ends, nothing is swapped or reported, stop resolves', async () => {
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1'));
    const registry = new Registry();
    const store = new PolicyStore({
      allowlistPath: file,
      knownHostsPath: undefined,
      limits: { maxBodyBytes: 1, maxBatchElements: 1 },
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(registry),
      now: () => NOW,
      loader: loaderFor({
        entry: await faultyOnce(
          'hangs',
          'setInterval(() => {}, 1 << 30); await new Promise(() => {});',
        ),
      }),
    });
    const initial = await store.loadInitial();
    await writeFile(file, allowlist('v2'));
    const started = fileAppears(path.join(dir, 'hangs.started'));
    const reloading = store.reload('test');
    // The worker is running its (never-ending) load when stop comes.
    await started;
    await store.stop();
    await reloading;
    expect(store.current).toBe(initial);
    expect(await registry.metrics()).toContain(
      'mcp_gate_allowlist_reloads_total{result="failure"} 0',
    );
  });
});
