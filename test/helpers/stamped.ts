/**
 * Allowlist text as a reviewer leaves it after `mcp-gate stamp`: every entry carries its
 * `review_sha256`, which the loader requires unless a file opts out with
 * `require_review_stamp: false`. Test allowlists written inline go through this, so each suite
 * reads a file the service would accept; a test of unstamped files opts out explicitly.
 *
 * Only entries without a stamp are stamped: a stamp a test wrote on purpose (a stale one, to be
 * denied `rotation`) is kept as written.
 */
import { parse } from 'yaml';
import { stampAllowlistText } from '../../src/config/stamp-file.js';

/** `text` with a stamp added to every approved entry that has none. */
export function stamped(text: string): string {
  const doc = parse(text) as { approved?: { id?: unknown; review_sha256?: unknown }[] };
  const approved = doc.approved ?? [];
  if (approved.every((entry) => entry.review_sha256 === undefined)) {
    return stampAllowlistText(text).text;
  }
  let result = text;
  for (const entry of approved) {
    if (entry.review_sha256 !== undefined || typeof entry.id !== 'string') continue;
    result = stampAllowlistText(result, { id: entry.id }).text;
  }
  return result;
}

/** `text` with every stamp written afresh: a change that a reviewer approved and re-stamped. */
export function restamped(text: string): string {
  return stampAllowlistText(text).text;
}
