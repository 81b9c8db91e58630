// Job, CronJob, StatefulSet and DaemonSet controllers (in-process kube-controller-manager) against a
// real apiserver + etcd. No kubelet or scheduler runs: the test sets pod status itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { Informer, listWatchFor, loadKubeconfig, realClock, RestClient, type Clock } from '@kubelab/client';
import { createLogger, silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { until } from '../fixtures/wait.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;
let cm: ControllerManager;
const informers: Informer<KubeObject>[] = [];

const pods = findResource('', 'v1', 'pods')!;
const nodes = findResource('', 'v1', 'nodes')!;
const serviceaccounts = findResource('', 'v1', 'serviceaccounts')!;
const namespaces = findResource('', 'v1', 'namespaces')!;
const jobs = findResource('batch', 'v1', 'jobs')!;
const cronjobs = findResource('batch', 'v1', 'cronjobs')!;
const statefulsets = findResource('apps', 'v1', 'statefulsets')!;
const daemonsets = findResource('apps', 'v1', 'daemonsets')!;
const controllerrevisions = findResource('apps', 'v1', 'controllerrevisions')!;

/** Real time shifted by `offsetMs`: lets the CronJob test move "now" to just before a minute boundary. */
let offsetMs = 0;
const shiftedClock: Clock = { now: () => Date.now() + offsetMs, setTimeout: realClock.setTimeout, clearTimeout: realClock.clearTimeout };

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const config = validate({
    ...defaults(),
    leaderElect: false,
    securePort: 0,
    controllers: ['job-controller', 'ttl-after-finished-controller', 'cronjob-controller', 'statefulset-controller', 'daemonset-controller', 'garbage-collector-controller', 'serviceaccount-controller'],
  });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: process.env.WL_DEBUG ? createLogger("kcm", "debug") : silentLogger(), clock: shiftedClock });
  await cm.start();
  for (const ns of ['jobs', 'cron', 'sts', 'ds']) {
    await client.resource(namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // Pods are only admitted once the namespace's default ServiceAccount exists.
    await until(`the default ServiceAccount in ${ns}`, () => client.resource(serviceaccounts, ns).get('default'));
  }
});

afterAll(async () => {
  for (const i of informers) await i.stop();
  await cm?.stop();
  client?.close();
  await api?.stop();
  await etcd?.stop();
});


