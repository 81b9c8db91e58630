// Each plugin against fake node and pod infos: the statuses and reasons upstream returns.
import { describe, expect, it } from 'vitest';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { info, makeNode, makePod, makeSnapshot } from '../framework/testing.js';
import { NodeName } from './node-name.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { NodeResourcesFit } from './node-resources-fit.js';
import { NodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.js';
import { NodeAffinity } from './node-affinity.js';
import { TaintToleration } from './taint-toleration.js';
import { NodePorts } from './node-ports.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import { ImageLocality } from './image-locality.js';

const state = () => new CycleState();

describe('NodeName', () => {
  it('rejects other nodes as unresolvable', () => {
    const snap = makeSnapshot([makeNode('a'), makeNode('b')]);
    const p = info(makePod('p', { nodeName: 'a' }));
    expect(new NodeName().filter(state(), p, snap.get('a')!).isSuccess()).toBe(true);
    const s = new NodeName().filter(state(), p, snap.get('b')!);
    expect([s.code, s.reasons]).toEqual([Code.UnschedulableAndUnresolvable, ["node(s) didn't match the requested node name"]]);
  });
});

describe('NodeUnschedulable', () => {
  it('rejects cordoned nodes unless the pod tolerates the unschedulable taint', () => {
    const n = makeSnapshot([makeNode('a', { unschedulable: true })]).get('a')!;
    expect(new NodeUnschedulable().filter(state(), info(makePod('p')), n).reasons).toEqual(['node(s) were unschedulable']);
    const tolerant = info(makePod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }));
    expect(new NodeUnschedulable().filter(state(), tolerant, n).isSuccess()).toBe(true);
  });
});

describe('NodeResourcesFit', () => {
  const snap = makeSnapshot([makeNode('a', { cpu: '2', memory: '1Gi', pods: '2' })], [[makePod('x', {}, { cpu: '1500m', memory: '512Mi' }), 'a']]);
  const n = snap.get('a')!;
  it('reports every insufficient resource', () => {
    const s = new NodeResourcesFit().filter(state(), info(makePod('p', {}, { cpu: '1', memory: '1Gi' })), n);
    expect([s.code, s.reasons]).toEqual([Code.Unschedulable, ['Insufficient cpu', 'Insufficient memory']]);
    expect(new NodeResourcesFit().filter(state(), info(makePod('p', {}, { cpu: '500m' })), n).isSuccess()).toBe(true);
  });
  it('counts pods against allocatable pods', () => {
    const full = makeSnapshot([makeNode('a', { pods: '1' })], [[makePod('x'), 'a']]).get('a')!;
    expect(new NodeResourcesFit().filter(state(), info(makePod('p')), full).reasons).toEqual(['Too many pods']);
  });
  it('takes the max of init containers, sidecars add up, plus overhead', () => {
    const p = makePod('p', {
      initContainers: [
        { name: 'init', image: 'i', resources: { requests: { cpu: '3' } } },
        { name: 'side', image: 's', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } },
      ],
      overhead: { cpu: '100m' },
    }, { cpu: '1' });
    expect(info(p).requests.milliCPU).toBe(3000 + 100);
    const p2 = makePod('p2', { initContainers: [{ name: 'side', image: 's', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } }] }, { cpu: '1' });
    expect(info(p2).requests.milliCPU).toBe(1500);
  });
  it('LeastAllocated prefers the emptier node', () => {
    const s2 = makeSnapshot([makeNode('busy', { cpu: '4', memory: '4Gi' }), makeNode('idle', { cpu: '4', memory: '4Gi' })], [[makePod('x', {}, { cpu: '3', memory: '3Gi' }), 'busy']]);
    const p = info(makePod('p', {}, { cpu: '1', memory: '1Gi' }));
    const fit = new NodeResourcesFit();
    expect(fit.score(state(), p, s2.get('idle')!)).toBe(75);
    expect(fit.score(state(), p, s2.get('busy')!)).toBe(0);
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  it('scores equal cpu and memory fractions 100', () => {
    const snap = makeSnapshot([makeNode('a', { cpu: '4', memory: '4Gi' })]);
    const ba = new NodeResourcesBalancedAllocation();
    expect(ba.score(state(), info(makePod('p', {}, { cpu: '2', memory: '2Gi' })), snap.get('a')!)).toBe(100);
    expect(ba.score(state(), info(makePod('p', {}, { cpu: '4', memory: '1Gi' })), snap.get('a')!)).toBe(62);
  });
});

