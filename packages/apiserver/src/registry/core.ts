// Resource-specific strategies (upstream pkg/registry/core/*/strategy.go): pods, namespaces, services,
// nodes. Everything else uses the default strategy.
import { badRequest, conflict, forbidden, invalid, notFound, Quantity, StatusError, type KubeObject, type ResourceInfo } from '@kubelab/api';
import { AllocationError, type ClusterIPAllocator, type NodePortAllocator } from '../allocator/allocator.js';
import type { StatusStrategy, Strategy } from './strategy.js';
import type { ResourceStrategy } from './defaults.js';
import { rfc3339, type Clock, type Store } from './store.js';
import { restStorage, type Creater, type NamedCreater, type WriteOptions } from './rest.js';

type Resources = Record<string, string | undefined>;

function qosClass(pod: KubeObject): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req: Resources = c.resources?.requests ?? {};
    const lim: Resources = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && !quantityEqual(req[r]!, lim[r]!))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function quantityEqual(a: string, b: string): boolean {
  try {
    return Quantity.parse(a).cmp(Quantity.parse(b)) === 0;
  } catch {
    return a === b;
  }
}

export const podStrategy: ResourceStrategy = () => ({
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  gracePeriod(pod, opts) {
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    let grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (grace < 0) grace = 1;
    return grace;
  },
});

/** pods/binding: sets spec.nodeName on an unbound pod, as upstream's BindingREST. */
export const podBindingStrategy: StatusStrategy = {
  prepareForUpdate() {},
  validateUpdate: () => [],
};

export function bindPod(pod: KubeObject, nodeName: string, now: Date): KubeObject {
  const name = pod.metadata.name!;
  if (pod.metadata.deletionTimestamp) {
    throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  if (pod.spec?.nodeName) {
    throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
  }
  pod.spec.nodeName = nodeName;
  pod.status ??= {};
  const conditions: Record<string, unknown>[] = (pod.status.conditions ??= []);
  const existing = conditions.find((c) => c.type === 'PodScheduled');
  const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now) };
  if (existing) Object.assign(existing, cond);
  else conditions.push(cond);
  return pod;
}

/** Binds the pod a Binding names to its target node; answers a Success Status (upstream's BindingREST.Create). */
async function bind(pods: Store, clock: Clock, namespace: string, podName: string | undefined, binding: KubeObject, opts: WriteOptions) {
  if (!podName) throw badRequest('name is required in the Binding');
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!target?.name) {
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `Binding "${podName}" is invalid: target.name: Required value`,
      details: { name: podName, kind: 'Binding', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }] },
    });
  }
  if (target.kind && target.kind !== 'Node') {
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `Binding "${podName}" is invalid: target.kind: Unsupported value: "${target.kind}": supported values: "Node"`,
    });
  }
  const nodeName = target.name;
  await pods.update(
    namespace,
    podName,
    (current) => {
      if (!current) throw notFound(pods.gr, podName);
      return bindPod(current, nodeName, clock());
    },
    { dryRun: opts.dryRun, subresource: 'binding' },
  );
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}

/** pods/NAME/binding: the scheduler's bind (upstream's BindingREST). */
export function bindingREST(pods: Store, clock: Clock): NamedCreater {
  return {
    ...restStorage(pods.info, { apiVersion: 'v1', kind: 'Binding' }),
    createNamed(namespace, name, binding, opts) {
      if (binding.metadata?.name && binding.metadata.name !== name) {
        throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
      }
      return bind(pods, clock, namespace, name, binding, opts);
    },
  };
}

/** POST .../bindings: the same bind, the pod named by the Binding's metadata.name (upstream's LegacyBindingREST). */
export function legacyBindingREST(info: ResourceInfo, pods: Store, clock: Clock): Creater {
  return {
    ...restStorage(info),
    create: (namespace, binding, opts) => bind(pods, clock, namespace, binding.metadata?.name, binding, opts),
  };
}

