/**
 * CONNECT authorities against the readers that decide where a tunnel goes (authority.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '../property/properties.js';
import { authority, authorityFinding, readersOf } from './authority.js';
import { catalogueSnapshot } from './judge.js';

const snapshot = catalogueSnapshot();

describe('differential – CONNECT authorities against URL and Envoy readers', () => {
  it('the readers disagree with each other where the catalogue says they do', () => {
    // Envoy reads the sign, WHATWG URL refuses it; both read leading zeros as 443.
    expect(readersOf('mcp.linear.app:+443')).toEqual([
      { reader: 'whatwg-url', host: undefined },
      { reader: 'envoy-authority', host: 'mcp.linear.app' },
    ]);
    expect(readersOf('mcp.linear.app:0443').map((r) => r.host)).toEqual([
      'mcp.linear.app',
      'mcp.linear.app',
    ]);
  });

  it('never lets a reader reach a known MCP host or another host than the one approved', () => {
    fc.assert(
      fc.property(authority, (text) => {
        const finding = authorityFinding(snapshot, text);
        expect(finding, `${JSON.stringify(text)}: ${finding ?? ''}`).toBeUndefined();
      }),
      { seed: DEFAULT_SEED, numRuns: 3000 },
    );
  });
});
