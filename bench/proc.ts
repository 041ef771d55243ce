/**
 * A server's CPU time and resident memory, read from Linux /proc. CPU covers every thread of the
 * process (the event loop, V8's GC helpers, mcp-gate's policy worker): what the machine pays.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (the unit of utime/stime), usually 100. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const text = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    const value = Number(text);
    clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

/** utime + stime of the process so far, in microseconds (tick resolution: 10 ms at 100 Hz). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) is in parentheses and may contain spaces: count fields after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / ticksPerSecond()) * 1e6;
}

/** VmRSS in MiB, or undefined when the process is gone. */
export function rssMiB(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
}

/** Samples VmRSS every `everyMs` until stopped; returns the largest value seen. */
export function sampleMaxRss(pid: number, everyMs: number): { stop(): number } {
  let max = rssMiB(pid) ?? 0;
  const timer = setInterval(() => {
    const value = rssMiB(pid);
    if (value !== undefined && value > max) max = value;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const value = rssMiB(pid);
      if (value !== undefined && value > max) max = value;
      return max;
    },
  };
}
