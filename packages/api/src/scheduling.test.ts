import { describe, expect, it } from 'vitest';
import type { Pod, Taint } from 'kubernetes-types/core/v1';
import {
  findUntoleratedTaint,
  getMatchingTolerations,
  nodeSelectorRequirementMatches,
  nodeSelectorTermMatches,
  podMatchesNodeSelectorAndAffinity,
  toleratesTaint,
  tolerationsTolerateTaint,
} from './scheduling.js';
import { rfc3339, rfc3339Micro } from './time.js';

const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const dedicated: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('tolerations', () => {
  it('match as upstream ToleratesTaint', () => {
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, unreachable)).toBe(true);
    expect(toleratesTaint({ operator: 'Exists' }, unreachable)).toBe(true);
    expect(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, unreachable)).toBe(false);
    expect(toleratesTaint({ key: 'dedicated', value: 'gpu' }, dedicated)).toBe(true);
    expect(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'cpu' }, dedicated)).toBe(false);
    // An unknown operator tolerates nothing (the three copies this replaced disagreed here).
    expect(toleratesTaint({ key: 'dedicated', operator: 'Like', value: 'gpu' }, dedicated)).toBe(false);
  });
  it('find the untolerated taint and the tolerations used', () => {
    expect(findUntoleratedTaint([dedicated, unreachable], [{ key: 'dedicated', value: 'gpu' }], ['NoSchedule', 'NoExecute'])).toBe(unreachable);
    expect(findUntoleratedTaint([dedicated], [], ['NoExecute'])).toBeUndefined();
    expect(tolerationsTolerateTaint([{ operator: 'Exists', effect: 'NoExecute' }], unreachable)).toBe(true);
    const t = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
    expect(getMatchingTolerations([unreachable], [t])).toEqual({ all: true, used: [t] });
    expect(getMatchingTolerations([unreachable, dedicated], [t])).toEqual({ all: false, used: [] });
  });
});

describe('node selectors', () => {
  const node = { name: 'node-1', labels: { zone: 'a', cpus: '8' } };
  it('requirements', () => {
    expect(nodeSelectorRequirementMatches({ key: 'zone', operator: 'In', values: ['a', 'b'] }, 'a')).toBe(true);
    expect(nodeSelectorRequirementMatches({ key: 'zone', operator: 'NotIn', values: ['a'] }, undefined)).toBe(true);
    expect(nodeSelectorRequirementMatches({ key: 'cpus', operator: 'Gt', values: ['4'] }, '8')).toBe(true);
    expect(nodeSelectorRequirementMatches({ key: 'cpus', operator: 'Lt', values: ['x'] }, '8')).toBe(false);
  });
  it('terms: labels own properties only, fields by metadata.name, an empty term matches nothing', () => {
    expect(nodeSelectorTermMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, node)).toBe(true);
    expect(nodeSelectorTermMatches({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, node)).toBe(false);
    expect(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }, node)).toBe(true);
    expect(nodeSelectorTermMatches({}, node)).toBe(false);
  });
  it('a pod nodeSelector and required affinity', () => {
    const pod = (spec: Pod['spec']): Pod => ({ spec });
    expect(podMatchesNodeSelectorAndAffinity(pod({ containers: [], nodeSelector: { zone: 'a' } }), node)).toBe(true);
    expect(podMatchesNodeSelectorAndAffinity(pod({ containers: [], nodeSelector: { zone: 'b' } }), node)).toBe(false);
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] }] } } };
    expect(podMatchesNodeSelectorAndAffinity(pod({ containers: [], affinity }), node)).toBe(false);
  });
});

describe('time', () => {
  it('formats metav1.Time and MicroTime', () => {
    const t = Date.UTC(2026, 11, 2, 21, 30, 5, 678);
    expect(rfc3339(t)).toBe('2026-12-02T21:30:05Z');
    expect(rfc3339(new Date(t))).toBe('2026-12-02T21:30:05Z');
    expect(rfc3339Micro(t)).toBe('2026-12-02T21:30:05.678000Z');
  });
});
