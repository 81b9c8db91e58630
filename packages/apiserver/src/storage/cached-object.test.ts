import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ListJSONStream, cachedJSON, encodeListJSONBody, listJSONParts } from './cached-object.js';

/** A small list's body: one buffer. */
const encodeListJSON = (list: object) => encodeListJSONBody(list) as Buffer;
import { deepFreeze } from './cacher.js';

describe('cachedJSON', () => {
  it('encodes a frozen object once and a mutable one each time', () => {
    let encoded = 0;
    const spec = {
      toJSON() {
        encoded++;
        return { n: 1 };
      },
    };
    const shared = deepFreeze({ metadata: { name: 'a', resourceVersion: '5' }, spec });
    const text = '{"metadata":{"name":"a","resourceVersion":"5"},"spec":{"n":1}}';
    expect(cachedJSON(shared).toString()).toBe(text);
    expect(cachedJSON(shared).toString()).toBe(text);
    expect(encodeListJSON({ items: [shared, shared] }).toString()).toBe(`{"items":[${text},${text}]}`);
    expect(encoded).toBe(1);

    const own: { metadata: { name: string } } = { metadata: { name: 'b' } };
    expect(cachedJSON(own).toString()).toBe('{"metadata":{"name":"b"}}');
    own.metadata.name = 'c';
    expect(cachedJSON(own).toString()).toBe('{"metadata":{"name":"c"}}');
  });
});

describe('encodeListJSONBody of a small list', () => {
  it('writes exactly what JSON.stringify writes for a list of cached and uncached items', () => {
    const items = [
      deepFreeze({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', labels: { 'a/b': 'x"y' } }, spec: { containers: [{ name: 'c' }] } }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2', annotations: { note: 'é \u2028 \n' } }, status: {} },
    ];
    const list = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42', continue: undefined }, items };
    expect(encodeListJSON(list).equals(Buffer.from(JSON.stringify(list)))).toBe(true);
    expect(JSON.parse(encodeListJSON(list).toString()).items).toHaveLength(2);
  });

  it('keeps the list keys in their order and leaves out undefined ones, as JSON.stringify', () => {
    for (const list of [
      { kind: 'ConfigMapList', skipped: undefined, items: [], apiVersion: 'v1', metadata: {} },
      { skipped: undefined, items: [{ a: 1 }], after: undefined },
      { items: [null, 1, 'x'] },
      { metadata: { continue: 'x' }, items: [deepFreeze({ a: 'b' })], tail: 3 },
    ]) {
      expect(encodeListJSON(list).toString()).toBe(JSON.stringify(list));
    }
  });
});

/** Everything a stream gives, and the sizes of its chunks. */
async function drain(stream: ListJSONStream): Promise<{ body: Buffer; chunks: number[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { body: Buffer.concat(chunks), chunks: chunks.map((c) => c.length) };
}

function podList(n: number, nameBytes = 20) {
  const items = Array.from({ length: n }, (_, i) =>
    deepFreeze({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}-${'x'.repeat(nameBytes)}`, annotations: { note: 'é \u2028' } }, spec: { containers: [{ name: 'c' }] } }),
  );
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: undefined }, items, tail: 'after items' };
}

describe('encodeListJSONBody', () => {
  it('gives a small list as one buffer and a large one as a stream of batches with the same bytes', async () => {
    const small = podList(3);
    const one = encodeListJSONBody(small, 4096);
    expect(Buffer.isBuffer(one) && one.equals(Buffer.from(JSON.stringify(small)))).toBe(true);

    const large = podList(500);
    const text = Buffer.from(JSON.stringify(large));
    const stream = encodeListJSONBody(large, 4096);
    expect(stream).toBeInstanceOf(ListJSONStream);
    expect((stream as ListJSONStream).byteLength).toBe(text.length);
    const { body, chunks } = await drain(stream as ListJSONStream);
    expect(body.equals(text)).toBe(true);
    expect(chunks.length).toBeGreaterThan(text.length / 4096);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(4096);
  });

  it('writes items larger than a batch, empty lists and lists without items exactly as JSON.stringify', async () => {
    for (const [list, batch] of [
      [podList(10, 3000), 1024],
      [podList(10, 3000), 2 * 1024],
      [podList(1, 5000), 16],
      [{ kind: 'PodList', items: [], metadata: {} }, 4],
      [{ items: [null, 1, 'x', deepFreeze({ a: 'b' })], n: undefined }, 2],
      [{ items: 'not a list', metadata: { resourceVersion: '1' } }, 4],
    ] as const) {
      const parts = listJSONParts(list);
      const text = Buffer.from(JSON.stringify(list));
      expect(parts.byteLength).toBe(text.length);
      const { body, chunks } = await drain(new ListJSONStream(parts, batch));
      expect(body.equals(text)).toBe(true);
      expect(chunks.every((c) => c > 0)).toBe(true);
    }
  });

  it('stops half way when destroyed (a client that went away)', async () => {
    const stream = encodeListJSONBody(podList(1000), 1024) as ListJSONStream;
    const closed = once(stream, 'close');
    await once(stream, 'readable');
    const first = stream.read() as Buffer;
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(stream.byteLength);
    stream.destroy();
    await closed;
    expect(stream.readableEnded).toBe(false);
    expect(stream.read()).toBeNull();
  });
});