describe('NodeAffinity', () => {
  const snap = makeSnapshot([makeNode('ssd', { labels: { disk: 'ssd', gen: '5' } }), makeNode('hdd', { labels: { disk: 'hdd', gen: '3' } })]);
  it('filters by nodeSelector and required terms (In, Gt)', () => {
    const na = new NodeAffinity();
    const bySel = info(makePod('p', { nodeSelector: { disk: 'ssd' } }));
    expect(na.filter(state(), bySel, snap.get('ssd')!).isSuccess()).toBe(true);
    const s = na.filter(state(), bySel, snap.get('hdd')!);
    expect([s.code, s.reasons]).toEqual([Code.UnschedulableAndUnresolvable, ["node(s) didn't match Pod's node affinity/selector"]]);
    const gt = info(
      makePod('p', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }] },
          },
        },
      }),
    );
    expect(na.filter(state(), gt, snap.get('ssd')!).isSuccess()).toBe(true);
    expect(na.filter(state(), gt, snap.get('hdd')!).isSuccess()).toBe(false);
  });
  it('scores preferred terms by weight, normalised to 100', () => {
    const na = new NodeAffinity();
    const p = info(
      makePod('p', {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 20, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }] } },
            ],
          },
        },
      }),
    );
    const scores = [na.score(state(), p, snap.get('ssd')!), na.score(state(), p, snap.get('hdd')!)];
    na.normalizeScore(state(), p, scores);
    expect(scores).toEqual([0, 100]);
  });
});

describe('TaintToleration', () => {
  it('names the first untolerated NoSchedule taint; PreferNoSchedule only lowers the score', () => {
    const snap = makeSnapshot([
      makeNode('t', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      makeNode('soft', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }),
      makeNode('plain'),
    ]);
    const tt = new TaintToleration();
    expect(tt.filter(state(), info(makePod('p')), snap.get('t')!).reasons).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
    expect(tt.filter(state(), info(makePod('p', { tolerations: [{ key: 'dedicated', operator: 'Exists' }] })), snap.get('t')!).isSuccess()).toBe(true);
    expect(tt.filter(state(), info(makePod('p')), snap.get('soft')!).isSuccess()).toBe(true);
    const p = info(makePod('p'));
    const scores = [tt.score(state(), p, snap.get('soft')!), tt.score(state(), p, snap.get('plain')!)];
    tt.normalizeScore(state(), p, scores);
    expect(scores).toEqual([0, 100]);
  });
});

describe('NodePorts', () => {
  it('rejects a node where the host port is taken', () => {
    const withPort = (name: string, ip?: string) => makePod(name, { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: 8080, hostIP: ip }] }] });
    const snap = makeSnapshot([makeNode('a'), makeNode('b')], [[withPort('x', '10.0.0.1'), 'a']]);
    const np = new NodePorts();
    expect(np.filter(state(), info(withPort('p')), snap.get('a')!).reasons).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(np.filter(state(), info(withPort('p', '10.0.0.2')), snap.get('a')!).isSuccess()).toBe(true);
    expect(np.filter(state(), info(withPort('p')), snap.get('b')!).isSuccess()).toBe(true);
  });
});

