/**
 * `serve --envoy-render-dir DIR`: re-renders Envoy's interception side after every allowlist
 * (re)load that succeeded, so Envoy follows the allowlist without anyone running render-envoy.
 *
 * Rendering is beside the decision path, never on it: a render that fails (a full disk, a
 * read-only volume) is logged and counted, the files of the last good render stay, and the
 * service goes on deciding with the allowlist it loaded. Renders run one at a time; a policy
 * that arrives while one runs is rendered after it, and only the newest of several waiting.
 */
import { inspectionSet } from '../core/policy/inspection-set.js';
import type { CompiledPolicy } from '../core/policy/policy.js';
import type { Logger } from '../telemetry/logger.js';
import { identityHeaderNames } from './fragments.js';
import { renderEnvoy } from './render.js';
import type { RenderOptions } from './render.js';
import { writeRenderedFiles } from './write.js';

/** Where and how `serve` renders. */
export interface EnvoyRenderConfig {
  /** The directory written (Envoy's /etc/envoy/dynamic, mounted or shared). */
  readonly outDir: string;
  readonly options: RenderOptions;
}

export interface EnvoyRendererDeps {
  readonly logger: Logger;
  /** Counts each render by result. */
  readonly record: (result: 'success' | 'failure') => void;
}

export interface EnvoyRenderer {
  /**
   * Renders `policy`'s inspection set; never rejects. Resolves once it, or a newer policy that
   * replaced it while waiting, is written.
   */
  render(policy: CompiledPolicy): Promise<void>;
}

/** Creates the renderer that keeps `config.outDir` current. */
export function createEnvoyRenderer(
  config: EnvoyRenderConfig,
  deps: EnvoyRendererDeps,
): EnvoyRenderer {
  let running: Promise<void> | undefined;
  let next: CompiledPolicy | undefined;

  const renderOnce = async (policy: CompiledPolicy): Promise<void> => {
    try {
      const hosts = inspectionSet(policy);
      const { written, removed } = await writeRenderedFiles(
        config.outDir,
        renderEnvoy(hosts, {
          ...config.options,
          identityHeaders: identityHeaderNames(policy.identity),
        }),
      );
      deps.record('success');
      deps.logger.info(
        {
          dir: config.outDir,
          version: policy.version,
          intercepted: hosts.map((h) => h.host),
          written,
          removed,
        },
        'envoy config rendered',
      );
    } catch (err: unknown) {
      deps.record('failure');
      deps.logger.error(
        { err, dir: config.outDir, version: policy.version },
        'envoy config render failed; the files of the last good render stay',
      );
    }
  };

  const drain = async (): Promise<void> => {
    while (next !== undefined) {
      const policy = next;
      next = undefined;
      await renderOnce(policy);
    }
  };

  return {
    render(policy) {
      next = policy;
      running ??= drain().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}
