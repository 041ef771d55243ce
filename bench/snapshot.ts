/** The snapshot the in-process micro-benchmarks decide against, built by the service's own loader. */
import { parseAllowlist } from '../src/config/load-allowlist.js';
import { EMPTY_KNOWN_HOSTS } from '../src/config/load-known-hosts.js';
import type { PolicySnapshot } from '../src/core/pipeline.js';
import { ICONV_CHARSETS } from '../src/text/iconv-charsets.js';

export const BENCH_LIMITS: PolicySnapshot['limits'] = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxBatchElements: 1000,
};

/** `text` parsed as the service would at `now`; throws with the first problems when invalid. */
export function benchSnapshot(
  text: string,
  now: Date,
  knownHosts: PolicySnapshot['knownHosts'] = EMPTY_KNOWN_HOSTS,
): PolicySnapshot {
  const parsed = parseAllowlist(text, { fileName: 'bench.yaml', now });
  if (!parsed.ok) {
    const first = parsed.errors.slice(0, 3).map((e) => `${e.line}:${e.col} ${e.message}`);
    throw new Error(`bench allowlist is invalid: ${first.join('; ')}`);
  }
  return { policy: parsed.policy, knownHosts, limits: BENCH_LIMITS, charsets: ICONV_CHARSETS };
}
