/**
 * Element-level conversions shared by arrays and scalars: typed views of raw bytes (zero-copy when
 * the byte order is native and the offset aligned), float16 / x87 long double conversion, UCS-4
 * strings, and structured records.
 */
import { ByteArray, Complex, isPlainObject, setOwn } from '../python/values.js';
import { NATIVE_ORDER, type DType } from './dtype.js';

export type NumericTypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

type TypedCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** How one numeric dtype maps onto a TypedArray. */
export interface NumericLayout {
  readonly ctor: TypedCtor;
  /** Bytes of one component in the raw data (complex has two components per element). */
  readonly componentBytes: number;
  /** Components per element: 2 for complex, else 1. */
  readonly components: 1 | 2;
  /** True when the raw component maps 1:1 onto the TypedArray's element (a view is possible). */
  readonly direct: boolean;
}

/**
 * The TypedArray for a numeric dtype, or undefined for kinds that are not numeric (U, S, V, O) or
 * numeric sizes JS has no array for (those fall back to per-element bytes).
 */
export function numericLayout(dt: DType): NumericLayout | undefined {
  if (dt.names !== null || dt.subarray !== null) return undefined;
  const n = dt.itemsize;
  const d = (
    ctor: TypedCtor,
    componentBytes: number,
    components: 1 | 2 = 1,
    direct = true,
  ): NumericLayout => ({
    ctor,
    componentBytes,
    components,
    direct,
  });
  switch (dt.kind) {
    case 'b':
      return d(Uint8Array, 1);
    case 'i':
      return n === 1
        ? d(Int8Array, 1)
        : n === 2
          ? d(Int16Array, 2)
          : n === 4
            ? d(Int32Array, 4)
            : n === 8
              ? d(BigInt64Array, 8)
              : undefined;
    case 'u':
      return n === 1
        ? d(Uint8Array, 1)
        : n === 2
          ? d(Uint16Array, 2)
          : n === 4
            ? d(Uint32Array, 4)
            : n === 8
              ? d(BigUint64Array, 8)
              : undefined;
    case 'f':
      if (n === 2) return d(Float32Array, 2, 1, false);
      if (n === 4) return d(Float32Array, 4);
      if (n === 8) return d(Float64Array, 8);
      if (n === 12 || n === 16) return d(Float64Array, n, 1, false);
      return undefined;
    case 'c':
      if (n === 8) return d(Float32Array, 4, 2);
      if (n === 16) return d(Float64Array, 8, 2);
      if (n === 24 || n === 32) return d(Float64Array, n / 2, 2, false);
      return undefined;
    case 'M':
    case 'm':
      return n === 8 ? d(BigInt64Array, 8) : undefined;
    default:
      return undefined;
  }
}

