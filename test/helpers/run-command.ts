/** A CLI command run in-process, with what it printed captured (src/cli/io.ts). */

export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Printing {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs `command` with `io` (the clock, env, stdin it takes) and returns its exit code and output. */
export async function runCommand<Io extends Printing>(
  command: (args: string[], io: Io) => Promise<number>,
  args: readonly string[],
  io: Omit<Io, keyof Printing>,
): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  const printing: Printing = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  };
  const code = await command([...args], { ...io, ...printing } as Io);
  return { code, stdout, stderr };
}
