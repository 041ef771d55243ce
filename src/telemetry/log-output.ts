/**
 * Where every log line goes (the audit line of each decision and the operational lines alike):
 * stdout, through a buffer with a fixed cap, so that a log reader that stalls costs lines, never
 * memory and never a Check.
 *
 * Why: stdout is a pipe read by whoever collects logs (the container runtime, a shell). When that
 * reader stops, the kernel's pipe buffer fills and every further line waits in this process; an
 * unbounded writer then grows without end (issue 12 measured 40 MB over 52,000 decisions).
 *
 * The rules:
 * - At most `maxBufferedBytes` of lines wait in memory, the chunk being written included. A line
 *   that does not fit is dropped whole and counted (`dropped()`, which the metrics report as
 *   `mcp_gate_audit_lines_dropped_total`); a line is never cut.
 * - The first line that fits after a drop is preceded by a warn line saying how many lines were
 *   dropped, at most one such note per NOTE_INTERVAL_MS (the counter has the totals). Once
 *   `drain` has been called, the note still owed goes out as soon as there is room for it.
 * - A Check never waits for its line: lines go to process.stdout, which Node writes without
 *   blocking for pipes and sockets (files and terminals it writes synchronously, as it always
 *   does), one chunk at a time, the next once the last is written. A chunk
 *   is whole lines of at most CHUNK_BYTES, the pipe's atomic write size, so under `--workers`,
 *   where several processes write into one pipe, a chunk lands in one piece and lines from two
 *   processes never interleave. A single longer line is written alone.
 * - `drain` (SIGTERM) waits for the buffer to empty until a deadline. At process exit whatever
 *   is still queued is written synchronously if stdout takes it without blocking; the lines that
 *   could not be written are said on stderr.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** PIPE_BUF on Linux: a write of at most this many bytes into a pipe is never split. */
export const CHUNK_BYTES = 4096;

/** The default cap of `--log-buffer-bytes`: about 15,000 audit lines. */
export const DEFAULT_LOG_BUFFER_BYTES = 8 * 1024 * 1024;

/** At most one dropped-lines note per this many ms. */
export const NOTE_INTERVAL_MS = 10_000;

/** The note's message, for alerts on the text and for readers of the log. */
export const DROPPED_NOTE_MESSAGE =
  'log lines dropped: stdout was not read fast enough (counted in mcp_gate_audit_lines_dropped_total)';

export interface LogOutputOptions {
  /** The most bytes of lines waiting to be written, the chunk being written included. */
  readonly maxBufferedBytes: number;
  /** Where lines go; default process.stdout, which then also gets the flush at exit. */
  readonly stream?: Writable;
  readonly now?: () => number;
}

export interface LogOutput {
  /** Queues one line (pino hands over each line whole, newline included). Never blocks. */
  write(line: string): void;
  /** Lines dropped since start, each for want of room. */
  dropped(): number;
  /** Bytes of lines waiting, the chunk being written included. */
  bufferedBytes(): number;
  /** pino's `logger.flush(cb)`: calls back once everything queued has been written. */
  flush(callback?: (err?: Error) => void): void;
  /**
   * Writes the pending note, then resolves true once everything queued has been written, or
   * false at `deadlineMs` (epoch ms) with lines still waiting.
   */
  drain(deadlineMs: number): Promise<boolean>;
}

interface Chunk {
  text: string;
  bytes: number;
  lines: number;
}

