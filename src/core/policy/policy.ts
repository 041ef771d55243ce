/**
 * CompiledPolicy: the allowlist after validation and compilation, immutable and ready for
 * lookups on the request path. Built by src/core/policy/compile.ts from a validated document;
 * read by src/core/policy/decide.ts.
 */
import type { AccessMatcher, AccessRule } from './access.js';
import type { ConditionEngine, ConditionProgram, ConditionSource } from './condition.js';
import type { GlobMatcher } from './glob.js';
import type { HostPattern } from './host-pattern.js';
import type { IdentityConfig } from './identity.js';

export const DENY_REASONS = [
  /** MCP traffic to a server no entry approves. */
  'unapproved',
  /** The matching entry is past its `expires_on` date. */
  'expired',
  /**
   * The entry's `review_sha256` no longer matches its security-relevant fields, or (detail
   * `signature`) its review signatures do not hold.
   */
  'rotation',
  /** A `tools/call` for a tool the matching entry does not allow. */
  'tool_not_allowed',
  /**
   * The user or groups are outside an `access` rule of the entry or tool (also when the rule
   * needs an identity and the request has none: detail `identity_missing`).
   */
  'principal_not_allowed',
  /** The AI client is outside an `access.clients` rule of the entry or tool. */
  'client_not_allowed',
  /** A `conditions` expression of the entry or tool did not hold. */
  'condition_failed',
  /** MCP content that cannot be inspected when it matters (see INSPECTION_DETAILS). */
  'uninspectable',
  /** Too many checks in flight; answered without inspection. */
  'overloaded',
  /** An unexpected fault inside mcp-gate; always a deny. */
  'internal_error',
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export const ALLOW_REASONS = [
  /** An approved entry matched and allowed it. */
  'approved',
  /** Not MCP traffic: passed untouched. */
  'not_mcp',
  /** MCP to an unlisted server with `default_action: allow`. */
  'default_allow',
  /** CONNECT/SNI to a host that is neither approved nor a known MCP host (we cannot tell). */
  'unknown_host',
] as const;
export type AllowReason = (typeof ALLOW_REASONS)[number];

export type Reason = DenyReason | AllowReason;

export type Mode = 'enforce' | 'dry-run';

/** How denials are shaped for the client (see README "Deny responses"). */
export const DENY_STYLES = [
  /** 403 text for server-level denials; a JSON-RPC tool result for a denied Streamable HTTP tools/call. */
  'auto',
  /** Always 403 `text/plain`. */
  'text',
  /** Always 403 with a JSON-RPC error body (`application/json`). */
  'jsonrpc_error',
] as const;
export type DenyStyle = (typeof DENY_STYLES)[number];

/**
 * A per-tool rule (`tools.rules`, or a bundle's `rules`): more requirements for the tools its
 * globs match. Every rule that matches a tool applies; rules only ever narrow an approval.
 */
export interface ToolAccessRule {
  /** Tool-name globs (glob.ts). */
  readonly match: readonly string[];
  readonly access: AccessRule | undefined;
  readonly conditions: readonly ConditionSource[];
  /** Where it was written: `tool rule 1`, `bundle eng-default rule 2`. */
  readonly origin: string;
}

export interface ToolRule {
  /** The glob patterns as written (for explain). */
  readonly allow: readonly string[] | undefined;
  readonly deny: readonly string[];
}

export interface CompiledEntry {
  readonly id: string;
  readonly transport: 'http' | 'stdio';
  /** Undefined only for stdio entries without a host. */
  readonly host: HostPattern | undefined;
  /** From `url`, when it names a port. */
  readonly port: number | undefined;
  /** Normalised path prefix from `url` (`/mcp`, no trailing slash; `/` for the root). */
  readonly pathPrefix: string | undefined;
  /**
   * stdio entries: `command` and `allowed_args` as written. Traffic never reaches them; the
   * endpoint inventory (src/inventory/verdict.ts) compares them with client configs.
   */
  readonly command: string | undefined;
  readonly allowedArgs: readonly string[] | undefined;
  readonly scopes: readonly string[];
  /** Undefined = every tool of this server. */
  readonly tools: ToolRule | undefined;
  /** Entry-level access rules: the entry's own, then each used bundle's; all must admit. */
  readonly access: readonly AccessRule[];
  /** Entry-level conditions (own, then bundles'), judged for every message to the entry. */
  readonly conditions: readonly ConditionSource[];
  /** Per-tool rules (own, then bundles'). */
  readonly toolRules: readonly ToolAccessRule[];
  /** The `uses:` bundle names, for explain. */
  readonly bundles: readonly string[];
  /** Per-entry mode override. */
  readonly mode: Mode | undefined;
  /**
   * `inspection: host_only`: the reviewers accept that a tunnel to this host is decided on the
   * host alone, so its tool, path and port rules apply only to requests mcp-gate can see.
   */
  readonly hostOnly: boolean;
  readonly reviewTicket: string;
  readonly reviewedBy: string;
  readonly reviewedOn: string;
  readonly expiresOn: string;
  /** First instant (epoch ms, UTC) at which the entry is expired: the day after `expires_on`. */
  readonly expiresAtMs: number;
  /** `review_sha256` present and different from the computed hash. */
  readonly stampMismatch: boolean;
  /**
   * Why the entry's review signatures do not approve it (checked against the trust file when
   * the file is loaded, src/config/review-signature.ts); undefined when they hold or when no
   * trust file is configured. A reason makes the entry deny `rotation`, detail `signature`.
   */
  readonly signatureProblem: string | undefined;
}

export interface CompiledPolicy {
  /** `version` exactly as written in the file. */
  readonly version: string;
  /** SHA-256 (hex) of the allowlist file bytes. */
  readonly sha256: string;
  readonly defaultAction: 'allow' | 'deny';
  readonly mode: Mode;
  readonly reviewUrl: string;
  readonly denyStyle: DenyStyle;
  /** Text templates per deny reason (built-in texts merged with `deny_reasons`). */
  readonly denyTexts: Readonly<Record<DenyReason, string>>;
  /** The `identity:` section; undefined when the allowlist reads no identity. */
  readonly identity: IdentityConfig | undefined;
  readonly entries: readonly CompiledEntry[];
  /**
   * The most specific http entry for a request: exact host before wildcard (longer suffix
   * first), then the longest matching path prefix; an entry with a port only matches that port.
   * stdio entries never match.
   */
  matchRequest(host: string, port: number | undefined, path: string): CompiledEntry | undefined;
  /** For CONNECT/SNI: the most specific http entry whose host matches, ignoring port and path. */
  matchHost(host: string): CompiledEntry | undefined;
  /**
   * For CONNECT/SNI: among the entries of the host pattern matchHost chose, the first in file
   * order whose rules need the request itself (inspection-set.ts needsInspection). A tunnel to
   * such a host was not intercepted, so those rules cannot be applied to what it carries.
   */
  inspectionEntry(host: string): CompiledEntry | undefined;
  /** Deny globs win over allow globs; no `tools` = every tool. */
  isToolAllowed(entry: CompiledEntry, tool: string): boolean;
  /** The entry's access rules, tool rules and conditions, compiled for the request path. */
  rulesOf(entry: CompiledEntry): EntryRules;
}

/** A condition with its program. */
export interface CompiledCondition {
  readonly source: ConditionSource;
  readonly program: ConditionProgram;
  /** How explain and the audit line name it: `tool rule 1 condition "only SELECT"`. */
  readonly label: string;
}

/** A tool rule with its globs, access rule and conditions compiled. */
export interface CompiledToolRule {
  readonly rule: ToolAccessRule;
  readonly matches: GlobMatcher;
  readonly access: AccessMatcher | undefined;
  /** `tool rule 1 access`. */
  readonly accessLabel: string;
  readonly conditions: readonly CompiledCondition[];
}

/** What rulesOf gives: everything an entry requires beyond host, path and tool lists. */
export interface EntryRules {
  readonly access: readonly AccessMatcher[];
  readonly conditions: readonly CompiledCondition[];
  readonly toolRules: readonly CompiledToolRule[];
  /** The engine that binds a message's variables for these conditions. */
  readonly engine: ConditionEngine;
  /** True when nothing beyond the tool lists applies (the common case: skip all of it). */
  readonly none: boolean;
}

/** The known-MCP-host list (deploy/known-mcp-hosts.yaml), compiled. */
export interface KnownHosts {
  readonly sha256: string;
  readonly size: number;
  isKnownMcpHost(host: string): boolean;
}
