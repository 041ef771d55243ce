/**
 * The allowlist keys that scope an approval (issue "who may use what"; docs/scoping.md): the
 * top-level `identity:` and `bundles:` sections, and on entries `access`, `conditions`, `uses`
 * and `tools.rules`. The zod shapes check each field; checkScopingRules checks what relates
 * them (a bundle that exists, an identity source for every access field that needs one, a
 * condition that compiles). Pure: no I/O.
 */
import * as z from 'zod';

import { isCredentialHeader } from '../core/credential-headers.js';
import { CLIENT_NAMES } from '../core/mcp/client.js';
import type { ClientName } from '../core/mcp/client.js';
import { validateCondition } from '../conditions/validate.js';
import { pathLabel } from './config-issues.js';
import type { DocPath } from './config-issues.js';
import {
  checkedString,
  GlobSchema,
  hasControlCharacter,
  ID_PATTERN,
  shownInDenyTextProblem,
} from './field-schemas.js';
import { isRecord } from './yaml-source.js';

/** AI clients an approval can be scoped to: every client name but `none` (not MCP). */
export const SCOPABLE_CLIENTS = CLIENT_NAMES.filter(
  (name) => name !== 'none',
) as unknown as readonly [ClientName, ...ClientName[]];

const GroupSchema = checkedString((value) => {
  if (value.trim() === '') return 'must not be empty';
  if (value !== value.trim()) return 'must not start or end with spaces (groups are read trimmed)';
  return undefined;
});

/** `access`: any listed value admits within a field; every present field must admit. */
export const AccessSchema = z
  .strictObject({
    /** User globs (glob.ts), matched against the user lower-cased. */
    users: z.array(GlobSchema).min(1).optional(),
    groups: z.array(GroupSchema).min(1).optional(),
    clients: z.array(z.enum(SCOPABLE_CLIENTS)).min(1).optional(),
  })
  .refine((access) => Object.keys(access).length > 0, {
    message: 'must name at least one of users, groups, clients',
  });

const MAX_DESCRIPTION = 200;

/** A condition's `description`: it is shown to the person denied, inside the deny text. */
const DescriptionSchema = checkedString((value) => {
  if (value.trim() === '') return 'must not be empty';
  if (value.length > MAX_DESCRIPTION) return `must be at most ${MAX_DESCRIPTION} characters`;
  if (hasControlCharacter(value)) return 'must not contain control characters';
  return shownInDenyTextProblem(value);
});

/** One condition; `expr` is compiled by checkScopingRules, which places errors inside it. */
export const ConditionSchema = z.strictObject({
  expr: z.string().min(1),
  description: DescriptionSchema,
});

/** One per-tool rule: more requirements for the tools `match` names. */
export const ToolRuleSchema = z
  .strictObject({
    match: z.array(GlobSchema).min(1),
    access: AccessSchema.optional(),
    conditions: z.array(ConditionSchema).min(1).optional(),
  })
  .refine((rule) => rule.access !== undefined || rule.conditions !== undefined, {
    message: 'a tool rule needs access or conditions (to allow or deny tools, use allow/deny)',
  });

/** One named bundle of rules that entries take on with `uses`. */
export const BundleSchema = z
  .strictObject({
    access: AccessSchema.optional(),
    conditions: z.array(ConditionSchema).min(1).optional(),
    rules: z.array(ToolRuleSchema).min(1).optional(),
  })
  .refine((bundle) => Object.keys(bundle).length > 0, {
    message: 'a bundle needs access, conditions or rules',
  });

