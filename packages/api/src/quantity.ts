// Resource quantities, as upstream's k8s.io/apimachinery/pkg/api/resource.Quantity: parsing (decimal SI,
// binary SI, decimal exponent), exact arithmetic on bigint (no floats), and the canonical string form
// upstream serializes (`0.5` -> `500m`, `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`). Quantities are immutable:
// add/sub/neg/mul return new values.

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

const SPLIT_RE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** Upstream's ErrFormatWrong text. */
export const ERR_QUANTITY_FORMAT = `quantities must match the regular expression '${SPLIT_RE}'`;
/** Upstream's ErrNumeric text. */
export const ERR_QUANTITY_NUMERIC = 'unable to parse numeric part of quantity';
/** Upstream's ErrSuffix text. */
export const ERR_QUANTITY_SUFFIX = "unable to parse quantity's suffix";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const NANO = -9;

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExponent: Record<number, string> = Object.fromEntries(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByExponent: Record<number, string> = Object.fromEntries(Object.entries(binarySuffixes).map(([s, e]) => [e, s]));

function own<T>(rec: Record<string, T>, k: string): T | undefined {
  return  Object.hasOwn(rec, k) ? rec[k] : undefined;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

interface Split {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** Splits `[+-]digits[.digits]suffix` the way upstream's parseQuantityString does. */
function splitQuantity(str: string): Split {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;

  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };

  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return { positive, num: str.slice(pos), denom: '', suffix: '' };
  let num = str.slice(pos, i);
  pos = i;
  if (num.length === 0) num = '0';

  let denom = '';
  if (str[pos] === '.') {
    pos++;
    let j = pos;
    while (j < end && isDigit(str[j])) j++;
    if (j >= end) return { positive, num, denom: str.slice(pos), suffix: '' };
    denom = str.slice(pos, j);
    pos = j;
  }

  const suffixStart = pos;
  let k = pos;
  while (k < end && 'eEinumkKMGTP'.includes(str[k]!)) k++;
  if (k >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  pos = k;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  let m = pos;
  while (m < end && isDigit(str[m])) m++;
  if (m >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  throw new Error(ERR_QUANTITY_FORMAT);
}

function interpretSuffix(s: string): { base: 10 | 2; exponent: number; format: QuantityFormat } {
  const dec = own(decimalSuffixes, s);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = own(binarySuffixes, s);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    const parsed = BigInt(s.slice(1));
    if (parsed >= INT64_MIN && parsed <= INT64_MAX) {
      return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: 'DecimalExponent' };
    }
  }
  throw new Error(ERR_QUANTITY_SUFFIX);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

function digits(v: bigint): number {
  return v === 0n ? 0 : abs(v).toString().length;
}

/** Removes trailing factors of `factor`, counting them. */
function removeFactors(v: bigint, factor: bigint): [bigint, number] {
  let times = 0;
  while (v !== 0n && v % factor === 0n) {
    v /= factor;
    times++;
  }
  return [v, times];
}

/** u × 10^-k rounded away from zero to an integer (k > 0). */
function divPow10RoundAway(u: bigint, k: number): bigint {
  if (u === 0n) return 0n;
  if (digits(u) <= k) return u > 0n ? 1n : -1n;
  const d = 10n ** BigInt(k);
  const q = u / d;
  if (u % d === 0n) return q;
  return u > 0n ? q + 1n : q - 1n;
}

function clampInt64(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}

export class Quantity {
  /** value = unscaled × 10^scale */
  private readonly unscaled: bigint;
  private readonly scale: number;
  readonly format: QuantityFormat;
  /** The canonical string, cached (or the input text when upstream keeps it verbatim). */
  private str: string | undefined;

  private constructor(unscaled: bigint, scale: number, format: QuantityFormat, str?: string) {
    this.unscaled = unscaled;
    this.scale = unscaled === 0n ? 0 : scale;
    this.format = format;
    this.str = str;
  }

  /**
   * Parses a quantity (`100m`, `1.5Gi`, `1e3`, `0.5`, or a JSON number). Throws an Error with upstream's
   * message: ERR_QUANTITY_FORMAT for text that does not match the grammar, ERR_QUANTITY_SUFFIX for an
   * unknown suffix.
   */
  static parse(input: string | number): Quantity {
    if (typeof input === 'number') {
      if (!Number.isFinite(input)) throw new Error(ERR_QUANTITY_FORMAT);
      input = String(input);
    }
    const str = input;
    if (str.length === 0) throw new Error(ERR_QUANTITY_FORMAT);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', '0');

    const { positive, num, denom, suffix } = splitQuantity(str);
    const { base, exponent, format: parsedFormat } = interpretSuffix(suffix);
    let format = parsedFormat;

    // Upstream keeps the input text as the string form when it takes its int64 fast path and the text
    // is already in a canonical shape; replicate that decision exactly.
    let keepInput = false;
    {
      let precision: number;
      let scale = 0;
      let mantissa = 1n;
      if (format === 'BinarySI') {
        if (exponent >= 0 && denom.length === 0) {
          mantissa = 1n << BigInt(exponent);
          precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
        } else precision = -1;
      } else {
        scale = exponent;
        precision = 18 - (num.length + denom.length);
      }
      if (precision >= 0) {
        scale -= denom.length;
        if (scale >= NANO) {
          const shifted = num + denom;
          const value = BigInt(shifted);
          if (value * mantissa <= INT64_MAX) {
            if (format === 'BinarySI') keepInput = exponent % 10 === 0 && (value & 7n) !== 0n;
            else keepInput = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
          }
        }
      }
    }

    let unscaled = BigInt(num + denom);
    let scale = -denom.length;
    if (base === 10) scale += exponent;
    else unscaled <<= BigInt(exponent);

    // Anything finer than nano rounds away from zero to nano.
    if (scale < NANO) {
      unscaled = divPow10RoundAway(unscaled, NANO - scale);
      scale = NANO;
    }
    if (format === 'BinarySI') {
      const [u, s] = normalize(unscaled, scale);
      // Binary quantities saturate at the largest int64 (scale is at least nano here).
      const tooLarge = s >= 0 ? s > 18 || u * 10n ** BigInt(s) > INT64_MAX : u > INT64_MAX * 10n ** BigInt(-s);
      if (tooLarge) {
        unscaled = INT64_MAX;
        scale = 0;
      } else if (u !== 0n && s < 0 && digits(u) <= -s) {
        // 0 < value < 1 cannot be written with a binary suffix.
        format = 'DecimalSI';
      }
    }
    if (!positive) unscaled = -unscaled;
    return new Quantity(unscaled, scale, format, keepInput ? str : undefined);
  }

  /** A quantity of `value` units (upstream's NewQuantity). */
  static fromValue(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** A quantity of `value` thousandths (upstream's NewMilliQuantity). */
  static fromMilliValue(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), -3, format);
  }

  /** value × 10^scale (upstream's NewScaledQuantity, with scale as a power of ten). */
  static fromScaledValue(value: bigint | number, scale: number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), scale, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, 0, format);
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled > 0n ? 1 : -1;
  }

  cmp(o: Quantity): -1 | 0 | 1 {
    const a = this.unscaled;
    const b = o.unscaled;
    const sa = this.sign();
    const sb = o.sign();
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    // Same sign, both non-zero: compare orders of magnitude first so huge exponents never expand.
    const ma = digits(a) + this.scale;
    const mb = digits(b) + o.scale;
    if (ma !== mb) return (ma > mb) === (sa > 0) ? 1 : -1;
    const s = Math.min(this.scale, o.scale);
    const x = a * 10n ** BigInt(this.scale - s);
    const y = b * 10n ** BigInt(o.scale - s);
    return x === y ? 0 : x < y ? -1 : 1;
  }

  equals(o: Quantity): boolean {
    return this.cmp(o) === 0;
  }

  /** The sum; the format is this one's unless this is zero (then the other's), as upstream. */
  add(o: Quantity): Quantity {
    const s = Math.min(this.scale, o.scale);
    const sum = this.unscaled * 10n ** BigInt(this.scale - s) + o.unscaled * 10n ** BigInt(o.scale - s);
    return new Quantity(sum, s, this.isZero() ? o.format : this.format);
  }

  /** The difference; the format is this one's unless this is zero (then the other's), as upstream. */
  sub(o: Quantity): Quantity {
    return this.add(o.neg());
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.scale, this.format);
  }

  /** The product with an integer. */
  mul(n: bigint | number): Quantity {
    return new Quantity(this.unscaled * BigInt(n), this.scale, this.format);
  }

  /**
   * The value in units of 10^scale, rounded away from zero (upstream's ScaledValue), clamped to the
   * int64 range.
   */
  scaledValue(scale: number): bigint {
    if (this.unscaled === 0n) return 0n;
    if (this.scale >= scale) {
      const k = this.scale - scale;
      if (digits(this.unscaled) + k > 19) return this.unscaled > 0n ? INT64_MAX : INT64_MIN;
      return clampInt64(this.unscaled * 10n ** BigInt(k));
    }
    return clampInt64(divPow10RoundAway(this.unscaled, scale - this.scale));
  }

  /** Whole units, rounded up (away from zero), as upstream's Value(). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** Thousandths, rounded up (away from zero), as upstream's MilliValue(). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** A float approximation (upstream's AsApproximateFloat64). */
  asApproximateFloat64(): number {
    return Number(this.unscaled) * 10 ** this.scale;
  }

  /** The canonical form upstream serializes. */
  toString(): string {
    if (this.str === undefined) this.str = this.canonical();
    return this.str;
  }

  toJSON(): string {
    return this.toString();
  }

  private canonical(): string {
    if (this.unscaled === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const small = this.cmp(Quantity.fromValue(-1024)) > 0 && this.cmp(Quantity.fromValue(1024)) < 0;
      if (small || !this.isInteger()) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      const [u, s] = normalize(this.unscaled, this.scale);
      const whole = u * 10n ** BigInt(s);
      const [amount, times] = removeFactors(whole, 1024n);
      return amount.toString() + (binarySuffixByExponent[times * 10] ?? '');
    }
    let [amount, times] = removeFactors(this.unscaled, 10n);
    let exponent = this.scale + times;
    while (exponent % 3 !== 0) {
      amount *= 10n;
      exponent--;
    }
    const suffix = format === 'DecimalSI' ? (decimalSuffixByExponent[exponent] ?? '') : exponent === 0 ? '' : `e${exponent}`;
    return amount.toString() + suffix;
  }

  private isInteger(): boolean {
    if (this.scale >= 0) return true;
    const [, s] = normalize(this.unscaled, this.scale);
    return s >= 0;
  }
}

/** Strips trailing zeros into the scale. */
function normalize(u: bigint, scale: number): [bigint, number] {
  if (u === 0n) return [0n, 0];
  const [v, t] = removeFactors(u, 10n);
  return [v, scale + t];
}

/** Alias of Quantity.parse (upstream's ParseQuantity). */
export function parseQuantity(s: string | number): Quantity {
  return Quantity.parse(s);
}

/** Whether the text parses as a quantity. */
export function isValidQuantity(s: string | number): boolean {
  try {
    Quantity.parse(s);
    return true;
  } catch {
    return false;
  }
}
