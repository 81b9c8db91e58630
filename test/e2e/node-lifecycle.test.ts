// End to end (upstream: test/e2e/node/pods.go OOM and test/e2e/apps/rc.go / node lifecycle, reduced): on a two-node
// lab, a container over its memory limit is OOMKilled and restarted as the seed notes show with kuard; a node whose
// kubelet stops turns NotReady, gets the unreachable taints, and a Deployment's pod on it is replaced on the other
// node once its toleration runs out. Needs root (CI runs as root); skipped otherwise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
const timings: Record<string, number> = {};

interface PodJSON {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    containerStatuses?: {
      restartCount: number;
      ready?: boolean;
      containerID?: string;
      state: { running?: object };
      lastState: { terminated?: { reason?: string; exitCode: number } };
    }[];
  };
}

const pod = async (name: string) => JSON.parse((await lab.k(['get', 'pod', name, '-o', 'json'])).stdout) as PodJSON;

describe.skipIf(!isRoot)('container and node failures on a two-node lab', () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `nlc${process.pid % 1000}-`, indexBase: 180, clusterCIDR: '10.244.64.0/19', nodes: 2 });
    timings['hack/lab up --nodes 2'] = Date.now() - began;
  }, 420_000);

  afterAll(async () => {
    if (!lab) return;
    console.log(`node lifecycle e2e timings (ms): ${JSON.stringify(timings)}`);
    await lab.down();
  }, 180_000);

  it('OOM-kills a container that allocates past its memory limit, reports OOMKilled and restarts it', async () => {
    const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: hog }
spec:
  containers:
  - name: hog
    image: gcr.io/kuar-demo/kuard-amd64:blue
    command: [/bin/memhog, '64']
    resources: { requests: { memory: 16Mi }, limits: { memory: 16Mi } }
`;
    expect((await lab.k(['apply', '-f', '-'], manifest)).stderr).toBe('');
    const terminated = await until('the OOM kill recorded in lastState', async () => {
      const cs = (await pod('hog')).status.containerStatuses?.[0];
      return cs && cs.restartCount >= 1 && cs.lastState.terminated;
    }, 120_000);
    expect(terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    // kubectl shows the restart (RESTARTS >= 1). The STATUS column depends on the moment: OOMKilled or back-off
    // between restarts, Running for the instant after a restart before memhog reaches the limit again.
    const line = (await lab.k(['get', 'pod', 'hog'])).stdout.split('\n')[1]!;
    expect(line).toMatch(/^hog\s+[01]\/1\s+(OOMKilled|CrashLoopBackOff|Error|Running)\s+[1-9]/);
    // Described, the container's last state carries the reason a user looks for.
    expect((await lab.k(['describe', 'pod', 'hog'])).stdout).toMatch(/Last State:\s+Terminated\n\s+Reason:\s+OOMKilled/);
    await lab.k(['delete', 'pod', 'hog', '--grace-period=0', '--force']);
  });

  it('a restarted kubelet adopts the pods it left running, and stops one deleted while it was down', async () => {
    const node = lab.nodes[0]!;
    const podManifest = (name: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 2
  containers: [{ name: web, image: nginx, readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 2 } }]
`;
    for (const name of ['kept', 'gone']) expect((await lab.k(['apply', '-f', '-'], podManifest(name))).stderr).toBe('');
    const ready = async (name: string) => {
      const cs = (await pod(name)).status.containerStatuses?.[0];
      return cs?.ready ? cs : undefined;
    };
    const before = await until('kept Ready', () => ready('kept'), 120_000);
    await until('gone Ready', () => ready('gone'), 60_000);

    // The kubelet stops gracefully; its containers keep running. A pod is deleted meanwhile (it stays Terminating).
    const pid = Number(readFileSync(join(lab.state, 'run', `kubelet-${node}.pid`), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await until('the kubelet to exit', async () => !alive(pid), 30_000);
    await lab.k(['delete', 'pod', 'gone', '--wait=false']);
    const restarted = Date.now();
    await lab.up();

    // The same container, never restarted, still Ready; the deleted pod's containers are stopped and it goes away.
    await until('gone removed', async () => !(await lab.k(['get', 'pod', 'gone'])).stdout.includes('gone'), 60_000);
    timings['kubelet restarted -> deleted pod removed'] = Date.now() - restarted;
    const after = await until('kept Ready again', () => ready('kept'), 60_000);
    expect(after.containerID).toBe(before.containerID);
    expect(after.restartCount).toBe(0);
    await lab.k(['delete', 'pod', 'kept', '--grace-period=0', '--force']);
  });

  it('marks a node whose kubelet stopped NotReady, taints it unreachable, and replaces its pods elsewhere', async () => {
    // Pods that tolerate an unreachable node for 5 s instead of the default 300 s (DefaultTolerationSeconds).
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: spread }
spec:
  replicas: 2
  selector: { matchLabels: { app: spread } }
  template:
    metadata: { labels: { app: spread } }
    spec:
      tolerations:
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm: { topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { app: spread } } }
      containers: [{ name: web, image: nginx }]
`;
    expect((await lab.k(['apply', '-f', '-'], manifest)).stderr).toBe('');
    const running = async () => {
      const r = await lab.k(['get', 'pods', '-l', 'app=spread', '-o', 'json']);
      return (JSON.parse(r.stdout) as { items: PodJSON[] }).items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
    };
    const before = await until('2 spread pods Running on both nodes', async () => {
      const pods = await running();
      return pods.length === 2 && new Set(pods.map((p) => p.spec.nodeName)).size === 2 && pods;
    }, 120_000);
    const [survivor, victim] = lab.nodes as [string, string];
    const victimPod = before.find((p) => p.spec.nodeName === victim)!.metadata.name;

    // The kubelet stops (as a crashed node's would): no more status updates or Lease renewals.
    const pid = Number(readFileSync(join(lab.state, 'run', `kubelet-${victim}.pid`), 'utf8'));
    const stopped = Date.now();
    process.kill(pid, 'SIGKILL');
    await until('the kubelet to exit', async () => !alive(pid), 10_000);

    const notReady = await until(`${victim} NotReady`, async () => {
      const r = await lab.k(['get', 'nodes']);
      return new RegExp(`^${victim}\\s+NotReady\\s`, 'm').test(r.stdout) && r.stdout;
    }, 120_000);
    timings['kubelet stopped -> NotReady'] = Date.now() - stopped;
    expect(notReady).toMatch(new RegExp(`^${survivor}\\s+Ready\\s`, 'm'));
    const cond = await lab.k(['get', 'node', victim, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}']);
    expect(cond.stdout).toBe('Unknown NodeStatusUnknown');
    const taints = await until('the unreachable NoExecute taint', async () => {
      const r = await lab.k(['get', 'node', victim, '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}']);
      return r.stdout.includes('node.kubernetes.io/unreachable:NoExecute') && r.stdout;
    }, 30_000);
    expect(taints).toContain('node.kubernetes.io/unreachable:NoSchedule');

    // After its 5 s toleration the pod is evicted (deleted; it stays Terminating while its kubelet is gone) and the
    // ReplicaSet's replacement runs on the surviving node.
    await until(`${victimPod} marked for deletion`, async () => Boolean((await pod(victimPod)).metadata.deletionTimestamp), 60_000);
    const after = await until('2 Running pods on the surviving node', async () => {
      const pods = await running();
      return pods.length === 2 && pods.every((p) => p.spec.nodeName === survivor) && pods;
    }, 120_000);
    timings['kubelet stopped -> pods replaced'] = Date.now() - stopped;
    expect(after.map((p) => p.metadata.name)).not.toContain(victimPod);
    const events = await lab.k(['get', 'events', '--field-selector', `involvedObject.name=${victimPod}`]);
    expect(events.stdout).toMatch(/TaintManagerEviction\s+pod\/\S+\s+Marking for deletion Pod default\/\S+/);
  });
});
