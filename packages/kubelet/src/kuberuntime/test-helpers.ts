// Test fixtures for the kuberuntime tests (upstream: kuberuntime's fake_kuberuntime_manager.go).
import type { KubeObject } from '@kubelab/api';
import { FakeClock } from '@kubelab/client';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { PodStatusClient } from '../status/status-manager.js';
import { FakeImageService, FakeRuntimeService } from '../cri/fake-runtime.js';
import { KubeGenericRuntimeManager, type PodEventRecorder } from './runtime-manager.js';

export interface RecordedEvent {
  object: string;
  type: string;
  reason: string;
  message: string;
}

export class FakeRecorder implements PodEventRecorder {
  readonly events: RecordedEvent[] = [];
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ object: `${obj.metadata.namespace}/${obj.metadata.name}`, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

export function newPod(spec: Partial<NonNullable<Pod['spec']>> & { containers?: Container[] } = {}, name = 'web'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec },
    status: { phase: 'Pending' },
  };
}

export function newHarness(opts: { images?: string[] } = {}) {
  const clock = new FakeClock();
  const runtime = new FakeRuntimeService({ clock });
  const images = new FakeImageService({ images: opts.images ?? ['busybox:1.36', 'pause:3.9'] });
  const recorder = new FakeRecorder();
  const dirs: string[] = [];
  const manager = new KubeGenericRuntimeManager({
    runtime,
    images,
    recorder,
    clock,
    envSources: { getConfigMap: async () => undefined, getSecret: async () => undefined, listServices: async () => [] },
    dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: { servers: ['1.1.1.1'], searches: [], options: [] } },
    nodeName: 'node-1',
    hostIPs: ['172.30.0.10'],
    memoryCapacity: 4 * 1024 ** 3,
    mkdirAll: async (path) => void dirs.push(path),
  });
  /** One level-triggered sync: read the runtime's state, act on it. */
  const sync = async (pod: Pod) => manager.syncPod(pod, await manager.getPodStatus(pod));
  /** The newest container with this name. */
  const latest = (name: string) => runtime.containersNamed(name).at(-1)!;
  return { clock, runtime, images, recorder, manager, sync, latest, dirs };
}

/**
 * A PodStatusClient whose patches wait until the test opens their gate (`gates.shift()!()`), so that writes can be
 * held in flight; while `fail` is set, an opened patch fails with `error` instead of being recorded in `patches`.
 */
export class GatedStatusClient implements PodStatusClient {
  readonly patches: Record<string, unknown>[] = [];
  readonly gates: (() => void)[] = [];
  fail = false;

  constructor(private readonly error = 'etcdserver: request timed out') {}

  async patchStatus(_namespace: string, _name: string, patch: Record<string, unknown>): Promise<Pod> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    if (this.fail) throw new Error(this.error);
    this.patches.push(patch.status as Record<string, unknown>);
    return {};
  }

  async deletePod(): Promise<void> {}
}
