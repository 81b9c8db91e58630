// Test helpers: admission attributes for a request, and small object builders.
import { findResource, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { Pod } from 'kubernetes-types/core/v1';
import type { UserInfo } from '../auth/authn.js';
import type { AdmissionAttributes, Operation } from './admission.js';

export const ADMIN: UserInfo = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

export function attrs(
  resource: string,
  operation: Operation,
  object: KubeObject | null,
  opts: { group?: string; version?: string; namespace?: string; name?: string; oldObject?: KubeObject | null; subresource?: string; user?: UserInfo; dryRun?: boolean } = {},
): AdmissionAttributes {
  // Resources this server does not serve (persistentvolumeclaims) get a namespaced stand-in.
  const info =
    findResource(opts.group ?? '', opts.version ?? 'v1', resource) ??
    ({
      group: opts.group ?? '',
      version: opts.version ?? 'v1',
      resource,
      kind: object?.kind ?? '',
      listKind: '',
      namespaced: true,
      verbs: [],
      shortNames: [],
      subresources: [],
    } as unknown as ResourceInfo);
  return {
    operation,
    resource: info,
    subresource: opts.subresource ?? '',
    namespace: opts.namespace ?? (info.namespaced ? 'default' : ''),
    name: opts.name ?? object?.metadata?.name ?? opts.oldObject?.metadata?.name ?? '',
    object,
    oldObject: opts.oldObject ?? null,
    user: opts.user ?? ADMIN,
    dryRun: opts.dryRun ?? false,
    warnings: [],
  };
}

export function pod(name: string, spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...meta },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
  } as KubeObject;
}
