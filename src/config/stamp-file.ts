/**
 * Writing review stamps into allowlist text: `review_sha256` is added to or updated in the chosen
 * entries, and every other byte of the file stays as it was.
 *
 * Why splice instead of re-serialising: the yaml package's `doc.toString()` keeps comments but
 * re-renders everything else (quoting, spacing before comments, flow lists, long lines), so a
 * stamp would come with unrelated churn in the diff that reviewers must read. Here the document
 * is parsed only to find offsets (the loader's YAML parse, then node ranges); the text edit is either
 * "replace the old stamp's value" or "insert one `review_sha256:` line after the entry's last
 * line, at the entry's indentation". The line ending follows the file (CRLF stays CRLF).
 *
 * Invariants: the text must be a valid allowlist entry-wise (stamping an invalid entry is
 * refused); after the edit the result is parsed again and must carry exactly the same data
 * apart from the stamps, else nothing is returned (an AppError is thrown). Pure: no I/O.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Pair, YAMLMap, YAMLSeq } from 'yaml';
import { AppError, ConfigError } from '../errors.js';
import { AllowlistEntrySchema } from './allowlist-schema.js';
import { computeReviewSha256, documentStampContext } from './review-stamp.js';
import { isRecord, parseYamlSource, positionOf } from './yaml-source.js';

/** What stampAllowlistText did. */
export interface StampResult {
  /** The new file text (equal to the input when nothing changed). */
  readonly text: string;
  /** Ids whose stamp was added or changed. */
  readonly stamped: string[];
  /** Ids whose stamp was already correct. */
  readonly unchanged: string[];
}

/** Which entries to stamp. */
export interface StampOptions {
  /** Only the entry with this id; every entry when absent. */
  readonly id?: string;
}

/** A text edit: replace `start`..`end` with `insert`. */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly insert: string;
}

const STAMP_KEY = 'review_sha256';

/**
 * Writes `review_sha256` into every entry (or the one with `options.id`). Throws ConfigError
 * (ERR_ALLOWLIST_INVALID) when the text is not valid YAML or a chosen entry is invalid, and
 * AppError (ERR_USAGE) for an unknown id.
 */
export function stampAllowlistText(text: string, options: StampOptions = {}): StampResult {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) {
    const first = yaml.errors[0];
    throw new ConfigError(
      'ERR_ALLOWLIST_INVALID',
      `cannot stamp a file that is not valid YAML${first === undefined ? '' : ` (${String(first.line)}:${String(first.col)} ${first.message})`}`,
    );
  }
  const { source, value } = yaml;
  const approvedNode = source.doc.get('approved', true);
  const approvedData = isRecord(value) ? value['approved'] : undefined;
  if (!isSeq(approvedNode) || !Array.isArray(approvedData)) {
    throw new ConfigError('ERR_ALLOWLIST_INVALID', 'cannot stamp: the file has no approved list');
  }

  const context = documentStampContext(value);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: Edit[] = [];
  const stamped: string[] = [];
  const hashes = new Map<string, string>();
  const unchanged: string[] = [];
  let found = false;

  for (const [index, item] of approvedNode.items.entries()) {
    const data: unknown = approvedData[index];
    const rawId = isRecord(data) ? data['id'] : undefined;
    if (options.id !== undefined && rawId !== options.id) continue;
    found = true;
    const entry = AllowlistEntrySchema.safeParse(data);
    if (!isMap(item) || !entry.success) {
      throw new ConfigError(
        'ERR_ALLOWLIST_INVALID',
        `cannot stamp approved[${String(index)}]: the entry is invalid (run mcp-gate validate)`,
      );
    }
    const id = entry.data.id;
    const hash = computeReviewSha256(entry.data, context);
    const existing = item.items.find((pair) => isScalar(pair.key) && pair.key.value === STAMP_KEY);
    if (existing !== undefined) {
      const node = existing.value;
      if (isScalar(node) && node.value === hash) {
        unchanged.push(id);
        continue;
      }
      const range = isScalar(node) ? node.range : undefined;
      if (range === undefined || range === null)
        throw cannotEdit(id, 'its review_sha256 has no value');
      edits.push({ start: range[0], end: range[1], insert: hash });
    } else {
      edits.push(insertionAfterLastLine(text, source, item, id, `${STAMP_KEY}: ${hash}`, eol));
    }
    stamped.push(id);
    hashes.set(id, hash);
  }

  if (options.id !== undefined && !found) {
    throw new AppError('ERR_USAGE', `no entry with id ${JSON.stringify(options.id)}`);
  }

  let result = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.insert + result.slice(edit.end);
  }
  verifyOnlyStampsChanged(value, result, hashes);
  return { text: result, stamped, unchanged };
}

