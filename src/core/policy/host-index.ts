/**
 * HostIndex: values keyed by host pattern, looked up by a concrete host in O(labels of the
 * host), however many patterns it holds. The compiled allowlist (compile.ts) and the known-MCP-
 * host list (src/config/load-known-hosts.ts) both look hosts up through it.
 *
 * Invariants: lookups never throw; the looked-up host must already be normalised (lower-case,
 * no port, no trailing dot), as RequestFacts guarantees.
 */
import type { HostPattern } from './host-pattern.js';

/**
 * Values keyed by host pattern, looked up by a concrete host: the exact list if present, then
 * the wildcard lists from the longest suffix to the shortest. O(labels of the host) per lookup.
 */
export class HostIndex<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly wildcard = new Map<string, T[]>();

  /** Adds `value` under `pattern` (values keep insertion order per pattern). */
  add(pattern: HostPattern, value: T): void {
    const map = pattern.kind === 'exact' ? this.exact : this.wildcard;
    const key = pattern.kind === 'exact' ? pattern.host : pattern.suffix;
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  }

  /** Sorts every list in place (call once, after the last add). */
  sortEach(compare: (a: T, b: T) => number): void {
    for (const list of this.exact.values()) list.sort(compare);
    for (const list of this.wildcard.values()) list.sort(compare);
  }

  /**
   * Visits the lists that apply to `host`, most specific first, until `visit` returns a value
   * other than undefined, and returns that value.
   */
  find<R>(host: string, visit: (candidates: readonly T[]) => R | undefined): R | undefined {
    if (host === '') return undefined;
    const exact = this.exact.get(host);
    if (exact !== undefined) {
      const found = visit(exact);
      if (found !== undefined) return found;
    }
    if (this.wildcard.size === 0) return undefined;
    // Start after the first character so that ".example.com" (an empty first label) never
    // counts as a subdomain of example.com.
    for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const list = this.wildcard.get(host.slice(dot));
      if (list !== undefined) {
        const found = visit(list);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }
}
