/**
 * Ed25519 keys as reviewers already hold them, turned into node:crypto KeyObjects: the OpenSSH
 * public key line (`ssh-ed25519 AAAA… comment`, what `~/.ssh/id_ed25519.pub` and Git's
 * `user.signingkey` hold), and private keys as PKCS#8 PEM (`openssl genpkey -algorithm ed25519`)
 * or the unencrypted OpenSSH format (`ssh-keygen -t ed25519 -N ''`). Encrypted private keys are
 * refused with a message saying so, never guessed at.
 *
 * The OpenSSH formats are read by hand because they are small (RFC 4251 `string` fields: a
 * big-endian uint32 length and that many bytes) and node:crypto reads neither; the key bytes then
 * go to node:crypto as a JWK. Other key types (RSA, ECDSA, sk-ssh-ed25519) are refused: a trust
 * file of one algorithm is one less thing for an auditor to get wrong.
 * Pure: no I/O.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Parsed } from '../core/parsed.js';

const ED25519 = 'ssh-ed25519';
const ED25519_KEY_BYTES = 32;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads RFC 4251 fields from a buffer; every read is bounds-checked. */
class WireReader {
  private offset = 0;
  private readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  get remaining(): Buffer {
    return this.bytes.subarray(this.offset);
  }

  uint32(): number | undefined {
    if (this.offset + 4 > this.bytes.length) return undefined;
    const value = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytesField(): Buffer | undefined {
    const length = this.uint32();
    if (length === undefined || this.offset + length > this.bytes.length) return undefined;
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string | undefined {
    return this.bytesField()?.toString('latin1');
  }

  skip(length: number): boolean {
    if (this.offset + length > this.bytes.length) return false;
    this.offset += length;
    return true;
  }
}

function wireString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Strict base64 (no whitespace, correct padding): what the encoder would write back. */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/** The 32 raw bytes of an Ed25519 public (or private) KeyObject. */
function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  return Buffer.from(x ?? '', 'base64url');
}

/** Reads the SSH public key blob `string "ssh-ed25519", string key(32)`. */
function rawFromBlob(blob: Buffer): Buffer | string {
  const reader = new WireReader(blob);
  const type = reader.text();
  if (type !== ED25519) {
    return type === undefined
      ? 'the key data is truncated'
      : `the key data is a ${JSON.stringify(type)} key; only ssh-ed25519 keys are accepted`;
  }
  const raw = reader.bytesField();
  if (raw?.length !== ED25519_KEY_BYTES || !reader.done) {
    return 'the key data is not a 32-byte Ed25519 key';
  }
  return raw;
}

/**
 * Parses one OpenSSH public key line, `ssh-ed25519 BASE64 [comment]` (the comment may contain
 * spaces and is ignored).
 */
export function parseSshPublicKey(line: string): Parsed<KeyObject> {
  const fail = (message: string): Parsed<KeyObject> => ({ ok: false, message });
  const [type, data] = line.trim().split(/\s+/);
  if (type === undefined || type === '' || data === undefined) {
    return fail('expected an OpenSSH public key line: "ssh-ed25519 AAAA… comment"');
  }
  if (type !== ED25519) {
    return fail(`${JSON.stringify(type)} keys are not accepted; only ssh-ed25519`);
  }
  const blob = decodeBase64(data);
  if (blob === undefined) return fail('the key data is not valid base64');
  const raw = rawFromBlob(blob);
  if (typeof raw === 'string') return fail(raw);
  return { ok: true, value: publicKeyFromRaw(raw) };
}

/** `ssh-ed25519 BASE64[ comment]` for an Ed25519 key (public, or the public half of a private). */
export function formatSshPublicKey(key: KeyObject, comment?: string): string {
  const blob = Buffer.concat([wireString(Buffer.from(ED25519)), wireString(rawPublicKey(key))]);
  const tail = comment === undefined || comment === '' ? '' : ` ${comment}`;
  return `${ED25519} ${blob.toString('base64')}${tail}`;
}

/** Whether two Ed25519 keys have the same public key. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return rawPublicKey(a).equals(rawPublicKey(b));
}

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n-----END \1-----\s*$/;

/**
 * Parses an Ed25519 private key file: PKCS#8 PEM (`BEGIN PRIVATE KEY`) or OpenSSH
 * (`BEGIN OPENSSH PRIVATE KEY`), unencrypted. Encrypted keys and other algorithms are refused
 * with a message that says which.
 */
export function parsePrivateKey(text: string): Parsed<KeyObject> {
  const fail = (message: string): Parsed<KeyObject> => ({ ok: false, message });
  const pem = PEM.exec(text.trim());
  if (pem === null) {
    return fail(
      'not a PEM private key: expected "-----BEGIN PRIVATE KEY-----" (PKCS#8) or ' +
        '"-----BEGIN OPENSSH PRIVATE KEY-----"',
    );
  }
  const [, label = '', body = ''] = pem;
  if (label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:.*ENCRYPTED/m.test(body)) {
    return fail(encryptedMessage('PKCS#8'));
  }
  if (label === 'OPENSSH PRIVATE KEY') return parseOpenSshPrivateKey(body);
  if (label !== 'PRIVATE KEY') {
    return fail(`a "${label}" PEM block is not an Ed25519 key; use PKCS#8 or OpenSSH`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (err: unknown) {
    return fail(`not a readable PKCS#8 key (${err instanceof Error ? err.message : String(err)})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return fail(`a ${String(key.asymmetricKeyType)} key; only Ed25519 keys sign reviews`);
  }
  return { ok: true, value: key };
}

function encryptedMessage(format: string): string {
  return (
    `the ${format} key is encrypted (passphrase-protected); mcp-gate reads only unencrypted ` +
    'Ed25519 keys and never asks for a passphrase'
  );
}

/**
 * The OpenSSH private key format (PROTOCOL.key in OpenSSH): magic, cipher, KDF, KDF options,
 * one public key, then the private section: two equal check integers, the key type, public key,
 * 64 bytes of seed and public key, a comment and padding 1, 2, 3, …
 */
function parseOpenSshPrivateKey(body: string): Parsed<KeyObject> {
  const fail = (message: string): Parsed<KeyObject> => ({
    ok: false,
    message: `not a readable OpenSSH key: ${message}`,
  });
  const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (!bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
    return fail('the "openssh-key-v1" header is missing');
  }
  const reader = new WireReader(bytes.subarray(OPENSSH_MAGIC.length));
  const cipher = reader.text();
  const kdf = reader.text();
  const kdfOptions = reader.bytesField();
  if (cipher === undefined || kdf === undefined || kdfOptions === undefined) {
    return fail('truncated');
  }
  if (cipher !== 'none' || kdf !== 'none') {
    return { ok: false, message: encryptedMessage('OpenSSH') };
  }
  const count = reader.uint32();
  if (count !== 1) return fail(`it holds ${String(count ?? 0)} keys; expected one`);
  const publicBlob = reader.bytesField();
  const privateSection = reader.bytesField();
  if (publicBlob === undefined || privateSection === undefined || !reader.done) {
    return fail('truncated');
  }
  const publicRaw = rawFromBlob(publicBlob);
  if (typeof publicRaw === 'string') return fail(publicRaw);

  const inner = new WireReader(privateSection);
  const check1 = inner.uint32();
  const check2 = inner.uint32();
  if (check1 === undefined || check1 !== check2) return fail('its check integers differ');
  const type = inner.text();
  const innerPublic = inner.bytesField();
  const secret = inner.bytesField();
  const comment = inner.bytesField();
  if (type !== ED25519 || innerPublic === undefined || secret === undefined) {
    return fail('the private section is not an ssh-ed25519 key');
  }
  if (comment === undefined) return fail('truncated');
  if (
    !innerPublic.equals(publicRaw) ||
    secret.length !== 2 * ED25519_KEY_BYTES ||
    !secret.subarray(ED25519_KEY_BYTES).equals(publicRaw)
  ) {
    return fail('its private and public halves do not belong together');
  }
  const padding = inner.remaining;
  if (padding.some((byte, index) => byte !== index + 1) || !inner.skip(padding.length)) {
    return fail('its padding is malformed');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: secret.subarray(0, ED25519_KEY_BYTES).toString('base64url'),
        x: publicRaw.toString('base64url'),
      },
      format: 'jwk',
    });
  } catch (err: unknown) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  // The seed determines the public key; a file whose stored public key is another is corrupt.
  if (!rawPublicKey(key).equals(publicRaw)) {
    return fail('its seed does not derive its public key');
  }
  return { ok: true, value: key };
}
