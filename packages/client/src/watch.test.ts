import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StatusError, type WatchEvent } from '@kubelab/api';
import { decodeWatchEvents, Watch } from './watch.js';

const events: WatchEvent[] = [
  { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' }, data: { note: 'héllo ✓ 🚀' } } },
  { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
  { type: 'BOOKMARK', object: { metadata: { resourceVersion: '5' } } },
  { type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '6' } } },
];
const wire = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''));

/** Splits a buffer into chunks at the given byte offsets. */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}

async function collect(r: Readable): Promise<WatchEvent[]> {
  const got: WatchEvent[] = [];
  for await (const ev of decodeWatchEvents(r)) got.push(ev);
  return got;
}

describe('decodeWatchEvents', () => {
  it('decodes events split at every possible byte boundary (including inside UTF-8 characters)', async () => {
    for (let cut = 1; cut < wire.length; cut++) {
      expect(await collect(Readable.from(chunked(wire, [cut])))).toEqual(events);
    }
  });

  it('decodes one byte at a time and random chunkings', async () => {
    expect(await collect(Readable.from(chunked(wire, Array.from({ length: wire.length - 1 }, (_, i) => i + 1))))).toEqual(events);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const cuts = [...new Set(Array.from({ length: 8 }, () => 1 + Math.floor(rnd() * (wire.length - 1))))].sort((a, b) => a - b);
      expect(await collect(Readable.from(chunked(wire, cuts)))).toEqual(events);
    }
  });

  it('accepts a last line without a newline and ignores blank lines', async () => {
    const text = '\n' + JSON.stringify(events[0]) + '\n\n' + JSON.stringify(events[1]);
    expect(await collect(Readable.from([text]))).toEqual(events.slice(0, 2));
  });

  it('throws an ERROR event carrying a Status as a StatusError, after the events before it', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' };
    const r = Readable.from([JSON.stringify(events[0]) + '\n' + JSON.stringify({ type: 'ERROR', object: status }) + '\n']);
    const got: WatchEvent[] = [];
    const err = await (async () => {
      for await (const ev of decodeWatchEvents(r)) got.push(ev);
    })().catch((e: unknown) => e);
    expect(got).toEqual([events[0]]);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(410);
    expect((err as StatusError).reason).toBe('Expired');
    expect((err as StatusError).message).toBe('too old resource version: 1 (5)');
  });
});

describe('Watch', () => {
  it('stop() ends a pending iteration without an error', async () => {
    const stream = new Readable({ read() {} });
    const w = new Watch(stream, () => stream.destroy());
    stream.push(JSON.stringify(events[0]) + '\n');
    const got: WatchEvent[] = [];
    const loop = (async () => {
      for await (const ev of w) {
        got.push(ev);
        setImmediate(() => w.stop());
      }
    })();
    await loop;
    expect(got).toEqual([events[0]]);
    expect(w.isStopped).toBe(true);
  });
});
