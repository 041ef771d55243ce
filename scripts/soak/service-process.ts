/**
 * The service under soak, as a child process: `node <entry> serve …` on random ports, its JSON
 * log lines on stdout watched for the events the soak needs (listening, allowlist loads and
 * rejections), its RSS read from /proc.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface ServiceLogLine {
  readonly msg?: unknown;
  readonly [key: string]: unknown;
}

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly pid: number;
  /** `127.0.0.1:port` of the gRPC listener. */
  readonly grpcAddress: string;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ServiceExit>;
  isRunning(): boolean;
  /** Resident set size in KiB, from /proc/<pid>/status; undefined once it is gone. */
  rssKb(): number | undefined;
  sighup(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs: number): Promise<ServiceExit>;
  /** The last lines it wrote to stderr, for diagnostics. */
  stderrTail(): string;
}

export interface StartOptions {
  readonly entry: string;
  readonly cwd: string;
  readonly args: readonly string[];
  readonly startTimeoutMs: number;
  /** Called with the child's pid as soon as it is spawned (for last-resort cleanup). */
  readonly onSpawn: (pid: number) => void;
  /** Called for every log line except per-decision audit lines, from the very first. */
  readonly onLine: (line: ServiceLogLine) => void;
}

/** Spawns the service and resolves once it logs that it listens. */
export async function startServiceProcess(options: StartOptions): Promise<ServiceProcess> {
  // Flags win over MCP_GATE_* variables, but an unexpected one (say, a log level) could still
  // change what the soak sees, so the child gets none of them.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('MCP_GATE_')),
  );
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [options.entry, 'serve', ...options.args],
    { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let running = true;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const stderrLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    if (stderrLines.length > 50) stderrLines.shift();
  });

  const listeners: ((line: ServiceLogLine) => void)[] = [options.onLine];
  createInterface({ input: child.stdout }).on('line', (text) => {
    // One audit line per MCP decision: by far the most lines, and none the soak needs.
    if (text.endsWith('"msg":"decision"}')) return;
    let line: ServiceLogLine;
    try {
      line = JSON.parse(text) as ServiceLogLine;
    } catch {
      line = { msg: 'non-JSON output', text };
    }
    for (const listener of listeners) listener(line);
  });

  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the service');
  options.onSpawn(pid);
  const stop = async (graceMs: number): Promise<ServiceExit> => {
    if (running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };

  const listening = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the service did not report listening within ${options.startTimeoutMs} ms`));
    }, options.startTimeoutMs);
    listeners.push((line) => {
      if (line.msg === 'mcp-gate listening' && typeof line['grpc'] === 'string') {
        clearTimeout(timer);
        resolve(line['grpc']);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the service exited before listening (code ${code}, signal ${signal})`));
    });
  }).catch(async (err: unknown) => {
    await stop(2000);
    const tail = stderrLines.join('\n');
    throw new Error(`${String(err)}${tail === '' ? '' : `\nservice stderr:\n${tail}`}`);
  });

  return {
    pid,
    grpcAddress: listening,
    exited,
    isRunning: () => running,
    rssKb: () => readRssKb(pid),
    sighup: () => {
      if (running) child.kill('SIGHUP');
    },
    stop,
    stderrTail: () => stderrLines.join('\n'),
  };
}

function readRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Kills a child at once, synchronously: the last resort from a process 'exit' handler. */
export function killNow(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