export const BundleNameSchema = checkedString((value) =>
  ID_PATTERN.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a valid bundle name: use 1 to 64 lower-case letters, ` +
      'digits, ".", "_" and "-", starting with a letter or digit',
);

export const BundlesSchema = z.record(BundleNameSchema, BundleSchema);

/** A header an identity is read from: a header name that carries no credential. */
const IdentityHeaderSchema = checkedString((value) => {
  const name = value.toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
    return `${JSON.stringify(value)} is not a header name`;
  if (isCredentialHeader(name)) {
    return `${value} carries credentials; mcp-gate never logs or compares it. Read the identity from a header an authenticating proxy sets, or from jwt_claim`;
  }
  if (name.startsWith('x-mcp-gate-')) return "x-mcp-gate- headers are mcp-gate's own";
  if (name === 'host' || name === 'user-agent') return `${value} is sent by the client itself`;
  return undefined;
});

const SeparatorSchema = z.string().min(1).max(8);

const ClaimSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)]);

/** Where one identity attribute comes from: exactly one of header, jwt_claim, peer. */
export const IdentitySourceSchema = z.union([
  z.strictObject({ header: IdentityHeaderSchema, separator: SeparatorSchema.optional() }),
  z.strictObject({ jwt_claim: ClaimSchema, separator: SeparatorSchema.optional() }),
  z.strictObject({ peer: z.enum(['principal', 'uri_san']) }),
]);

export const IdentitySchema = z
  .strictObject({
    user: IdentitySourceSchema.optional(),
    groups: IdentitySourceSchema.optional(),
    jwt: z
      .strictObject({
        metadata_namespace: z.string().min(1),
        payload_key: z.string().min(1),
      })
      .optional(),
  })
  .refine((identity) => identity.user !== undefined || identity.groups !== undefined, {
    message: 'must name where user or groups come from',
  });

// ---------------------------------------------------------------------------------------------
// Cross-field rules

/** A problem checkScopingRules found; `exprPosition` points inside a condition's text. */
export interface ScopingIssue {
  readonly path: DocPath;
  readonly at: 'key' | 'value';
  readonly message: string;
  /** 1-based line and column inside the `expr` text, for errors of a condition. */
  readonly exprPosition?: { readonly line: number; readonly column: number };
}

/**
 * The rules between scoping keys, on the raw document: checks whatever parts are individually
 * well-formed. Conditions are compiled here, so an error names the line and column inside it.
 */
export function checkScopingRules(raw: unknown): ScopingIssue[] {
  const issues: ScopingIssue[] = [];
  if (!isRecord(raw)) return issues;
  const identity = isRecord(raw['identity']) ? raw['identity'] : undefined;
  const hasUser = identity !== undefined && isRecord(identity['user']);
  const hasGroups = identity !== undefined && isRecord(identity['groups']);
  const hasJwt = identity !== undefined && isRecord(identity['jwt']);

  if (identity !== undefined) {
    for (const key of ['user', 'groups'] as const) {
      const source = identity[key];
      if (isRecord(source) && 'jwt_claim' in source && !hasJwt) {
        issues.push({
          path: ['identity', key, 'jwt_claim'],
          at: 'key',
          message: `identity.${key}.jwt_claim needs identity.jwt (where Envoy's jwt_authn puts the verified payload)`,
        });
      }
      if (key === 'user' && isRecord(source) && 'separator' in source) {
        issues.push({
          path: ['identity', 'user', 'separator'],
          at: 'key',
          message: 'identity.user.separator: a user is one value; separator is for groups',
        });
      }
    }
  }

  const checkAccess = (access: unknown, path: DocPath): void => {
    if (!isRecord(access)) return;
    if ('users' in access && !hasUser) {
      issues.push({
        path: [...path, 'users'],
        at: 'key',
        message: `${pathLabel(path)}.users needs identity.user (where mcp-gate reads who the user is)`,
      });
    }
    if ('groups' in access && !hasGroups) {
      issues.push({
        path: [...path, 'groups'],
        at: 'key',
        message: `${pathLabel(path)}.groups needs identity.groups (where mcp-gate reads the groups)`,
      });
    }
  };
  const checkConditions = (conditions: unknown, path: DocPath): void => {
    if (!Array.isArray(conditions)) return;
    conditions.forEach((condition, index) => {
      if (!isRecord(condition) || typeof condition['expr'] !== 'string') return;
      const problem = validateCondition(condition['expr']);
      if (!problem.ok) {
        issues.push({
          path: [...path, index, 'expr'],
          at: 'value',
          message: `${pathLabel([...path, index, 'expr'])}: ${problem.message}`,
          exprPosition: { line: problem.line, column: problem.column },
        });
      }
    });
  };
  const checkRules = (rules: unknown, path: DocPath): void => {
    if (!Array.isArray(rules)) return;
    rules.forEach((rule, index) => {
      if (!isRecord(rule)) return;
      checkAccess(rule['access'], [...path, index, 'access']);
      checkConditions(rule['conditions'], [...path, index, 'conditions']);
    });
  };

  const bundles = isRecord(raw['bundles']) ? raw['bundles'] : undefined;
  if (bundles !== undefined) {
    for (const name of Object.keys(bundles)) {
      const bundle = bundles[name];
      if (!isRecord(bundle)) continue;
      checkAccess(bundle['access'], ['bundles', name, 'access']);
      checkConditions(bundle['conditions'], ['bundles', name, 'conditions']);
      checkRules(bundle['rules'], ['bundles', name, 'rules']);
    }
  }

  const approved = Array.isArray(raw['approved']) ? (raw['approved'] as unknown[]) : [];
  approved.forEach((entry, index) => {
    if (!isRecord(entry)) return;
    const at = ['approved', index] as const;
    if (entry['transport'] === 'stdio') {
      for (const key of ['access', 'conditions', 'uses'] as const) {
        if (key in entry) {
          issues.push({
            path: [...at, key],
            at: 'key',
            message: `${pathLabel([...at, key])}: only allowed with transport: http (a stdio server never crosses the proxy)`,
          });
        }
      }
    }
    checkAccess(entry['access'], [...at, 'access']);
    checkConditions(entry['conditions'], [...at, 'conditions']);
    const tools = entry['tools'];
    if (isRecord(tools)) checkRules(tools['rules'], [...at, 'tools', 'rules']);
    const uses = entry['uses'];
    if (Array.isArray(uses)) {
      const seen = new Set<unknown>();
      uses.forEach((name, position) => {
        if (typeof name !== 'string') return;
        if (bundles === undefined || !Object.hasOwn(bundles, name)) {
          issues.push({
            path: [...at, 'uses', position],
            at: 'value',
            message: `${pathLabel([...at, 'uses', position])}: no bundle named ${JSON.stringify(name)} under bundles`,
          });
        } else if (seen.has(name)) {
          issues.push({
            path: [...at, 'uses', position],
            at: 'value',
            message: `${pathLabel([...at, 'uses', position])}: bundle ${JSON.stringify(name)} is used twice`,
          });
        }
        seen.add(name);
      });
    }
  });
  return issues;
}
