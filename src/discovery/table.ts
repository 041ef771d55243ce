/**
 * The discovery table: which unapproved MCP servers are being tried, in bounded memory.
 *
 * Rows are kept with the Space-Saving algorithm (Metwally, Agrawal and El Abbadi, "Efficient
 * Computation of Frequent and Top-k Elements in Data Streams", 2005): at most `capacity` rows;
 * an attempt at a server not in a full table takes over the row with the fewest attempts, which
 * starts again from that count. A server tried more than (all attempts ÷ capacity) times is
 * therefore always in the table, however many one-off hosts a flood sends: each of those only
 * ever replaces another one-off. An LRU cache, by contrast, forgets the most-tried server as
 * soon as `capacity` new hosts have been seen. Each row also keeps
 * - `attempts`: attempts counted while the row was in the table (exact, a lower bound), and
 *   `maxUntracked`, the count it inherited: the true total lies in [attempts, attempts +
 *   maxUntracked]. Rankings use `attempts`, so inherited counts never lift a one-off host;
 * - first and last seen, attempts per client label, outcomes, and bounded name sets (methods,
 *   tools, revisions) with a count of what did not fit.
 * The rows live in a min-heap on (count, last seen): O(log capacity) per attempt, and a row is
 * reused, never reallocated, when it is taken over. docs/discovery.md documents the cap and the
 * JSON form.
 */
import type { AttemptOutcome, DiscoveryAttempt } from './attempt.js';

/** Rows by default: under 8 MB whatever is sent, about 1.3 MB in practice (docs/discovery.md). */
export const DEFAULT_DISCOVERY_ROWS = 1000;
/** Names kept per set; more are counted in `*_overflow`. */
export const MAX_TOOLS = 20;
export const MAX_METHODS = 20;
export const MAX_REVISIONS = 8;
/** Per-client counts kept per row (the client label has a fixed, smaller set of values). */
const MAX_CLIENTS = 16;
/** A tool name longer than this is counted, not kept (real ones are short identifiers). */
export const MAX_TOOL_CHARS = 128;
/** Method names and revisions are short (`notifications/roots/list_changed`, `2026-07-28`). */
export const MAX_METHOD_CHARS = 64;
export const MAX_REVISION_CHARS = 32;

/** The JSON form's `format`, bumped on an incompatible change. */
export const DISCOVERY_FORMAT = 'mcp-gate.discovery/v1';

/** One row as GET /discovery returns it. */
export interface DiscoveryRowJson {
  readonly host: string;
  readonly path_prefix: string;
  readonly attempts: number;
  readonly max_untracked_attempts: number;
  readonly host_only_attempts: number;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly outcomes: Readonly<Record<AttemptOutcome, number>>;
  readonly clients: Readonly<Record<string, number>>;
  readonly methods: readonly string[];
  readonly methods_overflow: number;
  readonly tools: readonly string[];
  readonly tools_overflow: number;
  readonly protocol_versions: readonly string[];
  readonly protocol_versions_overflow: number;
}

/** The whole table as GET /discovery returns it. */
export interface DiscoverySnapshot {
  readonly format: typeof DISCOVERY_FORMAT;
  readonly generated_at: string;
  readonly capacity: number;
  /** Rows taken over by another server since start. */
  readonly evictions: number;
  /** Attempts recorded since start (all rows, evicted ones included). */
  readonly attempts_recorded: number;
  /** Most attempts first. */
  readonly rows: readonly DiscoveryRowJson[];
}

/** A set of at most `max` names; the rest counted. */
class BoundedNames {
  readonly names = new Set<string>();
  overflow = 0;
  private readonly max: number;
  private readonly maxChars: number;
  constructor(max: number, maxChars: number) {
    this.max = max;
    this.maxChars = maxChars;
  }
  add(name: string): void {
    if (this.names.has(name)) return;
    if (this.names.size < this.max && name.length <= this.maxChars) this.names.add(name);
    else this.overflow += 1;
  }
  clear(): void {
    this.names.clear();
    this.overflow = 0;
  }
  toJson(): string[] {
    return [...this.names].sort();
  }
}

