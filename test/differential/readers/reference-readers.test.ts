/**
 * Proves the reference readers read bodies the way the real Go and Python MCP server stacks do
 * (see the notes at the top of go/reader.go and python/reader.py), and that the wrapper in
 * reference-readers.ts pipelines, closes and reports a crashed child.
 *
 * A reader whose toolchain is missing is skipped with a loud warning, never silently passed;
 * under CI=true (where `npm test`'s pretest installs the toolchains) its availability test
 * fails instead.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startGoReader, startPythonReader } from './reference-readers.js';
import type {
  ReadMessage,
  ReaderStart,
  ReaderVerdict,
  ReferenceReader,
} from './reference-readers.js';

const CI = process.env['CI'] === 'true';

type Expect =
  | { readonly accepted: true; readonly messages: readonly ReadMessage[] }
  | { readonly accepted: false; readonly error?: RegExp };

interface Case {
  readonly name: string;
  readonly body: string | Uint8Array;
  readonly go: Expect;
  readonly python: Expect;
}

function call(tool: string): ReadMessage {
  return { method: 'tools/call', tool };
}
function method(name: string): ReadMessage {
  return { method: name, tool: undefined };
}
function runs(...messages: ReadMessage[]): Expect {
  return { accepted: true, messages };
}
function refused(error?: RegExp): Expect {
  return error === undefined ? { accepted: false } : { accepted: false, error };
}

function toolsCall(params: string, extra = ''): string {
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${params}${extra}}`;
}
const GET_ISSUE = toolsCall('{"name":"get_issue","arguments":{"owner":"o","repo":"r"}}');

function utf16le(text: string, bom: boolean): Uint8Array {
  return Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
}
function utf16be(text: string, bom: boolean): Uint8Array {
  return Buffer.from(utf16le(text, bom)).swap16();
}
function utf32le(text: string): Uint8Array {
  // Code points, not UTF-16 code units: each becomes one 4-byte unit.
  const units: number[] = [];
  for (const char of text) units.push(char.codePointAt(0)!);
  const out = Buffer.alloc(units.length * 4);
  units.forEach((cp, i) => out.writeUInt32LE(cp, i * 4));
  return out;
}

const CASES: readonly Case[] = [
  {
    name: 'a plain tools/call',
    body: GET_ISSUE,
    go: runs(call('get_issue')),
    python: runs(call('get_issue')),
  },
  {
    // CVE-2026-27896: Go matches "Name" to the name field and keeps the last match.
    name: 'name then Name (the Go SDK case-folding CVE)',
    body: toolsCall('{"name":"get_issue","Name":"delete_repo"}'),
    go: runs(call('delete_repo')),
    python: runs(call('get_issue')),
  },
  {
    name: 'every envelope key upper-cased',
    body: '{"JSONRPC":"2.0","ID":1,"METHOD":"tools/call","PARAMS":{"NAME":"delete_repo"}}',
    go: runs(call('delete_repo')),
    // Python sees no "jsonrpc" at all: no message type validates.
    python: refused(/Validation error/),
  },
  {
    name: 'method then Method',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"delete_repo"}}',
    go: runs(call('delete_repo')),
    python: runs(method('tools/list')),
  },
  {
    // U+017F LATIN SMALL LETTER LONG S folds to s: "paramſ" is params to Go.
    name: 'a second params spelled with a long s',
    body: toolsCall('{"name":"get_issue"}', ',"param\u017f":{"name":"delete_repo"}'),
    go: runs(call('delete_repo')),
    python: runs(call('get_issue')),
  },
  {
    name: 'the jsonrpc key spelled with a long s',
    body: '{"j\u017fonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue"}}',
    go: runs(call('get_issue')),
    python: refused(/Validation error/),
  },
  {
    // The fold is per letter: ſ stands for s only, and "name" has no s. (No key these servers
    // decode contains a k, so the Kelvin sign, U+212A, which folds to k, has nothing to hit.)
    name: 'a long s where no s is ("naſe")',
    body: toolsCall('{"name":"get_issue","na\u017fe":"delete_repo"}'),
    go: runs(call('get_issue')),
    python: runs(call('get_issue')),
  },
  {
    // U+0131 dotless i has no simple fold to i, so Go sees no id: a tools/call without an id
    // fails the whole POST there, while Python takes it as a notification it then drops.
    name: 'the id key spelled with a dotless i',
    body: '{"jsonrpc":"2.0","\u0131d":1,"method":"tools/call","params":{"name":"get_issue"}}',
    go: refused(/missing id/),
    python: runs(),
  },
  {
    name: 'keys written with \\u escapes (an escape, not a fold)',
    body: '{"jsonrpc":"2.0","id":1,"metho\\u0064":"tools/call","params":{"n\\u0061me":"get_issue"}}',
    go: runs(call('get_issue')),
    python: runs(call('get_issue')),
  },
  {
    name: 'an exact duplicate name (both keep the last)',
    body: toolsCall('{"name":"get_issue","name":"delete_repo"}'),
    go: runs(call('delete_repo')),
    python: runs(call('delete_repo')),
  },
  {
    name: 'UTF-16LE with a BOM',
    body: utf16le(GET_ISSUE, true),
    go: refused(/invalid character/),
    python: runs(call('get_issue')),
  },
  {
    name: 'UTF-16BE without a BOM',
    body: utf16be(GET_ISSUE, false),
    go: refused(/invalid character/),
    python: runs(call('get_issue')),
  },
  {
    name: 'UTF-32LE without a BOM',
    body: utf32le(GET_ISSUE),
    go: refused(/invalid character/),
    python: runs(call('get_issue')),
  },
  {
    name: 'UTF-8 with a BOM',
    body: `\ufeff${GET_ISSUE}`,
    go: refused(/invalid character/),
    python: runs(call('get_issue')),
  },
  {
    name: 'jsonrpc "1.0"',
    body: '{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"get_issue"}}',
    go: refused(/version tag "1.0"/),
    python: refused(/Validation error/),
  },
  {
    name: 'jsonrpc as the number 2.0',
    body: '{"jsonrpc":2.0,"id":1,"method":"tools/call","params":{"name":"get_issue"}}',
    go: refused(/cannot unmarshal number/),
    python: refused(/Validation error/),
  },
  {
    name: 'no jsonrpc member',
    body: '{"id":1,"method":"tools/call","params":{"name":"get_issue"}}',
    go: refused(/version tag ""/),
    python: refused(/Validation error/),
  },
  {
    // Without an Mcp-Protocol-Version header the Go server assumes 2025-03-26, which had batches.
    name: 'a batch of a call and a notification',
    body: `[${GET_ISSUE},{"jsonrpc":"2.0","method":"notifications/initialized"}]`,
    go: runs(call('get_issue'), method('notifications/initialized')),
    python: refused(/no batches/),
  },
  {
    name: 'a batch carrying the case-folding CVE',
    body: `[${toolsCall('{"name":"get_issue","NAME":"delete_repo"}')}]`,
    go: runs(call('delete_repo')),
    python: refused(/no batches/),
  },
  {
    name: 'an empty batch',
    body: '[]',
    go: refused(/empty batch/),
    python: refused(/no batches/),
  },
  {
    // Go checks every request of a POST before running any: one unknown method fails them all.
    name: 'a batch with one unknown method',
    body: `[${GET_ISSUE},{"jsonrpc":"2.0","id":2,"method":"no/such"}]`,
    go: refused(/"no\/such" unsupported/),
    python: refused(/no batches/),
  },
  {
    name: 'truncated JSON',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/call",',
    go: refused(/unexpected end of JSON input/),
    python: refused(/Parse error/),
  },
  {
    name: 'trailing bytes after the object',
    body: `${GET_ISSUE}}`,
    go: refused(/invalid character/),
    python: refused(/Parse error/),
  },
  {
    name: 'an empty body',
    body: '',
    go: refused(/non-empty body/),
    python: refused(/Parse error/),
  },
  {
    name: 'NaN in the arguments',
    body: toolsCall('{"name":"get_issue","arguments":{"n":NaN}}'),
    go: refused(/invalid character/),
    python: runs(call('get_issue')),
  },
  {
    // Python's message union prefers the error-response reading (it sets the most fields), so
    // a request carrying an "error" member runs nothing there; Go still runs it.
    name: 'a tools/call that also carries an error member',
    body: toolsCall('{"name":"get_issue"}', ',"error":{"code":1,"message":"m"}'),
    go: runs(call('get_issue')),
    python: runs(),
  },
  {
    name: 'a float id',
    body: '{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"get_issue"}}',
    go: runs(call('get_issue')),
    // A float is no request id there, so the message is a notification, which is dropped.
    python: runs(),
  },
  {
    name: 'a non-string tool name (params fail to decode)',
    body: toolsCall('{"name":5}'),
    go: runs(),
    python: runs(),
  },
  {
    name: 'a tools/call without params',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
    go: refused(/missing required "params"/),
    python: runs(),
  },
];

function bytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? new TextEncoder().encode(body) : body;
}

function expectVerdict(verdict: ReaderVerdict, expected: Expect): void {
  if (expected.accepted) {
    expect(verdict).toEqual({ accepted: true, messages: expected.messages });
    return;
  }
  expect(verdict.accepted).toBe(false);
  expect(verdict.messages).toEqual([]);
  expect(verdict.error).toBeTypeOf('string');
  if (expected.error !== undefined) expect(verdict.error).toMatch(expected.error);
}

/** Live children of this process, by pid, with their command lines. */
async function childProcesses(): Promise<Map<number, string>> {
  const children = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name in parentheses may hold spaces; fields after it are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      children.set(Number(entry), cmdline.replaceAll('\0', ' '));
    } catch {
      // The process ended while being read.
    }
  }
  return children;
}

