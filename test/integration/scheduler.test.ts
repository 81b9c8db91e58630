// kube-scheduler against a real apiserver + etcd, with Node objects made by the test (no kubelet):
// placement by resources, nodeSelector, affinity, taints, spread and priority, as upstream would place
// pods, and the FailedScheduling/Scheduled events `kubectl describe pod` shows.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { RestClient, loadKubeconfig } from '@kubelab/client';
import { createScheduler, DECISION_ANNOTATION, defaults, EXPLAIN_ANNOTATION, validate, type Scheduler } from '@kubelab/scheduler';
import { freePort } from '../fixtures/ports.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let scheduler: Scheduler;
const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const EVENTS = findResource('', 'v1', 'events')!;

function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: object[] } = {}): KubeObject {
  const allocatable = { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: opts.pods ?? '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints },
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}, cpu = '100m'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...meta },
    spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu } } }], ...spec },
  };
}

async function createNode(n: KubeObject): Promise<void> {
  const created = await client.resource(NODES).create(n);
  // status is ignored on create: write it through /status.
  await client.resource(NODES).updateStatus({ ...created, status: n.status });
}

const pods = () => client.resource(PODS, 'default');

async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const nodeOf = (name: string) => waitFor(async () => (await pods().get(name)).spec?.nodeName as string | undefined, `${name} to be bound`);

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient({ ...loadKubeconfig(api.kubeconfig), qps: 0 });
  const config = validate({ ...defaults(), kubeconfig: api.kubeconfig, leaderElect: true, leaderElectRetryPeriodMs: 200, leaderElectRenewDeadlineMs: 1000, leaderElectLeaseDurationMs: 2000, securePort: await freePort(), bindAddress: '127.0.0.1' });
  scheduler = createScheduler(config);
  await scheduler.start();
});