function cannotEdit(id: string, why: string): AppError {
  return new AppError('ERR_USAGE', `cannot stamp ${JSON.stringify(id)}: ${why}`);
}

/**
 * An edit that inserts `line` as a new line after the last line of a block mapping, at the
 * indentation of its keys.
 */
function insertionAfterLastLine(
  text: string,
  source: Parameters<typeof positionOf>[0],
  item: YAMLMap,
  id: string,
  line: string,
  eol: string,
): Edit {
  if (item.flow === true) {
    throw cannotEdit(id, 'it is written as a flow mapping ({…}); write it as a block mapping');
  }
  const last: Pair | undefined = item.items[item.items.length - 1];
  const lastNode: unknown = last?.value ?? last?.key;
  const edit = insertionAfter(text, source, item, lastNode, [line], eol);
  if (edit === undefined) throw cannotEdit(id, 'cannot find where the entry ends');
  return edit;
}

/**
 * An edit that inserts `lines` after the line where `lastNode` (the last node of the block
 * collection `block`) ends, each at the indentation of the collection's first line: the keys of
 * a block mapping, or the `-` of a block sequence. Undefined when the nodes carry no positions.
 */
export function insertionAfter(
  text: string,
  source: Parameters<typeof positionOf>[0],
  block: YAMLMap | YAMLSeq,
  lastNode: unknown,
  lines: readonly string[],
  eol: string,
): Edit | undefined {
  const start = block.range?.[0];
  const lastRange =
    isScalar(lastNode) || isMap(lastNode) || isSeq(lastNode) ? lastNode.range : undefined;
  if (start === undefined || lastRange === undefined || lastRange === null) return undefined;
  // Every key of a block mapping (every item of a block sequence) starts in the column of its
  // first one.
  const indent = ' '.repeat(positionOf(source, start).col - 1);
  let at: number;
  if (
    isScalar(lastNode) &&
    (lastNode.type === 'BLOCK_LITERAL' || lastNode.type === 'BLOCK_FOLDED')
  ) {
    // A block scalar owns the blank lines it keeps; insert right after its range.
    at = lastRange[1];
  } else {
    // After the line holding the value's last character (and any comment on that line).
    let end = lastRange[1] - 1;
    while (end > start && /\s/.test(text.charAt(end))) end--;
    const newline = text.indexOf('\n', end);
    at = newline === -1 ? text.length : newline + 1;
  }
  const needsBreak = at > 0 && text.charAt(at - 1) !== '\n';
  const insert = lines.map((line) => `${indent}${line}${eol}`).join('');
  return { start: at, end: at, insert: `${needsBreak ? eol : ''}${insert}` };
}

/**
 * Throws unless `after` parses to `before` with only the stamps in `hashes` (id → stamp) added
 * or changed, each to its new value.
 */
function verifyOnlyStampsChanged(
  before: unknown,
  after: string,
  hashes: ReadonlyMap<string, string>,
): void {
  const reparsed = parseYamlSource(after);
  let stampsWritten = 0;
  const strip = (value: unknown, count: boolean): unknown => {
    if (!isRecord(value) || !Array.isArray(value['approved'])) return value;
    const approved: unknown[] = value['approved'];
    return {
      ...value,
      approved: approved.map((entry) => {
        const id = isRecord(entry) ? entry['id'] : undefined;
        const hash = typeof id === 'string' ? hashes.get(id) : undefined;
        if (!isRecord(entry) || hash === undefined) return entry;
        if (count && entry[STAMP_KEY] === hash) stampsWritten++;
        return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== STAMP_KEY));
      }),
    };
  };
  const same =
    reparsed.ok &&
    JSON.stringify(strip(reparsed.value, true)) === JSON.stringify(strip(before, false)) &&
    stampsWritten === hashes.size;
  if (!same) {
    throw new AppError(
      'ERR_USAGE',
      'stamping would change more than review_sha256 in this file; nothing was written',
    );
  }
}
