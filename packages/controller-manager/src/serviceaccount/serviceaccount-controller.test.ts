import { describe, expect, it } from 'vitest';
import { alreadyExists, type KubeObject } from '@kubelab/api';
import { seededInformer } from '../testing.js';
import { RootCAPublisher, ROOT_CA_DESCRIPTION } from '../rootca/root-ca-publisher.js';
import { ServiceAccountController } from './serviceaccount-controller.js';

const ns = (name: string, terminating = false): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: terminating ? 'Terminating' : 'Active' } });

describe('ServiceAccountController.sync', () => {
  it('creates default in active namespaces only, and tolerates AlreadyExists', async () => {
    const created: string[] = [];
    const sas = seededInformer([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'has' } }]);
    const ctrl = new ServiceAccountController({
      namespaceInformer: seededInformer([ns('a'), ns('has'), ns('dying', true), ns('race')]),
      serviceAccountInformer: sas,
      createServiceAccount: async (n, sa) => {
        if (n === 'race') throw alreadyExists({ group: '', resource: 'serviceaccounts' }, 'default');
        created.push(`${n}/${sa.metadata.name}`);
      },
    });
    for (const n of ['a', 'has', 'dying', 'race', 'gone']) await ctrl.sync(n);
    expect(created).toEqual(['a/default']);
  });
});

describe('RootCAPublisher.sync', () => {
  it('creates kube-root-ca.crt and repairs a modified one', async () => {
    const writes: KubeObject[] = [];
    const cms = seededInformer([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'b' }, data: { 'ca.crt': 'tampered' } }]);
    const ctrl = new RootCAPublisher({
      namespaceInformer: seededInformer([ns('a'), ns('b')]),
      configMapInformer: cms,
      rootCA: 'PEM',
      createConfigMap: async (_n, cm) => writes.push(cm),
      updateConfigMap: async (cm) => writes.push(cm),
    });
    await ctrl.sync('a');
    await ctrl.sync('b');
    expect(writes.map((w) => [w.metadata.namespace, w.data])).toEqual([
      ['a', { 'ca.crt': 'PEM' }],
      ['b', { 'ca.crt': 'PEM' }],
    ]);
    expect(writes[1]!.metadata.annotations!['kubernetes.io/description']).toBe(ROOT_CA_DESCRIPTION);
    cms.store.add(writes[1]!);
    await ctrl.sync('b');
    expect(writes).toHaveLength(2);
  });
});
