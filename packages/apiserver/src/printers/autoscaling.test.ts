import { describe, expect, it } from 'vitest';
import type { MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2';
import { formatHPAMetrics } from './autoscaling.js';

const cpu = (target: Record<string, unknown>): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', ...target } } });

describe('formatHPAMetrics (kubectl get hpa TARGETS)', () => {
  it('shows each metric as current/target, <unknown> until measured', () => {
    expect(formatHPAMetrics(undefined, undefined)).toBe('<none>');
    expect(formatHPAMetrics([cpu({ averageUtilization: 50 })], undefined)).toBe('cpu: <unknown>/50%');
    const status: MetricStatus[] = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '12m' } } }];
    expect(formatHPAMetrics([cpu({ averageUtilization: 50 })], status)).toBe('cpu: 12%/50%');
    expect(formatHPAMetrics([{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }], undefined)).toBe('memory: <unknown>/100Mi');
  });

  it('pods, object and external metrics, and at most two before "+ N more..."', () => {
    const specs: MetricSpec[] = [
      { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
      { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
      { type: 'Object', object: { describedObject: { kind: 'Service', name: 's' }, metric: { name: 'rps' }, target: { type: 'Value', value: '10' } } },
    ];
    const statuses: MetricStatus[] = [{ type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '500' } } }];
    expect(formatHPAMetrics(specs.slice(0, 2), statuses)).toBe('500/1k, <unknown>/30 (avg)');
    expect(formatHPAMetrics(specs, statuses)).toBe('500/1k, <unknown>/30 (avg) + 1 more...');
    expect(formatHPAMetrics(specs.slice(2), [])).toBe('<unknown>/10');
  });
});
