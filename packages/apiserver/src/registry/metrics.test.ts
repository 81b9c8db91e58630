import type { KubeList, KubeObject } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { cpuQuantity, memoryQuantity, nodeMetricsREST, podMetricsREST, type MetricsSources, type Summary } from './metrics.js';

const NOW = new Date('2024-05-01T10:00:05.123Z');
const T = '2024-05-01T10:00:00Z';

const node = (name: string, ready = true): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
});
const pod = (name: string, nodeName: string, uid: string): Pod => ({
  metadata: { name, namespace: 'default', uid, labels: { app: name } },
  spec: { nodeName, containers: [{ name: 'c' }] },
  status: { phase: 'Running' },
});

const summaries: Record<string, Summary> = {
  n1: {
    node: { nodeName: 'n1', cpu: { time: T, usageNanoCores: 1_250_000_000 }, memory: { time: T, workingSetBytes: 512 * 1024 * 1024 } },
    pods: [
      { podRef: { name: 'burner', namespace: 'default', uid: 'u1' }, containers: [{ name: 'c', cpu: { time: T, usageNanoCores: 998_123_456 }, memory: { time: T, workingSetBytes: 1_000_000 } }] },
      // Measured once only: no rate yet.
      { podRef: { name: 'young', namespace: 'default', uid: 'u2' }, containers: [{ name: 'c', cpu: { time: T }, memory: { time: T, workingSetBytes: 4096 } }] },
    ],
  },
  // First housekeeping not done: no rate.
  n2: { node: { nodeName: 'n2', cpu: { time: T }, memory: { time: T, workingSetBytes: 1 } } },
};

function sources(): MetricsSources {
  const nodes = [node('n1'), node('n2'), node('n3', false)];
  const pods = [pod('burner', 'n1', 'u1'), pod('young', 'n1', 'u2'), pod('pending', '', 'u3')];
  const list = (items: unknown[]) => ({ apiVersion: 'v1', kind: 'List', metadata: {}, items }) as KubeList;
  const missing = (what: string) => Promise.reject(new Error(`${what} not found`));
  return {
    getNode: async (name) => ((nodes.find((n) => n.metadata?.name === name) as KubeObject | undefined) ?? missing(name)),
    listNodes: async () => list(nodes),
    getPod: async (_ns, name) => (pods.find((p) => p.metadata?.name === name) as KubeObject | undefined) ?? missing(name),
    listPods: async () => list(pods),
    summary: async (n) => summaries[n.metadata?.name ?? ''],
    now: () => NOW,
  };
}

describe('quantities', () => {
  it('formats cpu nanocores and memory bytes as metrics-server does', () => {
    expect([0, 2e9, 250e6, 5000, 998_123_456].map(cpuQuantity)).toEqual(['0', '2', '250m', '5u', '998123456n']);
    expect([0, 1000, 999, 4096, 512 * 1024 * 1024, 1025, 1_000_000].map(memoryQuantity)).toEqual(['0', '1k', '999', '4Ki', '512Mi', '1025', '1000000']);
  });
});

describe('NodeMetrics', () => {
  it('lists the Ready nodes whose kubelet has a CPU rate', async () => {
    const l = await nodeMetricsREST(sources()).list('', {});
    expect(l.kind).toBe('NodeMetricsList');
    expect(l.apiVersion).toBe('metrics.k8s.io/v1beta1');
    expect(l.items).toEqual([
      {
        kind: 'NodeMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: 'n1', creationTimestamp: '2024-05-01T10:00:05Z', labels: { 'kubernetes.io/hostname': 'n1' } },
        timestamp: T,
        window: '10s',
        usage: { cpu: '1250m', memory: '512Mi' },
      },
    ]);
  });

  it('refuses a malformed label selector with 400 BadRequest, not a 500', async () => {
    await expect(nodeMetricsREST(sources()).list('', { labelSelector: 'a b' })).rejects.toMatchObject({ status: { code: 400, reason: 'BadRequest' } });
  });

  it('gets one node, NotFound without metrics', async () => {
    const rest = nodeMetricsREST(sources());
    expect(((await rest.get('', 'n1')) as unknown as { usage: unknown }).usage).toEqual({ cpu: '1250m', memory: '512Mi' });
    for (const name of ['n2', 'n3', 'nope']) await expect(rest.get('', name)).rejects.toMatchObject({ status: { code: 404, message: `nodemetrics "${name}" not found` } });
  });
});

describe('PodMetrics', () => {
  it('lists running pods with every container measured', async () => {
    const l = await podMetricsREST(sources()).list('default', {});
    expect(l.kind).toBe('PodMetricsList');
    expect(l.items).toEqual([
      {
        kind: 'PodMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: 'burner', namespace: 'default', creationTimestamp: '2024-05-01T10:00:05Z', labels: { app: 'burner' } },
        timestamp: T,
        window: '10s',
        containers: [{ name: 'c', usage: { cpu: '998123456n', memory: '1000000' } }],
      },
    ]);
  });

  it('gets one pod, NotFound without metrics', async () => {
    const rest = podMetricsREST(sources());
    expect(((await rest.get('default', 'burner')) as unknown as { containers: unknown[] }).containers).toHaveLength(1);
    for (const name of ['young', 'pending', 'nope']) await expect(rest.get('default', name)).rejects.toMatchObject({ status: { code: 404, message: `podmetrics "${name}" not found` } });
  });
});
