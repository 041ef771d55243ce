/**
 * The charset decoder the core's body reading is given (src/core/mcp/decode-body.ts
 * CharsetDecoder): iconv-lite, the decoder body-parser and raw-body use in front of Node MCP
 * servers, so a body in `utf-7`, `utf-16` or `latin1` reads here as it reads there. iconv-lite
 * drops a leading byte-order mark of the charset, as those servers let it.
 */
import iconv from 'iconv-lite';
import type { CharsetDecoder } from '../core/mcp/decode-body.js';

export const ICONV_CHARSETS: CharsetDecoder = Object.freeze({
  knows: (charset: string) => iconv.encodingExists(charset),
  decode: (bytes: Uint8Array, charset: string) => iconv.decode(bytes, charset),
});