const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export const namespaceStrategy: ResourceStrategy = () => ({
  prepareForCreate(ns) {
    ns.status = { phase: 'Active' };
    ns.spec = { ...(ns.spec ?? {}), finalizers: ['kubernetes'] };
  },
  prepareForUpdate(ns, old) {
    ns.status = structuredClone(old.status);
    ns.spec = { ...(ns.spec ?? {}), finalizers: structuredClone(old.spec?.finalizers ?? []) };
    if (!ns.spec.finalizers.length) delete ns.spec.finalizers;
  },
  onDelete(ns, opts) {
    const name = ns.metadata.name!;
    if (IMMORTAL_NAMESPACES.has(name)) throw forbidden({ group: '', resource: 'namespaces' }, name, 'this namespace may not be deleted');
    if (ns.metadata.deletionTimestamp) {
      throw conflict(
        { group: '', resource: 'namespaces' },
        name,
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    const specFinalizers: string[] = ns.spec?.finalizers ?? [];
    const finalizers = new Set<string>(ns.metadata.finalizers ?? []);
    if (opts.propagationPolicy === 'Orphan' || opts.orphanDependents === true) finalizers.add('orphan');
    if (!specFinalizers.length && !finalizers.size) return undefined;
    ns.metadata.deletionTimestamp = rfc3339(new Date());
    ns.metadata.deletionGracePeriodSeconds = 0;
    if (finalizers.size) ns.metadata.finalizers = [...finalizers];
    ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
    return ns;
  },
  readyToDelete(ns) {
    return !ns.metadata.finalizers?.length && !ns.spec?.finalizers?.length;
  },
});

/** namespaces/finalize: only spec.finalizers changes. */
export const namespaceFinalizeStrategy: StatusStrategy = {
  prepareForUpdate(ns, old) {
    const finalizers = ns.spec?.finalizers;
    for (const k of Object.keys(ns)) if (k !== 'metadata') delete ns[k];
    Object.assign(ns, structuredClone({ ...old, metadata: ns.metadata }));
    ns.metadata.labels = old.metadata.labels;
    ns.metadata.annotations = old.metadata.annotations;
    ns.spec = { ...(old.spec ?? {}), finalizers: finalizers ?? [] };
  },
  validateUpdate: () => [],
};

export const nodeStrategy: ResourceStrategy = () => ({
  // The kubelet registers its node with its status.
  prepareForCreate() {},
});

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  nodePort?: number;
}

function needsNodePorts(svc: KubeObject): boolean {
  return svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
}

function needsClusterIP(svc: KubeObject): boolean {
  return (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName';
}

export function serviceStrategy(ips: ClusterIPAllocator, ports: NodePortAllocator): ResourceStrategy {
  const wrap = async <T>(svc: KubeObject, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AllocationError) throw invalid({ group: '', kind: 'Service' }, svc.metadata.name ?? '', [err.fieldError]);
      throw err;
    }
  };

  async function allocateIP(svc: KubeObject, undo: Array<() => Promise<void>>) {
    const spec = svc.spec;
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    if (spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      return;
    }
    const owner = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const requested: string | undefined = spec.clusterIP || spec.clusterIPs?.[0];
    let ip: string;
    if (requested) {
      await wrap(svc, () => ips.allocate(requested, owner, 'spec.clusterIPs', [requested]));
      ip = requested;
    } else {
      ip = await ips.allocateNext(owner, 'clusterIP');
    }
    undo.push(() => ips.release(ip));
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  async function allocatePorts(svc: KubeObject, old: KubeObject | null, undo: Array<() => Promise<void>>) {
    const owner = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const oldPorts = new Set<number>(old && needsNodePorts(old) ? (old.spec.ports ?? []).map((p: ServicePort) => p.nodePort).filter(Boolean) : []);
    const list: ServicePort[] = svc.spec.ports ?? [];
    for (const [i, p] of list.entries()) {
      if (p.nodePort && oldPorts.has(p.nodePort)) continue; // already ours
      if (p.nodePort) {
        const want = p.nodePort;
        await wrap(svc, () => ports.allocate(want, owner, `spec.ports[${i}].nodePort`, want));
        undo.push(() => ports.release(want));
      } else {
        // Keep the port this service port had before, when only the nodePort was left out.
        const prev: ServicePort | undefined = old?.spec?.ports?.find((o: ServicePort) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (prev?.nodePort && oldPorts.has(prev.nodePort)) {
          p.nodePort = prev.nodePort;
          continue;
        }
        const got = await ports.allocateNext(owner, 'nodePort');
        undo.push(() => ports.release(got));
        p.nodePort = got;
      }
    }
  }

  const undoAll = (undo: Array<() => Promise<void>>) => async () => {
    for (const u of undo.reverse()) await u();
  };

  return (): Partial<Strategy> => ({
    prepareForCreate(svc) {
      svc.status = { loadBalancer: {} };
    },
    async beginCreate(svc) {
      svc.spec ??= {};
      const undo: Array<() => Promise<void>> = [];
      try {
        if (needsClusterIP(svc)) await allocateIP(svc, undo);
        if (needsNodePorts(svc)) await allocatePorts(svc, null, undo);
      } catch (err) {
        await undoAll(undo)();
        throw err;
      }
      return undoAll(undo);
    },
    async beforeUpdate(svc, old) {
      svc.spec ??= {};
      const spec = svc.spec;
      const undo: Array<() => Promise<void>> = [];
      try {
        if (needsClusterIP(svc)) {
          if (needsClusterIP(old) && old.spec.clusterIP) {
            // ClusterIP is immutable: an update that leaves it out keeps the allocated one.
            spec.clusterIP ||= old.spec.clusterIP;
            spec.clusterIPs ??= old.spec.clusterIPs;
            spec.ipFamilies ??= old.spec.ipFamilies;
            spec.ipFamilyPolicy ??= old.spec.ipFamilyPolicy;
          } else {
            await allocateIP(svc, undo);
          }
        } else {
          delete spec.clusterIP;
          delete spec.clusterIPs;
        }
        if (needsNodePorts(svc)) await allocatePorts(svc, old, undo);
        else for (const p of spec.ports ?? []) delete p.nodePort;
      } catch (err) {
        await undoAll(undo)();
        throw err;
      }
      return undoAll(undo);
    },
    async afterUpdate(svc, old) {
      if (needsClusterIP(old) && old.spec.clusterIP && old.spec.clusterIP !== 'None' && svc.spec.clusterIP !== old.spec.clusterIP) await ips.release(old.spec.clusterIP);
      const kept = new Set((svc.spec.ports ?? []).map((p: ServicePort) => p.nodePort));
      if (needsNodePorts(old)) for (const p of old.spec.ports ?? []) if (p.nodePort && !kept.has(p.nodePort)) await ports.release(p.nodePort);
    },
    async afterDelete(svc) {
      if (svc.spec?.clusterIP && svc.spec.clusterIP !== 'None') await ips.release(svc.spec.clusterIP);
      for (const p of svc.spec?.ports ?? []) if (p.nodePort) await ports.release(p.nodePort);
    },
  });
}
