/** What a CLI command may touch, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The clock commands use unless `--now` is given. */
  readonly now: Date;
  readonly env: Readonly<Record<string, string | undefined>>;
}
