import { describe, expect, it } from 'vitest';
import { alreadyExists, type KubeObject } from '@kubelab/api';
import { FakeClock, FakeRecorder, type Informer } from '@kubelab/client';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { seededInformer } from '../testing.js';
import { DeploymentController, findActiveOrLatest, type DeploymentControl } from './deployment-controller.js';
import {
  CHANGE_CAUSE_ANNOTATION,
  computeHash,
  equalIgnoreHash,
  MAX_REPLICAS_ANNOTATION,
  newRSNewReplicas,
  proportionalSizes,
  resolveFenceposts,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
} from './deployment-util.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function newDeployment(replicas: number, image: string, strategy: Deployment['spec'] extends infer S ? S extends { strategy?: infer X } ? X : never : never = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1, resourceVersion: '1', annotations: {} },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, ...strategy },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

/** Writes go straight into the seeded caches, as if the watch delivered them at once. */
class FakeControl implements DeploymentControl {
  private seq = 0;
  readonly deleted: string[] = [];
  constructor(
    private readonly d: Informer<KubeObject>,
    private readonly rs: Informer<KubeObject>,
  ) {}
  async createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    if (this.rs.lister.get('default', rs.metadata!.name!)) throw alreadyExists({ group: 'apps', resource: 'replicasets' }, rs.metadata!.name!);
    const n = ++this.seq;
    const created = { ...structuredClone(rs), metadata: { ...rs.metadata, uid: `rs-${n}`, generation: 1, creationTimestamp: new Date(T0 + n * 1000).toISOString() }, status: { replicas: 0 } };
    this.rs.store.add(created as KubeObject);
    return structuredClone(created) as ReplicaSet;
  }
  async updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    this.rs.store.add(structuredClone(rs) as KubeObject);
    return structuredClone(rs);
  }
  async patchReplicaSet(): Promise<ReplicaSet> {
    throw new Error('unexpected patch');
  }
  async deleteReplicaSet(_ns: string, name: string): Promise<void> {
    this.deleted.push(name);
    this.rs.store.deleteKey(`default/${name}`);
  }
  async patchDeployment(_ns: string, name: string, patch: any): Promise<Deployment> {
    const cur = structuredClone(this.d.lister.get('default', name)!);
    cur.metadata.annotations = { ...cur.metadata.annotations, ...patch.metadata.annotations };
    this.d.store.add(cur);
    return structuredClone(cur) as Deployment;
  }
  async updateDeploymentStatus(d: Deployment): Promise<Deployment> {
    const cur = structuredClone(this.d.lister.get('default', d.metadata!.name!)!);
    cur.status = structuredClone(d.status);
    this.d.store.add(cur);
    return structuredClone(cur) as Deployment;
  }
}

function setup(d: KubeObject) {
  const clock = new FakeClock(T0 + 3_600_000);
  const dInf = seededInformer([d]);
  const rsInf = seededInformer();
  const podInf = seededInformer();
  const control = new FakeControl(dInf, rsInf);
  const recorder = new FakeRecorder();
  const ctrl = new DeploymentController({ deploymentInformer: dInf, rsInformer: rsInf, podInformer: podInf, control, recorder, clock });
  const rss = () => rsInf.lister.list('default') as unknown as ReplicaSet[];
  const deployment = () => dInf.lister.get('default', 'web') as unknown as Deployment;
  /** The ReplicaSet controller and kubelets: pods exist at once, and become available one step later. */
  const simulatePods = () => {
    for (const rs of rss()) {
      const prev = rs.status?.replicas ?? 0;
      const spec = rs.spec!.replicas ?? 0;
      const avail = Math.min(spec, prev);
      rsInf.store.add({ ...structuredClone(rs), status: { replicas: spec, readyReplicas: avail, availableReplicas: avail, observedGeneration: rs.metadata!.generation } } as KubeObject);
    }
  };
  const updateSpec = (f: (d: any) => void) => {
    const cur = structuredClone(dInf.lister.get('default', 'web')!);
    f(cur);
    cur.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    dInf.store.add(cur);
  };
  return { ctrl, clock, rsInf, dInf, control, recorder, rss, deployment, simulatePods, updateSpec };
}

