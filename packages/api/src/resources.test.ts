import { describe, expect, it } from 'vitest';
import { preferredResources, RESOURCES } from './resources.js';

describe('preferredResources', () => {
  it('keeps one row per group and resource, in the preferred (first listed) version', () => {
    const hpa = preferredResources().filter((r) => r.resource === 'horizontalpodautoscalers');
    expect(hpa.map((r) => `${r.group}/${r.version}`)).toEqual(['autoscaling/v2']);
    expect(RESOURCES.filter((r) => r.resource === 'horizontalpodautoscalers')).toHaveLength(2);
    const keys = preferredResources().map((r) => `${r.group}/${r.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Resources of the same name in different groups are different resources.
    expect(preferredResources().filter((r) => r.resource === 'events').map((r) => r.group)).toEqual(['', 'events.k8s.io']);
  });
});
