/**
 * Validates rendered Kubernetes objects against the JSON schemas that kubernetes-models generates
 * from Kubernetes' OpenAPI spec (and @kubernetes-models/cert-manager and
 * @kubernetes-models/prometheus-operator from those projects' CRDs), offline. The model class is
 * found from apiVersion and kind; an object of a kind no package models is an error, never a pass.
 *
 * These schemas check types, enums, formats and required fields; like the API server without
 * strict field validation they let unknown fields through, so the tests assert the fields that
 * matter (securityContext, probes, mounts) by value as well.
 */
import type { KubeObject } from './kustomize.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** The package that models each API group (the core group is ""). */
const PACKAGES: Readonly<Record<string, string>> = {
  'cert-manager.io': '@kubernetes-models/cert-manager/cert-manager.io',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
};

async function modelOf(apiVersion: string, kind: string): Promise<ModelClass> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const base =
    PACKAGES[group ?? ''] ??
    (group === '' ? 'kubernetes-models' : `kubernetes-models/${group ?? ''}`);
  const specifier = `${base}/${version ?? ''}/${kind}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (err: unknown) {
    throw new Error(`no schema for ${apiVersion} ${kind} (${specifier})`, { cause: err });
  }
  const model = module[kind];
  if (typeof model !== 'function') throw new Error(`${specifier} exports no ${kind}`);
  return model as ModelClass;
}

/** Throws with the schema's complaint when `object` is not a valid object of its kind. */
export async function validateObject(object: KubeObject): Promise<void> {
  const Model = await modelOf(object.apiVersion, object.kind);
  try {
    new Model(object).validate();
  } catch (err: unknown) {
    const where = `${object.kind}/${object.metadata.name}`;
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
