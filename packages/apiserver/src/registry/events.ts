// events.k8s.io/v1 Events share storage with core/v1 Events, as upstream: one object in
// /registry/events/, stored in the core shape, converted field by field when read or written through
// events.k8s.io/v1. Cached objects are frozen, so conversion always builds new objects.
import type { KubeObject, WatchEvent } from '@kubelab/api';
import type { Storage, Watcher } from '../storage/interface.js';

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
  const dec = eventsV1FromCoreEvent;
  const enc = coreEventFromEventsV1;
  return {
    create: async (key, obj) => dec(await inner.create(key, enc(obj))),
    get: async (key) => dec(await inner.get(key)),
    list: async (prefix, opts = {}) => {
      const p = opts.predicate;
      const res = await inner.list(prefix, { ...opts, predicate: p && ((o) => p(dec(o))) });
      return { ...res, items: res.items.map(dec) };
    },
    guaranteedUpdate: async (key, tryUpdate, opts) => dec(await inner.guaranteedUpdate(key, async (cur) => enc(await tryUpdate(cur && dec(cur))), opts)),
    delete: async (key, opts = {}) => {
      const v = opts.validateDeletion;
      return dec(await inner.delete(key, { ...opts, validateDeletion: v && ((cur) => v(dec(cur))) }));
    },
    watch: async (key, opts = {}) => {
      const p = opts.predicate;
      const w = await inner.watch(key, { ...opts, predicate: p && ((o) => p(dec(o))) });
      const converted: Watcher = {
        stop: () => w.stop(),
        async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
          for await (const ev of w) yield ev.type === 'ERROR' ? ev : { type: ev.type, object: dec(ev.object) };
        },
      };
      return converted;
    },
    currentRevision: () => inner.currentRevision(),
    count: (prefix) => inner.count(prefix),
    close: () => inner.close(),
  };
}
