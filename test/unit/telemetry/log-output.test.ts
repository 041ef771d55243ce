/**
 * The bounded log output (src/telemetry/log-output.ts) against a stream that takes chunks only
 * when the test lets it: the cap holds, dropped lines are counted and announced, nothing is
 * cut, and drain/flush report when the buffer is empty. The counter it feeds is asserted on
 * the registry text.
 */
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';

import {
  CHUNK_BYTES,
  createLogOutput,
  DROPPED_NOTE_MESSAGE,
  NOTE_INTERVAL_MS,
} from '../../../src/telemetry/log-output.js';
import type { LogOutput } from '../../../src/telemetry/log-output.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';

/** A stream whose writes complete only when `release` is called (a stalled log reader). */
class HeldStream extends Writable {
  readonly chunks: string[] = [];
  private held: (() => void)[] = [];
  stalled = true;
  override _write(chunk: Buffer, _encoding: string, callback: (err?: Error) => void): void {
    this.chunks.push(chunk.toString('utf8'));
    if (this.stalled) this.held.push(callback);
    else callback();
  }
  /** Lets every held write complete, and later ones at once. */
  release(): void {
    this.stalled = false;
    for (const callback of this.held.splice(0)) callback();
  }
  lines(): string[] {
    return this.chunks.join('').split('\n').slice(0, -1);
  }
}

const line = (i: number, size = 100): string => {
  const head = JSON.stringify({ i, pad: '' });
  return `${head.slice(0, -2)}${'x'.repeat(size - head.length - 1)}"}\n`;
};

function setUp(maxBufferedBytes: number, clock = { ms: 0 }) {
  const stream = new HeldStream();
  const output = createLogOutput({ maxBufferedBytes, stream, now: () => clock.ms });
  return { stream, output, clock };
}

const drained = (output: LogOutput): Promise<void> =>
  new Promise((resolve) => {
    output.flush(() => {
      resolve();
    });
  });

describe('createLogOutput', () => {
  test('a stream that keeps up gets every line, in order, in chunks of whole lines', async () => {
    const { stream, output } = setUp(64 * 1024);
    stream.release();
    for (let i = 0; i < 500; i++) output.write(line(i));
    await drained(output);
    expect(stream.lines().map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([
      ...Array(500).keys(),
    ]);
    for (const chunk of stream.chunks) {
      expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(CHUNK_BYTES);
      expect(chunk.endsWith('\n')).toBe(true);
    }
    expect(output.dropped()).toBe(0);
    expect(output.bufferedBytes()).toBe(0);
  });

  test('a stalled stream: the buffer stays under the cap, the rest is dropped whole and counted', async () => {
    const cap = 10_000;
    const { stream, output } = setUp(cap);
    for (let i = 0; i < 1000; i++) {
      output.write(line(i));
      expect(output.bufferedBytes()).toBeLessThanOrEqual(cap);
    }
    // 100 lines of 100 bytes fit; every later one is dropped.
    expect(output.dropped()).toBe(900);
    stream.release();
    await drained(output);
    output.write(line(1000));
    await drained(output);
    const lines = stream.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, 100).map((l) => l['i'])).toEqual([...Array(100).keys()]);
    // The gap is announced ahead of the first line that got through after it.
    expect(lines[100]).toMatchObject({
      level: 'warn',
      msg: DROPPED_NOTE_MESSAGE,
      dropped_lines: 900,
      dropped_total: 900,
    });
    expect(lines[101]?.['i']).toBe(1000);
    expect(lines).toHaveLength(102);
  });

  test('notes are rate-limited; drain writes the one still owed', async () => {
    const { stream, output, clock } = setUp(1_000);
    const fillAndDrop = (from: number): void => {
      for (let i = from; i < from + 20; i++) output.write(line(i));
    };
    fillAndDrop(0); // 10 fit, 10 dropped
    stream.release();
    await drained(output);
    stream.stalled = true;
    output.write(line(100)); // the note for 10, then this line
    fillAndDrop(200); // held again: some fit after the note and line 100, the rest dropped
    stream.release();
    await drained(output);
    clock.ms += NOTE_INTERVAL_MS - 1;
    output.write(line(300)); // too soon for a second note
    await drained(output);
    const notes = (): Record<string, unknown>[] =>
      stream
        .lines()
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['msg'] === DROPPED_NOTE_MESSAGE);
    expect(notes().map((n) => n['dropped_lines'])).toEqual([10]);
    expect(await output.drain(clock.ms + 1_000)).toBe(true);
    expect(notes().map((n) => n['dropped_lines'])).toEqual([10, output.dropped() - 10]);
    expect(output.dropped()).toBeGreaterThan(10);
  });

  test('drain resolves false at its deadline while the stream is stalled, true once it moves', async () => {
    const stream = new HeldStream();
    const output = createLogOutput({ maxBufferedBytes: 10_000, stream });
    output.write(line(0));
    expect(await output.drain(Date.now() + 20)).toBe(false);
    const moving = output.drain(Date.now() + 60_000);
    stream.release();
    expect(await moving).toBe(true);
  });

  test('a line longer than a chunk is written alone and whole', async () => {
    const { stream, output } = setUp(64 * 1024);
    stream.release();
    output.write(line(0));
    output.write(line(1, CHUNK_BYTES * 3));
    output.write(line(2));
    await drained(output);
    expect(stream.lines().map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 1, 2]);
    expect(stream.chunks.some((c) => c === line(1, CHUNK_BYTES * 3))).toBe(true);
  });

  test('a stream that fails (EPIPE) ends writing: later lines are counted as dropped, nothing throws', async () => {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const output = createLogOutput({ maxBufferedBytes: 10_000, stream });
    output.write(line(0));
    await drained(output);
    output.write(line(1));
    output.write(line(2));
    expect(output.dropped()).toBe(2);
    expect(await output.drain(Date.now() + 1_000)).toBe(true);
  });
});

describe('mcp_gate_audit_lines_dropped_total', () => {
  test('exists at 0 from the start, then follows the output', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const { output } = setUp(1_000);
    metrics.observeDroppedLogLines(() => output.dropped());
    expect(await registry.metrics()).toContain('\nmcp_gate_audit_lines_dropped_total 0\n');
    const logger = createLogger({ level: 'info', destination: output });
    for (let i = 0; i < 50; i++) logger.info({ i }, 'decision');
    expect(output.dropped()).toBeGreaterThan(0);
    const text = await registry.metrics();
    expect(text).toContain(`\nmcp_gate_audit_lines_dropped_total ${output.dropped()}\n`);
    // A second scrape reports the same total, not twice the count.
    expect(await registry.metrics()).toBe(text);
  });
});
