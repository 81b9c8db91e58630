// Counterpart of pkg/kubelet/kuberuntime/logs (ReadLogs): a container's CRI log file ("<rfc3339nano> stdout|stderr
// F|P <msg>", one record a line, P for a partial line continued by the next record) written out as the container
// printed it, with upstream's options: tailLines, sinceTime/sinceSeconds, timestamps, limitBytes and follow.
import { open, type FileHandle } from 'node:fs/promises';

export interface LogOptions {
  /** Only the last N records (lines in the file). */
  tailLines?: number;
  /** Only records at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Prefix each line with its RFC 3339 timestamp, as the runtime recorded it. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Keep reading what the container writes until `running()` says it stopped (or the reader is aborted). */
  follow?: boolean;
}

export interface LogRecord {
  /** The timestamp as written (RFC 3339 with nanoseconds). */
  timestamp: string;
  stream: 'stdout' | 'stderr';
  /** false for a partial line (P): the line goes on in the next record. */
  full: boolean;
  /** The content without the tag and without the newline. */
  content: Buffer;
}

const SPACE = 0x20;

/** Parses one record (a line without its newline); undefined when it is not in CRI format. */
export function parseCRILogLine(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(SPACE);
  if (a <= 0) return undefined;
  const b = line.indexOf(SPACE, a + 1);
  if (b < 0) return undefined;
  const stream = line.subarray(a + 1, b).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag (F or P, maybe more fields separated by ':') then one space, then the content.
  const c = line.indexOf(SPACE, b + 1);
  const tag = (c < 0 ? line.subarray(b + 1) : line.subarray(b + 1, c)).toString();
  const content = c < 0 ? Buffer.alloc(0) : line.subarray(c + 1);
  return { timestamp: line.subarray(0, a).toString(), stream, full: tag.split(':')[0] !== 'P', content };
}

/** Milliseconds of an RFC 3339 timestamp with nanoseconds (JavaScript's Date keeps milliseconds). */
export function timestampMs(ts: string): number {
  return Date.parse(ts.replace(/(\.\d{3})\d+/, '$1'));
}

/** Byte offset in `data` where the last `n` lines start (upstream's tail.FindTailLineStartIndex). */
export function tailStart(data: Buffer, n: number): number {
  if (n < 0) return 0;
  let end = data.length;
  // A trailing newline ends the last line; it does not start another.
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 0x0a) {
      count++;
      if (count === n) return i + 1;
    }
  }
  return n === 0 ? data.length : 0;
}

/** Turns records into the bytes a client sees, keeping the byte limit and the timestamp prefix of each line. */
export class LogWriter {
  private written = 0;
  /** Whether the last record ended a line, so the next one starts a new line (and gets a timestamp). */
  private lineStart = true;
  constructor(
    private readonly opts: LogOptions,
    private readonly out: (chunk: Buffer) => void,
  ) {}

  /** Writes a record; false once the byte limit is reached (stop reading). */
  write(r: LogRecord): boolean {
    if (this.opts.sinceMs !== undefined && timestampMs(r.timestamp) < this.opts.sinceMs) return true;
    const parts: Buffer[] = [];
    if (this.opts.timestamps && this.lineStart) parts.push(Buffer.from(`${r.timestamp} `));
    parts.push(r.content);
    if (r.full) parts.push(Buffer.from('\n'));
    this.lineStart = r.full;
    let chunk = Buffer.concat(parts);
    const limit = this.opts.limitBytes;
    if (limit !== undefined && limit > 0) {
      const left = limit - this.written;
      if (chunk.length >= left) {
        this.out(chunk.subarray(0, left));
        this.written = limit;
        return false;
      }
    }
    this.written += chunk.length;
    if (chunk.length) this.out(chunk);
    chunk = Buffer.alloc(0);
    return true;
  }
}

export interface FollowControl {
  /** Whether the container still runs (follow ends once it does not and the file has no more). */
  running: () => Promise<boolean>;
  signal?: AbortSignal;
  /** How often the file is checked for more (ms). */
  pollMs?: number;
}

const CHUNK = 64 * 1024;

/**
 * Writes the container's log at `path` to `out`. Without follow it reads what is there; with follow it keeps
 * reading until the container stops running and the file has nothing more, or the signal aborts.
 */
export async function readLogs(path: string, opts: LogOptions, out: (chunk: Buffer) => void, follow?: FollowControl): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new Error(`failed to try resolving symlinks in path "${path}": ${(err as Error).message}`);
  }
  try {
    const writer = new LogWriter(opts, out);
    let pos = 0;
    if (opts.tailLines !== undefined && opts.tailLines >= 0) {
      const { size } = await fh.stat();
      const all = Buffer.alloc(size);
      await fh.read(all, 0, size, 0);
      pos = tailStart(all, opts.tailLines);
    }
    let pending = Buffer.alloc(0);
    const buf = Buffer.alloc(CHUNK);
    /** Reads what the file has from pos; false when the writer wants no more. */
    const drain = async (): Promise<boolean> => {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) return true;
        pos += bytesRead;
        pending = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a, start)) {
          const rec = parseCRILogLine(pending.subarray(start, nl));
          start = nl + 1;
          if (rec && !writer.write(rec)) return false;
        }
        pending = pending.subarray(start);
      }
    };
    if (!(await drain()) || !opts.follow || !follow) return;
    const pollMs = follow.pollMs ?? 200;
    // Bounded by the container's life and the client's connection.
    while (!follow.signal?.aborted) {
      const stillRunning = await follow.running();
      if (!(await drain())) return;
      if (!stillRunning) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        follow.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}
