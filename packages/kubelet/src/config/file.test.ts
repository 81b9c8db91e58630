import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import { decodeStaticPod, FileSource, isMirrorPod, isStaticPod, rfc3339Nano } from './file.js';

const NODE = 'node-a';
const WEB_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: web
    image: nginx
`;
const WEB_JSON = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api', namespace: 'kube-system' }, spec: { containers: [{ name: 'api', image: 'busybox' }] } });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeStaticPod', () => {
  it('names the pod <name>-<node>, binds it to the node, defaults namespace and spec, and annotates its hash', () => {
    const pod = decodeStaticPod(WEB_YAML, '/etc/kubernetes/manifests/web.yaml', NODE);
    expect(pod.metadata).toMatchObject({ name: 'web-node-a', namespace: 'default', labels: { app: 'web' } });
    expect(pod.metadata!.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod.metadata!.annotations!['kubernetes.io/config.hash']).toBe(pod.metadata!.uid);
    expect(pod.spec!.nodeName).toBe(NODE);
    expect(pod.spec!.tolerations).toEqual([{ operator: 'Exists', effect: 'NoExecute' }]);
    // The apiserver's defaults, as the kubelet decodes with them.
    expect(pod.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 });
    expect(pod.spec!.containers[0]).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' });
    expect(pod.status).toEqual({ phase: 'Pending' });
    expect(isStaticPod(pod)).toBe(false); // The source annotation comes from the FileSource.
  });

  it('reads JSON and keeps an explicit namespace; keeps a toleration that is already there once', () => {
    const pod = decodeStaticPod(WEB_JSON, '/m/api.json', NODE);
    expect(pod.metadata).toMatchObject({ name: 'api-node-a', namespace: 'kube-system' });
    const tolerating = WEB_YAML.replace('spec:\n', 'spec:\n  tolerations: [{ operator: Exists, effect: NoExecute }]\n');
    expect(decodeStaticPod(tolerating, '/m/web.yaml', NODE).spec!.tolerations).toEqual([{ operator: 'Exists', effect: 'NoExecute' }]);
  });

  it('hashes content, node and file: the UID is stable and changes with any of them', () => {
    const uid = (data: string, file: string, node: string) => decodeStaticPod(data, file, node).metadata!.uid;
    const base = uid(WEB_YAML, '/m/web.yaml', NODE);
    expect(uid(WEB_YAML, '/m/web.yaml', NODE)).toBe(base);
    // Same pod written differently (key order, JSON instead of YAML): same hash.
    const sameAsJSON = JSON.stringify({ kind: 'Pod', spec: { containers: [{ image: 'nginx', name: 'web' }] }, metadata: { labels: { app: 'web' }, name: 'web' }, apiVersion: 'v1' });
    expect(uid(sameAsJSON, '/m/web.yaml', NODE)).toBe(base);
    expect(uid(WEB_YAML.replace('image: nginx', 'image: nginx:1.7.9'), '/m/web.yaml', NODE)).not.toBe(base);
    expect(uid(WEB_YAML, '/m/other.yaml', NODE)).not.toBe(base);
    expect(uid(WEB_YAML, '/m/web.yaml', 'node-b')).not.toBe(base);
    // A UID in the manifest is kept.
    expect(uid(WEB_YAML.replace('  name: web\n', '  name: web\n  uid: my-uid\n'), '/m/web.yaml', NODE)).toBe('my-uid');
  });

  it('refuses what is not one valid, named v1 Pod', () => {
    expect(() => decodeStaticPod('kind: Pod\napiVersion: v1\nmetadata: {}\nspec: {containers: [{name: a, image: b}]}\n', '/m/a', NODE)).toThrow(
      'invalid pod: name is needed for the pod',
    );
    expect(() => decodeStaticPod('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n', '/m/d', NODE)).toThrow(/couldn't parse as pod/);
    expect(() => decodeStaticPod('{{{', '/m/broken', NODE)).toThrow(/couldn't parse as pod/);
    expect(() => decodeStaticPod(WEB_YAML.replace('name: web\n    image', 'name: Web_1\n    image'), '/m/web.yaml', NODE)).toThrow(/^invalid pod: .*spec\.containers\[0\]\.name/);
  });
});

describe('FileSource', () => {
  const source = (sets: Pod[][], now = () => Date.UTC(2026, 0, 2, 3, 4, 5, 120)) =>
    new FileSource({ path: dir, nodeName: NODE, onPods: (p) => sets.push(p), clock: { now, setTimeout, clearTimeout } as never });

  it('reads every non-hidden manifest, skips broken ones and subdirectories, and annotates source and first-seen time', () => {
    writeFileSync(join(dir, 'web.yaml'), WEB_YAML);
    writeFileSync(join(dir, 'api.json'), WEB_JSON);
    writeFileSync(join(dir, '.hidden.yaml'), WEB_YAML.replace('name: web\n  labels', 'name: hidden\n  labels'));
    writeFileSync(join(dir, 'broken.yaml'), 'kind: Pod\n');
    const sets: Pod[][] = [];
    const pods = source(sets).sync();
    expect(pods.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`)).toEqual(['kube-system/api-node-a', 'default/web-node-a']);
    expect(pods[1]!.metadata!.annotations).toMatchObject({ 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.seen': '2026-01-02T03:04:05.12Z' });
    expect(isStaticPod(pods[1]!)).toBe(true);
    expect(isMirrorPod(pods[1]!)).toBe(false);
    expect(sets).toHaveLength(1);
  });

  it('reports the set only when it changed, keeping the first-seen time of an unchanged pod', () => {
    let now = Date.UTC(2026, 0, 1);
    const sets: Pod[][] = [];
    const s = source(sets, () => now);
    writeFileSync(join(dir, 'web.yaml'), WEB_YAML);
    const first = s.sync();
    now += 60_000;
    s.sync();
    expect(sets).toHaveLength(1);
    writeFileSync(join(dir, 'api.json'), WEB_JSON);
    const second = s.sync();
    expect(sets).toHaveLength(2);
    expect(second.find((p) => p.metadata!.name === 'web-node-a')!.metadata!.annotations!['kubernetes.io/config.seen']).toBe('2026-01-01T00:00:00Z');
    // An edited manifest is another pod (a new UID); a removed one is gone.
    writeFileSync(join(dir, 'web.yaml'), WEB_YAML.replace('image: nginx', 'image: busybox'));
    const third = s.sync();
    expect(third.find((p) => p.metadata!.name === 'web-node-a')!.metadata!.uid).not.toBe(first[0]!.metadata!.uid);
    unlinkSync(join(dir, 'api.json'));
    expect(s.sync().map((p) => p.metadata!.name)).toEqual(['web-node-a']);
    expect(sets).toHaveLength(4);
  });

  it('a missing directory is an empty set', () => {
    const sets: Pod[][] = [];
    const s = new FileSource({ path: join(dir, 'absent'), nodeName: NODE, onPods: (p) => sets.push(p) });
    expect(s.sync()).toEqual([]);
    expect(sets).toEqual([[]]);
  });

  it('notices a new and a removed manifest through the watch, without waiting for the resync period', async () => {
    const sets: Pod[][] = [];
    const s = new FileSource({ path: dir, nodeName: NODE, onPods: (p) => sets.push(p), periodMs: 60_000 });
    expect(s.start()).toEqual([]);
    try {
      writeFileSync(join(dir, 'web.yaml'), WEB_YAML);
      await expect.poll(() => sets.at(-1)?.map((p) => p.metadata!.name), { timeout: 3000, interval: 50 }).toEqual(['web-node-a']);
      unlinkSync(join(dir, 'web.yaml'));
      await expect.poll(() => sets.at(-1)?.length, { timeout: 3000, interval: 50 }).toBe(0);
    } finally {
      s.stop();
    }
  });

  it('re-reads every period (a manifest placed where no watch could see it)', async () => {
    const sets: Pod[][] = [];
    const path = join(dir, 'later');
    const s = new FileSource({ path, nodeName: NODE, onPods: (p) => sets.push(p), periodMs: 100 });
    s.start();
    try {
      // The directory does not exist at start, so nothing watches it.
      const { mkdirSync } = await import('node:fs');
      mkdirSync(path);
      writeFileSync(join(path, 'web.yaml'), WEB_YAML);
      await expect.poll(() => sets.at(-1)?.length, { timeout: 3000, interval: 50 }).toBe(1);
    } finally {
      s.stop();
    }
  });

  it('formats first-seen times as Go RFC3339Nano', () => {
    expect(rfc3339Nano(Date.UTC(2026, 0, 1, 0, 0, 0, 0))).toBe('2026-01-01T00:00:00Z');
    expect(rfc3339Nano(Date.UTC(2026, 0, 1, 0, 0, 0, 500))).toBe('2026-01-01T00:00:00.5Z');
  });
});
