/**
 * The container image's contents without a Docker engine: the last stage of the Dockerfile is
 * rebuilt as a directory from the Dockerfile's own COPY lines, its production dependencies
 * installed by running the `production-deps` stage's RUN lines (`npm ci --omit=dev`, from the local
 * npm cache), and `--version`, `validate` and `serve` run from it. Nothing above that directory
 * provides a node_modules, so a run-time import of a dev dependency fails here.
 *
 * The `build` stage is this checkout: `npm test` builds dist/ from the same sources first.
 * What this cannot show: that the base images exist and run, and the image's Node.js (26) rather
 * than this machine's; docs/kubernetes.md lists what was not validated.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { copiesOf, execForm, readDockerfile, stageNamed } from '../helpers/dockerfile.js';
import type { Dockerfile, Stage } from '../helpers/dockerfile.js';
import {
  cleanEnv,
  killServeProcesses,
  listening,
  ROOT,
  startServe,
  stopWith,
  TEST_SERVE_FLAGS,
  WAIT_MS,
} from '../helpers/serve-process.js';

const run = promisify(execFile);
const dockerfile: Dockerfile = readDockerfile(path.join(ROOT, 'Dockerfile'));
const finalStage: Stage = lastStage(dockerfile);

function lastStage(file: Dockerfile): Stage {
  const stage = file.stages.at(-1);
  if (stage === undefined) throw new Error('the Dockerfile has no stage');
  return stage;
}
const packageJson = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
/** npm ci of a dozen packages from the cache takes seconds; a cold cache, longer. */
const INSTALL_MS = 180_000;

let work: string;
let app: string;
const stageDirs = new Map<string, string>();

/** An environment in which node finds modules only inside the layout. */
function layoutEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv();
  delete env['NODE_PATH'];
  return env;
}

/** Where a path of a stage's file system lies on this machine. */
function inStage(stageName: string, file: string): string {
  const dir = stageDirs.get(stageName);
  if (dir === undefined) throw new Error(`COPY --from=${stageName}: stage not rebuilt here`);
  const relative = path.posix.relative(stageNamed(dockerfile, stageName).workdir, file);
  if (relative.startsWith('..')) throw new Error(`${file} lies outside ${stageName}'s WORKDIR`);
  return path.join(dir, relative);
}

/** Carries out a stage's COPY lines into `dir` (the stage's WORKDIR). */
async function applyCopies(stage: Stage, dir: string): Promise<void> {
  for (const copy of copiesOf(stage)) {
    const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    const dest = path.resolve(
      dir,
      path.posix.relative(stage.workdir, path.posix.resolve(stage.workdir, copy.dest)),
    );
    for (const source of copy.sources) {
      const from = copy.from === undefined ? path.join(ROOT, source) : inStage(copy.from, source);
      const target = intoDir ? path.join(dest, path.basename(source)) : dest;
      await mkdir(path.dirname(target), { recursive: true });
      await cp(from, target, { recursive: true, verbatimSymlinks: true });
    }
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mcp-gate-image-'));
  // The build stage is this checkout (dist/ built by npm test's pretest).
  const build = stageNamed(dockerfile, 'build');
  expect(build.instructions.map((i) => i.rest)).toContain('npm run build');
  stageDirs.set('build', ROOT);

  const deps = stageNamed(dockerfile, 'production-deps');
  const depsDir = path.join(work, 'production-deps');
  await mkdir(depsDir);
  await applyCopies(deps, depsDir);
  for (const step of deps.instructions.filter((i) => i.keyword === 'RUN')) {
    const [tool, verb, ...flags] = step.rest.split(/\s+/);
    // Only npm ci is carried out here; anything else must be taught to this test first.
    expect([tool, verb]).toEqual(['npm', 'ci']);
    await run('npm', ['ci', ...flags, '--prefer-offline'], {
      cwd: depsDir,
      env: layoutEnv(),
      timeout: INSTALL_MS,
    });
  }
  stageDirs.set('production-deps', depsDir);

  app = path.join(work, 'app');
  await mkdir(app);
  await applyCopies(finalStage, app);
}, INSTALL_MS + WAIT_MS);