class Row {
  key = '';
  host = '';
  pathPrefix = '';
  /** Space-Saving count: attempts + maxUntracked. */
  count = 0;
  attempts = 0;
  maxUntracked = 0;
  hostOnly = 0;
  firstSeenMs = 0;
  lastSeenMs = 0;
  heapIndex = 0;
  readonly outcomes: Record<AttemptOutcome, number> = { deny: 0, would_deny: 0, allow: 0 };
  readonly clients = new Map<string, number>();
  readonly methods = new BoundedNames(MAX_METHODS, MAX_METHOD_CHARS);
  readonly tools = new BoundedNames(MAX_TOOLS, MAX_TOOL_CHARS);
  readonly revisions = new BoundedNames(MAX_REVISIONS, MAX_REVISION_CHARS);

  /** Makes this row the one of `key`, starting from `inherited` attempts it may have missed. */
  reset(key: string, host: string, pathPrefix: string, inherited: number, atMs: number): void {
    this.key = key;
    this.host = host;
    this.pathPrefix = pathPrefix;
    this.count = inherited;
    this.attempts = 0;
    this.maxUntracked = inherited;
    this.hostOnly = 0;
    this.firstSeenMs = atMs;
    this.lastSeenMs = atMs;
    this.outcomes.deny = 0;
    this.outcomes.would_deny = 0;
    this.outcomes.allow = 0;
    this.clients.clear();
    this.methods.clear();
    this.tools.clear();
    this.revisions.clear();
  }

  toJson(): DiscoveryRowJson {
    return {
      host: this.host,
      path_prefix: this.pathPrefix,
      attempts: this.attempts,
      max_untracked_attempts: this.maxUntracked,
      host_only_attempts: this.hostOnly,
      first_seen: new Date(this.firstSeenMs).toISOString(),
      last_seen: new Date(this.lastSeenMs).toISOString(),
      outcomes: { ...this.outcomes },
      clients: Object.fromEntries([...this.clients].sort((a, b) => b[1] - a[1])),
      methods: this.methods.toJson(),
      methods_overflow: this.methods.overflow,
      tools: this.tools.toJson(),
      tools_overflow: this.tools.overflow,
      protocol_versions: this.revisions.toJson(),
      protocol_versions_overflow: this.revisions.overflow,
    };
  }
}

/** A ranked row for the gauge: host and attempts per client. */
export interface TopRow {
  readonly host: string;
  readonly pathPrefix: string;
  readonly attempts: number;
  readonly clients: ReadonlyMap<string, number>;
}

export class DiscoveryTable {
  readonly capacity: number;
  private readonly byKey = new Map<string, Row>();
  /** Min-heap on (count, lastSeenMs). */
  private readonly heap: Row[] = [];
  private evictions = 0;
  private recorded = 0;

