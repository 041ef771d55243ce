/**
 * What compilePolicy compiles: the core's own declaration of a validated allowlist, so that the
 * core depends on no schema. Keys are spelled as in the file. src/config/allowlist-schema.ts
 * validates a document onto these shapes (its output types are assignable to them), and the
 * review stamp, which is defined over the file's keys, is computed there and passed in.
 */
import type { ClientName } from '../mcp/client.js';
import type { DenyReason, DenyStyle, Mode } from './policy.js';

/** One validated approval: the keys compileEntry reads. */
export interface PolicyEntryInput {
  readonly id: string;
  readonly transport: 'http' | 'stdio';
  readonly host?: string | undefined;
  readonly url?: string | undefined;
  /** stdio entries: the approved executable, as written. */
  readonly command?: string | undefined;
  /** stdio entries: the approved arguments, in order. */
  readonly allowed_args?: readonly string[] | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly tools?:
    | {
        readonly allow?: readonly string[] | undefined;
        readonly deny?: readonly string[] | undefined;
        readonly rules?: readonly ToolRuleInput[] | undefined;
      }
    | undefined;
  readonly access?: AccessInput | undefined;
  readonly conditions?: readonly ConditionInput[] | undefined;
  /** Names of `bundles:` whose rules this entry takes on, in order. */
  readonly uses?: readonly string[] | undefined;
  readonly mode?: Mode | undefined;
  readonly inspection?: 'required' | 'host_only' | undefined;
  readonly review_ticket: string;
  readonly reviewed_by: string;
  /** `YYYY-MM-DD`. */
  readonly reviewed_on: string;
  /** `YYYY-MM-DD`, the last day the approval is valid. */
  readonly expires_on: string;
  /** The review stamp as written in the file, if any. */
  readonly review_sha256?: string | undefined;
}

/** An `access:` block as written. */
export interface AccessInput {
  readonly users?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly clients?: readonly ClientName[] | undefined;
}

/** One `conditions:` item as written. */
export interface ConditionInput {
  readonly expr: string;
  readonly description: string;
}

/** One `tools.rules` (or bundle `rules`) item as written. */
export interface ToolRuleInput {
  readonly match: readonly string[];
  readonly access?: AccessInput | undefined;
  readonly conditions?: readonly ConditionInput[] | undefined;
}

/** One named bundle of `bundles:`. */
export interface BundleInput {
  readonly access?: AccessInput | undefined;
  readonly conditions?: readonly ConditionInput[] | undefined;
  readonly rules?: readonly ToolRuleInput[] | undefined;
}

/** Where an identity attribute is read from, as written (exactly one key). */
export interface IdentitySourceInput {
  readonly header?: string | undefined;
  readonly jwt_claim?: string | readonly string[] | undefined;
  readonly peer?: 'principal' | 'uri_san' | undefined;
  readonly separator?: string | undefined;
}

/** The `identity:` section as written. */
export interface IdentityInput {
  readonly user?: IdentitySourceInput | undefined;
  readonly groups?: IdentitySourceInput | undefined;
  readonly jwt?: { readonly metadata_namespace: string; readonly payload_key: string } | undefined;
}

/** The document-level keys (defaults applied). */
export interface PolicyHeaderInput {
  readonly version: string;
  readonly default_action: 'allow' | 'deny';
  readonly mode: Mode;
  readonly review_url: string;
  readonly deny_style: DenyStyle;
  readonly deny_reasons?: Readonly<Partial<Record<DenyReason, string | undefined>>> | undefined;
  readonly identity?: IdentityInput | undefined;
  readonly bundles?: Readonly<Record<string, BundleInput>> | undefined;
}

/** A whole validated document whose entries are of type E. */
export interface PolicyInput<
  E extends PolicyEntryInput = PolicyEntryInput,
> extends PolicyHeaderInput {
  readonly approved: readonly E[];
}