const READERS: readonly {
  readonly label: 'go' | 'python';
  readonly start: () => Promise<ReaderStart>;
  readonly fix: string;
}[] = [
  { label: 'go', start: startGoReader, fix: 'scripts/ensure-test-tools.sh installs Go' },
  { label: 'python', start: startPythonReader, fix: 'it needs python3 on PATH' },
];

const opened: ReferenceReader[] = [];
afterAll(async () => {
  await Promise.all(opened.map((reader) => reader.close()));
});

for (const { label, start, fix } of READERS) {
  const started = await start();
  const reader = started.ok ? started.reader : undefined;
  if (reader !== undefined) opened.push(reader);
  const missing = started.ok ? undefined : started.why;
  if (missing !== undefined) {
    console.warn(
      `!!! REFERENCE READER UNAVAILABLE (${label}): ${missing}. Its tests below are SKIPPED` +
        `${CI ? ' and, with CI=true, its availability test FAILS' : ''}; ${fix}.`,
    );
  }

  describe(`${label} reference reader`, () => {
    // Runs whenever it can tell something: always when available, and under CI when not.
    it.skipIf(missing !== undefined && !CI)('is available', () => {
      expect(missing, `the ${label} reference reader is required under CI=true`).toBeUndefined();
    });

    describe.skipIf(reader === undefined)('reads bodies as the real server does', () => {
      for (const testCase of CASES) {
        it(testCase.name, async () => {
          expectVerdict(await reader!.read(bytes(testCase.body)), testCase[label]);
        });
      }
    });

    describe.skipIf(reader === undefined)('wrapper', () => {
      it('answers pipelined reads in order', async () => {
        const names = Array.from({ length: 200 }, (_, i) => `tool_${String(i)}`);
        const verdicts = await Promise.all(
          names.map((name) => reader!.read(bytes(toolsCall(JSON.stringify({ name }))))),
        );
        expect(verdicts.map((v) => v.messages[0]?.tool)).toEqual(names);
      });

      it('reads a large body', async () => {
        const big = 'x'.repeat(4 << 20);
        const verdict = await reader!.read(
          bytes(toolsCall(JSON.stringify({ name: 'get_issue', arguments: { big } }))),
        );
        expect(verdict).toEqual({ accepted: true, messages: [call('get_issue')] });
      });

      it('rejects reads pending at close() and after it', async () => {
        const own = await start();
        if (!own.ok) throw new Error(own.why);
        const pending = own.reader.read(bytes(GET_ISSUE));
        const closed = own.reader.close();
        await expect(pending).rejects.toThrow(/was closed/);
        await closed;
        await expect(own.reader.read(bytes(GET_ISSUE))).rejects.toThrow(/was closed/);
      });

      it.skipIf(!existsSync('/proc/self/stat'))(
        'rejects pending reads with the exit status when the child dies',
        async () => {
          const before = await childProcesses();
          const own = await start();
          if (!own.ok) throw new Error(own.why);
          const pids = [...(await childProcesses()).keys()].filter((pid) => !before.has(pid));
          expect(pids).toHaveLength(1);
          const pid = pids[0]!;
          // Stopped, the child cannot answer, so the read is surely pending when it is killed.
          process.kill(pid, 'SIGSTOP');
          const pending = own.reader.read(bytes(GET_ISSUE));
          process.kill(pid, 'SIGKILL');
          await expect(pending).rejects.toThrow(/reader exited \(signal SIGKILL\)/);
          await expect(own.reader.read(bytes(GET_ISSUE))).rejects.toThrow(/reader exited/);
          await own.reader.close();
        },
      );
    });
  });
}