  constructor(capacity: number = DEFAULT_DISCOVERY_ROWS) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`discovery table capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Records one attempt. */
  record(attempt: DiscoveryAttempt): void {
    const row = this.rowFor(attempt.host, attempt.pathPrefix, attempt.atMs, 1);
    row.outcomes[attempt.outcome] += 1;
    if (attempt.hostOnly) row.hostOnly += 1;
    if (row.clients.has(attempt.client) || row.clients.size < MAX_CLIENTS) {
      row.clients.set(attempt.client, (row.clients.get(attempt.client) ?? 0) + 1);
    }
    for (const method of attempt.methods) row.methods.add(method);
    if (attempt.tool !== undefined) row.tools.add(attempt.tool);
    if (attempt.protocolVersion !== undefined) row.revisions.add(attempt.protocolVersion);
  }

  /**
   * Adds a row of another table (another replica's or worker's snapshot), as Space-Saving
   * summaries merge: counts add up, name sets join within their bounds.
   */
  absorb(other: DiscoveryRowJson): void {
    const firstMs = Date.parse(other.first_seen);
    const lastMs = Date.parse(other.last_seen);
    const row = this.rowFor(other.host, other.path_prefix, lastMs, other.attempts);
    row.maxUntracked += other.max_untracked_attempts;
    row.count += other.max_untracked_attempts;
    this.siftDown(row.heapIndex);
    if (firstMs < row.firstSeenMs) row.firstSeenMs = firstMs;
    row.hostOnly += other.host_only_attempts;
    for (const outcome of ['deny', 'would_deny', 'allow'] as const) {
      row.outcomes[outcome] += other.outcomes[outcome];
    }
    for (const [client, n] of Object.entries(other.clients)) {
      if (row.clients.has(client) || row.clients.size < MAX_CLIENTS) {
        row.clients.set(client, (row.clients.get(client) ?? 0) + n);
      }
    }
    const join = (set: BoundedNames, names: readonly string[], overflow: number): void => {
      for (const name of names) set.add(name);
      set.overflow += overflow;
    };
    join(row.methods, other.methods, other.methods_overflow);
    join(row.tools, other.tools, other.tools_overflow);
    join(row.revisions, other.protocol_versions, other.protocol_versions_overflow);
  }

  /** The `n` rows with the most attempts counted, most first. */
  top(n: number): TopRow[] {
    return this.ranked()
      .slice(0, n)
      .map((row) => ({
        host: row.host,
        pathPrefix: row.pathPrefix,
        attempts: row.attempts,
        clients: new Map(row.clients),
      }));
  }

  /** The JSON form (GET /discovery). */
  snapshot(nowMs: number): DiscoverySnapshot {
    return {
      format: DISCOVERY_FORMAT,
      generated_at: new Date(nowMs).toISOString(),
      capacity: this.capacity,
      evictions: this.evictions,
      attempts_recorded: this.recorded,
      rows: this.ranked().map((row) => row.toJson()),
    };
  }

  private ranked(): Row[] {
    return [...this.heap].sort(
      (a, b) =>
        b.attempts - a.attempts ||
        b.count - a.count ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }

  /** The row of host + prefix, created or taken over if need be, with `n` attempts added. */
  private rowFor(host: string, pathPrefix: string, atMs: number, n: number): Row {
    this.recorded += n;
    const key = `${host} ${pathPrefix}`;
    let row = this.byKey.get(key);
    if (row !== undefined) {
      row.count += n;
      row.attempts += n;
      if (atMs > row.lastSeenMs) row.lastSeenMs = atMs;
      if (atMs < row.firstSeenMs) row.firstSeenMs = atMs;
      this.siftDown(row.heapIndex);
      return row;
    }
    if (this.heap.length < this.capacity) {
      row = new Row();
      row.reset(key, host, pathPrefix, 0, atMs);
      row.heapIndex = this.heap.length;
      this.heap.push(row);
      this.byKey.set(key, row);
    } else {
      // The row with the fewest attempts (the least recently seen of those) is taken over.
      row = this.at(0);
      this.byKey.delete(row.key);
      this.evictions += 1;
      row.reset(key, host, pathPrefix, row.count, atMs);
      this.byKey.set(key, row);
    }
    row.count += n;
    row.attempts += n;
    this.siftUp(row.heapIndex);
    this.siftDown(row.heapIndex);
    return row;
  }

  /** The heap's row at `index`, which callers keep within bounds. */
  private at(index: number): Row {
    const row = this.heap[index];
    if (row === undefined) throw new RangeError(`discovery heap index ${index} out of range`);
    return row;
  }

  private less(a: Row, b: Row): boolean {
    return a.count < b.count || (a.count === b.count && a.lastSeenMs < b.lastSeenMs);
  }

  private swap(i: number, j: number): void {
    const a = this.at(i);
    const b = this.at(j);
    this.heap[i] = b;
    this.heap[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.at(i), this.at(parent))) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    const size = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < size && this.less(this.at(left), this.at(smallest))) {
        smallest = left;
      }
      if (right < size && this.less(this.at(right), this.at(smallest))) {
        smallest = right;
      }
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
