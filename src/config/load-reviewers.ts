/**
 * The reviewers' trust file (`serve --reviewers FILE`, also read by validate and sign): who may
 * approve entries, and the Ed25519 public keys that sign for them. It is meant to be owned by
 * the security team and mounted apart from the allowlist (for example from a Secret), so that
 * editing the allowlist grants no one a key.
 *
 * Format (docs/allowlist.md "Review signatures"):
 *
 *     reviewers:
 *       - name: security-platform        # as written in reviewed_by / cosigned_by
 *         keys:
 *           - ssh-ed25519 AAAAC3Nza… alice@corp.example
 *
 * `permitted_settings` (optional) lists the top-level allowlist settings that let traffic through
 * without any signature and that the trust file's owners accept: `default_action_allow`,
 * `dry_run` (review-signature.ts, checkUnsignedSettings).
 *
 * Every problem is reported with line and column, like the allowlist: an unknown key, a key that
 * is not an OpenSSH ssh-ed25519 line, a name listed twice, and a key listed twice (a key signs
 * for one reviewer only, or a signature would not say who made it). An empty list is an error:
 * with it no entry could ever be approved. Pure but for loadReviewersFile's read; never throws.
 */
import type { KeyObject } from 'node:crypto';
import * as z from 'zod';
import { checkedString, ReviewerNameSchema } from './field-schemas.js';
import { looksLikeFileOf, readConfigFile } from './config-file.js';
import { sortIssues } from './config-issues.js';
import type { DocPath, Issue } from './config-issues.js';
import { issueAt, parseYamlSource } from './yaml-source.js';
import { zodIssuesToIssues } from './zod-issues.js';
import { UNSIGNED_SETTINGS } from './review-signature.js';
import type { ReviewerKeys, UnsignedSetting } from './review-signature.js';
import { formatSshPublicKey, parseSshPublicKey } from './ssh-keys.js';

/** One `keys` item: an OpenSSH public key line. */
export const SshPublicKeySchema = checkedString((value) => {
  const parsed = parseSshPublicKey(value);
  return parsed.ok ? undefined : parsed.message;
});

/** The trust file's schema. */
export const ReviewersFileSchema = z.strictObject({
  reviewers: z
    .array(
      z.strictObject({
        name: ReviewerNameSchema,
        keys: z.array(SshPublicKeySchema).min(1, 'every reviewer needs at least one key'),
      }),
    )
    .min(1, 'list at least one reviewer: with none, no entry can be approved'),
  permitted_settings: z.array(z.enum(UNSIGNED_SETTINGS)).optional(),
});

/** The outcome of parseReviewers. */
export type ParseReviewersResult =
  | {
      readonly ok: true;
      readonly reviewers: ReviewerKeys;
      /** The unsigned top-level settings the allowlist may use (review-signature.ts). */
      readonly permitted: ReadonlySet<UnsignedSetting>;
      readonly count: number;
    }
  | { readonly ok: false; readonly errors: Issue[] };

function keysAt(path: DocPath): readonly string[] | undefined {
  if (path.length === 0) return ['reviewers', 'permitted_settings'];
  if (path.length === 2 && path[0] === 'reviewers') return ['name', 'keys'];
  return undefined;
}

/** Validates a trust file's text. Pure; never throws. */
export function parseReviewers(text: string): ParseReviewersResult {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) return { ok: false, errors: yaml.errors };
  const { source, value } = yaml;
  const parsed = ReviewersFileSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      errors: sortIssues(zodIssuesToIssues(source, parsed.error.issues, keysAt)),
    };
  }
  const errors: Issue[] = [];
  const reviewers = new Map<string, KeyObject[]>();
  const owners = new Map<string, string>();
  parsed.data.reviewers.forEach(({ name, keys }, index) => {
    const label = `reviewers[${String(index)}]`;
    if (reviewers.has(name)) {
      errors.push(
        issueAt(
          source,
          ['reviewers', index, 'name'],
          'value',
          `${label}.name: ${JSON.stringify(name)} is listed twice`,
        ),
      );
      return;
    }
    const objects: KeyObject[] = [];
    keys.forEach((line, keyIndex) => {
      const parsedKey = parseSshPublicKey(line);
      if (!parsedKey.ok) return;
      // Compared without the comment, which is free text.
      const canonical = formatSshPublicKey(parsedKey.value);
      const owner = owners.get(canonical);
      if (owner !== undefined) {
        errors.push(
          issueAt(
            source,
            ['reviewers', index, 'keys', keyIndex],
            'value',
            `${label}.keys[${String(keyIndex)}]: this key is already listed for ${JSON.stringify(owner)}; ` +
              'a key signs for one reviewer only',
          ),
        );
        return;
      }
      owners.set(canonical, name);
      objects.push(parsedKey.value);
    });
    reviewers.set(name, objects);
  });
  if (errors.length > 0) return { ok: false, errors: sortIssues(errors) };
  return {
    ok: true,
    reviewers,
    permitted: new Set(parsed.data.permitted_settings ?? []),
    count: reviewers.size,
  };
}

/** Reads and parses a trust file; an I/O problem becomes an error at 1:1. */
export async function loadReviewersFile(path: string): Promise<ParseReviewersResult> {
  const read = await readConfigFile(path);
  if (!read.ok) return { ok: false, errors: [read.error] };
  return parseReviewers(read.text);
}

/**
 * Whether `text` looks like a trust file (a top-level mapping with `reviewers` and no
 * `approved`); `mcp-gate validate` uses it to pick the checker.
 */
export function looksLikeReviewers(text: string): boolean {
  return looksLikeFileOf(text, 'reviewers');
}
