// Counterpart of pkg/kubelet/kubelet.go (NewMainKubelet, Run, syncLoop) and pkg/kubelet/pleg/generic.go
// (the relisting pod lifecycle event generator): the node's registration, status and Lease; its pods from a
// watch filtered by spec.nodeName, each synced by a pod worker through the CRI runtime; a relist of the
// runtime every second so that container state changes reach the pods' status; /healthz.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findResource, isForbidden, isNotFound, notFound, type KubeObject } from '@kubelab/api';
import { ComponentEventRecorder, delayOn, loadKubeconfig, realClock, RestClient, SharedInformerFactory, type Clock, type Informer, type RestConfig } from '@kubelab/client';
import { DELEGATED_AUTH_CLIENT, DELEGATED_AUTH_TIMEOUT_MS, TokenReviewAuthenticator, type Component, type Logger } from '@kubelab/component-base';
import type { ConfigMap, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1';
import type { KubeletConfig } from './config.js';
import { CertificateRotation } from './certificate/rotation.js';
import { FileSource, isMirrorPod } from './config/file.js';
import { RemoteRuntime } from './cri/remote.js';
import type { ImageService, RuntimeService } from './cri/runtime-service.js';
import type { EnvSources } from './kuberuntime/env.js';
import { getPodQOS } from './kuberuntime/qos.js';
import { KubeGenericRuntimeManager, type PodSyncResult, type RuntimeManagerOptions } from './kuberuntime/runtime-manager.js';
import type { RuntimePodStatus } from './kuberuntime/runtime-pod-status.js';
import { parseResolvConf, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, type DNSOptions, type ResolvConf } from './kuberuntime/sandbox-config.js';
import { NodeLeaseController } from './nodelease/lease-controller.js';
import { goArch, readMachineInfo, type MachineInfo } from './nodestatus/machine-info.js';
import { NodeStatusManager } from './nodestatus/node-status-manager.js';
import type { NodeIdentity, NodeStatusInputs } from './nodestatus/node-status.js';
import { KubeletPodSyncer, PodWorkers } from './pod-workers.js';
import { MirrorClient, mirrorPodHash } from './pod/mirror-client.js';
import { PodManager } from './pod/pod-manager.js';
import { PodStartupLatencyTracker } from './pod-startup-tracker.js';
import { ProberManager } from './prober/prober-manager.js';
import { alwaysAllow, WebhookKubeletAuthorizer } from './server/auth.js';
import { createKubeletServer, servingCertificate, type KubeletServer } from './server/server.js';
import { CgroupReader } from './stats/cgroup.js';
import { StatsProvider } from './stats/provider.js';
import { restPodStatusClient, StatusManager, statusMergePatch, type PodStatusClient } from './status/status-manager.js';
import { VolumeManager } from './volumemanager/volume-manager.js';

const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const SERVICES = findResource('', 'v1', 'services')!;
const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const CSRS = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;

/** Until the node is first Ready, its status is synced this often (upstream's fast status update at startup). */
const FAST_STATUS_PERIOD_MS = 1000;

export interface KubeletDeps {
  logger: Logger;
  /** Defaults to a client from --kubeconfig. */
  client?: RestClient;
  /** The node status and Lease client; defaults to newHeartbeatClient's (or `client` itself when one is given). */
  heartbeatClient?: RestClient;
  /** Default to the CRI client of --container-runtime-endpoint (both services on one channel). */
  runtime?: RuntimeService;
  images?: ImageService;
  clock?: Clock;
  // What the kubelet takes from its host; a hollow node (hollow/) passes pretend ones.
  /** Defaults to this machine's (readMachineInfo). */
  machineInfo?: MachineInfo;
  /** Where node and pod stats are read; defaults to the host's cgroup filesystem. */
  cgroups?: CgroupReader;
  /** The pods' volumes; defaults to a VolumeManager writing below --root-dir. */
  volumes?: PodVolumes;
  /** Creates the pod log directories; defaults to mkdir -p. */
  mkdirAll?: (path: string) => Promise<void>;
  /** Serve the HTTPS API on --address:--port (default true). */
  serveAPI?: boolean;
}

/** What the runtime manager needs of a volume manager. */
export type PodVolumes = Pick<VolumeManager, 'mountPod' | 'unmountPod' | 'paths'>;

export interface Kubelet extends Component {
  /** The port /healthz listens on (after start; undefined with --healthz-port 0). */
  healthzPort(): number | undefined;
  /** The port of the kubelet's HTTPS API (after start). */
  serverPort(): number | undefined;
  /** The Node's spec.podCIDR once seen. */
  podCIDR(): string | undefined;
}

/**
 * Upstream's HeartbeatClient: the node's status and Lease go through a client of their own, not throttled and with a
 * deadline of --node-status-update-frequency, so a burst of pod status patches and events neither queues the
 * heartbeat behind it in the client's rate limiter nor holds it on busy connections.
 */
export function newHeartbeatClient(rest: Readonly<RestConfig>, config: Readonly<KubeletConfig>): RestClient {
  return new RestClient({ ...rest, qps: 0, timeoutMs: config.nodeStatusUpdateFrequencyMs, userAgent: `kubelet/${config.nodeName}/heartbeat` });
}

/** The pod's cgroup parent with the cgroupfs driver: <root>/kubepods[/burstable|/besteffort]/pod<uid> (upstream's pod container manager). */
export function podCgroupParent(cgroupRoot: string, pod: Pod): string {
  const root = `${cgroupRoot.replace(/\/+$/, '')}/kubepods`;
  const qos = getPodQOS(pod);
  const uid = pod.metadata?.uid ?? '';
  return qos === 'Guaranteed' ? `${root}/pod${uid}` : `${root}/${qos.toLowerCase()}/pod${uid}`;
}

/** A signature of what the runtime runs for each pod uid (sandbox and container ids with their states). */
export async function relistRuntime(runtime: RuntimeService): Promise<Map<string, { signature: string; name: string; namespace: string }>> {
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox(), runtime.listContainers()]);
  const pods = new Map<string, { parts: string[]; name: string; namespace: string }>();
  const entry = (labels: Record<string, string>) => {
    const uid = labels[POD_UID_LABEL];
    if (!uid) return undefined;
    let e = pods.get(uid);
    if (!e) pods.set(uid, (e = { parts: [], name: labels[POD_NAME_LABEL] ?? '', namespace: labels[POD_NAMESPACE_LABEL] ?? '' }));
    return e;
  };
  for (const s of sandboxes) entry(s.labels)?.parts.push(`s:${s.id}:${s.state}`);
  for (const c of containers) entry(c.labels)?.parts.push(`c:${c.id}:${c.state}`);
  return new Map([...pods].map(([uid, e]) => [uid, { signature: e.parts.sort().join(','), name: e.name, namespace: e.namespace }]));
}

