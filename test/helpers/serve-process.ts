/**
 * `mcp-gate serve` as a subprocess (the built `dist/main.js`, or another entry), with its JSON
 * log lines collected from stdout. Every wait is for a log line or an exit, never a sleep, and
 * fails early (with the child's stderr) when the child exits first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const MAIN = path.join(ROOT, 'dist/main.js');
/** How long a wait for a log line or an exit may take before the test fails with context. */
export const WAIT_MS = 10_000;

export type LogLine = Record<string, unknown>;
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const children = new Set<ChildProcess>();

/** Every child started here that has not exited yet. */
export function runningChildren(): ChildProcess[] {
  return [...children].filter((c) => c.exitCode === null && c.signalCode === null);
}

/** SIGKILLs every child still running and waits for the exits; for afterEach. */
export async function killServeProcesses(): Promise<void> {
  await Promise.all(
    runningChildren().map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => {
            resolve();
          });
          // A stopped child (SIGSTOP in a test) must be continued to die promptly.
          child.kill('SIGCONT');
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

/** Registers a child started elsewhere so killServeProcesses stops it too. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
}

export /** The parent's environment without MCP_GATE_* (and without test-runner NODE_OPTIONS). */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('MCP_GATE_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...extra };
}

export interface ServeOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags before the entry, e.g. `--import` of a fault injector. */
  readonly nodeArgs?: readonly string[];
  /** Working directory (default ROOT); another one shows nothing is found relative to it. */
  readonly cwd?: string;
  /** The script node runs (default MAIN), e.g. dist/main.js of another file layout. */
  readonly entry?: string;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  stderr(): string;
  /** The first log line (past or future) that matches; rejects if the process exits first. */
  waitForLog(what: string, predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
}

/** Starts `mcp-gate serve …` and collects its JSON log lines from stdout. */
export function startServe(args: readonly string[], options: ServeOptions = {}): ServeProcess {
  const env = options.env ?? cleanEnv();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.entry ?? MAIN, 'serve', ...args],
    {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stdoutRest = '';
  let stderr = '';
  let exit: Exit | undefined;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (stdoutRest + chunk).split('\n');
    stdoutRest = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      try {
        logs.push(JSON.parse(text) as LogLine);
      } catch {
        logs.push({ unparsed: text });
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Let the last stdout chunk arrive before waiters give up.
      child.stdout.once('close', () => {
        for (const wake of [...waiters]) wake();
      });
      resolve(exit);
    });
  });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(what, predicate) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line "${what}" within ${WAIT_MS} ms; stderr: ${stderr}`));
        }, WAIT_MS);
        const check = (): void => {
          const found = logs.find(predicate);
          if (found !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          } else if (exit !== undefined && child.stdout.closed) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(
              new Error(
                `serve exited (${JSON.stringify(exit)}) before log line "${what}"; stderr: ${stderr}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Sends a signal and resolves with the exit and how long it took. */
export async function stopWith(
  serve: ServeProcess,
  signal: NodeJS.Signals,
): Promise<Exit & { ms: number }> {
  const started = Date.now();
  serve.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    serve.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no exit ${WAIT_MS} ms after ${signal}`));
      }, WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  return { ...exit, ms: Date.now() - started };
}

/**
 * The flags most tests pass after the listen address: a random telemetry port, no periodic
 * re-read (reloads come from SIGHUP or the watcher, when a test asks), a short grace period.
 */
export const TEST_SERVE_FLAGS: readonly string[] = [
  '--http-listen',
  '127.0.0.1:0',
  '--reload-poll-ms',
  '0',
  '--shutdown-grace-ms',
  '3000',
];

/** The line `serve` logs once both listeners are bound. */
export const listening = (l: LogLine): boolean => l['msg'] === 'mcp-gate listening';
