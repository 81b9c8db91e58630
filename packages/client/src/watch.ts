// Watch streams: the apiserver answers `?watch=true` with newline-delimited JSON
// `{"type":"ADDED","object":{...}}` lines. An ERROR event carries a Status and is surfaced by
// throwing it as a StatusError (e.g. 410 Expired when the resourceVersion is too old).
import { StringDecoder } from 'node:string_decoder';
import { fromStatus, StatusError, type KubeObject, type WatchEvent } from '@kubelab/api';
import type { Status } from 'kubernetes-types/meta/v1';

/** The error a Status-less ERROR event (or a non-Status error object) becomes. */
function watchErrorFrom(object: unknown): StatusError {
  const o = object as Partial<Status> | undefined;
  if (o && typeof o === 'object' && (o.kind === 'Status' || typeof o.code === 'number')) return fromStatus(o as Status);
  return new StatusError({ code: 500, reason: 'InternalError', message: `unexpected watch error: ${JSON.stringify(object)}` });
}

function parseLine<T>(line: string): WatchEvent<T> {
  let ev: WatchEvent<T>;
  try {
    ev = JSON.parse(line) as WatchEvent<T>;
  } catch {
    throw new Error(`unable to decode watch event: ${line.length > 200 ? line.slice(0, 200) + '...' : line}`);
  }
  if (!ev || typeof ev.type !== 'string') throw new Error(`unable to decode watch event: missing type`);
  if (ev.type === 'ERROR') throw watchErrorFrom(ev.object);
  return ev;
}

/**
 * Decodes a stream of chunks (Buffers or strings, split anywhere, even inside a UTF-8 character)
 * into watch events. Throws a StatusError on an ERROR event; ends when the stream ends.
 */
export async function* decodeWatchEvents<T = KubeObject>(chunks: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<WatchEvent<T>> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of chunks) {
    buf += typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      const line = buf.slice(start, nl).trim();
      start = nl + 1;
      if (line) yield parseLine<T>(line);
    }
    buf = buf.slice(start);
  }
  buf += decoder.end();
  const rest = buf.trim();
  if (rest) yield parseLine<T>(rest);
}

/** A running watch: iterate it for events; stop() ends the iteration (without an error). */
export class Watch<T = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  private stopped = false;
  private iterating = false;

  constructor(
    private readonly chunks: AsyncIterable<Buffer | Uint8Array | string>,
    private readonly onStop: () => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>> {
    if (this.iterating) throw new Error('a watch can be iterated only once');
    this.iterating = true;
    try {
      for await (const ev of decodeWatchEvents<T>(this.chunks)) {
        if (this.stopped) return;
        yield ev;
      }
    } catch (err) {
      if (this.stopped) return; // the stream was torn down by stop()
      throw err;
    } finally {
      this.stop();
    }
  }
}