/**
 * The runtime manager with the pod's volumes set up at each sync and removed with the pod (upstream's
 * WaitForAttachAndMount). The setup (API round trips: a TokenRequest, ConfigMaps, Secrets) runs while the
 * sandbox is created; containers start once it is done. A failed setup fails the sync (FailedMount).
 */
class VolumeMountingRuntimeManager extends KubeGenericRuntimeManager {
  constructor(
    private readonly options: RuntimeManagerOptions,
    private readonly volumes: PodVolumes,
  ) {
    super({ ...options, volumePaths: (pod) => volumes.paths(pod) });
  }

  override async syncPod(pod: Pod, status: RuntimePodStatus, pullSecrets: Secret[] = []): Promise<PodSyncResult> {
    const mounted = this.volumes.mountPod(pod).then(
      () => this.options.startup?.step(pod.metadata?.uid ?? '', 'volumesMounted'),
      (err: Error) => {
        this.options.recorder.event(pod as KubeObject, 'Warning', 'FailedMount', err.message);
        throw err;
      },
    );
    // Awaited below whatever the sync did (its failure is the sync's).
    mounted.catch(() => undefined);
    const result = await super.syncPod(pod, status, pullSecrets, mounted);
    await mounted;
    return result;
  }

  override async removePod(pod: Pod, status: RuntimePodStatus): Promise<void> {
    await super.removePod(pod, status);
    await this.volumes.unmountPod(pod.metadata?.uid ?? '');
  }
}

