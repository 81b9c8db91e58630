// Human-readable ages, as apimachinery's duration.HumanDuration and the printers'
// translateTimestampSince render them.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's integer division of a Duration: truncates toward zero. */
function per(ms: number, unit: number): number {
  return Math.trunc(ms / unit);
}

/**
 * A short approximation of a duration with 2-3 significant figures: "59s", "119s", "2m3s", "10m",
 * "179m", "3h4m", "7h", "47h", "2d", "7d23h", "8d", "729d", "2y", "2y10d", "8y". Up to one second
 * in the future counts as "0s"; further is "<invalid>".
 */
export function humanDuration(ms: number): string {
  const seconds = per(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;

  const minutes = per(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;

  const hours = per(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** 0001-01-01T00:00:00Z, Go's zero time.Time. */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined when unset or Go's zero time. */
export function parseTimestamp(ts: string | null | undefined): number | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  if (Number.isNaN(t) || t <= ZERO_TIME) return undefined;
  return t;
}

/** Age of a timestamp relative to `now` ("5m", "3d"), or `<unknown>` when it is unset. */
export function translateTimestampSince(ts: string | null | undefined, now: Date): string {
  const t = parseTimestamp(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(now.getTime() - t);
}
