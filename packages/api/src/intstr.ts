// IntOrString, as upstream's k8s.io/apimachinery/pkg/util/intstr: a JSON number or a string (for the
// fields that take either, e.g. maxSurge "25%", targetPort "http").

export type IntOrString = number | string;

/** Whether the value is a string ending in `%`. */
export function intOrStringIsPercent(v: IntOrString | null | undefined): v is string {
  return typeof v === 'string' && v.endsWith('%');
}

/** strconv.Atoi: an optional sign and decimal digits within int64; otherwise Go's error text. */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/**
 * Upstream's GetScaledValueFromIntOrPercent: an integer is returned as is; a percentage string `N%` is
 * N% of total, rounded up or down. Any other string is an error, with upstream's message, e.g.
 * `invalid value for IntOrString: invalid type: string is not a percentage`.
 */
export function scaledValueFromIntOrPercent(v: IntOrString | null | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) throw new Error('nil value for IntOrString');
  if (typeof v === 'number') return Math.trunc(v);
  if (!v.endsWith('%')) throw new Error('invalid value for IntOrString: invalid type: string is not a percentage');
  let pct: number;
  try {
    pct = atoi(v.slice(0, -1));
  } catch (e) {
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}: ${(e as Error).message}`);
  }
  const scaled = (pct * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
