/**
 * `mcp-gate vet --draft`: an allowlist entry (the schema of src/config/allowlist-schema.ts) for a
 * reviewer to start from. Tools the server marks read-only (`annotations.readOnlyHint: true`)
 * go into `tools.allow`; every other tool is listed in a comment as needing its own review.
 * When the tool list could not be read, `allow` is empty: nothing is approved until someone
 * looks. review_ticket, reviewed_by and the dates are placeholders that validate refuses.
 *
 * A tool name only becomes a rule when it can be written as an exact glob: printable ASCII,
 * without `*` or `?`. The glob language has no escape (src/core/policy/glob.ts), so a read-only
 * tool named `*` would otherwise approve every tool; such names are listed, never allowed. Pure.
 */
import { checkGlob } from '../core/policy/glob.js';
import { parseEntryUrl } from '../core/policy/entry-url.js';
import {
  commentSafe,
  commentSafeText,
  draftEntryId,
  flowName,
  placeholderReviewLines,
  yamlScalar,
} from '../config/draft-entry.js';
import { PLACEHOLDER_PREFIX } from '../config/field-schemas.js';
import type { Finding } from './findings.js';
import type { ToolSummary } from './mcp-handshake.js';
import { isSkipped } from './result.js';
import type { VetResult } from './result.js';

/** Whether a tool name can stand in tools.allow as an exact name (no glob characters). */
export function isExactRule(name: string): boolean {
  return checkGlob(name) === undefined && !/[*?]/.test(name);
}

/** Hints other than readOnlyHint, as the comment lists them. */
function hintsOf(tool: ToolSummary): string {
  const hints = Object.entries(tool.annotations)
    .filter(([key]) => key !== 'readOnlyHint')
    .map(([key, value]) => (value ? key : `${key}: false`));
  return hints.length === 0 ? '' : ` (${hints.join(', ')})`;
}

/** The draft document: comments, then `approved:` with one entry. */
export function toVetDraft(result: VetResult, findings: readonly Finding[]): string {
  const { url, mcp } = result;
  const failing = findings.filter((finding) => finding.severity === 'fail').map((f) => f.code);
  const out: string[] = [
    `# Draft allowlist entry written by mcp-gate vet at ${result.checkedAt.toISOString()}`,
    `# for ${commentSafe(`${url.origin}${url.pathname}`)}.`,
    failing.length === 0
      ? '# vet: passed.'
      : `# vet: FAILED (${[...new Set(failing)].join(', ')}); see its report before approving.`,
  ];
  const tools = isSkipped(mcp) ? undefined : mcp.tools;
  if (!isSkipped(mcp) && mcp.negotiated !== undefined) {
    const server =
      mcp.server === undefined
        ? 'no serverInfo'
        : `${commentSafe(mcp.server.name)} ${commentSafe(mcp.server.version)}`;
    out.push(`# server: ${server}; protocol ${commentSafe(mcp.negotiated)}`);
  }
  const allow: string[] = [];
  const review: string[] = [];
  const unwritable: string[] = [];
  for (const tool of tools ?? []) {
    if (!isExactRule(tool.name)) unwritable.push(tool.name);
    else if (tool.annotations.readOnlyHint === true) allow.push(tool.name);
    else review.push(`#   ${tool.name}${hintsOf(tool)}`);
  }
  if (tools === undefined) {
    out.push('# The tool list could not be read: tools.allow is empty, so no tool is approved.');
  } else {
    out.push(
      "# Tool annotations are the server's own claims; check them before approving.",
      allow.length === 0
        ? '# No tool is marked read-only (readOnlyHint: true): tools.allow is empty.'
        : '# tools.allow holds the tools marked read-only (readOnlyHint: true).',
    );
    if (review.length > 0) {
      out.push('# Not read-only: each needs an explicit review before it is added:', ...review);
    }
    if (unwritable.length > 0) {
      out.push(
        '# Never allowed by name (glob characters, or not printable ASCII):',
        ...unwritable.map((name) => `#   ${commentSafe(name)}`),
      );
    }
  }
  for (const message of isSkipped(mcp) ? [] : mcp.sdkMessages) {
    out.push(`# SDK: ${commentSafeText(message)}`);
  }
  out.push(
    `# Replace every ${PLACEHOLDER_PREFIX} value: mcp-gate validate refuses them until then.`,
    '# Then stamp the entry (mcp-gate stamp FILE --id ID): one without review_sha256 is refused.',
  );

  const host = url.hostname;
  const entryUrl = `${url.protocol}//${url.host}${url.pathname}`;
  const parsed = parseEntryUrl(entryUrl);
  const pathPrefix = parsed.ok ? parsed.value.pathPrefix : '/';
  out.push(
    'approved:',
    `  - id: ${draftEntryId(host, pathPrefix, new Set())}`,
    `    host: ${yamlScalar(host)}`,
    '    transport: http',
  );
  if (parsed.ok && (pathPrefix !== '/' || parsed.value.port !== undefined)) {
    out.push(`    url: ${yamlScalar(entryUrl)}`);
  }
  out.push(
    '    tools:',
    `      allow: [${allow.map(flowName).join(', ')}]`,
    ...placeholderReviewLines('    '),
  );
  return `${out.join('\n')}\n`;
}
