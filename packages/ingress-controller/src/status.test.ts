import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Ingress } from 'kubernetes-types/networking/v1';
import { loadBalancerIngress, nodeAddresses, siblingSelector, statusUpToDate } from './status.js';

const pod = (hostIP: string, phase = 'Running', deleting = false): Pod => ({
  metadata: { name: `p-${hostIP}`, deletionTimestamp: deleting ? '2026-01-01T00:00:00Z' : undefined },
  status: { phase, hostIP },
});

describe('status', () => {
  it('publishes the distinct node IPs of running controller pods, in address order', () => {
    expect(nodeAddresses([pod('172.30.0.12'), pod('172.30.0.9'), pod('172.30.0.12'), pod('172.30.0.13', 'Pending'), pod('172.30.0.14', 'Running', true)])).toEqual([
      '172.30.0.9',
      '172.30.0.12',
    ]);
  });
  it('selects sibling pods by labels without the revision hashes', () => {
    const p: Pod = { metadata: { labels: { 'controller-revision-hash': 'abc', 'app.kubernetes.io/name': 'ingress', 'pod-template-generation': '1', tier: 'edge' } } };
    expect(siblingSelector(p)).toBe('app.kubernetes.io/name=ingress,tier=edge');
  });
  it('compares the current status with the desired one', () => {
    const desired = loadBalancerIngress(['172.30.0.11', 'lb.example']);
    expect(desired).toEqual([{ ip: '172.30.0.11' }, { hostname: 'lb.example' }]);
    const ing: Ingress = { status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }, { ip: '172.30.0.11' }] } } };
    expect(statusUpToDate(ing, desired)).toBe(true);
    expect(statusUpToDate({}, desired)).toBe(false);
    expect(statusUpToDate(ing, loadBalancerIngress(['172.30.0.11']))).toBe(false);
  });
});