/** IEEE half → number (every half is exactly representable as a float32/float64). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE half bits (round to nearest even), for writers. */
export function numberToHalf(x: number): number {
  const f32 = new Float32Array([x]);
  const u = new Uint32Array(f32.buffer)[0] as number;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/**
 * x87 80-bit extended precision (numpy `float128`/`longdouble` on x86, stored in 12 or 16 bytes) →
 * nearest double. Lossy: the 64-bit mantissa is rounded to 53 bits.
 */
function extendedToNumber(view: DataView, offset: number, little: boolean): number {
  // Little-endian layout: 8 mantissa bytes, then sign+exponent; big-endian reverses the 10 bytes.
  let lo: number;
  let hi: number;
  let se: number;
  if (little) {
    lo = view.getUint32(offset, true);
    hi = view.getUint32(offset + 4, true);
    se = view.getUint16(offset + 8, true);
  } else {
    // Big-endian machines keep the 10 significant bytes at the start, most significant first.
    se = view.getUint16(offset, false);
    hi = view.getUint32(offset + 2, false);
    lo = view.getUint32(offset + 6, false);
  }
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  const mant = (BigInt(hi) << 32n) | BigInt(lo);
  if (exp === 0x7fff) return (mant & 0x7fffffffffffffffn) === 0n ? sign * Infinity : NaN;
  if (mant === 0n) return sign * 0;
  const m = Number(mant); // rounds to 53 bits
  const e = (exp === 0 ? 1 : exp) - 16383 - 63;
  // Scale in two steps so neither factor overflows or underflows prematurely.
  const half = Math.trunc(e / 2);
  return sign * m * 2 ** half * 2 ** (e - half);
}

const NATIVE_LITTLE = NATIVE_ORDER === '<';

/**
 * The TypedArray holding the elements of `raw` (`count` elements of `dt`, no gaps). A view on `raw`
 * (no copy) when the dtype is native-endian and `raw`'s offset is aligned for the element size;
 * otherwise a converted copy.
 */
export function typedFromRaw(
  dt: DType,
  layout: NumericLayout,
  raw: Uint8Array,
  count: number,
): NumericTypedArray {
  const n = count * layout.components;
  const big = dt.byteorder === '>';
  const little = !big;
  const native = dt.byteorder === '|' || (NATIVE_LITTLE ? little : big);
  const B = layout.ctor.BYTES_PER_ELEMENT;
  if (layout.direct && native) {
    if (raw.byteOffset % B === 0) return new layout.ctor(raw.buffer as ArrayBuffer, raw.byteOffset, n);
    const copy = raw.slice(0, n * B);
    return new layout.ctor(copy.buffer, 0, n);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const cb = layout.componentBytes;
  if (layout.direct) {
    // Byte-swapped copy through DataView reads.
    switch (layout.ctor) {
      case Int16Array: {
        const out = new Int16Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, little);
        return out;
      }
      case Uint16Array: {
        const out = new Uint16Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, little);
        return out;
      }
      case Int32Array: {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, little);
        return out;
      }
      case Uint32Array: {
        const out = new Uint32Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, little);
        return out;
      }
      case BigInt64Array: {
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getBigInt64(i * 8, little);
        return out;
      }
      case BigUint64Array: {
        const out = new BigUint64Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getBigUint64(i * 8, little);
        return out;
      }
      case Float32Array: {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, little);
        return out;
      }
      case Float64Array: {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, little);
        return out;
      }
      default: {
        // One-byte kinds are always native.
        return new layout.ctor(raw.buffer as ArrayBuffer, raw.byteOffset, n);
      }
    }
  }
  if (cb === 2) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint16(i * 2, little));
    return out;
  }
  // x87 extended (float128 / complex256 components)
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = extendedToNumber(view, i * cb, little);
  return out;
}

