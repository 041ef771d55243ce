/** Starts the real service in-process on random ports with a temp allowlist, for integration tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { resolveServeConfig } from '../../src/config/service-config.js';
import { startService } from '../../src/service.js';
import type { RunningService } from '../../src/service.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startPolicyWorkerFromSources } from './policy-worker.js';

export interface TestService {
  readonly service: RunningService;
  readonly dir: string;
  readonly allowlistPath: string;
  readonly knownHostsPath: string;
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly registry: Registry;
  /** Every log line emitted so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line (already emitted or future) that matches. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  readonly allowlist: string;
  readonly knownHosts?: string;
  readonly now?: () => number;
  readonly flags?: Readonly<Record<string, string>>;
}

export async function startTestService(options: TestServiceOptions): Promise<TestService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-test-'));
  const allowlistPath = path.join(dir, 'allowlist.yaml');
  const knownHostsPath = path.join(dir, 'known-mcp-hosts.yaml');
  await writeFile(allowlistPath, options.allowlist);
  await writeFile(knownHostsPath, options.knownHosts ?? 'hosts: []\n');

  const logs: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
      callback();
    },
  });
  const config = resolveServeConfig(
    {
      allowlist: allowlistPath,
      'known-hosts': knownHostsPath,
      'grpc-listen': '127.0.0.1:0',
      'http-listen': '127.0.0.1:0',
      'reload-poll-ms': '0',
      'shutdown-grace-ms': '2000',
      'log-level': 'debug',
      ...options.flags,
    },
    {},
  );
  const registry = new Registry();
  const logger = createLogger({ level: config.logLevel, destination: sink });
  let service: RunningService;
  try {
    service = await startService(config, {
      logger,
      registry,
      now: options.now ?? Date.now,
      startPolicyWorker: startPolicyWorkerFromSources,
    });
  } catch (err: unknown) {
    // A service that did not start leaves no temp dir behind.
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    service,
    dir,
    allowlistPath,
    knownHostsPath,
    grpcAddress: `127.0.0.1:${service.grpcPort}`,
    httpUrl: `http://127.0.0.1:${service.httpPort}`,
    registry,
    logs,
    waitForLog(predicate) {
      const found = logs.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
