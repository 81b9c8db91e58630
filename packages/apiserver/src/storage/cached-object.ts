// Serialize once (upstream's cachingObject): the watch cache hands every list and watcher the same
// frozen object for one resourceVersion of a key, so its JSON encoding (UTF-8 bytes) is computed at
// most once and kept next to it (weakly: it goes when the cache drops the object). A LIST served from
// the cache writes these bytes for its items and a watch event is encoded once for all its watchers.
// Objects that are not frozen (fresh from etcd, built per request) are encoded each time.

const encodings = new WeakMap<object, Buffer>();

/** JSON.stringify(obj) as UTF-8, remembered for a frozen (cached, shared, read-only) object. */
export function cachedJSON(obj: object): Buffer {
  if (!Object.isFrozen(obj)) return Buffer.from(JSON.stringify(obj));
  let bytes = encodings.get(obj);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(obj));
    encodings.set(obj, bytes);
  }
  return bytes;
}

const COMMA = Buffer.from(',');

/**
 * JSON.stringify(list) for a list object ({apiVersion, kind, metadata, items}) as UTF-8, byte for
 * byte, with each item's cached encoding: keys in the list's own order, keys whose value does not
 * encode (undefined) left out, as JSON.stringify does. The items are copied once, into the response.
 */
export function encodeListJSON(list: object): Buffer {
  const parts: Buffer[] = [];
  let text = '{';
  let first = true;
  for (const [k, v] of Object.entries(list)) {
    if (k === 'items' && Array.isArray(v)) {
      parts.push(Buffer.from(`${text}${first ? '' : ','}${JSON.stringify(k)}:[`));
      for (let i = 0; i < v.length; i++) {
        if (i > 0) parts.push(COMMA);
        const item: unknown = v[i];
        parts.push(item !== null && typeof item === 'object' ? cachedJSON(item) : Buffer.from(JSON.stringify(item) ?? 'null'));
      }
      text = ']';
      first = false;
      continue;
    }
    const value = JSON.stringify(v);
    if (value === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(k)}:${value}`;
    first = false;
  }
  parts.push(Buffer.from(`${text}}`));
  return Buffer.concat(parts);
}