/** UCS-4 code units → string, trailing NULs stripped (as numpy does). */
export function decodeUcs4(view: DataView, offset: number, bytes: number, little: boolean): string {
  let end = bytes >> 2;
  while (end > 0 && view.getUint32(offset + (end - 1) * 4, little) === 0) end--;
  let s = '';
  for (let i = 0; i < end; i++) {
    const cp = view.getUint32(offset + i * 4, little);
    s += cp <= 0xffff ? String.fromCharCode(cp) : cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return s;
}

/** string → UCS-4 bytes (padded with NULs to `bytes`), for writers. Throws when it does not fit. */
function encodeUcs4(s: string, out: DataView, offset: number, bytes: number, little: boolean): void {
  let i = 0;
  for (const ch of s) {
    if (i + 4 > bytes)
      throw new RangeError(`string ${JSON.stringify(s)} does not fit in ${bytes / 4} characters`);
    out.setUint32(offset + i, ch.codePointAt(0) as number, little);
    i += 4;
  }
  for (; i < bytes; i += 4) out.setUint32(offset + i, 0, little);
}

/** `S` bytes with trailing NULs stripped (a view, not a copy). */
export function stripNuls(raw: Uint8Array, offset: number, bytes: number): Uint8Array {
  let end = bytes;
  while (end > 0 && raw[offset + end - 1] === 0) end--;
  return raw.subarray(offset, offset + end);
}

/** Options for reading one element. */
export interface ReadOptions {
  /** 64-bit integers as `number` when they are safe integers (numpy scalars in default mode). */
  readonly safeNumbers?: boolean;
}

/**
 * The JS value of one element of `dt` at `offset` in `raw`:
 * bool → boolean; int/uint ≤ 32 bits → number; 64-bit → bigint; float → number; complex → Complex;
 * datetime/timedelta → bigint count of units (NaT is -2^63); `U` → string; `S` → Uint8Array (trailing
 * NULs stripped); unstructured `V` → Uint8Array; structured → a plain object of field values;
 * sub-array → nested arrays. Object kinds cannot live in raw bytes and throw.
 */
export function readElement(
  dt: DType,
  raw: Uint8Array,
  view: DataView,
  offset: number,
  opts: ReadOptions = {},
): unknown {
  if (dt.subarray) {
    const { base, shape } = dt.subarray;
    return readNested(base, shape, 0, raw, view, { offset }, opts);
  }
  if (dt.names !== null && dt.fields) {
    const rec: Record<string, unknown> = {};
    for (const name of dt.names) {
      const f = dt.fields.get(name);
      if (!f) continue;
      setOwn(rec, name, readElement(f.dtype, raw, view, offset + f.offset, opts));
    }
    return rec;
  }
  const little = dt.byteorder !== '>';
  const n = dt.itemsize;
  switch (dt.kind) {
    case 'b':
      return raw[offset] !== 0;
    case 'i':
      if (n === 1) return view.getInt8(offset);
      if (n === 2) return view.getInt16(offset, little);
      if (n === 4) return view.getInt32(offset, little);
      if (n === 8) return maybeSafe(view.getBigInt64(offset, little), opts);
      break;
    case 'u':
      if (n === 1) return view.getUint8(offset);
      if (n === 2) return view.getUint16(offset, little);
      if (n === 4) return view.getUint32(offset, little);
      if (n === 8) return maybeSafe(view.getBigUint64(offset, little), opts);
      break;
    case 'f':
      if (n === 2) return halfToNumber(view.getUint16(offset, little));
      if (n === 4) return view.getFloat32(offset, little);
      if (n === 8) return view.getFloat64(offset, little);
      if (n === 12 || n === 16) return extendedToNumber(view, offset, little);
      break;
    case 'c':
      if (n === 8) return new Complex(view.getFloat32(offset, little), view.getFloat32(offset + 4, little));
      if (n === 16) return new Complex(view.getFloat64(offset, little), view.getFloat64(offset + 8, little));
      if (n === 24 || n === 32)
        return new Complex(
          extendedToNumber(view, offset, little),
          extendedToNumber(view, offset + n / 2, little),
        );
      break;
    case 'M':
    case 'm':
      return view.getBigInt64(offset, little);
    case 'U':
      return decodeUcs4(view, offset, n, little);
    case 'S':
      return stripNuls(raw, offset, n);
    case 'V':
      return raw.subarray(offset, offset + n);
    case 'O':
      throw new TypeError('object elements do not live in raw bytes');
  }
  return raw.subarray(offset, offset + n);
}

function maybeSafe(v: bigint, opts: ReadOptions): number | bigint {
  if (opts.safeNumbers && v >= -9007199254740991n && v <= 9007199254740991n) return Number(v);
  return v;
}

function readNested(
  base: DType,
  shape: readonly number[],
  dim: number,
  raw: Uint8Array,
  view: DataView,
  cursor: { offset: number },
  opts: ReadOptions,
): unknown {
  if (dim === shape.length) {
    const v = readElement(base, raw, view, cursor.offset, opts);
    cursor.offset += base.itemsize;
    return v;
  }
  const out: unknown[] = [];
  const len = shape[dim] as number;
  for (let i = 0; i < len; i++) out.push(readNested(base, shape, dim + 1, raw, view, cursor, opts));
  return out;
}

/**
 * Bytes of `count` elements of a non-structured `dt` with every value byte-swapped (complex swaps
 * each half, `U` each code unit): non-native data converted to the other byte order.
 */
export function swapBytes(dt: DType, raw: Uint8Array, count: number): Uint8Array {
  const unit = dt.kind === 'c' ? dt.itemsize / 2 : dt.kind === 'U' ? 4 : dt.itemsize;
  const out = new Uint8Array(raw.length);
  if (unit <= 1 || dt.kind === 'S' || dt.kind === 'V' || dt.kind === 'b') {
    out.set(raw);
    return out;
  }
  const units = (count * dt.itemsize) / unit;
  for (let u = 0; u < units; u++) {
    const base = u * unit;
    for (let k = 0; k < unit; k++) out[base + k] = raw[base + unit - 1 - k] as number;
  }
  return out;
}

/** number → x87 80-bit extended (exact: every double fits), written in the first 10 bytes. */
function numberToExtended(x: number, view: DataView, offset: number, little: boolean): void {
  let se: number;
  let mant: bigint;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  if (Number.isNaN(x)) {
    se = 0x7fff;
    mant = 0xc000000000000000n;
  } else if (!Number.isFinite(x)) {
    se = sign | 0x7fff;
    mant = 0x8000000000000000n;
  } else if (x === 0) {
    se = sign;
    mant = 0n;
  } else {
    const f = new Float64Array([Math.abs(x)]);
    const bits = new BigUint64Array(f.buffer)[0] as bigint;
    let e = Number(bits >> 52n);
    let frac = bits & 0xfffffffffffffn;
    if (e === 0) {
      // subnormal double: normalise
      e = 1;
      while ((frac & 0x10000000000000n) === 0n) {
        frac <<= 1n;
        e--;
      }
      frac &= 0xfffffffffffffn;
    }
    se = sign | (e - 1023 + 16383);
    mant = 0x8000000000000000n | (frac << 11n);
  }
  const hi = Number(mant >> 32n);
  const lo = Number(mant & 0xffffffffn);
  if (little) {
    view.setUint32(offset, lo, true);
    view.setUint32(offset + 4, hi, true);
    view.setUint16(offset + 8, se, true);
  } else {
    view.setUint16(offset, se, false);
    view.setUint32(offset + 2, hi, false);
    view.setUint32(offset + 6, lo, false);
  }
}

function intValue(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new TypeError(`${what}: expected an integer, got ${typeof v === 'number' ? String(v) : typeof v}`);
}

function checkRange(v: bigint, bits: number, signed: boolean, dt: DType): void {
  const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (v < lo || v > hi) throw new RangeError(`${v} does not fit ${dt.str}`);
}

function floatValue(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new TypeError(`${what}: expected a number, got ${typeof v}`);
}

/**
 * Write `value` as one element of `dt` at `offset` (the inverse of `readElement`): booleans, numbers or
 * bigints for numeric kinds (range-checked), `Complex` or `[re, im]` for complex, bigint/number counts
 * for datetimes, strings for `U`, bytes (or latin-1 strings) for `S`/`V`, plain objects or Maps for
 * structured records, nested arrays for sub-arrays. Bytes not written stay as they are (zero in a
 * fresh buffer).
 */
export function writeElement(
  dt: DType,
  value: unknown,
  raw: Uint8Array,
  view: DataView,
  offset: number,
): void {
  if (dt.subarray) {
    const { base, shape } = dt.subarray;
    const flat: unknown[] = [];
    const walk = (v: unknown, dim: number): void => {
      if (dim === shape.length) {
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[dim])
        throw new TypeError(`sub-array value must have shape (${shape.join(', ')})`);
      for (const x of v) walk(x, dim + 1);
    };
    walk(value, 0);
    flat.forEach((v, i) => writeElement(base, v, raw, view, offset + i * base.itemsize));
    return;
  }
  if (dt.names !== null && dt.fields) {
    const get = (name: string, k: number): unknown => {
      if (value instanceof Map) return value.get(name);
      if (Array.isArray(value)) return value[k];
      if (isPlainObject(value) || (value !== null && typeof value === 'object')) {
        return Object.prototype.hasOwnProperty.call(value, name)
          ? (value as Record<string, unknown>)[name]
          : undefined;
      }
      throw new TypeError(`a record of ${dt.str} must be an object, Map or array`);
    };
    dt.names.forEach((name, k) => {
      const f = dt.fields!.get(name)!;
      const v = get(name, k);
      if (v !== undefined) writeElement(f.dtype, v, raw, view, offset + f.offset);
    });
    return;
  }
  const little = dt.byteorder !== '>';
  const n = dt.itemsize;
  switch (dt.kind) {
    case 'b':
      if (typeof value !== 'boolean' && typeof value !== 'number' && typeof value !== 'bigint') {
        throw new TypeError(`bool element: expected a boolean, got ${typeof value}`);
      }
      raw[offset] = value ? 1 : 0;
      return;
    case 'i':
    case 'u': {
      const v = intValue(value, dt.str);
      checkRange(v, n * 8, dt.kind === 'i', dt);
      if (n === 1) raw[offset] = Number(v) & 0xff;
      else if (n === 2) view.setUint16(offset, Number(v) & 0xffff, little);
      else if (n === 4) view.setUint32(offset, Number(v) >>> 0, little);
      else view.setBigUint64(offset, BigInt.asUintN(64, v), little);
      return;
    }
    case 'f': {
      const x = floatValue(value, dt.str);
      if (n === 2) view.setUint16(offset, numberToHalf(x), little);
      else if (n === 4) view.setFloat32(offset, x, little);
      else if (n === 8) view.setFloat64(offset, x, little);
      else numberToExtended(x, view, offset, little);
      return;
    }
    case 'c': {
      let re: number;
      let im: number;
      if (value instanceof Complex) [re, im] = [value.re, value.im];
      else if (Array.isArray(value) && value.length === 2)
        [re, im] = [floatValue(value[0], dt.str), floatValue(value[1], dt.str)];
      else [re, im] = [floatValue(value, dt.str), 0];
      const h = n / 2;
      if (h === 4) {
        view.setFloat32(offset, re, little);
        view.setFloat32(offset + 4, im, little);
      } else if (h === 8) {
        view.setFloat64(offset, re, little);
        view.setFloat64(offset + 8, im, little);
      } else {
        numberToExtended(re, view, offset, little);
        numberToExtended(im, view, offset + h, little);
      }
      return;
    }
    case 'M':
    case 'm': {
      const v = value === null ? -(2n ** 63n) : intValue(value, dt.str);
      checkRange(v, 64, true, dt);
      view.setBigInt64(offset, v, little);
      return;
    }
    case 'U':
      if (typeof value !== 'string') throw new TypeError(`${dt.str} element: expected a string`);
      encodeUcs4(value, view, offset, n, little);
      return;
    case 'S':
    case 'V': {
      let b: Uint8Array;
      if (value instanceof Uint8Array || value instanceof ByteArray) b = value;
      else if (typeof value === 'string' && dt.kind === 'S') {
        b = new Uint8Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const c = value.charCodeAt(i);
          if (c > 0xff) throw new RangeError(`${dt.str} element: character above U+00FF`);
          b[i] = c;
        }
      } else throw new TypeError(`${dt.str} element: expected bytes`);
      if (b.length > n) throw new RangeError(`${b.length} bytes do not fit ${dt.str}`);
      raw.set(b, offset);
      return;
    }
    case 'O':
      throw new TypeError('object elements do not live in raw bytes');
  }
}
