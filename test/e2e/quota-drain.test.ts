// End to end (what the seed notes do with quotas and node maintenance), on two netns nodes with the real kubectl:
// a namespace's ResourceQuota fills in as pods are created and deleted and refuses the pod over the limit with
// upstream's message; `kubectl cordon` keeps new pods off a node (SchedulingDisabled; a DaemonSet's pods still
// land there) until `uncordon`; `kubectl drain` refuses without --ignore-daemonsets and --delete-emptydir-data,
// then evicts a Deployment's two pods through the eviction subresource, waits while its PodDisruptionBudget
// (minAvailable 1) allows no disruption, goes on once the first pod's replacement runs on the other node, and ends
// with both pods Running there and the daemon left in place. Needs root (CI runs as root); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
const timings: Record<string, number> = {};
const NS = 'quota-demo';

const pod = (name: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${NS} }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: busybox
    command: [sleep, '3600']
    resources:
      requests: { cpu: 100m, memory: 32Mi }
      limits: { cpu: 100m, memory: 64Mi }
`;

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: sh
        image: busybox
        command: [sleep, '3600']
        volumeMounts: [{ name: scratch, mountPath: /scratch }]
      volumes:
      - { name: scratch, emptyDir: {} }
`;

/** A daemon on every node, cordoned or not (its pods tolerate node.kubernetes.io/unschedulable); drain leaves it. */
const DAEMONSET = `
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: sh
        image: busybox
        command: [sleep, '3600']
`;

