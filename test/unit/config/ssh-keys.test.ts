import { createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  formatSshPublicKey,
  parsePrivateKey,
  parseSshPublicKey,
  samePublicKey,
} from '../../../src/config/ssh-keys.js';

const KEYS = join(import.meta.dirname, '../../fixtures/review-keys');
const read = (name: string): string => readFileSync(join(KEYS, name), 'utf8');

function privateKey(name: string) {
  const parsed = parsePrivateKey(read(name));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

function publicKey(line: string) {
  const parsed = parseSshPublicKey(line);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

/** An SSH wire `string`: uint32 length, then the bytes. */
function wire(...fields: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    fields.map((field) => {
      const bytes = typeof field === 'string' ? Buffer.from(field) : field;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    }),
  );
}

describe('OpenSSH public key lines', () => {
  test("ssh-keygen's .pub line is read, and written back byte for byte", () => {
    const line = read('alice-openssh.pub').trim();
    expect(formatSshPublicKey(publicKey(line), 'alice@corp.example')).toBe(line);
    // The comment is free text, spaces included.
    expect(samePublicKey(publicKey(`${line} second part`), publicKey(line))).toBe(true);
  });

  test('the key signs and verifies as the private key ssh-keygen wrote with it', () => {
    const message = Buffer.from('mcp-gate review signature v1\nx');
    const signature = sign(null, message, privateKey('alice-openssh'));
    expect(verify(null, message, publicKey(read('alice-openssh.pub')), signature)).toBe(true);
    expect(verify(null, message, publicKey(read('mallory-openssh.pub')), signature)).toBe(false);
  });

  const raw = Buffer.alloc(32, 7);
  test.each([
    { name: 'empty', line: '', message: 'expected an OpenSSH public key line' },
    { name: 'no key data', line: 'ssh-ed25519', message: 'expected an OpenSSH public key line' },
    { name: 'RSA', line: read('rsa-openssh.pub'), message: '"ssh-rsa" keys are not accepted' },
    {
      name: 'not base64',
      line: 'ssh-ed25519 AAAA!!!!',
      message: 'the key data is not valid base64',
    },
    {
      name: 'a blob of another type under an ed25519 label',
      line: `ssh-ed25519 ${wire('ssh-rsa', raw).toString('base64')}`,
      message: 'the key data is a "ssh-rsa" key',
    },
    {
      name: 'a short key',
      line: `ssh-ed25519 ${wire('ssh-ed25519', raw.subarray(0, 31)).toString('base64')}`,
      message: 'not a 32-byte Ed25519 key',
    },
    {
      name: 'trailing bytes',
      line: `ssh-ed25519 ${Buffer.concat([wire('ssh-ed25519', raw), Buffer.from([0])]).toString('base64')}`,
      message: 'not a 32-byte Ed25519 key',
    },
    {
      name: 'a length beyond the data',
      line: `ssh-ed25519 ${Buffer.from([0, 0, 0, 99, 1, 2]).toString('base64')}`,
      message: 'the key data is truncated',
    },
  ])('refused: $name', ({ line, message }) => {
    const parsed = parseSshPublicKey(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});

describe('private keys', () => {
  test('PKCS#8 (openssl genpkey): its public half is the one openssl printed', () => {
    const key = privateKey('bob-pkcs8.pem');
    expect(samePublicKey(key, createPublicKey(read('bob-pkcs8.pub.pem')))).toBe(true);
  });

  test('unencrypted OpenSSH (ssh-keygen -N ""): its public half is the .pub line', () => {
    expect(samePublicKey(privateKey('alice-openssh'), publicKey(read('alice-openssh.pub')))).toBe(
      true,
    );
  });

  test.each([
    {
      name: 'encrypted OpenSSH',
      file: 'carol-encrypted-openssh',
      message: 'the OpenSSH key is encrypted',
    },
    {
      name: 'encrypted PKCS#8',
      file: 'dave-encrypted-pkcs8.pem',
      message: 'the PKCS#8 key is encrypted',
    },
    { name: 'an RSA OpenSSH key', file: 'rsa-openssh', message: 'a "ssh-rsa" key' },
    { name: 'a public key', file: 'alice-openssh.pub', message: 'not a PEM private key' },
    { name: 'a PEM public key', file: 'bob-pkcs8.pub.pem', message: 'a "PUBLIC KEY" PEM block' },
  ])('refused: $name', ({ file, message }) => {
    const parsed = parsePrivateKey(read(file));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });

  test('a PKCS#8 key of another algorithm is refused', () => {
    const p256 =
      '-----BEGIN PRIVATE KEY-----\n' +
      'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n' +
      'OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n' +
      '1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n' +
      '-----END PRIVATE KEY-----\n';
    const parsed = parsePrivateKey(p256);
    expect(parsed).toEqual({ ok: false, message: 'a ec key; only Ed25519 keys sign reviews' });
  });

  describe('a damaged OpenSSH key is refused, never half-read', () => {
    const pem = read('alice-openssh');
    const body = pem.split('\n').slice(1, -2).join('');
    const bytes = Buffer.from(body, 'base64');
    /** Offset of the key type inside the private section (the second "ssh-ed25519"). */
    const privateType = (data: Buffer): number => {
      const marker = Buffer.from('ssh-ed25519');
      return data.indexOf(marker, data.indexOf(marker) + marker.length);
    };
    const rewrap = (data: Buffer): string =>
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${data.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;

    test.each([
      { name: 'truncated', data: bytes.subarray(0, bytes.length - 40), message: 'truncated' },
      {
        name: 'a wrong magic',
        data: Buffer.concat([Buffer.from('openssh-key-v2'), bytes.subarray(14)]),
        message: 'the "openssh-key-v1" header is missing',
      },
      {
        name: 'its last padding byte changed',
        data: Buffer.concat([bytes.subarray(0, -1), Buffer.from([0xff])]),
        message: 'padding',
      },
    ])('$name', ({ data, message }) => {
      const parsed = parsePrivateKey(rewrap(data));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.message).toContain(message);
    });

    test('check integers that differ', () => {
      // The private section starts with checkint 1, checkint 2, then the key type's length
      // and the type: flip a bit of checkint 2.
      const checkint2 = privateType(bytes) - 8;
      const damaged = Buffer.from(bytes);
      damaged[checkint2] = (damaged[checkint2] ?? 0) ^ 1;
      const parsed = parsePrivateKey(rewrap(damaged));
      expect(parsed).toEqual({
        ok: false,
        message: 'not a readable OpenSSH key: its check integers differ',
      });
    });

    test('a private half that does not belong to the public key', () => {
      const mallory = Buffer.from(
        read('mallory-openssh').split('\n').slice(1, -2).join(''),
        'base64',
      );
      // Alice's header and public blob, then Mallory's private section (from its length field).
      const spliced = Buffer.concat([
        bytes.subarray(0, privateType(bytes) - 16),
        mallory.subarray(privateType(mallory) - 16),
      ]);
      const parsed = parsePrivateKey(rewrap(spliced));
      expect(parsed).toEqual({
        ok: false,
        message: 'not a readable OpenSSH key: its private and public halves do not belong together',
      });
    });
  });
});
