// PersistentVolumes, claims and StorageClasses against a real apiserver + etcd and the controller-manager's
// persistentvolume-binder-controller (no nodes): validation and printers through the real kubectl, the
// DefaultStorageClass admission plugin, the binder binding hand-made volumes by class, capacity and
// selector, then releasing a Retain volume whose claim is deleted, and the protection of a claim in use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { silentLogger } from '@kubelab/component-base';
import { createControllerManager, defaults, validate, type ControllerManager } from '@kubelab/controller-manager';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { kubectl } from '../fixtures/kubectl.js';
import { until } from '../fixtures/wait.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let cm: ControllerManager;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  const config = validate({ ...defaults(), leaderElect: false, securePort: 0, controllers: ['persistentvolume-binder-controller', 'persistentvolumeclaim-protection-controller', 'persistentvolume-protection-controller'] });
  cm = createControllerManager(config, { client: new RestClient(loadKubeconfig(api.kubeconfig)), logger: silentLogger() });
  await cm.start();
});

afterAll(async () => {
  await cm?.stop();
  await api?.stop();
  await etcd?.stop();
});

const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });
const get = async (args: string[], path: string) => (await k(['get', ...args, '-o', `jsonpath=${path}`])).stdout.trim();

const volume = (name: string, storage: string, cls: string, labels = '{}') => `
apiVersion: v1
kind: PersistentVolume
metadata: { name: ${name}, labels: ${labels} }
spec:
  storageClassName: ${cls}
  capacity: { storage: ${storage} }
  accessModes: [ReadWriteOnce]
  hostPath: { path: /mnt/${name} }
`;