async function jsonpath(args: string[], path: string): Promise<string> {
  const r = await lab.k([...args, '-o', `jsonpath=${path}`]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The rows of `kubectl describe quota` below its header, as resource -> [used, hard]. */
async function describeQuota(name: string): Promise<Record<string, [string, string]>> {
  const out = await lab.k(['-n', NS, 'describe', 'quota', name]);
  if (out.code !== 0) throw new Error(out.stderr);
  const lines = out.stdout.split('\n');
  const header = lines.findIndex((l) => /^Resource\s+Used\s+Hard$/.test(l.trim()));
  const rows: Record<string, [string, string]> = {};
  for (const line of lines.slice(header + 2)) {
    const [resource, used, hard] = line.trim().split(/\s+/);
    if (resource && used && hard) rows[resource] = [used, hard];
  }
  return rows;
}

/** The pods labelled app=<app> as name -> [node, phase], deleted ones (Terminating) left out. */
async function podsOf(app: string): Promise<Map<string, [string, string]>> {
  const out = await jsonpath(
    ['get', 'pods', '-l', `app=${app}`],
    '{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}',
  );
  const pods = new Map<string, [string, string]>();
  for (const line of out.split('\n')) {
    const [name, node, phase, deleted] = line.trim().split(' ');
    if (name && !deleted) pods.set(name, [node ?? '', phase ?? '']);
  }
  return pods;
}

/** A node's STATUS column in `kubectl get nodes`. */
async function nodeStatus(node: string): Promise<string> {
  const r = await lab.k(['get', 'nodes', node, '--no-headers']);
  return r.stdout.trim().split(/\s+/)[1] ?? '';
}

describe.skipIf(!isRoot)('quotas, cordon and drain on a two-node lab', () => {
  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `qd${process.pid % 1000}-`, indexBase: 50, clusterCIDR: '10.244.24.0/21', nodes: 2, clusterDNS: false });
    timings['hack/lab up --nodes 2'] = Date.now() - began;
  }, 600_000);

  afterAll(async () => {
    if (!lab) return;
    console.log(`quota-drain e2e timings (ms): ${JSON.stringify(timings)}\n${lab.upOutput}`);
    await lab.down();
  }, 180_000);

  it('fills in a ResourceQuota as pods are created and deleted, and refuses the pod over the limit', async () => {
    const began = Date.now();
    expect((await lab.k(['create', 'namespace', NS])).stdout).toBe(`namespace/${NS} created\n`);
    const quota = await lab.k(['-n', NS, 'create', 'quota', 'compute', '--hard=pods=2,requests.cpu=1,limits.memory=1Gi']);
    expect(quota.stdout).toBe('resourcequota/compute created\n');
    await until('the quota filled in', async () => (await describeQuota('compute')).pods?.[0] === '0', 30_000);
    expect(await describeQuota('compute')).toEqual({ 'limits.memory': ['0', '1Gi'], pods: ['0', '2'], 'requests.cpu': ['0', '1'] });

    expect((await lab.k(['apply', '-f', '-'], pod('first'))).stdout).toBe('pod/first created\n');
    expect((await lab.k(['apply', '-f', '-'], pod('second'))).stdout).toBe('pod/second created\n');
    await until('first and second Running', async () => (await jsonpath(['-n', NS, 'get', 'pods'], '{.items[*].status.phase}')) === 'Running Running', 120_000);
    await until('both pods counted', async () => (await describeQuota('compute')).pods?.[0] === '2', 30_000);
    expect(await describeQuota('compute')).toEqual({ 'limits.memory': ['128Mi', '1Gi'], pods: ['2', '2'], 'requests.cpu': ['200m', '1'] });

    const over = await lab.k(['apply', '-f', '-'], pod('third'));
    expect(over.code).not.toBe(0);
    expect(over.stderr.trim()).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "third" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2',
    );

    // A deleted pod frees its share; then the third fits.
    expect((await lab.k(['-n', NS, 'delete', 'pod', 'first', '--wait=true'], undefined, 60_000)).stdout).toBe('pod "first" deleted\n');
    await until('the deleted pod freed', async () => (await describeQuota('compute')).pods?.[0] === '1', 30_000);
    expect(await describeQuota('compute')).toEqual({ 'limits.memory': ['64Mi', '1Gi'], pods: ['1', '2'], 'requests.cpu': ['100m', '1'] });
    expect((await lab.k(['apply', '-f', '-'], pod('third'))).stdout).toBe('pod/third created\n');
    await until('third counted', async () => (await describeQuota('compute')).pods?.[0] === '2', 30_000);
    expect((await lab.k(['delete', 'namespace', NS, '--wait=false'])).code).toBe(0);
    timings.quota = Date.now() - began;
  }, 240_000);

  it('keeps new pods off a cordoned node (SchedulingDisabled) until it is uncordoned', async () => {
    const began = Date.now();
    const [first, second] = lab.nodes as [string, string];
    // The second node is cordoned while the Deployment starts: both replicas land on the first, which the drain
    // below then empties against the Deployment's budget.
    expect((await lab.k(['cordon', second])).stdout).toBe(`node/${second} cordoned\n`);
    expect(await nodeStatus(second)).toBe('Ready,SchedulingDisabled');
    expect(await nodeStatus(first)).toBe('Ready');
    expect(await jsonpath(['get', 'node', second], '{.spec.taints[*].key}')).toContain('node.kubernetes.io/unschedulable');

    expect((await lab.k(['apply', '-f', '-'], `${DEPLOYMENT}---${DAEMONSET}`)).stdout).toBe('deployment.apps/web created\ndaemonset.apps/agent created\n');
    const running = (app: string, n: number) => async () => {
      const p = await podsOf(app);
      return p.size === n && [...p.values()].every(([, phase]) => phase === 'Running') ? p : undefined;
    };
    const pods = await until('web 2/2 Running', running('web', 2), 120_000);
    expect([...pods.values()].map(([node]) => node)).toEqual([first, first]);
    // A DaemonSet's pods tolerate the cordon: one on each node.
    const agents = await until('agent Running on both nodes', running('agent', 2), 60_000);
    expect([...agents.values()].map(([node]) => node).sort()).toEqual([first, second]);

    expect((await lab.k(['uncordon', second])).stdout).toBe(`node/${second} uncordoned\n`);
    expect(await nodeStatus(second)).toBe('Ready');
    expect(await jsonpath(['get', 'node', second], '{.spec.unschedulable}')).toBe('');
    // Uncordoning again changes nothing, as upstream says.
    expect((await lab.k(['uncordon', second])).stdout).toBe(`node/${second} already uncordoned\n`);
    timings.cordon = Date.now() - began;
  }, 180_000);

  it('drains a node: evicts, waits on the PodDisruptionBudget while the replacement starts elsewhere, then completes', async () => {
    const began = Date.now();
    const [first, second] = lab.nodes as [string, string];
    expect((await lab.k(['create', 'pdb', 'web', '--selector=app=web', '--min-available=1'])).stdout).toBe('poddisruptionbudget.policy/web created\n');
    await until('the budget to allow one disruption', async () => (await jsonpath(['get', 'pdb', 'web'], '{.status.disruptionsAllowed}')) === '1', 30_000);
    expect((await lab.k(['get', 'pdb', 'web'])).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+1\s+N\/A\s+1\s+\S+\n$/);
    const before = [...(await podsOf('web')).keys()];
    const agent = [...(await podsOf('agent')).entries()].find(([, [node]]) => node === first)?.[0];
    expect(agent).toBeDefined();

    // Without the flags, drain cordons the node but evicts nothing: a DaemonSet's pod and emptyDir data are in the way.
    const refused = await lab.k(['drain', first], undefined, 60_000);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe(`node/${first} cordoned\n`);
    expect(refused.stderr).toContain(`error: unable to drain node "${first}" due to error: `);
    expect(refused.stderr).toContain(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/${agent}`);
    expect(refused.stderr).toContain('cannot delete Pods with local storage (use --delete-emptydir-data to override): default/web-');
    expect([...(await podsOf('web')).keys()].sort()).toEqual([...before].sort());

    const drain = await lab.k(['drain', first, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s'], undefined, 150_000);
    timings.drain = Date.now() - began;
    console.log(`kubectl drain ${first}:\n${drain.stdout}${drain.stderr}`);
    expect(drain.code, `${drain.stdout}\n${drain.stderr}`).toBe(0);
    expect(drain.stdout).toContain(`node/${first} already cordoned`);
    expect(drain.stderr).toContain(`Warning: ignoring DaemonSet-managed Pods: default/${agent}`);
    for (const name of before) {
      expect(drain.stdout).toContain(`evicting pod default/${name}`);
      expect(drain.stdout).toContain(`pod/${name} evicted`);
    }
    // The second eviction waited on the budget (429) until the first pod's replacement ran on the other node.
    expect(drain.stderr).toMatch(
      /error when evicting pods\/"web-\S+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
    );
    expect(drain.stdout).toMatch(new RegExp(`node/${first} drained\\n$`));
    expect(await nodeStatus(first)).toBe('Ready,SchedulingDisabled');

    const after = await until(
      'web 2/2 Running on the other node',
      async () => {
        const p = await podsOf('web');
        return p.size === 2 && [...p.values()].every(([node, phase]) => node === second && phase === 'Running') ? p : undefined;
      },
      60_000,
    );
    for (const name of before) expect(after.has(name)).toBe(false);
    // The daemon stays on the drained node.
    expect((await podsOf('agent')).get(agent!)).toEqual([first, 'Running']);
    expect((await lab.k(['uncordon', first])).stdout).toBe(`node/${first} uncordoned\n`);
  }, 240_000);
});
