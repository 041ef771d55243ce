/**
 * Reads the repository's Dockerfile into stages and instructions, so tests can rebuild what the
 * image holds from the file itself instead of a second list of paths. It understands what our
 * Dockerfile uses and refuses the rest (heredocs, JSON-form COPY, COPY flags other than --from),
 * so a change to the Dockerfile that this reader would misread fails loudly.
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly rest: string;
}

export interface Stage {
  readonly name: string | undefined;
  /** The FROM image with build ARG defaults substituted. */
  readonly image: string;
  /** The last WORKDIR of the stage (absolute), or "/" without one. */
  readonly workdir: string;
  readonly instructions: readonly Instruction[];
}

export interface Copy {
  /** Stage name for `--from=NAME`; undefined copies from the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
}

export interface Dockerfile {
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

/** Parses a Dockerfile's text. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.trimEnd().endsWith('\\')) {
      pending += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole !== '') logical.push(whole);
  }
  const args: Record<string, string> = {};
  const stages: {
    name: string | undefined;
    image: string;
    workdir: string;
    instructions: Instruction[];
  }[] = [];
  for (const line of logical) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (match === null) throw new Error(`Dockerfile line not understood: ${line}`);
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = match[2] ?? '';
    if (rest.includes('<<')) throw new Error(`heredocs are not read here: ${line}`);
    const current = stages.at(-1);
    if (keyword === 'ARG' && current === undefined) {
      const [name, value] = rest.split('=', 2);
      if (name !== undefined && value !== undefined) args[name] = value;
      continue;
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (from === null) throw new Error(`FROM not understood: ${line}`);
      const image = (from[1] ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => {
        const value = args[name];
        if (value === undefined) throw new Error(`FROM uses ARG ${name} without a default`);
        return value;
      });
      stages.push({ name: from[2], image, workdir: '/', instructions: [] });
      continue;
    }
    if (current === undefined) throw new Error(`${keyword} before the first FROM`);
    if (keyword === 'WORKDIR') {
      current.workdir = rest.startsWith('/') ? rest : `${current.workdir}/${rest}`;
    }
    current.instructions.push({ keyword, rest });
  }
  return { args, stages };
}

/** Reads and parses a Dockerfile. */
export function readDockerfile(file: string): Dockerfile {
  return parseDockerfile(readFileSync(file, 'utf8'));
}

/** The stage named `name`; throws when there is none. */
export function stageNamed(dockerfile: Dockerfile, name: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return stage;
}

/** The stage's COPY instructions. */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      if (i.rest.startsWith('[')) throw new Error(`JSON-form COPY is not read here: ${i.rest}`);
      const words = i.rest.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--') === true) {
        const flag = words.shift() ?? '';
        const value = /^--from=(\S+)$/.exec(flag)?.[1];
        if (value === undefined) throw new Error(`COPY flag not read here: ${flag}`);
        from = value;
      }
      const dest = words.pop();
      if (dest === undefined || words.length === 0)
        throw new Error(`COPY needs SRC DEST: ${i.rest}`);
      return { from, sources: words, dest };
    });
}

/** The stage's instructions of one keyword, as the JSON array (exec form) they must be. */
export function execForm(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (found === undefined) throw new Error(`the stage has no ${keyword}`);
  const parsed: unknown = JSON.parse(found.rest);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`${keyword} must be in exec form (a JSON array of strings): ${found.rest}`);
  }
  return parsed;
}
