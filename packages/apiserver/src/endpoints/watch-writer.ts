// Writing watch events to HTTP/1.1 responses cheaply, since a broadcast watch (kube-proxy's EndpointSlices)
// writes every event to every watcher: the event's line is encoded once for all of them (from the watch
// cache's cached object encoding, upstream's cachingObject) together with its chunked-encoding frame, and
// each watcher's write is one socket write of those shared bytes, not the response's own chunk framing
// (three buffers, a cork and a tick per event). Events that reach one watcher in the same tick still
// leave in one write (the socket is corked from its second write of the tick on).
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { cachedJSON } from '../storage/cached-object.js';

/** One event, encoded: its JSON line and the same bytes framed as an HTTP/1.1 chunk. */
export interface EncodedWatchEvent {
  chunk: Buffer;
  line: Buffer;
}

const CRLF = Buffer.from('\r\n');

/** Frames data parts as one HTTP/1.1 chunk (size in hex, CRLF, data, CRLF) in one buffer. */
function encoded(parts: Buffer[]): EncodedWatchEvent {
  let size = 0;
  for (const p of parts) size += p.length;
  const head = Buffer.from(`${size.toString(16)}\r\n`, 'latin1');
  const chunk = Buffer.concat([head, ...parts, CRLF], head.length + size + 2);
  return { chunk, line: chunk.subarray(head.length, head.length + size) };
}

/** A line that is not shared (YAML, Tables, metadata-only objects, errors). */
export function encodeWatchText(text: string): EncodedWatchEvent {
  return encoded([Buffer.from(text)]);
}

const byObject = new WeakMap<object, Map<string, EncodedWatchEvent>>();
const LINE_END = Buffer.from('}\n');

/**
 * `{"type":...,"object":...}\n` for a watch event. The watch cache hands every watcher the same frozen
 * object, so for one the encoding is kept (weakly, beside the object) and shared by all its watchers.
 */
export function encodeWatchEvent(type: string, object: unknown): EncodedWatchEvent {
  if (!object || typeof object !== 'object' || !Object.isFrozen(object)) return encodeWatchText(`${JSON.stringify({ type, object })}\n`);
  let byType = byObject.get(object);
  if (!byType) byObject.set(object, (byType = new Map()));
  let ev = byType.get(type);
  if (ev === undefined) {
    ev = encoded([Buffer.from(`{"type":${JSON.stringify(type)},"object":`), cachedJSON(object), LINE_END]);
    byType.set(type, ev);
  }
  return ev;
}

// A counter that moves on once per tick (one nextTick for every writer), so a writer can tell its
// second write in a tick from its first.
let tick = 0;
let tickPending = false;
function nextTick(): void {
  tickPending = false;
  tick++;
}
function currentTick(): number {
  if (!tickPending) {
    tickPending = true;
    process.nextTick(nextTick);
  }
  return tick;
}

/**
 * Counts one written event on a counter series, added to it once per tick for all the watchers of the
 * series (prom-client validates and hashes labels on every increment; a broadcast event would pay that
 * per watcher). counter and key name the series (one server's counter, its labels); inc increments it.
 */
const pendingCounts = new Map<object, Map<string, { inc: (n: number) => void; n: number }>>();
let countsPending = false;
function flushCounts(): void {
  countsPending = false;
  for (const series of pendingCounts.values()) for (const c of series.values()) c.inc(c.n);
  pendingCounts.clear();
}
export function countWatchEvent(counter: object, key: string, inc: (n: number) => void): void {
  let series = pendingCounts.get(counter);
  if (!series) pendingCounts.set(counter, (series = new Map()));
  let c = series.get(key);
  if (!c) series.set(key, (c = { inc, n: 0 }));
  c.n++;
  if (!countsPending) {
    countsPending = true;
    process.nextTick(flushCounts);
  }
}

function uncork(stream: Writable): void {
  stream.uncork();
}

/** The internals of node:http this relies on to write to the connection directly (else it does not). */
interface HttpInternals {
  _httpMessage?: unknown;
  outputData?: unknown[];
}

export class WatchEventWriter {
  /** The connection, when chunks may go to it directly (else undefined: through the response). */
  private readonly socket: Socket | undefined;
  private lastTick = -1;

  /** res: a chunked response whose headers were flushed; hasBody false for HEAD (nothing is written). */
  constructor(
    private readonly res: ServerResponse,
    private readonly hasBody: boolean,
  ) {
    const socket = res.socket ?? undefined;
    const direct =
      hasBody &&
      socket !== undefined &&
      res.headersSent &&
      res.chunkedEncoding &&
      (socket as unknown as HttpInternals)._httpMessage === res &&
      (res as unknown as HttpInternals).outputData?.length === 0;
    this.socket = direct ? socket : undefined;
  }

  /** Writes one event; false when the connection's buffer is full (wait for drained()). */
  write(ev: EncodedWatchEvent): boolean {
    const target: Writable = this.socket ?? this.res;
    if (!this.hasBody) return true;
    const now = currentTick();
    if (now === this.lastTick && !target.writableCorked) {
      target.cork();
      process.nextTick(uncork, target);
    }
    this.lastTick = now;
    return this.socket ? this.socket.write(ev.chunk) : this.res.write(ev.line);
  }

  /** Resolves when the connection's buffer drained or it closed, leaving no listener behind either way. */
  drained(): Promise<void> {
    const target: Writable = this.socket ?? this.res;
    return new Promise<void>((resolve) => {
      const done = () => {
        target.off('drain', done);
        target.off('close', done);
        resolve();
      };
      target.once('drain', done);
      target.once('close', done);
    });
  }
}
