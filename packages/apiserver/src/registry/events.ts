// events.k8s.io/v1 Events share storage with core/v1 Events, as upstream: one object in
// /registry/events/, stored in the core shape, converted field by field when read or written through
// events.k8s.io/v1. Cached objects are frozen, so conversion always builds new objects.
import type { KubeObject } from '@kubelab/api';
import type { Storage } from '../storage/interface.js';
import { convertingStorage } from './conversion.js';

/** [events.k8s.io/v1 field, core/v1 field] */
const FIELDS: [string, string][] = [
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['reportingController', 'reportingComponent'],
  ['reportingInstance', 'reportingInstance'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['regarding', 'involvedObject'],
  ['related', 'related'],
  ['note', 'message'],
  ['type', 'type'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function convert(obj: KubeObject, apiVersion: string, from: 0 | 1): KubeObject {
  const out: KubeObject = { apiVersion, kind: 'Event', metadata: obj.metadata };
  for (const pair of FIELDS) {
    const v = obj[pair[from]];
    if (v !== undefined) out[pair[from === 0 ? 1 : 0]] = v;
  }
  return out;
}

export const coreEventFromEventsV1 = (e: KubeObject): KubeObject => convert(e, 'v1', 0);
export const eventsV1FromCoreEvent = (e: KubeObject): KubeObject => convert(e, 'events.k8s.io/v1', 1);

/** Storage that holds core Events and speaks events.k8s.io/v1 Events. */
export function eventsV1Storage(inner: Storage): Storage {
  return convertingStorage(inner, { decode: eventsV1FromCoreEvent, encode: (e) => coreEventFromEventsV1(e) });
}
