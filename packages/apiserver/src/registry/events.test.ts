import { describe, expect, it } from 'vitest';
import { coreEventFromEventsV1, eventsV1FromCoreEvent } from './events.js';

describe('events.k8s.io/v1 <-> core/v1 Event conversion', () => {
  const core = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web to n1',
    type: 'Normal',
    source: { component: 'default-scheduler' },
    count: 2,
    firstTimestamp: '2026-11-23T10:00:00Z',
    lastTimestamp: '2026-11-23T10:01:00Z',
    reportingComponent: 'default-scheduler',
  };
  it('maps core fields to their events.k8s.io names and back', () => {
    const v1 = eventsV1FromCoreEvent(core);
    expect(v1).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: core.metadata,
      regarding: core.involvedObject,
      reason: 'Scheduled',
      note: core.message,
      type: 'Normal',
      deprecatedSource: core.source,
      deprecatedCount: 2,
      deprecatedFirstTimestamp: core.firstTimestamp,
      deprecatedLastTimestamp: core.lastTimestamp,
      reportingController: 'default-scheduler',
    });
    expect(coreEventFromEventsV1(v1)).toEqual(core);
  });
  it('never changes its input (cached objects are frozen)', () => {
    const frozen = Object.freeze({ ...core });
    expect(() => eventsV1FromCoreEvent(frozen)).not.toThrow();
  });
});
