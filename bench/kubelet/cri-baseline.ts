// The baseline of `npm run bench:kubelet`: what the container runtime alone takes to run the bench's pod,
// through the same CRI calls the kubelet makes (RunPodSandbox with the CNI network, ImageStatus,
// CreateContainer, StartContainer) on the node's own containerd socket, with the kubelet's gRPC client.
// No crictl is installed here, and `ctr run` would skip the sandbox and its network: this is the
// runtime's share of a pod start, so the kubelet's overhead is a ratio over it. The sandboxes carry no
// io.kubernetes.pod.uid label, so the node's kubelet leaves them alone (its relist ignores them).
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type ContainerConfig, type PodSandboxConfig, RemoteRuntime } from '@kubelab/kubelet';
import { POD_COMMAND, POD_IMAGE } from './pods.js';

export interface CriRun {
  node: string;
  /** RunPodSandbox (pause container, network namespace, CNI ADD). */
  sandboxMs: number;
  /** From the start to StartContainer's answer: sandbox + ImageStatus + CreateContainer + StartContainer. */
  totalMs: number;
}

export interface CriStop {
  node: string;
  /** StopContainer with the pod's grace period (30 s): SIGTERM, and the container's exit. */
  stopContainerMs: number;
  /** StopContainer, StopPodSandbox (CNI DEL) and RemovePodSandbox. */
  totalMs: number;
}

interface Started {
  node: string;
  runtime: RemoteRuntime;
  sandboxId: string;
  containerId?: string;
  logDirectory: string;
}

const fullImage = (image: string) => (image.includes('/') ? image : `docker.io/library/${image}`);

export class CriBaseline {
  private readonly runtimes = new Map<string, RemoteRuntime>();
  private readonly started: Started[] = [];

  runtime(node: string): RemoteRuntime {
    let r = this.runtimes.get(node);
    if (!r) this.runtimes.set(node, (r = new RemoteRuntime({ endpoint: `unix:///run/kubelab/${node}/containerd.sock`, timeoutMs: 120_000 })));
    return r;
  }

  /** One sandbox with one container, as the kubelet would start the bench pod, timed. */
  async runOne(node: string, name: string): Promise<CriRun> {
    const runtime = this.runtime(node);
    const uid = randomUUID();
    const namespace = 'bench-cri';
    const logDirectory = `/var/log/kubelab/${node}/pods/${namespace}_${name}_${uid}`;
    const namespaceOptions = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name, uid, namespace, attempt: 0 },
      hostname: name,
      logDirectory,
      dnsConfig: { servers: ['10.96.0.10'], searches: [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
      labels: { 'kubelab.io/bench': 'cri-baseline' },
      linux: { cgroupParent: `/kubelab/${node}/kubepods/besteffort/pod${uid}`, securityContext: { namespaceOptions } },
    };
    const t0 = performance.now();
    const sandboxId = await runtime.runPodSandbox(sandboxConfig);
    const sandboxMs = performance.now() - t0;
    const started: Started = { node, runtime, sandboxId, logDirectory };
    this.started.push(started);
    const image = await runtime.imageStatus({ image: fullImage(POD_IMAGE) });
    if (!image.image) throw new Error(`image ${POD_IMAGE} is not present on ${node}`);
    const config: ContainerConfig = {
      metadata: { name: 'sleep', attempt: 0 },
      image: { image: image.image.id, userSpecifiedImage: POD_IMAGE },
      command: POD_COMMAND,
      labels: { 'kubelab.io/bench': 'cri-baseline' },
      logPath: 'sleep/0.log',
      linux: { resources: { cpuShares: 2, oomScoreAdj: 1000 }, securityContext: { namespaceOptions } },
    };
    const containerId = await runtime.createContainer(sandboxId, config, sandboxConfig);
    started.containerId = containerId;
    await runtime.startContainer(containerId);
    return { node, sandboxMs, totalMs: performance.now() - t0 };
  }

  /**
   * Stops and removes what runOne started, as the kubelet deletes a pod (the container with the default
   * grace period, then its sandbox), timed: one at a time, or all at once.
   */
  async stopAll(oneAtATime: boolean): Promise<CriStop[]> {
    const all = this.started.splice(0);
    const stop = async (s: Started): Promise<CriStop> => {
      const t0 = performance.now();
      if (s.containerId) await s.runtime.stopContainer(s.containerId, 30);
      const stopContainerMs = performance.now() - t0;
      await s.runtime.stopPodSandbox(s.sandboxId);
      await s.runtime.removePodSandbox(s.sandboxId);
      rmSync(s.logDirectory, { recursive: true, force: true });
      return { node: s.node, stopContainerMs, totalMs: performance.now() - t0 };
    };
    if (!oneAtATime) return Promise.all(all.map(stop));
    const out: CriStop[] = [];
    for (const s of all) out.push(await stop(s));
    return out;
  }

  /** Stops and removes every sandbox this baseline made (their containers go with them), and their log directories. */
  async cleanup(): Promise<void> {
    const all = this.started.splice(0);
    await Promise.all(
      all.map(async (s) => {
        try {
          await s.runtime.stopPodSandbox(s.sandboxId);
          await s.runtime.removePodSandbox(s.sandboxId);
        } catch {
          // hack/lab down removes whatever is left with the node
        }
        rmSync(s.logDirectory, { recursive: true, force: true });
      }),
    );
  }

  close(): void {
    for (const r of this.runtimes.values()) r.close();
    this.runtimes.clear();
  }
}