function readResolvConf(path: string, logger: Logger): ResolvConf {
  if (!path) return { servers: [], searches: [], options: [] };
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch (err) {
    logger.warn({ err: (err as Error).message, path }, 'Could not read resolv.conf; pods with dnsPolicy Default get no resolver');
    return { servers: [], searches: [], options: [] };
  }
}

export function createKubelet(config: Readonly<KubeletConfig>, deps: KubeletDeps): Kubelet {
  const { logger } = deps;
  const clock = deps.clock ?? realClock;
  const delay = delayOn(clock);
  const client = deps.client ?? new RestClient({ ...loadKubeconfig(config.kubeconfig), userAgent: `kubelet/${config.nodeName}` });
  const remote =
    deps.runtime && deps.images ? undefined : new RemoteRuntime({ endpoint: config.containerRuntimeEndpoint, timeoutMs: config.runtimeRequestTimeoutMs });
  const cri: RuntimeService = deps.runtime ?? remote!;
  const imageService: ImageService = deps.images ?? remote!;
  const machine = deps.machineInfo ?? readMachineInfo(config.rootDir);
  const nodeName = config.nodeName;

  const identity: NodeIdentity = {
    name: nodeName,
    nodeIP: config.nodeIP,
    hostname: nodeName,
    labels: { 'kubernetes.io/arch': goArch(), ...config.nodeLabels },
    taints: [...config.registerWithTaints],
  };
  let runtimeVersion = '';
  const inputs = async (): Promise<NodeStatusInputs> => {
    if (!runtimeVersion) {
      const v = await cri.version();
      runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    }
    let runtime: NodeStatusInputs['runtime'];
    try {
      const st = await cri.status();
      const cond = (type: string) => st.status?.conditions.find((c) => c.type === type);
      const rt = cond('RuntimeReady');
      const net = cond('NetworkReady');
      runtime = {
        runtimeReady: rt?.status === true,
        networkReady: net?.status === true,
        message: [rt?.status ? '' : rt?.message, net?.status ? '' : net?.message].filter(Boolean).join('; '),
      };
    } catch (err) {
      runtime = { runtimeReady: false, networkReady: false, message: (err as Error).message };
    }
    const images = (await imageService.listImages().catch(() => []))
      .map((i) => ({ names: [...i.repoTags, ...i.repoDigests], sizeBytes: i.size }))
      .filter((i) => i.names.length)
      .sort((a, b) => b.sizeBytes - a.sizeBytes);
    return {
      machine,
      maxPods: config.maxPods,
      reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 },
      containerRuntimeVersion: runtimeVersion,
      runtime,
      kubeletPort: config.port,
      images,
    };
  };
  const heartbeatClient = deps.heartbeatClient ?? (deps.client ? client : newHeartbeatClient(client.config, config));
  const nodeStatus = new NodeStatusManager({
    client: heartbeatClient, identity, inputs, updateFrequencyMs: config.nodeStatusUpdateFrequencyMs, reportFrequencyMs: config.nodeStatusReportFrequencyMs, clock, logger,
  });
  const lease = new NodeLeaseController({ client: heartbeatClient, nodeName, leaseDurationSeconds: config.nodeLeaseDurationSeconds, clock, logger });

  const informers = new SharedInformerFactory(client, { logger, clock });
  const pods: Informer<KubeObject & Pod> = informers.forResource(PODS, { fieldSelector: `spec.nodeName=${nodeName}` });
  const services: Informer<KubeObject & Service> = informers.forResource(SERVICES);
  const nodes: Informer<KubeObject & Node> = informers.forResource(NODES, { fieldSelector: `metadata.name=${nodeName}` });

  const getOptional = async <T>(info: typeof CONFIGMAPS, ns: string, name: string): Promise<T | undefined> => {
    try {
      return (await client.resource(info, ns).get(name)) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const envSources: EnvSources = {
    getConfigMap: (ns, name) => getOptional<ConfigMap>(CONFIGMAPS, ns, name),
    getSecret: (ns, name) => getOptional<Secret>(SECRETS, ns, name),
    listServices: async (ns) => [...services.lister.list(ns), ...(ns === 'default' ? [] : services.lister.list('default'))],
  };
  const dns: DNSOptions = {
    clusterDNS: [...config.clusterDNS],
    clusterDomain: config.clusterDomain,
    hostResolvConf: readResolvConf(config.resolvConf, logger),
  };
  const recorder = new ComponentEventRecorder({
    client, component: 'kubelet', instance: nodeName, clock,
    onError: (err, reason) => logger.debug({ err: (err as Error).message, reason }, 'Could not write event'),
  });
  // Static pods (--pod-manifest-path) beside the API pods, each with a mirror pod in the apiserver.
  const mirrorClient = new MirrorClient({ client, nodeName, nodeUID: () => nodes.store.list()[0]?.metadata.uid, logger });
  const podManager = new PodManager({
    apiPods: () => pods.store.list(),
    apiPod: (ns, name) => pods.store.getByKey(`${ns}/${name}`),
    mirrorClient,
    nodeUsable: () => nodes.store.list().some((n) => !n.metadata.deletionTimestamp),
    // A new mirror pod starts with an empty status: it gets the static pod's whole status at once.
    onMirrorPodCreated: async (pod, mirror) => {
      const status = statusManager.getPodStatus(pod.metadata?.uid ?? '');
      if (!status) return;
      const patch = statusMergePatch(mirror.status, status);
      if (Object.keys(patch).length) await rest.patchStatus(mirror.metadata?.namespace ?? '', mirror.metadata?.name ?? '', { metadata: { uid: mirror.metadata?.uid }, status: patch });
    },
    logger,
  });
  const podByUID = (uid: string) => podManager.getPodByUID(uid);
  // The Node authorizer answers 403 (no relationship) for a pod that is no longer bound to this node, i.e.
  // deleted: the status manager treats that as the pod being gone, as upstream's does with its 404.
  const rest = restPodStatusClient(client);
  const gone = (err: unknown, uid: string, name: string) =>
    isForbidden(err) && !podByUID(uid) ? notFound({ group: '', resource: 'pods' }, name) : err;
  const podStatusClient: PodStatusClient = {
    patchStatus: (ns, name, patch) =>
      rest.patchStatus(ns, name, patch).catch((err) => {
        throw gone(err, String((patch.metadata as { uid?: string } | undefined)?.uid ?? ''), name);
      }),
    deletePod: (ns, name, uid) =>
      rest.deletePod(ns, name, uid).catch((err) => {
        throw gone(err, uid, name);
      }),
  };
  const startup = new PodStartupLatencyTracker({ clock, logger });
  const statusManager = new StatusManager({
    client: podManager.statusClient(podStatusClient), clock, logger, onWritten: (pod, status) => startup.statusWritten(pod, status),
  });
  const volumes = deps.volumes ?? new VolumeManager({ client, rootDir: config.rootDir, logger });
  const podRecorder = { event: (obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) => recorder.event({ apiVersion: 'v1', kind: 'Pod', ...obj }, type, reason, message) };
  // The prober (upstream NewMainKubelet's probeManager): its liveness and startup results reach the runtime
  // manager, which restarts a failing container; a changed result syncs the pod (upstream syncLoopIteration).
  const probeManager = new ProberManager({ podStatus: (uid) => statusManager.getPodStatus(uid), runtime: cri, recorder: podRecorder, clock, logger });
  const syncOnProbe = (uid: string) => {
    const pod = podByUID(uid);
    if (pod) podUpdate(pod);
  };
  probeManager.livenessManager.onUpdate((u) => u.result === 'Failure' && syncOnProbe(u.podUID));
  probeManager.readinessManager.onUpdate((u) => syncOnProbe(u.podUID));
  probeManager.startupManager.onUpdate((u) => syncOnProbe(u.podUID));
  const runtimeManager = new VolumeMountingRuntimeManager({
    runtime: cri,
    images: imageService,
    recorder: podRecorder,
    probeResults: { liveness: probeManager.livenessManager, startup: probeManager.startupManager },
    envSources,
    dns,
    podLogsRootDirectory: config.podLogsDir,
    nodeName,
    hostIPs: [config.nodeIP],
    memoryCapacity: machine.memoryCapacityBytes,
    cgroupParent: (pod) => podCgroupParent(config.cgroupRoot, pod),
    startup,
    ...(deps.mkdirAll ? { mkdirAll: deps.mkdirAll } : {}),
    clock,
    logger,
  }, volumes);
  const syncer = new KubeletPodSyncer({
    runtimeManager,
    statusManager,
    probeManager,
    mirrorPods: podManager,
    startup,
    logger,
    hostIPs: [config.nodeIP],
    pullSecrets: async (pod) => {
      const out: Secret[] = [];
      for (const ref of pod.spec?.imagePullSecrets ?? []) {
        const s = ref.name ? await getOptional<Secret>(SECRETS, pod.metadata?.namespace ?? '', ref.name).catch(() => undefined) : undefined;
        if (s) out.push(s);
      }
      return out;
    },
    clock,
  });
  const podWorkers = new PodWorkers({ syncer, clock, logger, resyncIntervalMs: config.syncFrequencyMs });
  /** Pod uids handed to a worker, so that finished workers are forgotten. */
  const known = new Map<string, Pod>();
  /** Pods the runtime runs that the apiserver does not know (deleted while the kubelet was away): killed and removed. */
  const orphansInFlight = new Set<string>();
  const removeOrphan = async (uid: string, name: string, namespace: string) => {
    const orphan: Pod = { metadata: { uid, name, namespace }, spec: { containers: [], terminationGracePeriodSeconds: 0 } };
    orphansInFlight.add(uid);
    try {
      logger.info({ pod: `${namespace}/${name}`, podUID: uid }, 'Removing orphaned pod from the runtime');
      const status = await runtimeManager.getPodStatus(orphan);
      await runtimeManager.killPod(orphan, status, 0);
      await runtimeManager.removePod(orphan, await runtimeManager.getPodStatus(orphan));
    } catch (err) {
      logger.warn({ err: (err as Error).message, podUID: uid }, 'Failed to remove orphaned pod');
    } finally {
      orphansInFlight.delete(uid);
    }
  };
  const podUpdate = (pod: Pod, kill = false) => {
    const uid = pod.metadata?.uid ?? '';
    known.set(uid, pod);
    if (!kill) startup.observedPod(pod);
    podWorkers.updatePod(pod, kill ? { kill: true } : {});
  };
  /** Upstream's handleMirrorPod: a change to a mirror pod syncs its static pod (which recreates a deleted mirror). */
  const apiPodUpdate = (pod: Pod, kill = false) => {
    if (!isMirrorPod(pod)) return podUpdate(pod, kill);
    const staticPod = podManager.getPodByMirrorPod(pod);
    if (staticPod) podUpdate(staticPod);
  };
  pods.addEventHandler({
    onAdd: (pod) => apiPodUpdate(pod),
    onUpdate: (_old, pod) => apiPodUpdate(pod),
    onDelete: (pod) => apiPodUpdate(pod, true),
  });
  const fileSource = config.staticPodPath
    ? new FileSource({
        path: config.staticPodPath,
        nodeName,
        clock,
        logger,
        onPods: (staticPods) => {
          const { added, removed } = podManager.setStaticPods(staticPods);
          for (const p of removed) podUpdate(p, true);
          for (const p of added) podUpdate(p);
        },
      })
    : undefined;
  /** Mirror pods being deleted, by uid; when each static pod without a mirror was last synced for it. */
  const mirrorDeletions = new Set<string>();
  const mirrorSyncs = new Map<string, number>();
  /** Upstream HandlePodCleanups' share for static pods: orphaned mirror pods go, missing mirror pods are made. */
  const mirrorHousekeeping = () => {
    for (const m of podManager.orphanedMirrorPods()) {
      const uid = m.metadata?.uid ?? '';
      const state = podWorkers.state(mirrorPodHash(m) ?? '');
      // Its static pod is still stopping: its last statuses go to the mirror pod.
      if (state === 'syncing' || state === 'terminating' || mirrorDeletions.has(uid)) continue;
      mirrorDeletions.add(uid);
      void mirrorClient.deleteMirrorPod(m.metadata?.namespace ?? '', m.metadata?.name ?? '', uid).finally(() => mirrorDeletions.delete(uid));
    }
    const now = clock.now();
    for (const p of podManager.staticPodsWithoutMirror()) {
      const uid = p.metadata?.uid ?? '';
      if (podWorkers.state(uid) !== 'syncing' || now - (mirrorSyncs.get(uid) ?? 0) < 5000) continue;
      mirrorSyncs.set(uid, now);
      podUpdate(p);
    }
    for (const uid of mirrorSyncs.keys()) if (!podManager.getPodByUID(uid)) mirrorSyncs.delete(uid);
  };

  let abort: AbortController | undefined;
  let rotation: CertificateRotation | undefined;
  const loops: Promise<void>[] = [];
  let healthz: Server | undefined;
  let apiServer: KubeletServer | undefined;
  // The stats provider (upstream's cadvisor-backed provider): the node's cgroup and its pods' below --cgroup-root.
  const stats = new StatsProvider({
    nodeName,
    cgroupRoot: config.cgroupRoot,
    reader: deps.cgroups ?? new CgroupReader(),
    memoryCapacityBytes: machine.memoryCapacityBytes,
    listContainers: () => cri.listContainers(),
    pods: () => podManager.getPods(),
  });
  let cidr: string | undefined;
  let nodeReady = false;
  let cidrPending: Promise<void> | undefined;

  /** Upstream's updatePodCIDR: the runtime learns the node's pod range (from the node informer). */
  const onNode = (node: Node) => {
    nodeReady = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const podCIDR = node.spec?.podCIDR;
    if (!podCIDR || podCIDR === cidr || cidrPending) return;
    cidrPending = cri.updateRuntimeConfig(podCIDR).then(
      () => {
        cidr = podCIDR;
        logger.info({ podCIDR }, 'Updated Pod CIDR');
      },
      (err) => logger.warn({ err: (err as Error).message, podCIDR }, 'Failed to update the runtime with the Pod CIDR, will retry'),
    ).finally(() => {
      cidrPending = undefined;
      const latest = nodes.store.list()[0];
      if (latest && latest.spec?.podCIDR !== cidr) setTimeout(() => onNode(latest), 1000).unref();
    });
  };
  nodes.addEventHandler({ onAdd: (n) => onNode(n), onUpdate: (_old, n) => onNode(n) });

  /** Registration, then the node status every update period (every second until the node is first Ready). */
  const statusLoop = async (signal: AbortSignal) => {
    await nodeStatus.register(signal);
    while (!signal.aborted) {
      try {
        await nodeStatus.syncNodeStatus();
      } catch (err) {
        logger.warn({ err: (err as Error).message, node: nodeName }, 'Error updating node status, will retry');
      }
      await delay(nodeReady ? config.nodeStatusUpdateFrequencyMs : Math.min(FAST_STATUS_PERIOD_MS, config.nodeStatusUpdateFrequencyMs), signal);
    }
  };

  /** The PLEG: pods whose sandboxes or containers changed get a sync; pods the runtime runs that the apiserver no longer has are killed. */
  const relistLoop = async (signal: AbortSignal) => {
    let previous = new Map<string, string>();
    while (!signal.aborted) {
      try {
        const current = await relistRuntime(cri);
        const next = new Map<string, string>();
        for (const [uid, e] of current) {
          next.set(uid, e.signature);
          if (previous.get(uid) === e.signature) continue;
          const pod = podByUID(uid);
          if (pod) podUpdate(pod);
          else if (!known.has(uid) && !orphansInFlight.has(uid)) void removeOrphan(uid, e.name, e.namespace);
        }
        for (const uid of previous.keys()) {
          if (!current.has(uid)) {
            const pod = podByUID(uid);
            if (pod) podUpdate(pod);
          }
        }
        previous = next;
        mirrorHousekeeping();
        for (const uid of [...known.keys()]) {
          if (podWorkers.state(uid) === 'terminated' && !current.has(uid) && !podByUID(uid)) {
            podWorkers.forget(uid);
            statusManager.removePod(uid);
            startup.deletePod(uid);
            known.delete(uid);
          }
        }
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'GenericPLEG: Unable to retrieve pods');
      }
      await delay(config.relistPeriodMs, signal);
    }
  };

  const serveHealthz = async () => {
    if (!config.healthzPort) return;
    healthz = createServer((req, res) => {
      const ok = req.url === '/healthz' || req.url?.startsWith('/healthz?');
      res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : '404 page not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      healthz!.once('error', reject);
      healthz!.listen(config.healthzPort, config.healthzBindAddress, () => resolve());
    });
  };

  /** Upstream's ListenAndServeKubeletServer: the API on --address:--port, authenticated and authorized through the apiserver. */
  let reviewClient: RestClient | undefined;
  const serveAPI = async () => {
    const webhook = config.authenticationTokenWebhook || config.authorizationMode === 'Webhook';
    // Reviews go through a client of their own (own rate limits), as upstream's delegating clientset.
    reviewClient = webhook ? new RestClient({ ...client.config, ...DELEGATED_AUTH_CLIENT, userAgent: `kubelet/${nodeName}/delegated-auth` }) : undefined;
    const review = reviewClient;
    const post = (path: string, body: object) => review!.request({ method: 'POST', path, body, signal: AbortSignal.timeout(DELEGATED_AUTH_TIMEOUT_MS) });
    const cert = await servingCertificate({
      tlsCertFile: config.tlsCertFile, tlsPrivateKeyFile: config.tlsPrivateKeyFile, rootDir: config.rootDir, nodeName, nodeIP: config.nodeIP,
    });
    apiServer = await createKubeletServer({
      nodeName,
      address: config.address,
      port: config.port,
      ...cert,
      clientCA: config.clientCAFile ? readFileSync(config.clientCAFile, 'utf8') : undefined,
      tokens: config.authenticationTokenWebhook ? new TokenReviewAuthenticator({ post, cacheTTLMs: 2 * 60_000 }) : undefined,
      anonymous: config.anonymousAuth,
      authorizer: config.authorizationMode === 'Webhook' ? new WebhookKubeletAuthorizer(post) : alwaysAllow,
      pods: () => podManager.getPods(),
      podStatus: (uid) => statusManager.getPodStatus(uid),
      runtime: cri,
      stats,
      logger,
    });
  };

  return {
    healthzPort: () => (healthz?.address() as AddressInfo | null)?.port,
    serverPort: () => apiServer?.port(),
    podCIDR: () => cidr,
    async start() {
      const v = await cri.version();
      logger.info({ runtime: `${v.runtimeName}://${v.runtimeVersion}`, node: nodeName, nodeIP: config.nodeIP }, 'Container runtime initialized');
      await serveHealthz();
      if (deps.serveAPI !== false) await serveAPI();
      abort = new AbortController();
      const signal = abort.signal;
      if (config.rotateCertificates) {
        rotation = new CertificateRotation({
          certDir: config.certDir,
          nodeName,
          csrClient: client.resource(CSRS),
          initial: { certPem: client.config.cert, keyPem: client.config.key },
          logger,
          onRotated: (certPem, keyPem) => {
            client.setClientCertificate(certPem, keyPem);
            if (heartbeatClient !== client) heartbeatClient.setClientCertificate(certPem, keyPem);
            reviewClient?.setClientCertificate(certPem, keyPem);
          },
        });
        rotation.start();
      }
      // Static pods are known before the runtime is first relisted, so that their containers are not orphans.
      fileSource?.start();
      loops.push(statusLoop(signal));
      loops.push(stats.run(signal, delay));
      loops.push(lease.run(signal));
      informers.start();
      loops.push(
        (async () => {
          if (!(await informers.waitForCacheSync(signal))) return;
          logger.info({ node: nodeName }, 'Starting kubelet main sync loop');
          await relistLoop(signal);
        })(),
      );
    },
    async stop() {
      if (!abort) return;
      abort.abort();
      abort = undefined;
      rotation?.stop();
      fileSource?.stop();
      probeManager.cleanupPods(new Set());
      await Promise.allSettled(loops);
      await informers.shutdown();
      await recorder.flush();
      await new Promise<void>((resolve) => (healthz ? healthz.close(() => resolve()) : resolve()));
      healthz = undefined;
      await apiServer?.close();
      apiServer = undefined;
      reviewClient?.close();
      remote?.close();
      if (!deps.client) client.close();
      if (!deps.heartbeatClient && heartbeatClient !== client) heartbeatClient.close();
    },
  };
}