const rfc3339 = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Watches the pods of a namespace and calls `onPod` for each add/update (the test's stand-in for a kubelet). */
function watchPods(namespace: string, onPod: (pod: KubeObject, kind: 'add' | 'update') => void): Informer<KubeObject> {
  const inf = new Informer<KubeObject>({ listWatch: listWatchFor(client, pods, namespace) });
  inf.addEventHandler({ onAdd: (p) => onPod(p, 'add'), onUpdate: (_o, p) => onPod(p, 'update') });
  inf.start();
  informers.push(inf);
  return inf;
}

const setPodStatus = (ns: string, name: string, status: object) =>
  client.resource(pods, ns).patch(name, { status }, 'merge', { subresource: 'status' }).catch(() => undefined);

describe('workload controllers', () => {
  it('a Job with completions 5 and parallelism 2 completes, never running more than 2 pods', async () => {
    const ns = 'jobs';
    const live = new Set<string>();
    let maxActive = 0;
    watchPods(ns, (pod) => {
      const name = pod.metadata.name!;
      if (pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase)) {
        live.delete(name);
        return;
      }
      if (live.has(name)) return;
      live.add(name);
      maxActive = Math.max(maxActive, live.size);
      // "Run" the pod for a moment, then let it succeed.
      setTimeout(() => void setPodStatus(ns, name, { phase: 'Succeeded' }), 200);
    });
    await client.resource(jobs, ns).create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi' },
      spec: { completions: 5, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } },
    });
    const done = await until('the Job to complete', async () => {
      const j = await client.resource(jobs, ns).get('pi');
      return j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') && j;
    });
    expect(done.status.succeeded).toBe(5);
    expect(done.status.active ?? 0).toBe(0);
    expect(done.status.completionTime).toBeTruthy();
    expect(done.status.conditions.find((c: any) => c.type === 'Complete').reason).toBe('CompletionsReached');
    expect(maxActive).toBeLessThanOrEqual(2);
    const list = await client.resource(pods, ns).list();
    expect(list.items).toHaveLength(5);
    // Every pod was counted and released: no tracking finalizer is left behind.
    expect(list.items.every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'))).toBe(true);
  });

  it('a CronJob creates a Job at each schedule time', async () => {
    const ns = 'cron';
    // Move the controller's clock to 2 s before the next minute boundary.
    const real = Date.now();
    offsetMs = Math.ceil(real / 60_000) * 60_000 + 60_000 - 2_000 - real;
    await client.resource(cronjobs, ns).create({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    });
    const firstMinute = Math.floor((Date.now() + offsetMs + 2_500) / 60_000);
    const first = await until(
      'the first scheduled Job',
      async () => (await client.resource(jobs, ns).list()).items.find((j) => j.metadata.name === `tick-${firstMinute}`),
      15_000,
    );
    expect(first.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    expect(first.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(firstMinute * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const cj = await until('lastScheduleTime', async () => {
      const c = await client.resource(cronjobs, ns).get('tick');
      return c.status?.lastScheduleTime && c;
    });
    expect(cj.status.active.map((r: any) => r.name)).toContain(`tick-${firstMinute}`);

    // A minute later (by the controller's clock) the next Job follows.
    offsetMs += 60_000;
    await client.resource(cronjobs, ns).patch('tick', { metadata: { annotations: { poke: '1' } } }, 'merge');
    await until('the second scheduled Job', async () => (await client.resource(jobs, ns).list()).items.find((j) => j.metadata.name === `tick-${firstMinute + 1}`), 15_000);
    offsetMs = 0;
  });

  it('a StatefulSet creates web-0, web-1, web-2 in order, each after the previous is Running and Ready', async () => {
    const ns = 'sts';
    const order: string[] = [];
    const readyAtCreate: Record<string, string[]> = {};
    const ready = new Set<string>();
    watchPods(ns, (pod, kind) => {
      const name = pod.metadata.name!;
      if (kind === 'add' && !order.includes(name)) {
        order.push(name);
        readyAtCreate[name] = [...ready];
        setTimeout(() => void setPodStatus(ns, name, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339() }] }), 300);
      }
      if (pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) ready.add(name);
    });
    await client.resource(statefulsets, ns).create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'nginx' } },
        template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
      },
    });
    const set = await until('3 ready replicas', async () => {
      const s = await client.resource(statefulsets, ns).get('web');
      return s.status?.readyReplicas === 3 && s;
    });
    expect(order).toEqual(['web-0', 'web-1', 'web-2']);
    expect(readyAtCreate['web-1']).toEqual(['web-0']);
    expect(readyAtCreate['web-2']!.sort()).toEqual(['web-0', 'web-1']);
    const web1 = await client.resource(pods, ns).get('web-1');
    expect(web1.spec.hostname).toBe('web-1');
    expect(web1.spec.subdomain).toBe('nginx');
    expect(web1.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe('web-1');
    expect(web1.metadata.labels?.['controller-revision-hash']).toBe(set.status.updateRevision);
    const revs = await client.resource(controllerrevisions, ns).list();
    expect(revs.items.map((r) => r.metadata.name)).toEqual([set.status.updateRevision]);
  });

  it('a DaemonSet follows nodes as they are added and removed', async () => {
    const ns = 'ds';
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} });
    await client.resource(nodes).create(node('worker-1'));
    await client.resource(nodes).create(node('worker-2'));
    await client.resource(daemonsets, ns).create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent' }] } },
      },
    });
    const target = (p: KubeObject): string | undefined =>
      p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0];
    const podNodes = async () =>
      (await client.resource(pods, ns).list()).items
        .filter((p) => !p.metadata.deletionTimestamp)
        .map(target)
        .sort()
        .join(',');
    await until('a pod on each of 2 nodes', async () => (await podNodes()) === 'worker-1,worker-2');
    const pod = (await client.resource(pods, ns).list()).items[0]!;
    expect(pod.spec.tolerations.map((t: any) => t.key)).toContain('node.kubernetes.io/unreachable');
    expect(pod.metadata.labels?.['controller-revision-hash']).toBeTruthy();

    await client.resource(nodes).create(node('worker-3'));
    await until('a pod on the new node', async () => (await podNodes()) === 'worker-1,worker-2,worker-3');
    await client.resource(nodes).delete('worker-1');
    await until('the removed node to lose its pod', async () => (await podNodes()) === 'worker-2,worker-3');
    const ds = await until('status for 2 nodes', async () => {
      const d = await client.resource(daemonsets, ns).get('agent');
      return d.status?.desiredNumberScheduled === 2 && d.status?.currentNumberScheduled === 2 && d;
    });
    expect(ds.status.numberMisscheduled).toBe(0);
  });
});
