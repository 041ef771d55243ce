/**
 * Writing a review signature into allowlist text: the entry's `signatures` list gets the item
 * `{by, sig}` (replacing the `sig` of an item by the same reviewer), and every other byte of the
 * file stays as it was, for the same reason as stamp-file.ts: the diff reviewers read is the
 * signature alone.
 *
 * Edits: replace the old `sig` value; or append `- by: NAME` / `  sig: SIG` after the last item
 * of a block `signatures` list; or, without a list, add `signatures:` and the item after the
 * entry's last line. Flow lists (`signatures: [...]`) are refused rather than rewritten. After
 * the edit the text is parsed again and must carry exactly the same data but for that one
 * signature, else an AppError is thrown and nothing is returned. Pure: no I/O.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { AppError, ConfigError } from '../errors.js';
import { insertionAfter } from './stamp-file.js';
import type { Edit } from './stamp-file.js';
import { isRecord, parseYamlSource } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

const SIGNATURES_KEY = 'signatures';

/** A name written as a YAML scalar: plain when that cannot be misread, else double-quoted. */
function yamlScalar(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(value) ? value : JSON.stringify(value);
}

function cannotSign(id: string, why: string): AppError {
  return new AppError('ERR_USAGE', `cannot sign ${JSON.stringify(id)}: ${why}`);
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
}

/**
 * Writes `by`'s signature `sig` into the entry with id `id`. Throws ConfigError when the text is
 * not valid YAML, AppError (ERR_USAGE) for an unknown id or a layout it cannot edit.
 */
export function writeSignatureText(text: string, id: string, by: string, sig: string): string {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) throw new ConfigError('ERR_ALLOWLIST_INVALID', 'cannot sign invalid YAML');
  const { source, value } = yaml;
  const approvedNode = source.doc.get('approved', true);
  const approvedData = isRecord(value) ? value['approved'] : undefined;
  if (!isSeq(approvedNode) || !Array.isArray(approvedData)) {
    throw new ConfigError('ERR_ALLOWLIST_INVALID', 'cannot sign: the file has no approved list');
  }
  const index = approvedData.findIndex((entry) => isRecord(entry) && entry['id'] === id);
  const item = approvedNode.items[index];
  if (index === -1 || !isMap(item)) {
    throw new AppError('ERR_USAGE', `no entry with id ${JSON.stringify(id)}`);
  }
  if (item.flow === true) {
    throw cannotSign(id, 'it is written as a flow mapping ({…}); write it as a block mapping');
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edit = signatureEdit(text, source, item, id, by, sig, eol);
  const result = text.slice(0, edit.start) + edit.insert + text.slice(edit.end);

  const before = approvedData[index] as Record<string, unknown>;
  const written: unknown = before[SIGNATURES_KEY];
  const old = Array.isArray(written) ? (written as unknown[]) : undefined;
  const isBy = (s: unknown): boolean => isRecord(s) && s['by'] === by;
  const signatures =
    old === undefined
      ? [{ by, sig }]
      : old.some(isBy)
        ? old.map((s) => (isBy(s) ? { ...(s as Record<string, unknown>), sig } : s))
        : [...old, { by, sig }];
  const expected = {
    ...(value as Record<string, unknown>),
    approved: approvedData.map((entry: unknown, i) =>
      i === index ? { ...before, [SIGNATURES_KEY]: signatures } : entry,
    ),
  };
  const reparsed = parseYamlSource(result);
  if (!reparsed.ok || JSON.stringify(reparsed.value) !== JSON.stringify(expected)) {
    throw new AppError(
      'ERR_USAGE',
      'signing would change more than the signature in this file; nothing was written',
    );
  }
  return result;
}

function signatureEdit(
  text: string,
  source: YamlSource,
  item: YAMLMap,
  id: string,
  by: string,
  sig: string,
  eol: string,
): Edit {
  const newItem = [`- by: ${yamlScalar(by)}`, `  sig: ${sig}`];
  const existing = pairOf(item, SIGNATURES_KEY);
  if (existing === undefined) {
    const last: Pair | undefined = item.items[item.items.length - 1];
    const lines = [`${SIGNATURES_KEY}:`, ...newItem.map((line) => `  ${line}`)];
    const edit = insertionAfter(text, source, item, last?.value ?? last?.key, lines, eol);
    if (edit === undefined) throw cannotSign(id, 'cannot find where the entry ends');
    return edit;
  }
  const list = existing.value;
  if (!isSeq(list) || list.flow === true || list.items.length === 0) {
    throw cannotSign(id, `write ${SIGNATURES_KEY} as a block list ("- by: …" lines)`);
  }
  for (const signature of list.items) {
    if (!isMap(signature)) continue;
    const name = pairOf(signature, 'by')?.value;
    if (!isScalar(name) || name.value !== by) continue;
    const old = pairOf(signature, 'sig')?.value;
    const range = isScalar(old) ? old.range : undefined;
    if (range === undefined || range === null)
      throw cannotSign(id, `its signature by ${by} has no sig`);
    return { start: range[0], end: range[1], insert: sig };
  }
  const edit = insertionAfter(text, source, list, list.items[list.items.length - 1], newItem, eol);
  if (edit === undefined) throw cannotSign(id, `cannot find where ${SIGNATURES_KEY} ends`);
  return edit;
}
