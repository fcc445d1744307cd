/**
 * Exact decimals for the reference evaluator: a value is `n / 10^s` with a bigint `n`, so that
 * comparisons match PostgreSQL's `numeric` to the digit (no float rounding on range edges).
 * Numbers are read through `String(value)`, the same text that is bound to SQL parameters.
 */
export interface Dec {
  n: bigint;
  s: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function dec(value: number | string | bigint): Dec {
  if (typeof value === 'bigint') return { n: value, s: 0 };
  const text = String(value).trim();
  const match = DECIMAL.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a decimal: ${text}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = BigInt((whole || '0') + fraction);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { n: sign === '-' ? -digits : digits, s: scale };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const s = Math.max(a.s, b.s);
  return [a.n * 10n ** BigInt(s - a.s), b.n * 10n ** BigInt(s - b.s), s];
}

export function cmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, s] = align(a, b);
  return { n: x + y, s };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, s] = align(a, b);
  return { n: x - y, s };
}

export function mul(a: Dec, b: Dec): Dec {
  return { n: a.n * b.n, s: a.s + b.s };
}

export const ZERO: Dec = { n: 0n, s: 0 };

export function sum(values: Dec[]): Dec {
  return values.reduce(add, ZERO);
}

export function max(a: Dec, b: Dec): Dec {
  return cmp(a, b) >= 0 ? a : b;
}

/** Rounds to `scale` digits, half away from zero: what PostgreSQL does storing into numeric(p, scale). */
export function round(a: Dec, scale: number): Dec {
  if (a.s <= scale) return a;
  const divisor = 10n ** BigInt(a.s - scale);
  const negative = a.n < 0n;
  const abs = negative ? -a.n : a.n;
  let quotient = abs / divisor;
  if ((abs % divisor) * 2n >= divisor) quotient += 1n;
  return { n: negative ? -quotient : quotient, s: scale };
}

/** `from <= a <= to`; an absent bound is unbounded. */
export function between(a: Dec, from: Dec | undefined, to: Dec | undefined): boolean {
  return (from === undefined || cmp(a, from) >= 0) && (to === undefined || cmp(a, to) <= 0);
}

/**
 * `numerator / denominator` rounded half-up to 2 decimals, as a string (`"12.50"`); `"0.00"` when
 * the denominator is 0. Both are non-negative. Used for segment statistics.
 */
export function ratioHalfUp2(numerator: Dec, denominator: Dec): string {
  if (denominator.n === 0n) return '0.00';
  // value * 100 = (num.n * 10^den.s * 100) / (den.n * 10^num.s)
  const top = numerator.n * 10n ** BigInt(denominator.s) * 100n;
  const bottom = denominator.n * 10n ** BigInt(numerator.s);
  const hundredths = (2n * top + bottom) / (2n * bottom);
  return format({ n: hundredths, s: 2 });
}

export function format(a: Dec): string {
  const negative = a.n < 0n;
  const digits = (negative ? -a.n : a.n).toString().padStart(a.s + 1, '0');
  const text = a.s ? `${digits.slice(0, digits.length - a.s)}.${digits.slice(digits.length - a.s)}` : digits;
  return negative ? `-${text}` : text;
}
