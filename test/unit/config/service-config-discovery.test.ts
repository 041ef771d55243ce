import { describe, expect, test } from 'vitest';

import { resolveServeConfig } from '../../../src/config/service-config.js';

const BASE = { allowlist: 'allowlist.yaml' };

describe('serve config – discovery', () => {
  test('defaults: 1000 rows, the top 50 in the gauge, the endpoint off', () => {
    expect(resolveServeConfig(BASE, {}).discovery).toEqual({
      tokenFile: undefined,
      maxRows: 1000,
      gaugeTop: 50,
    });
  });

  test('flags, then MCP_GATE_* variables', () => {
    const config = resolveServeConfig(
      { ...BASE, 'discovery-token-file': '/run/secrets/discovery-token' },
      { MCP_GATE_DISCOVERY_MAX_ROWS: '200', MCP_GATE_DISCOVERY_GAUGE_TOP: '10' },
    );
    expect(config.discovery).toEqual({
      tokenFile: '/run/secrets/discovery-token',
      maxRows: 200,
      gaugeTop: 10,
    });
    expect(resolveServeConfig(BASE, { MCP_GATE_DISCOVERY_MAX_ROWS: '0' }).discovery.maxRows).toBe(
      0,
    );
  });

  test.each([
    { flag: 'discovery-max-rows', value: '20001', message: 'must be at most 20000' },
    { flag: 'discovery-max-rows', value: '-1', message: 'must be an integer >= 0' },
    { flag: 'discovery-gauge-top', value: 'many', message: 'must be an integer >= 0' },
  ])('--$flag $value is refused', ({ flag, value, message }) => {
    expect(() => resolveServeConfig({ ...BASE, [flag]: value }, {})).toThrow(
      new RegExp(`--${flag} / MCP_GATE_[A-Z_]+ ${message}`),
    );
  });

  test('a token file with a table that records nothing is refused', () => {
    expect(() =>
      resolveServeConfig(
        { ...BASE, 'discovery-token-file': '/run/t', 'discovery-max-rows': '0' },
        {},
      ),
    ).toThrow('--discovery-token-file needs a discovery table: --discovery-max-rows is 0');
  });
});
