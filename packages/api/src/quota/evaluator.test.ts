import { describe, expect, it } from 'vitest';
import type { ResourceQuota } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../types.js';
import { calculateQuotaUsage, prettyPrintQuotaUsage, quotaStatus, usageOf } from './evaluator.js';

const now = new Date('2026-01-01T00:00:00Z');

function pod(name: string, resources?: { requests?: Record<string, string>; limits?: Record<string, string> }, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'x', ...(resources ? { resources } : {}) }], ...extra } } as KubeObject;
}

function quota(hard: Record<string, string>, spec: Partial<ResourceQuota['spec']> = {}): ResourceQuota {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns' }, spec: { hard, ...spec } };
}

describe('quota evaluator', () => {
  it('measures services and generic counts', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } } as KubeObject;
    expect(prettyPrintQuotaUsage(usageOf('', 'services', svc))).toBe('count/services=1,services=1,services.nodeports=2');
    expect(prettyPrintQuotaUsage(usageOf('apps', 'deployments', svc))).toBe('count/deployments.apps=1');
    const lb = { ...svc, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } } as KubeObject;
    expect(prettyPrintQuotaUsage(usageOf('', 'services', lb))).toBe('count/services=1,services=1,services.loadbalancers=1,services.nodeports=1');
  });

  it("sums a pod's requests and limits, the largest init container and the overhead", () => {
    const p = pod('a', { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m' } }, {
      initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '500m' } } }],
      overhead: { cpu: '10m' },
    });
    expect(prettyPrintQuotaUsage(usageOf('', 'pods', p))).toBe(
      'count/pods=1,cpu=510m,limits.cpu=210m,memory=64Mi,pods=1,requests.cpu=510m,requests.memory=64Mi',
    );
  });

  it('computes used for every hard name from non-terminal pods, and copies hard', () => {
    const done = pod('done', { requests: { cpu: '1' } });
    (done as { status?: unknown }).status = { phase: 'Failed' };
    const gone = pod('gone', { requests: { cpu: '1' } });
    gone.metadata = { ...gone.metadata, deletionTimestamp: '2025-12-31T23:59:00Z', deletionGracePeriodSeconds: 30 };
    const q = quota({ pods: '10', 'requests.cpu': '4', 'requests.memory': '1Gi', 'count/configmaps': '5', secrets: '3', 'count/deployments.apps': '2' });
    const objects: Record<string, KubeObject[]> = {
      '/pods': [pod('a', { requests: { cpu: '250m' } }), pod('b', { requests: { cpu: '1', memory: '128Mi' } }), done, gone],
      '/configmaps': [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } } as KubeObject],
    };
    const used = calculateQuotaUsage(q, (g, r) => objects[`${g}/${r}`] ?? (r === 'secrets' ? [] : undefined), now);
    expect(quotaStatus(q, used)).toEqual({
      hard: q.spec!.hard,
      used: { 'count/configmaps': '1', 'count/deployments.apps': '0', pods: '2', 'requests.cpu': '1250m', 'requests.memory': '128Mi', secrets: '0' },
    });
  });

  it('applies the BestEffort, NotBestEffort, Terminating and NotTerminating scopes to pods only', () => {
    const objects = [pod('be'), pod('burst', { requests: { cpu: '100m' } }), pod('deadline', undefined, { activeDeadlineSeconds: 60 })];
    const count = (scopes: string[]) => calculateQuotaUsage(quota({ pods: '9' }, { scopes }), () => objects, now).get('pods')!.toString();
    expect(count(['BestEffort'])).toBe('2');
    expect(count(['NotBestEffort'])).toBe('1');
    expect(count(['Terminating'])).toBe('1');
    expect(count(['NotTerminating'])).toBe('2');
    expect(count(['BestEffort', 'NotTerminating'])).toBe('1');
    const cms = calculateQuotaUsage(quota({ configmaps: '9' }, { scopes: ['BestEffort'] }), () => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } as KubeObject], now);
    expect(cms.get('configmaps')!.toString()).toBe('0');
  });
});
