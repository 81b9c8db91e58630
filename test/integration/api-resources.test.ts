// `kubectl api-resources -o wide` (the real kubectl v1.32) against a real apiserver: the storage, ingress,
// autoscaling and disruption resources that the seed notes use are discovered with upstream 1.32's short names,
// preferred version, scope, kind, verbs and categories (pkg/registry/*/storage: ShortNames, Categories; every one
// a full generic store: create, delete, deletecollection, get, list, patch, update, watch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

const ALL_VERBS = 'create,delete,deletecollection,get,list,patch,update,watch';

/** Upstream v1.32's discovery for these resources: [name, short names, group/version, namespaced, kind, verbs, categories]. */
const UPSTREAM: [string, string, string, string, string, string, string][] = [
  ['persistentvolumeclaims', 'pvc', 'v1', 'true', 'PersistentVolumeClaim', ALL_VERBS, ''],
  ['persistentvolumes', 'pv', 'v1', 'false', 'PersistentVolume', ALL_VERBS, ''],
  ['podtemplates', '', 'v1', 'true', 'PodTemplate', ALL_VERBS, ''],
  ['horizontalpodautoscalers', 'hpa', 'autoscaling/v2', 'true', 'HorizontalPodAutoscaler', ALL_VERBS, 'all'],
  ['ingressclasses', '', 'networking.k8s.io/v1', 'false', 'IngressClass', ALL_VERBS, ''],
  ['ingresses', 'ing', 'networking.k8s.io/v1', 'true', 'Ingress', ALL_VERBS, ''],
  ['poddisruptionbudgets', 'pdb', 'policy/v1', 'true', 'PodDisruptionBudget', ALL_VERBS, ''],
  ['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass', ALL_VERBS, ''],
];

/** Splits a table into rows of cells by the header's column starts (cells may be empty). */
function table(out: string): { header: string[]; rows: string[][] } {
  const [head = '', ...lines] = out.split('\n').filter((l) => l !== '');
  const starts = [...head.matchAll(/\S+/g)].map((m) => m.index ?? 0);
  const cut = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1] ?? line.length).trim());
  return { header: cut(head), rows: lines.map(cut) };
}

describe('kubectl api-resources', () => {
  it('lists storage, ingress, autoscaling and disruption resources as upstream 1.32 does (-o wide)', async () => {
    const r = await kubectl(api.kubeconfig, ['api-resources', '-o', 'wide']);
    expect(r.stderr).toBe('');
    const { header, rows } = table(r.stdout);
    expect(header).toEqual(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES']);
    for (const want of UPSTREAM) {
      const found = rows.filter((row) => row[0] === want[0]);
      expect(found, want[0]).toEqual([want]);
    }
  });

  it('finds them by short name and by group', async () => {
    const storage = await kubectl(api.kubeconfig, ['api-resources', '--api-group=storage.k8s.io', '-o', 'name']);
    expect(storage.stdout.split('\n')).toContain('storageclasses.storage.k8s.io');
    const networking = await kubectl(api.kubeconfig, ['api-resources', '--api-group=networking.k8s.io', '--namespaced=false', '-o', 'name']);
    expect(networking.stdout.split('\n')).toContain('ingressclasses.networking.k8s.io');
    expect(networking.stdout.split('\n')).not.toContain('ingresses.networking.k8s.io');
    // Short names resolve for get (nothing exists yet: kubectl says so on stderr).
    for (const short of ['pv', 'pvc', 'sc', 'ing', 'hpa', 'pdb', 'podtemplates', 'ingressclasses']) {
      const got = await kubectl(api.kubeconfig, ['get', short, '-A']);
      expect(got.code, `${short}: ${got.stderr}`).toBe(0);
      expect(got.stderr).toBe('No resources found\n');
    }
  });
});
