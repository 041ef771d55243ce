/**
 * `mcp-gate sign FILE --id ID --key KEY [--as NAME] [--reviewers FILE]`: a reviewer's Ed25519
 * signature over one entry (src/config/review-signature.ts), written into the entry's
 * `signatures` list, keeping every other byte of the file. `--public-key` prints the key's
 * `ssh-ed25519` line for the trust file instead.
 *
 * Contract: the file must be a valid allowlist whose entry carries a current `review_sha256`
 * (stamp first: the stamp is the one-line diff the review approved); the signer is `--as`, by
 * default the entry's `reviewed_by`, and must be its `reviewed_by` or `cosigned_by`; with
 * `--reviewers` the key must be listed for that name. Keys are PKCS#8 PEM or unencrypted
 * OpenSSH, Ed25519 only; the key's contents are never printed. The file is replaced atomically
 * as by stamp. Exit status: 0 signed, 1 refused or failed, 2 usage error.
 */
import type { KeyObject } from 'node:crypto';
import { readConfigFile } from '../config/config-file.js';
import { validateAllowlist } from '../config/load-allowlist.js';
import { loadReviewersFile } from '../config/load-reviewers.js';
import { signReview } from '../config/review-signature.js';
import { computeReviewSha256 } from '../config/review-stamp.js';
import { writeSignatureText } from '../config/sign-file.js';
import { formatSshPublicKey, parsePrivateKey, samePublicKey } from '../config/ssh-keys.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';
import { replaceFileAtomically } from './stamp.js';
import { formatIssue } from '../config/config-issues.js';

/** `mcp-gate sign --help`. */
export const SIGN_USAGE = `usage: mcp-gate sign FILE --id ID --key KEY [--as NAME] [--reviewers FILE]
       mcp-gate sign --key KEY --public-key [--as NAME]

Signs the approved entry ID as its reviewer (--as NAME, default the entry's reviewed_by; a
co-signer gives their cosigned_by name) and writes the signature into the entry's signatures
list, keeping comments and layout. The entry must be stamped first (mcp-gate stamp FILE --id ID).
The signature covers the entry's id, the signer's name, its review stamp and expires_on
(docs/allowlist.md, "Review signatures"); serve --reviewers denies entries without one.
KEY is an Ed25519 private key: PKCS#8 PEM (openssl genpkey -algorithm ed25519) or unencrypted
OpenSSH (ssh-keygen -t ed25519); encrypted keys are refused. --reviewers FILE checks that the key
is listed for NAME. --public-key prints the key's "ssh-ed25519 ..." line for the trust file.
Exit status: 0 signed, 1 refused or failed, 2 usage error.`;

/** The parts of CliIo sign uses. */
export type SignIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'>;

/** Runs sign; resolves with the exit code. */
export async function runSign(args: string[], io: SignIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        id: { type: 'string' },
        key: { type: 'string' },
        as: { type: 'string' },
        reviewers: { type: 'string' },
        'public-key': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    },
    SIGN_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const usage = (problem: string): number => {
    io.stderr(`${problem}\n${SIGN_USAGE}\n`);
    return 2;
  };
  if (values.key === undefined) return usage('sign needs --key KEY');
  const printPublic = values['public-key'] === true;
  const [file, ...extra] = positionals;
  if (printPublic && (file !== undefined || values.id !== undefined)) {
    return usage('--public-key takes no FILE and no --id');
  }
  if (!printPublic && (file === undefined || extra.length > 0)) {
    return usage('sign takes exactly one FILE');
  }
  if (!printPublic && values.id === undefined) return usage('sign needs --id ID');

  const keyRead = await readConfigFile(values.key);
  const key = keyRead.ok
    ? parsePrivateKey(keyRead.text)
    : { ok: false as const, message: keyRead.error.message };
  if (!key.ok) {
    io.stderr(`${values.key}: ${key.message}\n`);
    return 1;
  }
  if (printPublic) {
    io.stdout(`${formatSshPublicKey(key.value, values.as)}\n`);
    return 0;
  }
  // Both checked above; narrowed again for the compiler.
  if (file === undefined || values.id === undefined) return 2;
  return signFile(file, values.id, key.value, values.as, values.reviewers, io);
}

async function signFile(
  file: string,
  id: string,
  key: KeyObject,
  as: string | undefined,
  reviewersPath: string | undefined,
  io: SignIo,
): Promise<number> {
  const refuse = (why: string): number => {
    io.stderr(`${file}: not signed: ${why}\n`);
    return 1;
  };
  const read = await readConfigFile(file);
  if (!read.ok) {
    io.stderr(`${formatIssue(file, read.error, 'error')}\n`);
    return 1;
  }
  const checked = validateAllowlist(read.text, { fileName: file, now: io.now });
  if (!checked.ok) {
    for (const issue of checked.errors) io.stderr(`${formatIssue(file, issue, 'error')}\n`);
    return refuse('the allowlist is invalid');
  }
  const entry = checked.doc.approved.find((candidate) => candidate.id === id);
  if (entry === undefined) return refuse(`no entry with id ${JSON.stringify(id)}`);

  const reviewSha256 = computeReviewSha256(entry, checked.doc);
  if (entry.review_sha256 !== reviewSha256) {
    return refuse(
      `entry ${JSON.stringify(id)} has ${entry.review_sha256 === undefined ? 'no' : 'a stale'} ` +
        `review_sha256; stamp the reviewed entry first: mcp-gate stamp ${file} --id ${id}`,
    );
  }
  const signer = as ?? entry.reviewed_by;
  if (signer !== entry.reviewed_by && signer !== entry.cosigned_by) {
    return refuse(
      `${JSON.stringify(signer)} is neither the entry's reviewed_by (${JSON.stringify(entry.reviewed_by)}) ` +
        'nor its cosigned_by',
    );
  }
  if (reviewersPath !== undefined) {
    const reviewers = await loadReviewersFile(reviewersPath);
    if (!reviewers.ok) {
      for (const issue of reviewers.errors)
        io.stderr(`${formatIssue(reviewersPath, issue, 'error')}\n`);
      return refuse(`the reviewers file ${reviewersPath} is invalid`);
    }
    const keys = reviewers.reviewers.get(signer) ?? [];
    if (!keys.some((listed) => samePublicKey(listed, key))) {
      return refuse(`this key is not listed for ${JSON.stringify(signer)} in ${reviewersPath}`);
    }
  }

  let text: string;
  try {
    text = writeSignatureText(read.text, id, signer, signReview(entry, signer, reviewSha256, key));
    await replaceFileAtomically(file, read.text, text);
  } catch (err: unknown) {
    if (!(err instanceof Error)) throw err;
    return refuse(err.message);
  }
  io.stdout(`signed ${id} as ${signer}\n`);
  return 0;
}