const claim = (name: string, storage: string, extra = '') => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${name} }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: ${storage} } }
${extra}
`;

describe('PersistentVolumes, claims and StorageClasses', () => {
  it('refuses invalid objects with upstream\'s messages', async () => {
    const pvc = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\nspec: {resources: {requests: {storage: 1Gi}}}\n');
    expect(pvc.stderr).toContain('The PersistentVolumeClaim "bad" is invalid: spec.accessModes: Required value: at least 1 access mode is required');
    const pv = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: bad}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}\n');
    expect(pv.stderr).toContain('The PersistentVolume "bad" is invalid: spec: Required value: must specify a volume type');
  });

  it('defaults a StorageClass and prints it with "(default)"', async () => {
    const sc = 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: manual, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}\nprovisioner: kubernetes.io/no-provisioner\n';
    expect((await k(['apply', '-f', '-'], sc)).stderr).toBe('');
    expect((await k(['get', 'sc'])).stdout).toMatch(/^manual \(default\)\s+kubernetes\.io\/no-provisioner\s+Delete\s+Immediate\s+false\s+\S+$/m);
    const change = await k(['patch', 'sc', 'manual', '-p', '{"provisioner":"x.io/other"}']);
    expect(change.stderr).toContain('The StorageClass "manual" is invalid: provisioner: Forbidden: updates to provisioner are forbidden.');
  });

  it('binds a claim to the smallest volume that fits, both ways', async () => {
    expect((await k(['apply', '-f', '-'], [volume('small', '1Gi', 'manual'), volume('big', '5Gi', 'manual'), volume('huge', '50Gi', 'manual')].join('---'))).stderr).toBe('');
    await until('volumes Available', async () => (await get(['pv'], '{.items[*].status.phase}')) === 'Available Available Available', 30_000);
    // No class given: the DefaultStorageClass admission plugin fills in `manual`.
    expect((await k(['apply', '-f', '-'], claim('data', '2Gi'))).stderr).toBe('');
    expect(await get(['pvc', 'data'], '{.spec.storageClassName}')).toBe('manual');
    await until('data Bound', async () => (await get(['pvc', 'data'], '{.status.phase}')) === 'Bound', 30_000);
    expect(await get(['pvc', 'data'], '{.spec.volumeName}')).toBe('big');
    expect(await get(['pvc', 'data'], "{.metadata.annotations['pv\\.kubernetes\\.io/bind-completed']}")).toBe('yes');
    await until('big Bound', async () => (await get(['pv', 'big'], '{.status.phase}')) === 'Bound', 30_000);
    const pvs = (await k(['get', 'pv'])).stdout;
    expect(pvs).toMatch(/^big\s+5Gi\s+RWO\s+Retain\s+Bound\s+default\/data\s+manual\s+<unset>\s+\s*\S+$/m);
    expect(pvs).toMatch(/^small\s+1Gi\s+RWO\s+Retain\s+Available\s+manual\s+<unset>\s+\s*\S+$/m);
    expect((await k(['get', 'pvc', 'data'])).stdout).toMatch(/^data\s+Bound\s+big\s+5Gi\s+RWO\s+manual\s+<unset>\s+\S+$/m);
  });

  it('keeps a claim\'s spec fixed, except growing a bound claim', async () => {
    const modes = await k(['patch', 'pvc', 'data', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}']);
    expect(modes.stderr).toContain('The PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
    const shrink = await k(['patch', 'pvc', 'data', '-p', '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}']);
    expect(shrink.stderr).toContain('spec.resources.requests.storage: Forbidden: field can not be less than previous value');
  });

  it('honours a claim\'s selector, and waits when nothing matches', async () => {
    expect((await k(['apply', '-f', '-'], volume('labelled', '1Gi', 'manual', '{tier: gold}'))).stderr).toBe('');
    expect((await k(['apply', '-f', '-'], claim('gold', '1Gi', '  selector: { matchLabels: { tier: gold } }') + '---' + claim('none', '100Gi'))).stderr).toBe('');
    await until('gold Bound', async () => (await get(['pvc', 'gold'], '{.spec.volumeName}')) === 'labelled', 30_000);
    // Its class has no provisioner that could make a volume.
    await until('the ProvisioningFailed event', async () => (await k(['get', 'events', '--field-selector', 'involvedObject.name=none'])).stdout.includes('no volume plugin matched name: kubernetes.io/no-provisioner'), 30_000);
    expect(await get(['pvc', 'none'], '{.status.phase}')).toBe('Pending');
  });

  it('releases a Retain volume when its claim is deleted', async () => {
    expect((await k(['delete', 'pvc', 'data'])).code).toBe(0);
    await until('big Released', async () => (await get(['pv', 'big'], '{.status.phase}')) === 'Released', 30_000);
    expect((await k(['get', 'pv', 'big'])).stdout).toMatch(/^big\s+5Gi\s+RWO\s+Retain\s+Released\s+default\/data\s/m);
  });

  it('keeps a claim a scheduled pod uses Terminating until the pod is gone (pvc-protection)', async () => {
    expect((await k(['apply', '-f', '-'], claim('inuse', '1Gi'))).stderr).toBe('');
    expect(await get(['pvc', 'inuse'], '{.metadata.finalizers}')).toBe('["kubernetes.io/pvc-protection"]');
    await until('inuse Bound', async () => (await get(['pvc', 'inuse'], '{.status.phase}')) === 'Bound', 30_000);
    const user = 'apiVersion: v1\nkind: Pod\nmetadata: {name: user}\nspec: {nodeName: n1, containers: [{name: c, image: busybox}], volumes: [{name: v, persistentVolumeClaim: {claimName: inuse}}]}\n';
    expect((await k(['apply', '-f', '-'], user)).stderr).toBe('');
    expect((await k(['delete', 'pvc', 'inuse', '--wait=false'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await k(['get', 'pvc', 'inuse'])).stdout).toMatch(/^inuse\s+Terminating\s/m);
    expect((await k(['delete', 'pod', 'user', '--grace-period=0', '--force'])).code).toBe(0);
    await until('inuse gone', async () => (await k(['get', 'pvc', 'inuse'])).stderr.includes('NotFound'), 30_000);
  });
});
