import { describe, expect, test } from 'vitest';
import {
  boundAddress,
  isListenAddress,
  splitHostPort,
  unixSocketPath,
} from '../../../src/net/listen-address.js';

describe('unixSocketPath', () => {
  test.each([
    ['unix:/run/mcp-gate.sock', '/run/mcp-gate.sock'],
    ['unix:///run/mcp-gate.sock', '/run/mcp-gate.sock'],
    ['unix:rel.sock', 'rel.sock'],
    ['127.0.0.1:9191', undefined],
  ])('%s', (address, expected) => {
    expect(unixSocketPath(address)).toBe(expected);
  });
});

describe('splitHostPort', () => {
  test.each([
    ['127.0.0.1:9191', { host: '127.0.0.1', port: 9191 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['localhost:65536', undefined],
    ['::1:9191', undefined],
    ['9191', undefined],
    ['unix:/run/x.sock', undefined],
  ])('%s', (address, expected) => {
    expect(splitHostPort(address)).toEqual(expected);
  });
});

describe('isListenAddress', () => {
  test('unix: forms only where allowed, and never an empty path', () => {
    expect(isListenAddress('unix:/run/x.sock', true)).toBe(true);
    expect(isListenAddress('unix:/run/x.sock', false)).toBe(false);
    expect(isListenAddress('unix:', true)).toBe(false);
    expect(isListenAddress('0.0.0.0:9191', false)).toBe(true);
    expect(isListenAddress('0.0.0.0', true)).toBe(false);
  });
});

describe('boundAddress', () => {
  test('a TCP address takes the bound port, IPv6 in brackets; a socket stays as written', () => {
    expect(boundAddress('127.0.0.1:0', 40123)).toBe('127.0.0.1:40123');
    expect(boundAddress('[::1]:0', 40123)).toBe('[::1]:40123');
    expect(boundAddress('unix:/run/x.sock', 0)).toBe('unix:/run/x.sock');
  });
});