const total = (rss: ReplicaSet[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + f(rs), 0);

async function rollUntilDone(env: ReturnType<typeof setup>, replicas: number, surge: number, unavailable: number) {
  const steps: string[] = [];
  for (let i = 0; i < 40; i++) {
    await env.ctrl.sync('default/web');
    const rss = env.rss().sort((a, b) => a.metadata!.creationTimestamp!.localeCompare(b.metadata!.creationTimestamp!));
    steps.push(rss.map((rs) => rs.spec!.replicas).join('/'));
    // Never more than replicas + maxSurge pods wanted.
    expect(total(rss, (rs) => rs.spec!.replicas!)).toBeLessThanOrEqual(replicas + surge);
    env.simulatePods();
    // Never fewer than replicas - maxUnavailable available (once the first rollout is up).
    const avail = total(env.rss(), (rs) => rs.status!.availableReplicas!);
    if (env.rss().length > 1) expect(avail).toBeGreaterThanOrEqual(replicas - unavailable);
    const st = env.deployment().status!;
    if (st.updatedReplicas === replicas && st.availableReplicas === replicas && st.replicas === replicas) return steps;
  }
  throw new Error(`rollout did not finish: ${steps.join(' ')}`);
}

describe('deployment rollout math', () => {
  it('resolves fenceposts as upstream (surge rounds up, unavailable down, never both zero)', () => {
    expect(resolveFenceposts(newDeployment(3, 'v1') as Deployment)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(newDeployment(10, 'v1') as Deployment)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(newDeployment(3, 'v1', { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }) as Deployment)).toEqual({ surge: 0, unavailable: 1 });
  });

  it('grows the new ReplicaSet only within maxSurge', () => {
    const d = newDeployment(10, 'v2') as Deployment; // surge 3
    const rs = (n: number) => ({ spec: { replicas: n } }) as ReplicaSet;
    expect(newRSNewReplicas(d, [rs(10), rs(0)], rs(0))).toBe(3);
    expect(newRSNewReplicas(d, [rs(8), rs(5)], rs(5))).toBe(5);
    expect(newRSNewReplicas(d, [rs(2), rs(9)], rs(9))).toBe(10);
  });

  it('scales proportionally in the middle of a rollout (upstream docs example: 10 -> 15, maxSurge 3)', () => {
    const d = newDeployment(15, 'v2', { rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } }) as Deployment;
    const mk = (name: string, n: number, at: number) =>
      ({ metadata: { name, creationTimestamp: new Date(T0 + at).toISOString(), annotations: { [MAX_REPLICAS_ANNOTATION]: '13' } }, spec: { replicas: n } }) as unknown as ReplicaSet;
    const sizes = proportionalSizes(d, [mk('old', 8, 0), mk('new', 5, 1000)]);
    expect(Object.fromEntries(sizes)).toEqual({ old: 11, new: 7 });
    // Scaling down to 5 (allowed 5 + 3 = 8): older and bigger lose more.
    const down = newDeployment(5, 'v2', { rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } }) as Deployment;
    const sizesDown = proportionalSizes(down, [mk('old', 8, 0), mk('new', 5, 1000)]);
    expect(sizesDown.get('old')! + sizesDown.get('new')!).toBe(8);
    expect(Object.fromEntries(sizesDown)).toEqual({ old: 5, new: 3 });
  });

  it('compares templates as typed values: the hash label, empty objects and nulls do not count', () => {
    const stored = { metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.7.9' }] } };
    // What `kubectl rollout undo` patches back: the ReplicaSet's template as Go serialises it.
    const undo = {
      metadata: { creationTimestamp: null, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.7.9', resources: {} }] },
    } as unknown as typeof stored;
    expect(equalIgnoreHash(stored, undo)).toBe(true);
    expect(equalIgnoreHash(stored, { ...undo, spec: { containers: [{ name: 'c', image: 'nginx:1.9.1' }] } })).toBe(false);
    expect(equalIgnoreHash(stored, { ...undo, metadata: { labels: { app: 'web', tier: 'x' } } })).toBe(false);
  });

  it('finds the only active ReplicaSet, or the latest when none is active', () => {
    const mk = (name: string, n: number, at: number) => ({ metadata: { name, creationTimestamp: new Date(T0 + at).toISOString() }, spec: { replicas: n } }) as ReplicaSet;
    expect(findActiveOrLatest(mk('new', 0, 3), [mk('a', 2, 1), mk('b', 0, 2)])!.metadata!.name).toBe('a');
    expect(findActiveOrLatest(undefined, [mk('a', 0, 1), mk('b', 0, 2)])!.metadata!.name).toBe('b');
    expect(findActiveOrLatest(mk('new', 1, 3), [mk('a', 2, 1)])).toBeUndefined();
  });
});

describe('DeploymentController.sync', () => {
  it('creates the first ReplicaSet with the hash label, revision 1 and change-cause', async () => {
    const d = newDeployment(3, 'v1');
    d.metadata.annotations = { [CHANGE_CAUSE_ANNOTATION]: 'first' };
    const env = setup(d);
    await env.ctrl.sync('default/web');
    const [rs] = env.rss();
    const hash = computeHash(d.spec.template);
    expect(rs!.metadata!.name).toBe(`web-${hash}`);
    expect(rs!.metadata!.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec!.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec!.template!.metadata!.labels!['pod-template-hash']).toBe(hash);
    expect(rs!.spec!.replicas).toBe(3);
    expect(rs!.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true });
    expect(rs!.metadata!.annotations).toMatchObject({
      [REVISION_ANNOTATION]: '1',
      [CHANGE_CAUSE_ANNOTATION]: 'first',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    expect(env.deployment().metadata!.annotations![REVISION_ANNOTATION]).toBe('1');
    expect(env.recorder.events).toContain(`Normal ScalingReplicaSet Scaled up replica set web-${hash} from 0 to 3`);
    const conds = Object.fromEntries(env.deployment().status!.conditions!.map((c) => [c.type, c]));
    expect(conds.Progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` });
    expect(conds.Available).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(computeHash(d.spec.template)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });

  for (const [replicas, surgeSpec, unavailSpec, surge, unavailable] of [
    [3, 1, 0, 1, 0],
    [3, '25%', '25%', 1, 0],
    [4, '50%', '25%', 2, 1],
    [5, 0, 2, 0, 2],
  ] as const) {
    it(`rolls ${replicas} replicas with maxSurge=${surgeSpec} maxUnavailable=${unavailSpec} within bounds`, async () => {
      const env = setup(newDeployment(replicas, 'v1', { rollingUpdate: { maxSurge: surgeSpec, maxUnavailable: unavailSpec } }));
      await rollUntilDone(env, replicas, surge, unavailable);
      expect(env.deployment().status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
      env.updateSpec((d) => (d.spec.template.spec.containers[0].image = 'v2'));
      const steps = await rollUntilDone(env, replicas, surge, unavailable);
      expect(steps.length).toBeGreaterThan(1);
      const rss = env.rss();
      expect(rss).toHaveLength(2);
      const newRS = rss.find((rs) => rs.spec!.template!.spec!.containers[0]!.image === 'v2')!;
      const oldRS = rss.find((rs) => rs.spec!.template!.spec!.containers[0]!.image === 'v1')!;
      expect(newRS.spec!.replicas).toBe(replicas);
      expect(oldRS.spec!.replicas).toBe(0);
      expect(newRS.metadata!.annotations![REVISION_ANNOTATION]).toBe('2');
      expect(env.deployment().metadata!.annotations![REVISION_ANNOTATION]).toBe('2');
      const progressing = env.deployment().status!.conditions!.find((c) => c.type === 'Progressing')!;
      expect(progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRS.metadata!.name}" has successfully progressed.` });
      expect(env.recorder.events.some((e) => e.startsWith(`Normal ScalingReplicaSet Scaled down replica set ${oldRS.metadata!.name} from`))).toBe(true);
    });
  }

  it('rolls back to an old template by reusing its ReplicaSet with a new revision', async () => {
    const env = setup(newDeployment(2, 'v1'));
    await rollUntilDone(env, 2, 1, 0);
    env.updateSpec((d) => (d.spec.template.spec.containers[0].image = 'v2'));
    await rollUntilDone(env, 2, 1, 0);
    const v1 = env.rss().find((rs) => rs.spec!.template!.spec!.containers[0]!.image === 'v1')!;
    // kubectl rollout undo: the deployment gets the old ReplicaSet's template back.
    env.updateSpec((d) => (d.spec.template.spec.containers[0].image = 'v1'));
    await rollUntilDone(env, 2, 1, 0);
    expect(env.rss()).toHaveLength(2);
    const again = env.rss().find((rs) => rs.metadata!.uid === v1.metadata!.uid)!;
    expect(again.spec!.replicas).toBe(2);
    expect(again.metadata!.annotations![REVISION_ANNOTATION]).toBe('3');
    expect(again.metadata!.annotations![REVISION_HISTORY_ANNOTATION]).toBe('1');
    expect(env.deployment().metadata!.annotations![REVISION_ANNOTATION]).toBe('3');
  });

  it('Recreate scales old ReplicaSets to zero and waits before creating the new one', async () => {
    const env = setup(newDeployment(3, 'v1', { type: 'Recreate', rollingUpdate: undefined }));
    await env.ctrl.sync('default/web');
    env.simulatePods();
    env.simulatePods();
    env.updateSpec((d) => (d.spec.template.spec.containers[0].image = 'v2'));
    await env.ctrl.sync('default/web');
    expect(env.rss().map((rs) => rs.spec!.replicas)).toEqual([0]);
    // Old pods still running: no new ReplicaSet yet.
    await env.ctrl.sync('default/web');
    expect(env.rss()).toHaveLength(1);
    env.simulatePods();
    await env.ctrl.sync('default/web');
    expect(env.rss()).toHaveLength(2);
    expect(env.rss().find((rs) => rs.spec!.template!.spec!.containers[0]!.image === 'v2')!.spec!.replicas).toBe(3);
  });

  it('cleans up old ReplicaSets beyond revisionHistoryLimit', async () => {
    const d = newDeployment(1, 'v1');
    d.spec.revisionHistoryLimit = 1;
    const env = setup(d);
    for (const image of ['v2', 'v3', 'v4']) {
      await rollUntilDone(env, 1, 1, 0);
      env.updateSpec((x) => (x.spec.template.spec.containers[0].image = image));
    }
    await rollUntilDone(env, 1, 1, 0);
    await env.ctrl.sync('default/web');
    const images = env.rss().map((rs) => rs.spec!.template!.spec!.containers[0]!.image).sort();
    expect(images).toEqual(['v3', 'v4']);
    expect(env.control.deleted).toHaveLength(2);
  });

  it('a paused deployment only scales, and records the paused condition', async () => {
    const env = setup(newDeployment(2, 'v1'));
    await rollUntilDone(env, 2, 1, 0);
    env.updateSpec((d) => {
      d.spec.paused = true;
      d.spec.template.spec.containers[0].image = 'v2';
      d.spec.replicas = 4;
    });
    await env.ctrl.sync('default/web');
    expect(env.rss()).toHaveLength(1);
    expect(env.rss()[0]!.spec!.replicas).toBe(4);
    expect(env.deployment().status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    env.updateSpec((d) => (d.spec.paused = false));
    await env.ctrl.sync('default/web');
    expect(env.rss()).toHaveLength(2);
  });

  it('marks a stuck rollout ProgressDeadlineExceeded', async () => {
    const d = newDeployment(1, 'v1');
    d.spec.progressDeadlineSeconds = 60;
    const env = setup(d);
    await env.ctrl.sync('default/web');
    // No pod ever becomes available; time passes beyond the deadline.
    await env.clock.step(61_000);
    await env.ctrl.sync('default/web');
    expect(env.deployment().status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
  });

  it('warns about an empty selector and does nothing else', async () => {
    const d = newDeployment(1, 'v1');
    d.spec.selector = {};
    const env = setup(d);
    await env.ctrl.sync('default/web');
    expect(env.rss()).toHaveLength(0);
    expect(env.recorder.events).toEqual(['Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required.']);
  });
});