afterAll(async () => {
  await killServeProcesses();
  await rm(work, { recursive: true, force: true });
});

/** Runs the image's ENTRYPOINT with `args` in the layout. */
async function runEntry(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const [, script, ...entryArgs] = execForm(finalStage, 'ENTRYPOINT');
  if (script === undefined) throw new Error('ENTRYPOINT names no script');
  return run(process.execPath, [script, ...entryArgs, ...args], {
    cwd: app,
    env: layoutEnv(),
    timeout: WAIT_MS,
  });
}

describe('the image file layout', () => {
  test('the runtime image: no shell, non-root by number, node in exec form', () => {
    expect(finalStage.image).toMatch(
      /^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot(@sha256:[0-9a-f]{64})?$/,
    );
    const user = finalStage.instructions.filter((i) => i.keyword === 'USER').at(-1)?.rest ?? '';
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(execForm(finalStage, 'ENTRYPOINT')).toEqual(['/nodejs/bin/node', 'dist/main.js']);
    // Build and run on one Node.js major: native code or engines checks would notice otherwise.
    const buildMajor = /^node:(\d+)\./.exec(stageNamed(dockerfile, 'build').image)?.[1];
    const runMajor = /nodejs(\d+)-/.exec(finalStage.image)?.[1];
    expect(buildMajor).toBeDefined();
    expect(runMajor).toBe(buildMajor);
  });

  test('.dockerignore lets through every file the Dockerfile copies from the context', async () => {
    const included = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const fromContext = dockerfile.stages.flatMap((s) =>
      copiesOf(s)
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources),
    );
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) expect(included).toContain(source.replace(/\/$/, ''));
  });

  test('holds production dependencies only, and no node_modules above it', async () => {
    const installed = await readdir(path.join(app, 'node_modules'));
    expect(installed).toContain('@grpc');
    // Packages the lockfile marks dev-only; a dev dependency that a production one also needs
    // (protobufjs pulls in @types/node) is not marked and rightly installed.
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.keys(packageJson.devDependencies).filter(
      (name) => lock.packages[`node_modules/${name}`]?.dev === true,
    );
    expect(devOnly).toContain('typescript');
    for (const dev of devOnly) {
      await expect(stat(path.join(app, 'node_modules', dev))).rejects.toThrow();
    }
    for (let dir = path.dirname(app); ; dir = path.dirname(dir)) {
      await expect(stat(path.join(dir, 'node_modules'))).rejects.toThrow();
      if (dir === path.dirname(dir)) break;
    }
  });

  test('--version prints the package version', async () => {
    const { stdout } = await runEntry(['--version']);
    expect(stdout).toBe(`${packageJson.version}\n`);
  });

  test('validate accepts the bundled example allowlist', async () => {
    const { stdout } = await runEntry(['validate', 'deploy/allowlist.yaml']);
    expect(stdout).toMatch(/^deploy\/allowlist\.yaml: valid allowlist/);
  });

  test('serve (the image CMD) becomes ready and exits cleanly on SIGTERM', async () => {
    const [, script] = execForm(finalStage, 'ENTRYPOINT');
    const [command, ...cmd] = execForm(finalStage, 'CMD');
    expect(command).toBe('serve');
    // The CMD's own listen address, moved to a free loopback port for the test.
    const grpcAt = cmd.indexOf('--grpc-listen');
    expect(grpcAt).toBeGreaterThanOrEqual(0);
    cmd.splice(grpcAt, 2, '--grpc-listen', '127.0.0.1:0');
    const serve = startServe([...cmd, ...TEST_SERVE_FLAGS], {
      cwd: app,
      entry: path.join(app, script ?? ''),
      env: layoutEnv(),
    });
    const line = await serve.waitForLog('listening', listening);
    // The bundled known-host list of the layout, not the checkout's.
    expect(line['known_hosts']).toBe(path.join(app, 'deploy/known-mcp-hosts.yaml'));
    const ready = await fetch(`http://${String(line['http'])}/readyz`);
    expect(ready.status).toBe(200);
    const exit = await stopWith(serve, 'SIGTERM');
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });
});
