/**
 * Decision ids: 20 characters from an alphabet without digits or look-alike letters.
 * No digits because an MCP bridge (mcp-remote) scans error text for "404"/"405" and then falls
 * back to another transport; an id must never be able to spell them. 20 letters from 23
 * symbols carry about 90 bits, enough to be unique in any audit log.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz';
const LENGTH = 20;
/** Random bytes are drawn in blocks to keep crypto calls off the per-request path. */
const POOL_SIZE = 4096;

const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** A fresh decision id. */
export function newDecisionId(): string {
  let id = '';
  while (id.length < LENGTH) {
    if (offset >= POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const byte = pool[offset++] ?? 0;
    // Rejection sampling keeps every letter equally likely (230 = 10 × 23).
    if (byte < 230) id += ALPHABET[byte % ALPHABET.length] ?? '';
  }
  return id;
}

/** True for strings of the decision-id form (used to validate ids read back in tests). */
export function isDecisionId(value: string): boolean {
  return value.length === LENGTH && /^[a-hj-km-np-z]+$/.test(value);
}
