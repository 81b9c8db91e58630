import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { fieldErrorString, type FieldError } from '../field-error.js';
import { applyDefaults, horizontalPodAutoscalerV1FromV2, horizontalPodAutoscalerV2FromV1 } from '../defaults/index.js';
import { validateObject, validateStatusUpdate } from './index.js';

const strs = (errs: FieldError[]) => errs.map(fieldErrorString);

const hpa = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, ...spec },
});

describe('autoscaling/v2 HorizontalPodAutoscaler defaults', () => {
  it('minReplicas 1 and a CPU utilization target of 80% when no metric is given', () => {
    const o = hpa({});
    applyDefaults(o);
    expect(o.spec).toMatchObject({
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(o.spec.behavior).toBeUndefined();
  });

  it('completes a given behavior with upstream scale-up and scale-down rules', () => {
    const o = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 5 } } });
    applyDefaults(o);
    expect(o.spec.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
  });
});

describe('autoscaling/v2 HorizontalPodAutoscaler validation', () => {
  it('accepts a defaulted object', () => {
    const o = hpa({ behavior: {} });
    applyDefaults(o);
    expect(strs(validateObject(o))).toEqual([]);
  });

  it('replica bounds and the target reference', () => {
    expect(strs(validateObject(hpa({ minReplicas: 0, maxReplicas: 0, scaleTargetRef: { name: 'a/b' } })))).toEqual([
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'spec.scaleTargetRef.kind: Required value',
      "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
    ]);
    expect(strs(validateObject(hpa({ minReplicas: 4 })))).toEqual(['spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`']);
  });

  it('metric sources and targets', () => {
    const errs = strs(
      validateObject(
        hpa({
          metrics: [
            { type: 'Resource' },
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } },
            { type: 'Bogus' },
            { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue' } } },
          ],
        }),
      ),
    );
    expect(errs).toEqual([
      'spec.metrics[0].resource: Required value: must populate information for the given metric source',
      'spec.metrics[1].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
      'spec.metrics[2].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
      'spec.metrics[3].type: Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
      'spec.metrics[4].pods.target.averageValue: Required value: must specify a positive target averageValue',
    ]);
  });

  it('behavior rules', () => {
    const errs = strs(
      validateObject(
        hpa({
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 3601, selectPolicy: 'Most', policies: [] },
            scaleDown: { policies: [{ type: 'Pods', value: 0, periodSeconds: 1801 }] },
          },
        }),
      ),
    );
    expect(errs).toEqual([
      'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 3601: must be less than or equal to 3600',
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies: Required value: must specify at least one Policy',
      'spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
    ]);
  });

  it('status counts are never negative', () => {
    const o = hpa({});
    expect(strs(validateStatusUpdate({ ...o, status: { currentReplicas: -1, desiredReplicas: 1 } }, o))).toEqual([
      'status.currentReplicas: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('autoscaling/v1 objects are validated in their v2 form', () => {
    const v1 = { ...hpa({}), apiVersion: 'autoscaling/v1', spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 0 } };
    expect(strs(validateObject(v1))).toEqual(['spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0']);
  });
});

describe('autoscaling v1 <-> v2 conversion', () => {
  const stored = {
    ...hpa({
      minReplicas: 1,
      metrics: [
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
    }),
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '60m' } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }],
    },
  } as KubeObject;
  applyDefaults(stored); // stored objects are defaulted v2 objects

  it('v1 shows the CPU target and current value, behavior and conditions in annotations', () => {
    const v1 = horizontalPodAutoscalerV1FromV2(stored as never);
    expect(v1.spec).toEqual({ scaleTargetRef: stored.spec.scaleTargetRef, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 });
    expect(v1.status).toEqual({ currentReplicas: 2, desiredReplicas: 2, currentCPUUtilizationPercentage: 12 });
    expect(JSON.parse(v1.metadata!.annotations!['autoscaling.alpha.kubernetes.io/behavior']!)).toEqual(stored.spec.behavior);
    expect(JSON.parse(v1.metadata!.annotations!['autoscaling.alpha.kubernetes.io/conditions']!)).toEqual(stored.status.conditions);
  });

  it('an unchanged v1 view converts back to the stored object; a new CPU target keeps the other metrics', () => {
    const v1 = horizontalPodAutoscalerV1FromV2(stored as never);
    expect(horizontalPodAutoscalerV2FromV1(v1, stored as never)).toEqual(stored);
    const changed = horizontalPodAutoscalerV2FromV1({ ...v1, spec: { ...v1.spec!, targetCPUUtilizationPercentage: 70 } }, stored as never);
    expect(changed.spec!.metrics).toEqual([stored.spec.metrics[0], { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  });

  it('a new v1 object without a CPU target gets the default 80% in v2', () => {
    const v2 = horizontalPodAutoscalerV2FromV1({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'a' }, maxReplicas: 2 } });
    expect(v2.spec).toEqual({
      scaleTargetRef: { kind: 'Deployment', name: 'a' },
      minReplicas: 1,
      maxReplicas: 2,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
  });
});
