/**
 * CPU per step of one Check, in-process, for the bench's approved tools/call against the
 * 1,000-entry allowlist: decode, facts, the whole check(), response encode; the generic
 * (proto-loader) codecs against the lean ones the server uses.
 *
 *   npx tsx bench/micro-check.ts [--payload tools-call]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';

import { PolicyStore } from '../src/config/policy-store.js';
import { decodeCheckRequest } from '../src/envoy/check-request-codec.js';
import { encodeCheckResponse } from '../src/envoy/check-response-codec.js';
import { authorizationService } from '../src/envoy/proto.js';
import { check } from '../src/envoy/server.js';
import { toRequestFacts } from '../src/envoy/to-facts.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { generateAllowlist } from './allowlist-gen.js';
import { buildPayloads, PAYLOAD_NAMES } from './payloads.js';
import type { PayloadName } from './payloads.js';
import { cpuNsPerCall } from './stats.js';

const { values } = parseArgs({ options: { payload: { type: 'string', default: 'tools-call' } } });
const name = values.payload as PayloadName;
if (!PAYLOAD_NAMES.includes(name)) throw new Error(`unknown payload ${name}`);

const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-micro-check-'));
const allowlistPath = path.join(dir, 'allowlist.yaml');
await writeFile(allowlistPath, generateAllowlist(1000, new Date()));
const registry = new Registry();
const metrics = createMetrics(registry);
const logger = createLogger({
  level: 'warn',
  destination: new Writable({
    write: (_c, _e, cb) => {
      cb();
    },
  }),
});
const store = new PolicyStore({
  allowlistPath,
  knownHostsPath: path.resolve(import.meta.dirname, '../deploy/known-mcp-hosts.yaml'),
  limits: { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 },
  logger,
  metrics,
  now: Date.now,
});
await store.loadInitial();
const deps = { store, logger, metrics, now: Date.now };
const [payload] = buildPayloads([name]);
if (payload === undefined) throw new Error('no payload');
const bytes = Buffer.from(payload.message);
const { requestDeserialize, responseSerialize } = authorizationService.Check;

function time(label: string, fn: () => unknown, n = 20000): void {
  cpuNsPerCall(fn, 2000);
  const us = cpuNsPerCall(fn, n) / 1000;
  console.log(`${label.padEnd(34)} ${us.toFixed(2).padStart(8)} µs`);
}

const decoded = requestDeserialize(bytes);
const response = check(deps, decoded);
for (let round = 0; round < 3; round += 1) {
  time('decode (proto-loader)', () => requestDeserialize(bytes));
  time('toRequestFacts', () => toRequestFacts(decoded));
  time('check() on a decoded request', () => check(deps, decoded));
  time('encode response', () => responseSerialize(response));
  time('decode (lean)', () => decodeCheckRequest(bytes));
  time('encode response (lean)', () => encodeCheckResponse(response, responseSerialize));
  time('all four (generic codecs)', () =>
    responseSerialize(check(deps, requestDeserialize(bytes))),
  );
  time('all four (lean codecs)', () =>
    encodeCheckResponse(check(deps, decodeCheckRequest(bytes)), responseSerialize),
  );
  console.log('');
}
await rm(dir, { recursive: true, force: true });
