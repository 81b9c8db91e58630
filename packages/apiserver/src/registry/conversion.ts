// One stored object, several API versions (upstream's storage version plus codec conversion): a
// Storage that keeps objects in the stored version and speaks another one, converting on the way in
// (encode, given the stored object an update replaces) and on the way out (decode). Cached objects are
// frozen, so conversions always build new objects.
import { horizontalPodAutoscalerV1FromV2, horizontalPodAutoscalerV2FromV1, type KubeObject, type WatchEvent } from '@kubelab/api';
import type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-types/autoscaling/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Storage, Watcher } from '../storage/interface.js';

export interface VersionConverter {
  /** The served version's object from the stored one. */
  decode(stored: KubeObject): KubeObject;
  /** The object to store for a served one; `stored` is the object it replaces (null on create). */
  encode(obj: KubeObject, stored: KubeObject | null): KubeObject;
}

/** Storage that holds objects in the stored version and reads and writes them in a served one. */
export function convertingStorage(inner: Storage, { decode: dec, encode: enc }: VersionConverter): Storage {
  return {
    create: async (key, obj) => dec(await inner.create(key, enc(obj, null))),
    get: async (key) => dec(await inner.get(key)),
    list: async (prefix, opts = {}) => {
      const p = opts.predicate;
      const res = await inner.list(prefix, { ...opts, predicate: p && ((o) => p(dec(o))) });
      return { ...res, items: res.items.map(dec) };
    },
    guaranteedUpdate: async (key, tryUpdate, opts) => dec(await inner.guaranteedUpdate(key, async (cur) => enc(await tryUpdate(cur && dec(cur)), cur), opts)),
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

/** autoscaling/v1 HorizontalPodAutoscalers: a view of the stored autoscaling/v2 objects. */
export const horizontalPodAutoscalerV1Converter: VersionConverter = {
  decode: (o) => horizontalPodAutoscalerV1FromV2(o as HorizontalPodAutoscaler) as KubeObject,
  encode: (o, stored) => horizontalPodAutoscalerV2FromV1(o as HorizontalPodAutoscalerV1, stored as HorizontalPodAutoscaler | null) as KubeObject,
};
