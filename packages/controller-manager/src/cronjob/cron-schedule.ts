// A standard 5-field cron schedule (minute hour day-of-month month day-of-week) evaluated in a time
// zone, with the syntax upstream's parser (robfig/cron's ParseStandard) accepts: `*`, `?`, ranges,
// steps, lists, month and weekday names, and the @yearly/@annually/@monthly/@weekly/@daily/@midnight/
// @hourly macros. As robfig: when either day field is `*`, both must match; otherwise either may.

interface Field {
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Either day field was `*` or `?`. */
  readonly dayStar: boolean;
  readonly timeZone: string;
}

function parseValue(s: string, f: Field): number {
  const lower = s.toLowerCase();
  const named = f.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
  return Number(s);
}

function parseField(expr: string, f: Field, isDow: boolean): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined) throw new Error(`too many slashes: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = f.min;
      hi = f.max;
      if (stepPart === undefined) star = true;
    } else {
      const bounds = rangePart!.split('-');
      if (bounds.length > 2) throw new Error(`too many hyphens: ${part}`);
      lo = parseValue(bounds[0]!, f);
      hi = bounds.length === 2 ? parseValue(bounds[1]!, f) : lo;
      if (stepPart !== undefined && bounds.length === 1) hi = f.max;
    }
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart)) throw new Error(`failed to parse int from ${stepPart}: strconv.Atoi: parsing "${stepPart}": invalid syntax`);
      step = Number(stepPart);
      if (step === 0) throw new Error(`step of range should be a positive number: ${part}`);
    }
    // Sunday may also be written 7.
    const max = isDow ? 7 : f.max;
    if (lo < f.min) throw new Error(`beginning of range (${lo}) below minimum (${f.min}): ${part}`);
    if (hi > max) throw new Error(`end of range (${hi}) above maximum (${max}): ${part}`);
    if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) values.add(isDow && v === 7 ? 0 : v);
  }
  return { values, star };
}

/** Parses a schedule; throws with a message like upstream's on bad syntax or an unknown time zone. */
export function parseCronSchedule(spec: string, timeZone = 'UTC'): CronSchedule {
  let s = spec.trim();
  if (!s) throw new Error('empty spec string');
  const tzMatch = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(s);
  let tz = timeZone;
  if (tzMatch) {
    tz = tzMatch[1]!;
    s = tzMatch[2]!;
  }
  checkTimeZone(tz);
  if (s.startsWith('@')) {
    const m = MACROS[s.toLowerCase()];
    if (!m) throw new Error(`unrecognized descriptor: ${s}`);
    s = m;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const [mi, h, dom, mon, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, i === 4));
  return {
    minutes: mi!.values,
    hours: h!.values,
    daysOfMonth: dom!.values,
    months: mon!.values,
    daysOfWeek: dow!.values,
    dayStar: dom!.star || dow!.star,
    timeZone: tz,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function checkTimeZone(tz: string): void {
  try {
    formatterFor(tz);
  } catch {
    throw new Error(`unknown time zone ${tz}`);
  }
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in a time zone. */
export function wallClock(ms: number, tz: string): { year: number; month: number; day: number; hour: number; minute: number; weekday: number } {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday!] ?? 0,
  };
}

const MINUTE = 60_000;

/** The first schedule time strictly after `afterMs` (whole minutes), or undefined within five years. */
export function nextScheduleTime(sched: CronSchedule, afterMs: number): number | undefined {
  let t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  const limit = afterMs + 5 * 366 * 24 * 60 * MINUTE;
  while (t <= limit) {
    const w = wallClock(t, sched.timeZone);
    const domOk = sched.daysOfMonth.has(w.day);
    const dowOk = sched.daysOfWeek.has(w.weekday);
    const dayOk = sched.dayStar ? domOk && dowOk : domOk || dowOk;
    if (!sched.months.has(w.month) || !dayOk) {
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * MINUTE;
      continue;
    }
    if (!sched.hours.has(w.hour)) {
      t += (60 - w.minute) * MINUTE;
      continue;
    }
    if (!sched.minutes.has(w.minute)) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}

/**
 * The most recent schedule time in (earliestMs, nowMs], and how many were missed in that window
 * (counting stops at `cap`), as upstream's mostRecentScheduleTime.
 */
export function mostRecentScheduleTime(sched: CronSchedule, earliestMs: number, nowMs: number, cap = 101): { time?: number; missed: number } {
  let time: number | undefined;
  let missed = 0;
  for (let t = nextScheduleTime(sched, earliestMs); t !== undefined && t <= nowMs; t = nextScheduleTime(sched, t)) {
    time = t;
    missed++;
    if (missed >= cap) {
      // Too many to walk: find the last one in a window ending now, widening it until one is found.
      for (const window of [60, 24 * 60, 32 * 24 * 60, 366 * 24 * 60, 5 * 366 * 24 * 60].map((m) => m * MINUTE)) {
        let last: number | undefined;
        for (let u = nextScheduleTime(sched, Math.max(t, nowMs - window)); u !== undefined && u <= nowMs; u = nextScheduleTime(sched, u)) last = u;
        if (last !== undefined) {
          time = Math.max(last, t);
          break;
        }
      }
      break;
    }
  }
  return { time, missed };
}
