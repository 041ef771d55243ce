/**
 * Access rules: who may use an approval (`access:` on an entry, a tool rule or a bundle).
 *
 * Semantics (docs/allowlist.md "Scoping approvals"): within a field any listed value admits;
 * every field that is present must admit. `users` are globs (glob.ts) compared with the user
 * lower-cased in ASCII, since identity providers differ in the case they give an e-mail
 * address; `groups` are exact and case-sensitive; `clients` are AI client names
 * (src/core/mcp/client.ts). A rule that names users or groups needs an identity: a request
 * without one is refused with detail `identity_missing`, never admitted for lack of data.
 *
 * The client is what the request says it is. It narrows who may use an approval (only Claude
 * Code, say); it does not prove anything, so it is never the only line for anything sensitive.
 */
import type { ClientName } from '../mcp/client.js';
import { compileGlobSet } from './glob.js';
import type { GlobMatcher } from './glob.js';
import type { Principal } from './identity.js';

/** One `access:` block, compiled as plain data. */
export interface AccessRule {
  /** User globs, lower-cased at load. */
  readonly users: readonly string[] | undefined;
  readonly groups: readonly string[] | undefined;
  readonly clients: readonly ClientName[] | undefined;
  /** Where it was written, for explain: `entry`, `tool rule 2`, `bundle eng-default`. */
  readonly origin: string;
}

/** Why an access rule refused a request. */
export interface AccessRefusal {
  readonly reason: 'principal_not_allowed' | 'client_not_allowed';
  readonly identityMissing: boolean;
  readonly why: string;
}

/** An access rule with its user globs compiled; built once per policy. */
export interface AccessMatcher {
  readonly rule: AccessRule;
  /** Undefined when the request is admitted. */
  judge(principal: Principal, client: ClientName): AccessRefusal | undefined;
}

export function compileAccess(rule: AccessRule): AccessMatcher {
  const users: GlobMatcher | undefined =
    rule.users === undefined ? undefined : compileGlobSet(rule.users);
  const groups = rule.groups === undefined ? undefined : new Set(rule.groups);
  const clients = rule.clients === undefined ? undefined : new Set<string>(rule.clients);
  return {
    rule,
    judge(principal, client) {
      if (users !== undefined) {
        if (principal.user === undefined) return missing(rule, 'no user');
        if (!users(asciiLower(principal.user))) {
          return refuse(
            'principal_not_allowed',
            `user ${JSON.stringify(principal.user)} matches none of ${rule.origin} access users`,
          );
        }
      }
      if (groups !== undefined) {
        if (principal.groups === undefined) return missing(rule, 'no groups');
        if (!principal.groups.some((group) => groups.has(group))) {
          return refuse(
            'principal_not_allowed',
            `groups ${JSON.stringify(principal.groups)} include none of ${rule.origin} access ` +
              `groups ${JSON.stringify(rule.groups)}`,
          );
        }
      }
      if (clients !== undefined && !clients.has(client)) {
        return refuse(
          'client_not_allowed',
          `client ${client} is none of ${rule.origin} access clients ${JSON.stringify(rule.clients)}`,
        );
      }
      return undefined;
    },
  };
}

function missing(rule: AccessRule, what: string): AccessRefusal {
  return {
    reason: 'principal_not_allowed',
    identityMissing: true,
    why: `${rule.origin} access needs an identity, and the request has ${what}`,
  };
}

function refuse(reason: AccessRefusal['reason'], why: string): AccessRefusal {
  return { reason, identityMissing: false, why };
}

/** ASCII lower case: the same on every platform and locale, unlike toLowerCase. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x20));
}
