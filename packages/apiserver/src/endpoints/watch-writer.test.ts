import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deepFreeze } from '../storage/cacher.js';
import { WatchEventWriter, countWatchEvent, encodeWatchEvent, encodeWatchText } from './watch-writer.js';

describe('encodeWatchEvent', () => {
  it('frames the JSON line as an HTTP chunk, encoded once for a frozen (cached) object', () => {
    const pod = deepFreeze({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', resourceVersion: '7' } });
    const line = `${JSON.stringify({ type: 'ADDED', object: pod })}\n`;
    const ev = encodeWatchEvent('ADDED', pod);
    expect(ev.line.toString()).toBe(line);
    expect(ev.chunk.toString()).toBe(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
    expect(encodeWatchEvent('ADDED', pod)).toBe(ev);
    expect(encodeWatchEvent('DELETED', pod).line.toString()).toBe(`${JSON.stringify({ type: 'DELETED', object: pod })}\n`);
  });

  it('encodes a mutable object each time, with multi-byte characters counted in bytes', () => {
    const obj = { metadata: { name: 'ä-€' } };
    const ev = encodeWatchEvent('MODIFIED', obj);
    const line = `${JSON.stringify({ type: 'MODIFIED', object: obj })}\n`;
    expect(ev.chunk.toString()).toBe(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
    expect(encodeWatchEvent('MODIFIED', obj)).not.toBe(ev);
    expect(encodeWatchText('a: 1\n---\n').line.toString()).toBe('a: 1\n---\n');
  });
});

describe('WatchEventWriter', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A server whose response writes `events` (several in one tick, then one more later) and ends. */
  async function serve(method: string, events: unknown[][]): Promise<{ status: number; body: string; chunked: boolean; responseWrites: number }> {
    let responseWrites = 0;
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const write = res.write.bind(res) as (chunk: Buffer) => boolean;
      res.write = ((chunk: Buffer) => {
        responseWrites++;
        return write(chunk);
      }) as typeof res.write;
      const writer = new WatchEventWriter(res, req.method !== 'HEAD');
      void (async () => {
        for (const batch of events) {
          for (const object of batch) writer.write(encodeWatchEvent('ADDED', deepFreeze(object)));
          await new Promise((r) => setTimeout(r, 5));
        }
        res.end();
      })();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, chunked: res.headers['transfer-encoding'] === 'chunked', responseWrites }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('delivers every event in order as a chunked response that ends cleanly, framed once, straight to the connection', async () => {
    const objects = [[{ n: 1 }, { n: 2 }, { n: 3 }], [{ n: 4 }]];
    const got = await serve('GET', objects);
    expect(got.status).toBe(200);
    expect(got.chunked).toBe(true);
    expect(got.responseWrites).toBe(0);
    expect(got.body).toBe(
      objects
        .flat()
        .map((object) => `${JSON.stringify({ type: 'ADDED', object })}\n`)
        .join(''),
    );
  });

  it('writes no body for HEAD', async () => {
    const got = await serve('HEAD', [[{ n: 1 }]]);
    expect(got.status).toBe(200);
    expect(got.body).toBe('');
  });
});

describe('countWatchEvent', () => {
  it('adds the events of one tick to each series once', async () => {
    const calls: Array<[string, number]> = [];
    const counterA = {};
    const counterB = {};
    for (let i = 0; i < 3; i++) countWatchEvent(counterA, 'v1/Pod', (n) => calls.push(['a pods', n]));
    countWatchEvent(counterA, 'v1/Node', (n) => calls.push(['a nodes', n]));
    countWatchEvent(counterB, 'v1/Pod', (n) => calls.push(['b pods', n]));
    expect(calls).toEqual([]);
    await new Promise((r) => process.nextTick(r));
    expect(calls.sort()).toEqual([
      ['a nodes', 1],
      ['a pods', 3],
      ['b pods', 1],
    ]);
  });
});
