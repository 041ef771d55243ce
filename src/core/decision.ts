/**
 * Decision: the plain value the pipeline returns for one request, whatever the verdict.
 * It feeds the CheckResponse, the audit log line and the metrics alike, so all three always
 * agree on reason, entry and decision id.
 */
import type { ClientName } from './mcp/client.js';
import type { InspectionDetail } from './mcp/inspection.js';
import type { CompiledEntry, Reason, ReviewDetail } from './policy/policy.js';

/**
 * The closed set of `detail` values: why a request could not be inspected (`uninspectable`), or
 * what about an entry's review failed (`rotation`).
 */
export type DenyDetail = InspectionDetail | ReviewDetail;

export interface Decision {
  /** Decision id: 20 characters from a digit-free alphabet (see decision-id.ts). */
  readonly id: string;
  readonly verdict: 'allow' | 'deny';
  /**
   * Why. For an allow this is an allow reason, except in dry-run, where a would-deny is allowed
   * and `reason` keeps the deny reason with `dryRun: true`.
   */
  readonly reason: Reason;
  readonly detail: DenyDetail | undefined;
  /** True when the verdict is allow only because dry-run turned a deny into an allow. */
  readonly dryRun: boolean;
  /** The entry that matched, if any. */
  readonly entry: CompiledEntry | undefined;
  /** `{server}` in texts: the entry id, or the host when no entry matched. */
  readonly server: string;
  /** The tool that decided (a denied one, or the first called one), if any. */
  readonly tool: string | undefined;
  /** Whether the request was recognised as MCP. */
  readonly isMcp: boolean;
  /**
   * The AI client the request says it comes from (src/core/mcp/client.ts): self-reported, a
   * label for metrics and logs, never a reason for the verdict. `none` when not MCP.
   */
  readonly client: ClientName;
  readonly allowlistVersion: string;
  /** A short explanation for logs and explain (never sent to the client). */
  readonly explanation: string;
}
