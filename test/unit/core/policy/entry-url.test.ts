import { describe, expect, test } from 'vitest';
import { parseEntryUrl } from '../../../../src/core/policy/entry-url.js';

describe('parseEntryUrl', () => {
  test.each([
    {
      url: 'https://api.githubcopilot.com/mcp/',
      host: 'api.githubcopilot.com',
      port: undefined,
      pathPrefix: '/mcp',
      hasQuery: false,
    },
    {
      url: 'https://mcp.linear.app',
      host: 'mcp.linear.app',
      port: undefined,
      pathPrefix: '/',
      hasQuery: false,
    },
    {
      url: 'https://mcp.linear.app/',
      host: 'mcp.linear.app',
      port: undefined,
      pathPrefix: '/',
      hasQuery: false,
    },
    {
      url: 'HTTP://MCP.Example.com:8443/a/./b/../c/',
      host: 'mcp.example.com',
      port: 8443,
      pathPrefix: '/a/c',
      hasQuery: false,
    },
    {
      url: 'https://mcp.supabase.com/mcp?read_only=true',
      host: 'mcp.supabase.com',
      port: undefined,
      pathPrefix: '/mcp',
      hasQuery: true,
    },
    {
      url: 'https://x.example.com/%7Euser/mcp',
      host: 'x.example.com',
      port: undefined,
      pathPrefix: '/~user/mcp',
      hasQuery: false,
    },
    {
      url: 'https://*.mcp.cloudflare.com/mcp',
      host: '*.mcp.cloudflare.com',
      port: undefined,
      pathPrefix: '/mcp',
      hasQuery: false,
    },
  ])('$url', ({ url, ...want }) => {
    expect(parseEntryUrl(url)).toEqual({ ok: true, value: want });
  });
});
