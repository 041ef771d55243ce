/**
 * The inspection set: the hosts whose approvals can only be enforced on the request itself, so
 * Envoy must terminate TLS for them (envoy/, docs/interception.md). Derived from the compiled
 * allowlist on every load, never kept by hand. Pure.
 *
 * An entry needs the request when its decision depends on more than the host a tunnel shows:
 * tool rules, a path prefix narrower than `/`, a port, conditions, or an access rule naming AI
 * clients (the client names itself inside the request). Access by user or group needs only the
 * identity, which a CONNECT carries as well, so it alone does not put an entry in the set. An entry that says
 * `inspection: host_only` (a reviewed, stamp-covered choice) is enforced on the host alone and
 * stays out of the set.
 */
import { hostPatternToString } from './host-pattern.js';
import type { CompiledEntry, CompiledPolicy } from './policy.js';

/** TLS's port, where a tunnel to an entry without a port in its url ends. */
const HTTPS_PORT = 443;

/** One host pattern Envoy must intercept. */
export interface InspectedHost {
  /** The host pattern as the allowlist writes it: `api.githubcopilot.com` or `*.example.com`. */
  readonly host: string;
  /** Destination ports to intercept, ascending: 443, and any port an entry's url names. */
  readonly ports: readonly number[];
  /**
   * A name for this host's certificate and Envoy resources, safe as a file name and as a
   * Kubernetes object name: lower case, `*.` spelt `wildcard.` (`wildcard.example.com`).
   */
  readonly name: string;
  /** Ids of the entries at this host pattern that need the request, in file order. */
  readonly entryIds: readonly string[];
}

/** Whether the entry's decision needs the request itself rather than the tunnel's host. */
export function needsInspection(entry: CompiledEntry): boolean {
  if (entry.transport !== 'http' || entry.host === undefined || entry.hostOnly) return false;
  return (
    entry.tools !== undefined ||
    entry.port !== undefined ||
    (entry.pathPrefix !== undefined && entry.pathPrefix !== '/') ||
    entry.conditions.length > 0 ||
    entry.toolRules.length > 0 ||
    entry.access.some((rule) => rule.clients !== undefined)
  );
}

/** The inspection set of a policy, sorted by host pattern. */
export function inspectionSet(policy: CompiledPolicy): readonly InspectedHost[] {
  const byHost = new Map<string, { ports: Set<number>; entryIds: string[] }>();
  for (const entry of policy.entries) {
    if (!needsInspection(entry) || entry.host === undefined) continue;
    const host = hostPatternToString(entry.host);
    let group = byHost.get(host);
    if (group === undefined) {
      group = { ports: new Set([HTTPS_PORT]), entryIds: [] };
      byHost.set(host, group);
    }
    if (entry.port !== undefined) group.ports.add(entry.port);
    group.entryIds.push(entry.id);
  }
  return Object.freeze(
    [...byHost.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, group]) =>
        Object.freeze({
          host,
          ports: Object.freeze([...group.ports].sort((a, b) => a - b)),
          name: resourceName(host),
          entryIds: Object.freeze(group.entryIds),
        }),
      ),
  );
}

/** `*.example.com` → `wildcard.example.com`; any character outside [a-z0-9.-] becomes `-`. */
function resourceName(host: string): string {
  return host.replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9.-]/g, '-');
}
