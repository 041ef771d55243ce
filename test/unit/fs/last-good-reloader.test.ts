/**
 * LastGoodReloader's decisions with a scripted `read` (the allowlist and TLS owners are tested in
 * test/unit/config/policy-store*.test.ts and test/integration/grpc-tls-reload.test.ts): what is
 * read again, what is reported once, what stays in force, and how triggers coalesce.
 */
import { describe, expect, test } from 'vitest';
import { LastGoodReloader } from '../../../src/fs/last-good-reloader.js';
import type { JudgedContent, ReloadRead } from '../../../src/fs/last-good-reloader.js';

type Read = ReloadRead<string, string>;

/** A reloader whose reads answer `script` in turn (the last answer repeats), recording events. */
function scripted(script: readonly Read[], settleAttempts = 3) {
  const events: string[] = [];
  const judged: JudgedContent[] = [];
  let reads = 0;
  let onRead: (() => void) | undefined;
  const reloader = new LastGoodReloader<string, string>({
    inForce: 'h0',
    settleMs: 0,
    settleAttempts,
    read: (seen) => {
      judged.push(seen);
      const answer = script[Math.min(reads, script.length - 1)];
      reads++;
      onRead?.();
      if (answer === undefined) throw new Error('empty script');
      return Promise.resolve(answer);
    },
    take: (value, trigger) => events.push(`take ${value} (${trigger})`),
    unchanged: (trigger) => events.push(`unchanged (${trigger})`),
    retrying: (_trigger, attempt, problem) => events.push(`retry ${attempt}: ${problem}`),
    reject: (_trigger, problem, attempts) => events.push(`reject after ${attempts}: ${problem}`),
    fault: (_trigger, err) => events.push(`fault: ${String(err)}`),
  });
  return {
    reloader,
    events,
    judged,
    reads: () => reads,
    duringRead: (f: () => void) => (onRead = f),
  };
}

const good = (value: string, hash: string): Read => ({ kind: 'good', value, hash });
const bad = (fingerprint: string): Read => ({ kind: 'bad', fingerprint, problem: fingerprint });

describe('LastGoodReloader', () => {
  test('content that fails is read again, then rejected once; good content is taken up', async () => {
    const r = scripted([bad('broken'), bad('broken'), bad('broken')]);
    await r.reloader.reload('poll');
    expect(r.events).toEqual(['retry 1: broken', 'retry 2: broken', 'reject after 3: broken']);
    expect(r.judged.at(-1)).toEqual({ inForce: 'h0', rejected: undefined });

    // The same broken content again: not news.
    r.events.length = 0;
    await r.reloader.reload('poll');
    expect(r.events).toEqual(['unchanged (poll)']);
    expect(r.judged.at(-1)).toEqual({ inForce: 'h0', rejected: 'broken' });
  });

  test('a half-written file that completes within the attempts is taken up, no rejection', async () => {
    const r = scripted([bad('half'), good('v2', 'h2')]);
    await r.reloader.reload('watch');
    expect(r.events).toEqual(['retry 1: half', 'take v2 (watch)']);
    await r.reloader.reload('poll');
    expect(r.judged.at(-1)).toEqual({ inForce: 'h2', rejected: undefined });
  });

  test('reading the content in force again makes the last rejected content news again', async () => {
    const r = scripted([bad('broken'), { kind: 'unchanged', hash: 'h0' }], 1);
    await r.reloader.reload('poll');
    await r.reloader.reload('poll');
    await r.reloader.reload('poll');
    expect(r.events).toEqual(['reject after 1: broken', 'unchanged (poll)', 'unchanged (poll)']);
    expect(r.judged.at(-1)).toEqual({ inForce: 'h0', rejected: undefined });
  });

  test('a fault is reported at once and not remembered', async () => {
    const r = scripted([{ kind: 'fault', problem: 'worker crashed' }]);
    await r.reloader.reload('poll');
    await r.reloader.reload('poll');
    expect(r.events).toEqual(['reject after 1: worker crashed', 'reject after 1: worker crashed']);
    expect(r.judged.at(-1)).toEqual({ inForce: 'h0', rejected: undefined });
  });

  test('triggers during a reload coalesce into one more reload', async () => {
    const r = scripted([{ kind: 'unchanged', hash: 'h0' }]);
    let first = true;
    r.duringRead(() => {
      if (!first) return;
      first = false;
      void r.reloader.reload('watch');
      void r.reloader.reload('sighup');
    });
    await r.reloader.reload('poll');
    expect(r.reads()).toBe(2);
  });

  test('a take that throws goes to fault, and the content is not in force', async () => {
    const events: string[] = [];
    const judged: JudgedContent[] = [];
    const reloader = new LastGoodReloader<string, string>({
      inForce: 'h0',
      read: (seen) => {
        judged.push(seen);
        return Promise.resolve(good('v2', 'h2'));
      },
      take: () => {
        throw new Error('listener bug');
      },
      retrying: () => undefined,
      reject: () => undefined,
      fault: (trigger, err) => events.push(`${trigger}: ${String(err)}`),
    });
    await reloader.reload('poll');
    await reloader.reload('poll');
    expect(events).toEqual(['poll: Error: listener bug', 'poll: Error: listener bug']);
    expect(judged.at(-1)).toEqual({ inForce: 'h0', rejected: undefined });
  });

  test('a stop during a reload ends it without effect, and later reloads do nothing', async () => {
    const r = scripted([good('v2', 'h2')]);
    r.duringRead(() => {
      r.reloader.stop();
    });
    await r.reloader.reload('poll');
    await r.reloader.reload('poll');
    expect(r.events).toEqual([]);
    expect(r.reads()).toBe(1);
  });
});
