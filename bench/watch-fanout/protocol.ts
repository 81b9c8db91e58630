// Messages between bench/watch-fanout.ts and its receiver and writer processes (over the fork IPC channel),
// and the stamp the writer puts in every object it writes: `<target>|<seq>|<sent ms since the epoch>`.
// Receivers read the stamp from the raw event line with STAMP_RE (no JSON parse), so the latency is
// (receive time - sent time) on the one machine clock both processes share.

export const STAMP_ANNOTATION = 'bench.kubelab.io/sent';
export const STAMP_RE = /"bench\.kubelab\.io\/sent":"([^|"]*)\|(\d+)\|([\d.]+)"/;
/** The event object's resourceVersion (its revision): the first one in the line is metadata's. */
export const REVISION_RE = /"resourceVersion":"(\d+)"/;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function stamp(target: string, seq: number): string {
  return `${target}|${seq}|${nowMs().toFixed(3)}`;
}

export interface Connection {
  port: number;
  ca: string;
  cert: string;
  key: string;
}

export interface WatchSpec {
  /** Request path (with ?watch=true...). */
  path: string;
  /** The stamp target every event of this watch must carry ('' : any target). */
  target: string;
  /** Only lines of this event type count ('ADDED' or 'MODIFIED'). */
  eventType: string;
  /** Stop reading once the headers are in (a slow watcher). */
  slow?: boolean;
}

export type ToReceiver =
  | { cmd: 'open'; conn: Connection; watches: WatchSpec[] }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'resume-slow'; waitMs: number }
  | { cmd: 'close' };

export interface WatchResult {
  target: string;
  slow: boolean;
  /** Events counted (first delivery of each seq). */
  events: number;
  duplicates: number;
  /** Events whose stamp target is not the watch's target. */
  misdelivered: number;
  /** The server ended the response (for a slow watcher: it was cut off). */
  ended: boolean;
}

export type FromReceiver =
  | { ev: 'opened'; watches: number; failed: number; error?: string }
  | { ev: 'count'; events: number }
  /**
   * latencies[i] is the delivery (receive - send) of the event of seqs[i] at revision revisions[i],
   * received at receivedAt[i] (ms since the epoch).
   */
  | { ev: 'report'; latencies: number[]; seqs: number[]; revisions: number[]; receivedAt: number[]; watches: WatchResult[] }
  | { ev: 'resumed' };

export type ToWriter =
  | { cmd: 'pods'; conn: Connection; namespace: string; nodes: number; rate: number; seconds: number; padBytes: number }
  | { cmd: 'slices'; conn: Connection; namespace: string; slices: number; rate: number; seconds: number };

export type FromWriter = {
  ev: 'done';
  written: number;
  perTarget: Record<string, number>;
  seconds: number;
  errors: number;
  /** Each write's round trip (the part of the delivery latency spent before the object is stored). */
  writeMs: number[];
  /** ackedAt[seq]: when the write of seq was answered (ms since the epoch; null when it failed). */
  ackedAt: Array<number | null>;
  firstError?: string;
};