describe('PodTopologySpread', () => {
  const tsc = (when: 'DoNotSchedule' | 'ScheduleAnyway') => [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'w' } } }];
  const nodes = [makeNode('a1', { labels: { zone: 'a' } }), makeNode('b1', { labels: { zone: 'b' } }), makeNode('nolabel')];
  const w = (n: string) => makePod(n, {}, { labels: { app: 'w' } });
  it('filters domains that would exceed maxSkew and nodes missing the key', () => {
    const snap = makeSnapshot(nodes, [[w('x'), 'a1']]);
    const pts = new PodTopologySpread();
    const p = info(makePod('p', { topologySpreadConstraints: tsc('DoNotSchedule') }, { labels: { app: 'w' } }));
    const st = state();
    expect(pts.preFilter(st, p, snap).status.isSuccess()).toBe(true);
    expect(pts.filter(st, p, snap.get('a1')!).reasons).toEqual(["node(s) didn't match pod topology spread constraints"]);
    expect(pts.filter(st, p, snap.get('b1')!).isSuccess()).toBe(true);
    const s = pts.filter(st, p, snap.get('nolabel')!);
    expect([s.code, s.reasons]).toEqual([Code.UnschedulableAndUnresolvable, ["node(s) didn't match pod topology spread constraints (missing required label)"]]);
  });
  it('scores the emptier domain higher for ScheduleAnyway', () => {
    const snap = makeSnapshot(nodes.slice(0, 2), [[w('x'), 'a1'], [w('y'), 'a1']]);
    const pts = new PodTopologySpread();
    const p = info(makePod('p', { topologySpreadConstraints: tsc('ScheduleAnyway') }, { labels: { app: 'w' } }));
    const st = state();
    const ns = snap.nodes();
    expect(pts.preScore(st, p, ns, snap).isSuccess()).toBe(true);
    const scores = ns.map((n) => pts.score(st, p, n));
    pts.normalizeScore(st, p, scores, ns.map((n) => n.name));
    expect(scores[1]).toBeGreaterThan(scores[0]!);
  });
});

describe('InterPodAffinity', () => {
  const nodes = [makeNode('a', { labels: { zone: 'z1' } }), makeNode('b', { labels: { zone: 'z2' } })];
  const db = makePod('db', {}, { labels: { app: 'db' } });
  it('required affinity goes where the matching pods are', () => {
    const snap = makeSnapshot(nodes, [[db, 'b']]);
    const ipa = new InterPodAffinity();
    const p = info(makePod('p', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchLabels: { app: 'db' } } }] } } }));
    const st = state();
    ipa.preFilter(st, p, snap);
    const s = ipa.filter(st, p, snap.get('a')!, snap);
    expect([s.code, s.reasons]).toEqual([Code.UnschedulableAndUnresolvable, ["node(s) didn't match pod affinity rules"]]);
    expect(ipa.filter(st, p, snap.get('b')!, snap).isSuccess()).toBe(true);
  });
  it('required anti-affinity, both ways', () => {
    const guard = makePod('guard', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchLabels: { app: 'web' } } }] } } });
    const snap = makeSnapshot(nodes, [[db, 'b'], [guard, 'a']]);
    const ipa = new InterPodAffinity();
    const web = info(makePod('web', {}, { labels: { app: 'web' } }));
    let st = state();
    ipa.preFilter(st, web, snap);
    expect(ipa.filter(st, web, snap.get('a')!, snap).reasons).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules"]);
    expect(ipa.filter(st, web, snap.get('b')!, snap).isSuccess()).toBe(true);
    const noDb = info(makePod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchLabels: { app: 'db' } } }] } } }));
    st = state();
    ipa.preFilter(st, noDb, snap);
    expect(ipa.filter(st, noDb, snap.get('b')!, snap).reasons).toEqual(["node(s) didn't match pod anti-affinity rules"]);
  });
  it('preferred affinity scores the matching domain highest', () => {
    const snap = makeSnapshot(nodes, [[db, 'b']]);
    const ipa = new InterPodAffinity();
    const p = info(
      makePod('p', {
        affinity: {
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, podAffinityTerm: { topologyKey: 'zone', labelSelector: { matchLabels: { app: 'db' } } } },
            ],
          },
        },
      }),
    );
    const st = state();
    ipa.preScore(st, p, snap.nodes(), snap);
    const scores = snap.nodes().map((n) => ipa.score(st, p, n));
    ipa.normalizeScore(st, p, scores);
    expect(scores).toEqual([0, 100]);
  });
});

describe('ImageLocality', () => {
  it('prefers the node that has a big image', () => {
    const snap = makeSnapshot([makeNode('has', { images: [{ names: ['docker.io/library/nginx:latest'], sizeBytes: 500 * 1024 * 1024 }] }), makeNode('not')]);
    const il = new ImageLocality();
    const p = info(makePod('p'));
    expect(il.score(state(), p, snap.get('has')!, snap)).toBeGreaterThan(0);
    expect(il.score(state(), p, snap.get('not')!, snap)).toBe(0);
  });
});
