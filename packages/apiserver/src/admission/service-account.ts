// ServiceAccount: every pod runs as a service account ("default" unless named), which must exist; unless
// automounting is turned off, every container gets the projected kube-api-access-<suffix> volume (a bound
// token, the cluster CA bundle and the namespace) at /var/run/secrets/kubernetes.io/serviceaccount.
import type { KubeObject } from '@kubelab/api';
import type { ServiceAccount, Volume, VolumeMount } from 'kubernetes-types/core/v1';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { allContainers, asPod, forbiddenFor, isCore, randomString } from './util.js';

export const DEFAULT_SERVICE_ACCOUNT_NAME = 'default';
export const SERVICE_ACCOUNT_VOLUME_NAME = 'kube-api-access';
export const DEFAULT_API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** One hour plus the 7 seconds upstream adds so kubelets refresh before the one-hour mark. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** The projected volume upstream mounts for a pod's service account token. */
export function serviceAccountTokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  constructor(
    private readonly getServiceAccount: (namespace: string, name: string) => Promise<KubeObject | undefined>,
    private readonly random: () => number = Math.random,
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || !isCore(a, 'pods')) return;
    const pod = asPod(a.object);
    if (!pod) return;
    pod.spec ??= { containers: [] };
    const spec = pod.spec;
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
      // Static pods are created by kubelets and run without API credentials.
      if (spec.serviceAccountName) throw forbiddenFor(a, 'a mirror pod may not reference service accounts');
      return;
    }
    if (!spec.serviceAccountName) spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT_NAME;
    const sa = (await this.getServiceAccount(a.namespace, spec.serviceAccountName)) as ServiceAccount | undefined;
    if (!sa) {
      throw forbiddenFor(a, `error looking up service account ${a.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
    }
    const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
    if (automount) this.mountToken(a);
    if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
      spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
    }
  }

  private mountToken(a: AdmissionAttributes): void {
    const spec = asPod(a.object)!.spec!;
    const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(`${SERVICE_ACCOUNT_VOLUME_NAME}-`));
    const volumeName = existing?.name ?? `${SERVICE_ACCOUNT_VOLUME_NAME}-${randomString(5, this.random)}`;
    const mount: VolumeMount = { name: volumeName, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
    let needed = false;
    for (const c of allContainers(spec)) {
      // A container that mounts something of its own at the token path keeps it.
      if ((c.volumeMounts ?? []).some((m) => m.mountPath === DEFAULT_API_TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...(c.volumeMounts ?? []), { ...mount }];
      needed = true;
    }
    if (needed && !existing) spec.volumes = [...(spec.volumes ?? []), serviceAccountTokenVolume(volumeName)];
  }
}
