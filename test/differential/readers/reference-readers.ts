/**
 * Reference readers: the Go and Python programs beside this file, each reading a request body
 * the way a real MCP server stack in that language does, run as long-lived child processes so
 * the differential suite can ask "what would a real server execute for these bytes?".
 *
 * A reader answers one body per line, in order, over one child's stdin and stdout (see the
 * protocol at the top of go/reader.go and python/reader.py); reads are pipelined. When a
 * toolchain is missing, start*Reader resolves `{ ok: false, why }` rather than throwing, so a
 * test can say loudly what it could not check.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** One message the server would hand to a handler. */
export interface ReadMessage {
  readonly method: string;
  /** The tool name for tools/call (as the server decoded it, possibly ""), else undefined. */
  readonly tool: string | undefined;
}

export interface ReaderVerdict {
  /** False when the server would answer the POST itself with an HTTP error. */
  readonly accepted: boolean;
  /**
   * In order, the requests and notifications whose handlers would run. Messages the server takes
   * but answers with an error without running anything (posted responses, unknown methods on
   * the Python side, params that fail to decode) are not listed.
   */
  readonly messages: readonly ReadMessage[];
  readonly error?: string;
}

export interface ReferenceReader {
  readonly name: string;
  read(body: Uint8Array): Promise<ReaderVerdict>;
  /** Kills the child; reads still pending reject. */
  close(): Promise<void>;
}

export type ReaderStart =
  | { readonly ok: true; readonly reader: ReferenceReader }
  | { readonly ok: false; readonly why: string };

const HERE = import.meta.dirname;
const ROOT = path.resolve(HERE, '../../..');
const GO_SOURCE = path.join(HERE, 'go', 'reader.go');
const PYTHON_SOURCE = path.join(HERE, 'python', 'reader.py');
/** How long a toolchain probe or a Go build may take before the reader counts as unavailable. */
const BUILD_MS = 120_000;
/** The first answer proves the child works; an interpreter that hangs is unavailable, not slow. */
const PROBE_MS = 15_000;

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnError?: Error;
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_MS);
    child.once('error', (spawnError) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, spawnError });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function describeFailure(what: string, result: RunResult): string {
  if (result.spawnError !== undefined) return `${what}: ${result.spawnError.message}`;
  const detail = result.stderr.trim() || result.stdout.trim();
  return `${what} exited with ${String(result.code)}${detail === '' ? '' : `: ${detail}`}`;
}

/**
 * The build must not reach the network or follow a user's module settings: the reader is
 * stdlib only and has no go.mod. Go needs a build cache; a CI shell without HOME gets one under
 * the reader cache.
 */
function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'on',
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
  };
  if (
    env['GOCACHE'] === undefined &&
    env['HOME'] === undefined &&
    env['XDG_CACHE_HOME'] === undefined
  ) {
    env['GOCACHE'] = path.join(cacheDir(), 'go-build');
  }
  return env;
}

function cacheDir(): string {
  const modules = path.join(ROOT, 'node_modules');
  return existsSync(modules)
    ? path.join(modules, '.cache', 'mcp-gate', 'reference-readers')
    : path.join(os.tmpdir(), 'mcp-gate-reference-readers');
}

/**
 * Builds go/reader.go once per process, into a cache keyed by the source and the Go version, so
 * later test runs (and other vitest workers) reuse the binary. The build goes to a unique name
 * first and is renamed into place, so two workers building at once never run a half-written file.
 */
async function buildGoReader(): Promise<{ ok: true; binary: string } | { ok: false; why: string }> {
  const version = await run('go', ['env', 'GOVERSION'], goEnv());
  if (version.code !== 0) {
    return {
      ok: false,
      why: `no Go toolchain (${describeFailure('go env GOVERSION', version)})`,
    };
  }
  const source = await readFile(GO_SOURCE);
  const key = createHash('sha256')
    .update(version.stdout.trim())
    .update('\0')
    .update(source)
    .digest('hex')
    .slice(0, 16);
  const dir = cacheDir();
  const binary = path.join(dir, `go-reader-${key}`);
  if (existsSync(binary)) return { ok: true, binary };
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${String(process.pid)}.${randomBytes(4).toString('hex')}.partial`;
  const build = await run('go', ['build', '-trimpath', '-o', partial, GO_SOURCE], goEnv());
  if (build.code !== 0) {
    await rm(partial, { force: true });
    return { ok: false, why: describeFailure('go build of the Go reference reader', build) };
  }
  await rename(partial, binary);
  return { ok: true, binary };
}

let goBuild: ReturnType<typeof buildGoReader> | undefined;

interface Pending {
  readonly resolve: (verdict: ReaderVerdict) => void;
  readonly reject: (error: Error) => void;
}

function parseVerdict(name: string, line: string): ReaderVerdict {
  const raw: unknown = JSON.parse(line);
  const fail = (why: string): never => {
    throw new Error(`${name} reader answered ${why}: ${line}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('a non-object');
  const { accepted, messages, error } = raw as Record<string, unknown>;
  if (typeof accepted !== 'boolean') return fail('without a boolean "accepted"');
  if (!Array.isArray(messages)) return fail('without a "messages" array');
  const read = messages.map((m: unknown): ReadMessage => {
    if (typeof m !== 'object' || m === null) return fail('a non-object message');
    const { method, tool } = m as Record<string, unknown>;
    if (typeof method !== 'string') return fail('a message without a string method');
    if (tool !== undefined && typeof tool !== 'string') return fail('a non-string tool');
    return { method, tool };
  });
  if (error !== undefined && typeof error !== 'string') return fail('a non-string error');
  return error === undefined ? { accepted, messages: read } : { accepted, messages: read, error };
}