/** Creates the output; with the default stream, one per process (they would share stdout). */
export function createLogOutput(options: LogOutputOptions): LogOutput {
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? Date.now;
  const max = options.maxBufferedBytes;
  /** Chunks not yet handed to the stream; the last one may still grow. */
  const queue: Chunk[] = [];
  let inFlight: Chunk | undefined;
  let buffered = 0;
  let dropped = 0;
  let unreported = 0;
  let lastNoteMs = Number.NEGATIVE_INFINITY;
  let broken = false;
  /** Set by drain: the note still owed is written as soon as there is room for it. */
  let closing = false;
  const idleWaiters = new Set<() => void>();

  const enqueue = (text: string, bytes: number): void => {
    buffered += bytes;
    const last = queue.at(-1);
    if (last !== undefined && last.bytes + bytes <= CHUNK_BYTES) {
      last.text += text;
      last.bytes += bytes;
      last.lines += 1;
    } else {
      queue.push({ text, bytes, lines: 1 });
    }
  };

  /** Queues the dropped-lines note if it fits with `reserve` more bytes after it. */
  const addNote = (reserve: number): void => {
    const note = noteLine(unreported, dropped, now());
    const bytes = Buffer.byteLength(note);
    if (buffered + bytes + reserve > max) return;
    enqueue(note, bytes);
    unreported = 0;
    lastNoteMs = now();
  };

  const pump = (): void => {
    const chunk = queue.shift();
    if (chunk === undefined) {
      for (const wake of [...idleWaiters]) wake();
      return;
    }
    inFlight = chunk;
    stream.write(chunk.text, (err) => {
      inFlight = undefined;
      buffered -= chunk.bytes;
      if (err !== null && err !== undefined) {
        giveUp();
        return;
      }
      if (closing && unreported > 0) addNote(0);
      pump();
    });
  };

  /** The reader is gone (EPIPE and the like): nothing will be written again. */
  const giveUp = (): void => {
    if (broken) return;
    broken = true;
    for (const chunk of queue.splice(0)) {
      dropped += chunk.lines;
      buffered -= chunk.bytes;
    }
    for (const wake of [...idleWaiters]) wake();
  };
  // An unheard 'error' would end the process; the write callback has already seen it.
  stream.on('error', giveUp);

  if (options.stream === undefined) {
    process.once('exit', () => {
      flushAtExit(inFlight, queue, stream);
    });
  }

  const isIdle = (): boolean => broken || (inFlight === undefined && queue.length === 0);

  return {
    write(line) {
      const bytes = Buffer.byteLength(line);
      if (broken || buffered + bytes > max) {
        dropped += 1;
        unreported += 1;
        return;
      }
      if (unreported > 0 && now() - lastNoteMs >= NOTE_INTERVAL_MS) addNote(bytes);
      enqueue(line, bytes);
      if (inFlight === undefined) pump();
    },
    dropped: () => dropped,
    bufferedBytes: () => buffered,
    flush(callback) {
      if (isIdle()) {
        callback?.();
        return;
      }
      const wake = (): void => {
        idleWaiters.delete(wake);
        callback?.();
      };
      idleWaiters.add(wake);
    },
    drain(deadlineMs) {
      closing = true;
      if (!broken && unreported > 0) {
        addNote(0);
        if (inFlight === undefined) pump();
      }
      if (isIdle()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(
          () => {
            idleWaiters.delete(wake);
            resolve(false);
          },
          Math.max(0, deadlineMs - now()),
        );
        const wake = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        idleWaiters.add(wake);
      });
    },
  };
}

/** The note written ahead of the first line that fits after `count` were dropped. */
function noteLine(count: number, total: number, nowMs: number): string {
  const note = {
    level: 'warn',
    time: new Date(nowMs).toISOString(),
    pid: process.pid,
    dropped_lines: count,
    dropped_total: total,
    msg: DROPPED_NOTE_MESSAGE,
  };
  return `${JSON.stringify(note)}\n`;
}

/**
 * Last chance at process exit (a fatal error, or a drain that ran out of time): the event loop
 * will not run again, so queued chunks are written with writeSync while stdout takes them. A
 * chunk the stream has not finished is left alone: writing after it could cut a line, and the
 * reader that held it up is most likely still stalled. What is left is said on stderr.
 */
function flushAtExit(inFlight: Chunk | undefined, queue: readonly Chunk[], stream: Writable): void {
  let lost = 0;
  let blocked = inFlight !== undefined && stream.writableLength > 0;
  if (blocked && inFlight !== undefined) lost += inFlight.lines;
  for (const chunk of queue) {
    if (!blocked) {
      if (writeWhole(chunk.text)) continue;
      blocked = true;
    }
    lost += chunk.lines;
  }
  if (lost === 0) return;
  try {
    writeSync(
      2,
      `mcp-gate: ${lost} log lines still buffered at exit were lost (stdout not read)\n`,
    );
  } catch {
    // stderr is stalled too: nothing more can be said.
  }
}

/**
 * Writes `text` to fd 1 and says whether all of it went. A chunk of at most PIPE_BUF bytes is
 * all-or-nothing on a non-blocking pipe; only a longer single line can stop part-way.
 */
function writeWhole(text: string): boolean {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
    return true;
  } catch {
    return false;
  }
}
