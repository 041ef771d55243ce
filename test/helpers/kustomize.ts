/**
 * Renders a kustomization as a newcomer would (`kubectl kustomize DIR`, default load restrictor),
 * or with a standalone `kustomize build DIR` where kubectl's Kustomize is missing or older than
 * v5 (the major these files are tested with; `labels:` needs v4.1, Components v3.7).
 * scripts/ensure-test-tools.sh installs one where it can.
 */
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object, as plain data. */
export type KubeObject = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
};

export interface KustomizeTool {
  readonly describe: string;
  readonly argv: (dir: string) => readonly [string, ...string[]];
}

function quiet(file: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** The Kustomize this machine has, or undefined. */
export function findKustomize(): KustomizeTool | undefined {
  const kubectl = quiet('kubectl', ['version', '--client']);
  const major = /Kustomize Version: v(\d+)\./.exec(kubectl ?? '')?.[1];
  if (major !== undefined && Number(major) >= 5) {
    return { describe: 'kubectl kustomize', argv: (dir) => ['kubectl', 'kustomize', dir] };
  }
  if (quiet('kustomize', ['version']) !== undefined) {
    return { describe: 'kustomize build', argv: (dir) => ['kustomize', 'build', dir] };
  }
  return undefined;
}

/** Renders `dir` and parses every object; throws with Kustomize's message when it fails. */
export function kustomize(tool: KustomizeTool, dir: string): KubeObject[] {
  const [file, ...args] = tool.argv(dir);
  const text = execFileSync(file, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}
