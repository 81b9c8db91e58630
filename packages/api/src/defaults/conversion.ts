// Effects of upstream's v1 <-> internal conversion that clients observe. Kubelab stores v1 objects
// as-is, so these are applied together with the defaults to keep what the apiserver returns identical
// (upstream pkg/apis/core/v1/conversion.go). All are idempotent.
import type { Node, Pod, PodSpec, Secret } from 'kubernetes-types/core/v1';
import { setOwn } from '../own.js';

/**
 * serviceAccount is a deprecated alias of serviceAccountName: it fills serviceAccountName when that is
 * empty, and is then always rewritten to mirror serviceAccountName.
 */
export function convertPodSpecServiceAccount(spec: PodSpec): void {
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  else delete spec.serviceAccount;
}

/**
 * Keeps a singular field and its plural list consistent: the singular wins when both are set and
 * differ, fills an empty list, and is otherwise rewritten from the list's first entry.
 */
function syncSingularPlural<T>(single: string | undefined, list: T[] | undefined, key: (t: T) => string, make: (s: string) => T) {
  let out = list;
  if (single && (!out || out.length === 0 || key(out[0]!) !== single)) out = [make(single)];
  const first = out && out.length > 0 ? key(out[0]!) : undefined;
  return { single: first ?? single, list: out };
}

/** status.podIP/podIPs and status.hostIP/hostIPs. */
export function convertPodStatusIPs(pod: Pod): void {
  const st = pod.status;
  if (!st) return;
  const pod1 = syncSingularPlural(st.podIP, st.podIPs, (p) => p.ip ?? '', (ip) => ({ ip }));
  if (pod1.single) st.podIP = pod1.single;
  if (pod1.list) st.podIPs = pod1.list;
  const host = syncSingularPlural(st.hostIP, st.hostIPs, (p) => p.ip ?? '', (ip) => ({ ip }));
  if (host.single) st.hostIP = host.single;
  if (host.list) st.hostIPs = host.list;
}

/** spec.podCIDR/podCIDRs. */
export function convertNodePodCIDRs(node: Node): void {
  const spec = node.spec;
  if (!spec) return;
  const r = syncSingularPlural(spec.podCIDR, spec.podCIDRs, (c) => c, (c) => c);
  if (r.single) spec.podCIDR = r.single;
  if (r.list) spec.podCIDRs = r.list;
}

/** stringData is write-only: each entry overwrites data[key] (base64 of its UTF-8), then it is dropped. */
export function convertSecretStringData(secret: Secret): void {
  const sd = secret.stringData;
  if (sd === undefined) return;
  if (Object.keys(sd).length > 0) {
    const data = (secret.data ??= {});
    for (const [k, v] of Object.entries(sd)) setOwn(data, k, Buffer.from(v, 'utf8').toString('base64'));
  }
  delete secret.stringData;
}
