/**
 * The compiled policy for commands that read the allowlist outside the service (explain,
 * issue-certs, render-envoy): the same loader and compiler the service uses, so a file serve
 * would refuse yields nothing, and a file it takes means what it means to serve.
 */
import type { CompiledPolicy, KnownHosts } from '../core/policy/policy.js';
import { buildSnapshot, loadPolicyData } from './policy-data.js';
import { BUNDLED_KNOWN_HOSTS, NO_KNOWN_HOSTS } from './service-config.js';

export type CommandPolicy =
  | {
      readonly ok: true;
      readonly policy: CompiledPolicy;
      readonly knownHosts: KnownHosts;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Loads the allowlist and known-host list (`undefined` is the bundled list, "none" no list, as
 * for serve), and checks review signatures against `reviewersPath` when given, as
 * `serve --reviewers` does. Errors are `FILE:LINE:COL message` lines.
 */
export async function loadPolicyForCommand(
  allowlistPath: string,
  knownHostsFlag: string | undefined,
  now: Date,
  reviewersPath?: string,
): Promise<CommandPolicy> {
  const knownHosts = knownHostsFlag ?? BUNDLED_KNOWN_HOSTS;
  const loaded = await loadPolicyData({
    allowlistPath,
    knownHostsPath: knownHosts === NO_KNOWN_HOSTS ? undefined : knownHosts,
    reviewersPath,
    nowMs: now.getTime(),
    skipHashes: [],
  });
  if (loaded.kind !== 'loaded') {
    return { ok: false, errors: loaded.kind === 'invalid' ? loaded.errors : [] };
  }
  // Limits only matter to Checks, and a command that runs one (explain) sets its own.
  const { policy, knownHosts: hosts } = await buildSnapshot(loaded.data, {
    maxBodyBytes: 1,
    maxBatchElements: 1,
  });
  return { ok: true, policy, knownHosts: hosts, warnings: loaded.data.warnings };
}