afterAll(async () => {
  await scheduler?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('kube-scheduler', () => {
  it('holds the Lease kube-system/kube-scheduler', async () => {
    const lease = await waitFor(async () => {
      try {
        return await client.resourceFor('coordination.k8s.io/v1', 'Lease', 'kube-system').get('kube-scheduler');
      } catch {
        return undefined;
      }
    }, 'lease');
    expect(lease.spec.holderIdentity).toBe(scheduler.config.identity);
  });

  it('a too-big pod stays Pending with the upstream message, and schedules when a big node appears', async () => {
    await createNode(node('small-1', { cpu: '1' }));
    await createNode(node('small-2', { cpu: '1' }));
    await createNode(node('infra-1', { cpu: '8', taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] }));
    await pods().create(pod('big', {}, {}, '4'));
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..';
    const p = await waitFor(async () => {
      const p = await pods().get('big');
      return p.status?.conditions?.find((c: { type: string; message: string }) => c.type === 'PodScheduled' && c.message === expected) ? p : undefined;
    }, 'PodScheduled condition');
    expect(p.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expected });
    const ev = await waitFor(async () => {
      const list = await client.resource(EVENTS, 'default').list({ fieldSelector: 'involvedObject.name=big' });
      return list.items.find((e) => e.reason === 'FailedScheduling');
    }, 'FailedScheduling event');
    // The scheduler records events.k8s.io/v1 Events (as upstream); read as core/v1 they carry reportingComponent.
    expect(ev).toMatchObject({ type: 'Warning', message: expected, reportingComponent: 'default-scheduler' });

    await createNode(node('big-1', { cpu: '8' }));
    expect(await nodeOf('big')).toBe('big-1');
    const d = await kubectl(api.kubeconfig, ['describe', 'pod', 'big']);
    expect(d.stdout).toMatch(/Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: infra\}, 2 Insufficient cpu\./);
    await waitFor(async () => /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/big to big-1/.test((await kubectl(api.kubeconfig, ['describe', 'pod', 'big'])).stdout), 'Scheduled event in describe');
  });

  it('places pods by node affinity and taints', async () => {
    await createNode(node('tainted', { cpu: '4', labels: { zone: 'z9' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await pods().create(
      pod('aff', {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z9'] }] }] } } },
      }),
    );
    const untolerated = await waitFor(async () => (await pods().get('aff')).status?.conditions?.[0]?.message as string | undefined, 'aff condition');
    expect(untolerated).toContain('1 node(s) had untolerated taint {dedicated: gpu}');
    await pods().create(
      pod('tol', {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z9'] }] }] } } },
      }),
    );
    expect(await nodeOf('tol')).toBe('tainted');
  });

  it('spreads with required anti-affinity and explains the decision when asked', async () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } }] } };
    for (const n of ['w1', 'w2']) await pods().create(pod(n, { affinity: anti }, { labels: { app: 'web' }, annotations: { [EXPLAIN_ANNOTATION]: 'true' } }));
    const [a, b] = [await nodeOf('w1'), await nodeOf('w2')];
    expect(a).not.toBe(b);
    const rec = await waitFor(async () => (await pods().get('w2')).metadata.annotations?.[DECISION_ANNOTATION] as string | undefined, 'decision record');
    const parsed = JSON.parse(rec);
    expect(parsed.selectedNode).toBe(b);
    expect(parsed.nodes[a]).toEqual({ rejectedBy: 'InterPodAffinity', reasons: ["node(s) didn't match pod anti-affinity rules"] });
    expect(parsed.nodes[b].scores).toHaveProperty('NodeResourcesFit');
  });

  it('a high-priority pod preempts a lower-priority one', async () => {
    await createNode(node('prio', { cpu: '1', labels: { pool: 'prio' } }));
    // Priorities come from PriorityClasses: the Priority admission plugin fills spec.priority, as upstream.
    const classes = client.resource(findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!);
    await classes.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'low' }, value: 0 });
    await classes.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    await pods().create(pod('low', { nodeSelector: { pool: 'prio' }, priorityClassName: 'low' }, {}, '800m'));
    expect(await nodeOf('low')).toBe('prio');
    await pods().create(pod('high', { nodeSelector: { pool: 'prio' }, priorityClassName: 'high' }, {}, '800m'));
    expect((await pods().get('high')).spec.priority).toBe(1000);
    const nominated = await waitFor(async () => (await pods().get('high')).status?.nominatedNodeName as string | undefined, 'nominatedNodeName');
    expect(nominated).toBe('prio');
    // No kubelet here: play its part and finish the victim's graceful deletion.
    await waitFor(async () => {
      try {
        return !!(await pods().get('low')).metadata.deletionTimestamp;
      } catch {
        return true;
      }
    }, 'victim to be terminating');
    await pods().delete('low', { gracePeriodSeconds: 0 }).catch(() => undefined);
    expect(await nodeOf('high')).toBe('prio');
    const events = await client.resource(EVENTS, 'default').list({ fieldSelector: 'involvedObject.name=low' });
    expect(events.items.map((e) => e.reason)).toContain('Preempted');
  });

  it('spreads pods across zones with a DoNotSchedule topology constraint', async () => {
    await createNode(node('za', { cpu: '4', labels: { pool: 'spread', zone: 'a' } }));
    await createNode(node('zb', { cpu: '4', labels: { pool: 'spread', zone: 'b' } }));
    const tsc = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
    const placed: string[] = [];
    for (let i = 0; i < 4; i++) {
      await pods().create(pod(`s${i}`, { nodeSelector: { pool: 'spread' }, topologySpreadConstraints: tsc }, { labels: { app: 'spread' } }));
      placed.push(await nodeOf(`s${i}`));
    }
    expect(placed.filter((n) => n === 'za')).toHaveLength(2);
    expect(placed.filter((n) => n === 'zb')).toHaveLength(2);
  });

  it('serves upstream metric names', async () => {
    // The secure port: an admin client certificate (system:masters), the scheduler's self-signed serving certificate.
    const text = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: scheduler.port(), path: '/metrics', cert: api.adminCert, key: api.adminKey, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
      });
      req.on('error', reject);
    });
    expect(text).toMatch(/scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} \d+/);
    expect(text).toMatch(/scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} \d+/);
    expect(text).toContain('scheduler_scheduling_attempt_duration_seconds_bucket');
    expect(text).toMatch(/scheduler_pending_pods\{queue="unschedulable"\} \d+/);
  });
});
