// End to end (upstream: test/e2e/storage, reduced to what the seed notes do): `hack/lab up` creates the default
// StorageClass `standard` (Kubelab's local-path provisioner, WaitForFirstConsumer). A claim without a class gets
// it, is provisioned on the node of its first pod and bound; a file written by a pod survives the pod and is read
// by its replacement; deleting the claim deletes the volume and its directory; a StatefulSet gets one claim per
// replica; a pod whose claim does not exist is unschedulable. Needs root (CI runs as root); skipped otherwise.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, type Lab, startLab } from '../fixtures/lab.js';
import { until } from '../fixtures/wait.js';

let lab: Lab;
const timings: Record<string, number> = {};

const CLAIM = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
`;

const pod = (name: string, script: string, claim = 'data') => `
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: busybox
    command: [sh, -c, '${script}']
    volumeMounts: [{ name: store, mountPath: /data }]
  volumes:
  - name: store
    persistentVolumeClaim: { claimName: ${claim} }
`;

const STATEFULSET = `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: nginx
        image: nginx
        volumeMounts: [{ name: www, mountPath: /usr/share/nginx/html }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 32Mi } }
`;

async function jsonpath(args: string[], path: string): Promise<string> {
  const r = await lab.k([...args, '-o', `jsonpath=${path}`]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const phase = (name: string) => jsonpath(['get', 'pod', name], '{.status.phase}');

async function sh(name: string, script: string): Promise<string> {
  const r = await lab.k(['exec', name, '--', 'sh', '-c', script]);
  if (r.code !== 0) throw new Error(`kubectl exec ${name} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe.skipIf(!isRoot)('persistent volumes on a two-node lab', () => {
  let volume = '';
  let node = '';

  beforeAll(async () => {
    const began = Date.now();
    lab = await startLab({ prefix: `sto${process.pid % 1000}-`, indexBase: 30, clusterCIDR: '10.244.8.0/21', nodes: 2, clusterDNS: false });
    timings['hack/lab up --nodes 2'] = Date.now() - began;
  }, 600_000);

  afterAll(async () => {
    if (!lab) return;
    console.log(`storage e2e timings (ms): ${JSON.stringify(timings)}\n${lab.upOutput}`);
    await lab.down();
  }, 180_000);

  it('serves the default StorageClass standard', async () => {
    const r = await lab.k(['get', 'sc']);
    expect(r.stdout).toMatch(/^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m);
    expect(r.stdout).toMatch(/^standard \(default\)\s+kubelab\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\S+$/m);
  });

  it('gives a claim the default class and keeps it Pending until a pod uses it', async () => {
    expect((await lab.k(['apply', '-f', '-'], CLAIM)).stderr).toBe('');
    expect(await jsonpath(['get', 'pvc', 'data'], '{.spec.storageClassName}')).toBe('standard');
    // The binder says why it waits.
    await until('the WaitForFirstConsumer event', async () => (await lab.k(['describe', 'pvc', 'data'])).stdout.includes('waiting for first consumer to be created before binding'), 30_000);
    expect((await lab.k(['get', 'pvc', 'data'])).stdout).toMatch(/^data\s+Pending\s+standard\s+<unset>\s+\S+$/m);
  });

  it('provisions and binds the volume on the node of the first pod, which writes a file', async () => {
    const began = Date.now();
    expect((await lab.k(['apply', '-f', '-'], pod('writer', 'echo written-by-writer > /data/greeting && sleep 3600'))).stderr).toBe('');
    await until('writer Running', async () => (await phase('writer')) === 'Running', 120_000);
    timings['first pod Running with a provisioned volume'] = Date.now() - began;
    node = await jsonpath(['get', 'pod', 'writer'], '{.spec.nodeName}');
    expect(lab.nodes).toContain(node);
    expect(await jsonpath(['get', 'pvc', 'data'], "{.metadata.annotations['volume\\.kubernetes\\.io/selected-node']}")).toBe(node);
    volume = await jsonpath(['get', 'pvc', 'data'], '{.spec.volumeName}');
    expect(volume).toMatch(/^pvc-[0-9a-f-]{36}$/);

    const r = await lab.k(['get', 'pv,pvc']);
    expect(r.stdout).toMatch(/^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/m);
    expect(r.stdout).toMatch(new RegExp(`^persistentvolume/${volume}\\s+64Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+standard\\s+<unset>\\s+\\S+$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^persistentvolumeclaim/data\\s+Bound\\s+${volume}\\s+64Mi\\s+RWO\\s+standard\\s+<unset>\\s+\\S+$`, 'm'));

    const pv = JSON.parse((await lab.k(['get', 'pv', volume, '-o', 'json'])).stdout) as {
      spec: { hostPath: { path: string }; nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: { key: string; values: string[] }[] }[] } } };
    };
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]).toMatchObject({ key: 'kubernetes.io/hostname', values: [node] });
    expect(pv.spec.hostPath.path).toBe(`/var/lib/kubelab/local-path/${volume}`);
    expect((await sh('writer', 'cat /data/greeting')).trim()).toBe('written-by-writer');
  }, 180_000);

  it('keeps the data when the pod is deleted: its replacement reads the file', async () => {
    expect((await lab.k(['delete', 'pod', 'writer', '--wait=true'], undefined, 120_000)).code).toBe(0);
    expect((await lab.k(['get', 'pvc', 'data'])).stdout).toMatch(/^data\s+Bound\s/m);
    expect((await lab.k(['apply', '-f', '-'], pod('reader', 'sleep 3600'))).stderr).toBe('');
    await until('reader Running', async () => (await phase('reader')) === 'Running', 120_000);
    // The volume's node affinity brings the replacement to the same node.
    expect(await jsonpath(['get', 'pod', 'reader'], '{.spec.nodeName}')).toBe(node);
    expect((await sh('reader', 'cat /data/greeting')).trim()).toBe('written-by-writer');
  }, 240_000);

  it('deletes the volume and its directory once the claim is deleted (reclaim policy Delete)', async () => {
    expect((await lab.k(['delete', 'pod', 'reader', '--wait=true'], undefined, 120_000)).code).toBe(0);
    expect((await lab.k(['delete', 'pvc', 'data'])).code).toBe(0);
    await until('the volume deleted', async () => (await lab.k(['get', 'pv', volume])).stderr.includes('NotFound'), 120_000);
    expect(existsSync(`/var/lib/kubelab/local-path/${volume}`)).toBe(false);
  }, 180_000);

  it('gives each StatefulSet replica its own claim, www-web-<ordinal>, bound', async () => {
    expect((await lab.k(['apply', '-f', '-'], STATEFULSET)).stderr).toBe('');
    await until('web-0 and web-1 Running', async () => (await phase('web-0')) === 'Running' && (await phase('web-1').catch(() => '')) === 'Running', 240_000);
    const r = await lab.k(['get', 'pvc']);
    expect(r.stdout).toMatch(/^www-web-0\s+Bound\s+pvc-\S+\s+32Mi\s+RWO\s+standard\s/m);
    expect(r.stdout).toMatch(/^www-web-1\s+Bound\s+pvc-\S+\s+32Mi\s+RWO\s+standard\s/m);
    expect(await jsonpath(['get', 'pod', 'web-1'], '{.spec.volumes[0].persistentVolumeClaim.claimName}')).toBe('www-web-1');

    // The claims outlive the set (retention policy Retain); deleting them deletes their volumes and directories.
    const volumes = (await jsonpath(['get', 'pvc', 'www-web-0', 'www-web-1'], '{.items[*].spec.volumeName}')).split(' ');
    expect((await lab.k(['delete', 'statefulset', 'web', '--wait=true'], undefined, 120_000)).code).toBe(0);
    await until('the set\'s pods gone', async () => (await lab.k(['get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout.trim() === '', 120_000);
    expect((await lab.k(['get', 'pvc', 'www-web-0', 'www-web-1', '-o', 'name'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await lab.k(['delete', 'pvc', 'www-web-0', 'www-web-1'])).code).toBe(0);
    await until('their volumes deleted', async () => (await lab.k(['get', 'pv', '-o', 'name'])).stdout.trim() === '', 120_000);
    for (const v of volumes) expect(existsSync(`/var/lib/kubelab/local-path/${v}`)).toBe(false);
  }, 420_000);

  it('leaves a pod whose claim does not exist unschedulable, with upstream\'s message', async () => {
    expect((await lab.k(['apply', '-f', '-'], pod('orphan', 'sleep 3600', 'missing'))).stderr).toBe('');
    const message = await until(
      'the PodScheduled=False condition',
      async () => (await jsonpath(['get', 'pod', 'orphan'], '{.status.conditions[?(@.type=="PodScheduled")].message}')) || undefined,
      60_000,
    );
    expect(message).toContain('0/2 nodes are available: persistentvolumeclaim "missing" not found.');
  });
});