/**
 * One child answering one line per body, in order: the FIFO of pending reads is matched
 * against answer lines as they arrive. If the child dies, every pending read and every later
 * read reject with its exit status and the end of its stderr.
 */
class ChildReader implements ReferenceReader {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: Pending[] = [];
  readonly #exited: Promise<void>;
  #stdout = '';
  #stderr = '';
  #dead: Error | undefined;
  readonly name: string;

  constructor(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.#child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.#onStdout(chunk);
    });
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      // Only the end is kept: it says why the child died.
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    // A write to a child that already died fails with EPIPE; the exit handler reports it.
    this.#child.stdin.on('error', () => undefined);
    this.#exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#fail(new Error(`${name} reader could not run ${command}: ${error.message}`));
        resolve();
      });
      this.#child.once('close', (code, signal) => {
        const how = signal === null ? `code ${String(code)}` : `signal ${signal}`;
        const stderr = this.#stderr.trim();
        this.#fail(
          new Error(`${name} reader exited (${how})${stderr === '' ? '' : `: ${stderr}`}`),
        );
        resolve();
      });
    });
  }

  read(body: Uint8Array): Promise<ReaderVerdict> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      const line = JSON.stringify({ body: Buffer.from(body).toString('base64') });
      this.#child.stdin.write(`${line}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.#dead === undefined) {
      // Rejected now rather than at the exit: an answer already on its way must not make a
      // read pending at close() resolve after all.
      this.#fail(new Error(`${this.name} reader was closed`));
      this.#child.kill('SIGKILL');
    }
    await this.#exited;
  }

  #onStdout(chunk: string): void {
    // Once closed or broken, nothing is waiting for answers.
    if (this.#dead !== undefined) return;
    this.#stdout += chunk;
    for (;;) {
      const end = this.#stdout.indexOf('\n');
      if (end < 0) return;
      const line = this.#stdout.slice(0, end);
      this.#stdout = this.#stdout.slice(end + 1);
      const pending = this.#pending.shift();
      if (pending === undefined) {
        // An answer nobody asked for means the line pairing is broken; no later answer can
        // be trusted.
        this.#child.kill('SIGKILL');
        this.#fail(new Error(`${this.name} reader wrote an unrequested line: ${line}`));
        return;
      }
      try {
        pending.resolve(parseVerdict(this.name, line));
      } catch (error) {
        pending.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  #fail(error: Error): void {
    this.#dead ??= error;
    for (const pending of this.#pending.splice(0)) pending.reject(this.#dead);
  }
}

/** Starts a child and proves it answers before handing it out. */
async function startChild(
  name: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ReaderStart> {
  const reader = new ChildReader(name, command, args, env);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      reader.read(new TextEncoder().encode('{}')),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${name} reader gave no answer within ${String(PROBE_MS)} ms`));
        }, PROBE_MS);
      }),
    ]);
    return { ok: true, reader };
  } catch (error) {
    await reader.close();
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The Go reader: encoding/json into the Go MCP SDK's message structs, name 'go-encoding-json'. */
export async function startGoReader(): Promise<ReaderStart> {
  goBuild ??= buildGoReader();
  const built = await goBuild;
  if (!built.ok) return { ok: false, why: built.why };
  return startChild('go-encoding-json', built.binary, [], process.env);
}

/** The Python reader: json.loads on the body bytes, name 'python-json'; python3 from PATH. */
export async function startPythonReader(): Promise<ReaderStart> {
  // -I: no user site-packages and no PYTHON* variables, so the stdlib json module is the one read.
  return startChild('python-json', 'python3', ['-I', PYTHON_SOURCE], process.env);
}
